//! Messages handed to C: [`OwnedMessage`] and the `rd_kafka_message_*` accessors.
//!
//! Every `rd_kafka_message_t *` librskafka gives to an application is the first field of an
//! [`OwnedMessage`] allocated with `Box`, so the accessors can cast back to reach the data C does
//! not see (timestamp, headers, latency, ...). Ownership: messages returned by the consume calls
//! belong to the application and are freed with `rd_kafka_message_destroy`; messages passed to
//! callbacks (delivery reports, consume_cb) belong to librskafka and are valid during the call.

use std::any::Any;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::sync::Arc;

use bytes::Bytes;

use crate::message::{Message, TimestampType};
use crate::DeliveryReport;

use super::ctypes::*;
use super::errcodes::*;
use super::headers::rd_kafka_headers_t;
use super::types::*;

/// A message owned by librskafka, C-visible through its first field.
#[repr(C)]
pub(crate) struct OwnedMessage {
    /// What C sees; must stay the first field (pointers are cast between the two types).
    pub c: rd_kafka_message_t,
    /// Keeps the key bytes alive (`c.key` points into it).
    key: Option<Bytes>,
    /// Keeps the value bytes alive (`c.payload` points into it, unless this is an error event).
    value: Option<Bytes>,
    /// For error events: the NUL-terminated error string `c.payload` points to.
    errstr: Option<CString>,
    /// For failed deliveries: the error string (`rd_kafka_message_produce_errstr`).
    produce_errstr: Option<CString>,
    /// Headers, NULL-able; owned by the message until detached.
    headers: Option<Box<rd_kafka_headers_t>>,
    /// Milliseconds since the epoch, -1 if none.
    pub timestamp: i64,
    /// `RD_KAFKA_TIMESTAMP_*`.
    pub timestamp_type: rd_kafka_timestamp_type_t,
    /// Produce latency in microseconds, -1 if unknown.
    pub latency_us: i64,
    /// The broker the message was fetched from / produced to, -1 if unknown.
    pub broker_id: i32,
    /// The leader epoch, -1 if unknown.
    pub leader_epoch: i32,
    /// `RD_KAFKA_MSG_STATUS_*` (producer).
    pub status: rd_kafka_msg_status_t,
    /// Whatever keeps `c.rkt` alive while the message lives (the handle's topic object).
    pub keep_alive: Option<Arc<dyn Any + Send + Sync>>,
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
fn bytes_ptr(b: &Option<Bytes>) -> (*mut c_void, usize) {
    match b {
        Some(b) => (b.as_ptr() as *mut c_void, b.len()),
        None => (std::ptr::null_mut(), 0),
    }
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
impl OwnedMessage {
    fn empty(rkt: *mut rd_kafka_topic_t) -> Self {
        OwnedMessage {
            c: rd_kafka_message_t {
                err: 0,
                rkt,
                partition: RD_KAFKA_PARTITION_UA,
                payload: std::ptr::null_mut(),
                len: 0,
                key: std::ptr::null_mut(),
                key_len: 0,
                offset: RD_KAFKA_OFFSET_INVALID,
                _private: std::ptr::null_mut(),
            },
            key: None,
            value: None,
            errstr: None,
            produce_errstr: None,
            headers: None,
            timestamp: -1,
            timestamp_type: RD_KAFKA_TIMESTAMP_NOT_AVAILABLE,
            latency_us: -1,
            broker_id: -1,
            leader_epoch: -1,
            status: RD_KAFKA_MSG_STATUS_NOT_PERSISTED,
            keep_alive: None,
        }
    }

    fn set_key_value(&mut self, key: Option<Bytes>, value: Option<Bytes>) {
        self.key = key;
        self.value = value;
        (self.c.key, self.c.key_len) = bytes_ptr(&self.key);
        (self.c.payload, self.c.len) = bytes_ptr(&self.value);
    }

    /// A consumed message. `rkt` is the handle's topic object for `m.topic()`.
    pub fn from_message(m: &Message, rkt: *mut rd_kafka_topic_t) -> Box<Self> {
        let mut o = Box::new(Self::empty(rkt));
        o.c.partition = m.partition;
        o.c.offset = m.offset;
        o.set_key_value(m.key.clone(), m.value.clone());
        o.timestamp = m.timestamp;
        o.timestamp_type = match m.timestamp_type {
            TimestampType::NotAvailable => RD_KAFKA_TIMESTAMP_NOT_AVAILABLE,
            TimestampType::CreateTime => RD_KAFKA_TIMESTAMP_CREATE_TIME,
            TimestampType::LogAppendTime => RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME,
        };
        o.leader_epoch = m.leader_epoch;
        if !m.headers.is_empty() {
            o.headers = Some(Box::new(rd_kafka_headers_t::from_headers(&m.headers)));
        }
        o
    }

    /// A delivery report: the message as produced, with the outcome. `_private` carries the
    /// application's per-message opaque, as in librdkafka. `headers` are the produced headers.
    /// Built in place (not boxed): a callback's message lives on the stack during the call.
    pub fn from_delivery(
        dr: DeliveryReport,
        rkt: *mut rd_kafka_topic_t,
        headers: Option<Box<rd_kafka_headers_t>>,
        status: rd_kafka_msg_status_t,
    ) -> Self {
        let mut o = Self::empty(rkt);
        o.c.partition = dr.partition;
        o.c.offset = dr.offset;
        o.c._private = dr.opaque as *mut c_void;
        o.set_key_value(dr.key, dr.value);
        o.timestamp = dr.timestamp;
        if dr.timestamp >= 0 {
            o.timestamp_type = RD_KAFKA_TIMESTAMP_CREATE_TIME;
        }
        o.headers = headers;
        o.status = status;
        if let Some(e) = &dr.error {
            o.c.err = e.code.0;
            o.produce_errstr = CString::new(e.message.replace('\0', " ")).ok();
        }
        o
    }

    /// An error event (consumer errors such as `RD_KAFKA_RESP_ERR__PARTITION_EOF`): `payload`
    /// holds the NUL-terminated error string, as librdkafka does.
    pub fn error(
        err: rd_kafka_resp_err_t,
        errstr: &str,
        rkt: *mut rd_kafka_topic_t,
        partition: i32,
        offset: i64,
    ) -> Box<Self> {
        let mut o = Box::new(Self::empty(rkt));
        o.c.err = err;
        o.c.partition = partition;
        o.c.offset = offset;
        let s = CString::new(errstr.replace('\0', " ")).unwrap_or_default();
        o.c.len = s.as_bytes().len();
        o.c.payload = s.as_ptr() as *mut c_void;
        o.errstr = Some(s);
        o
    }

    /// Hands the message to C (to be freed with `rd_kafka_message_destroy`).
    pub fn into_raw(self: Box<Self>) -> *mut rd_kafka_message_t {
        Box::into_raw(self).cast()
    }

    /// Takes a message back from C.
    ///
    /// # Safety
    /// `p` came from [`OwnedMessage::into_raw`] and is not used afterwards.
    pub unsafe fn from_raw(p: *mut rd_kafka_message_t) -> Box<Self> {
        // SAFETY: `c` is the first field of a #[repr(C)] OwnedMessage allocated by Box.
        unsafe { Box::from_raw(p.cast::<OwnedMessage>()) }
    }

    /// Borrows the wrapper of a C message pointer.
    ///
    /// # Safety
    /// `p` is NULL or points to the `c` field of a live OwnedMessage.
    pub unsafe fn from_c<'a>(p: *const rd_kafka_message_t) -> Option<&'a OwnedMessage> {
        // SAFETY: per the contract; `c` is at offset 0.
        unsafe { p.cast::<OwnedMessage>().as_ref() }
    }

    /// Mutable variant of [`from_c`](Self::from_c).
    ///
    /// # Safety
    /// As `from_c`, and no other reference to the message is in use.
    pub unsafe fn from_c_mut<'a>(p: *mut rd_kafka_message_t) -> Option<&'a mut OwnedMessage> {
        // SAFETY: per the contract.
        unsafe { p.cast::<OwnedMessage>().as_mut() }
    }
}

/// Frees a message returned by a consume call. NULL is ignored.
///
/// # Safety
/// `rkmessage` is NULL or a message owned by the caller, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_destroy(rkmessage: *mut rd_kafka_message_t) {
    ffi_guard!((), {
        if !rkmessage.is_null() {
            // SAFETY: every message handed out is an OwnedMessage (see module docs).
            drop(unsafe { OwnedMessage::from_raw(rkmessage) });
        }
    })
}

/// For an error event or failed delivery, the error string (owned by the message); NULL when the
/// message has no error.
///
/// # Safety
/// `rkmessage` is NULL or a live message from librskafka.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_errstr(
    rkmessage: *const rd_kafka_message_t,
) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the caller's contract.
        let Some(m) = (unsafe { OwnedMessage::from_c(rkmessage) }) else {
            return std::ptr::null();
        };
        if m.c.err == 0 {
            return std::ptr::null();
        }
        if let Some(s) = m.errstr.as_ref().or(m.produce_errstr.as_ref()) {
            return s.as_ptr();
        }
        super::error::rd_kafka_err2str(m.c.err)
    })
}

/// For a failed delivery, the error string (owned by the message); NULL when delivered.
///
/// # Safety
/// `rkmessage` is NULL or a live message from librskafka.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_produce_errstr(
    rkmessage: *const rd_kafka_message_t,
) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the caller's contract.
        let Some(m) = (unsafe { OwnedMessage::from_c(rkmessage) }) else {
            return std::ptr::null();
        };
        if m.c.err == 0 {
            return std::ptr::null();
        }
        match &m.produce_errstr {
            Some(s) => s.as_ptr(),
            None => super::error::rd_kafka_err2str(m.c.err),
        }
    })
}

/// The message timestamp (ms since the epoch) and, through `tstype` (NULL-able), its type; -1 and
/// `RD_KAFKA_TIMESTAMP_NOT_AVAILABLE` when there is none.
///
/// # Safety
/// `rkmessage` is NULL or a live message; `tstype` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_timestamp(
    rkmessage: *const rd_kafka_message_t,
    tstype: *mut rd_kafka_timestamp_type_t,
) -> i64 {
    ffi_guard!(-1, {
        // SAFETY: per the caller's contract.
        let m = unsafe { OwnedMessage::from_c(rkmessage) };
        let (ts, ty) = match m {
            Some(m) if m.c.err == 0 && m.timestamp_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE => {
                (m.timestamp, m.timestamp_type)
            }
            _ => (-1, RD_KAFKA_TIMESTAMP_NOT_AVAILABLE),
        };
        if !tstype.is_null() {
            // SAFETY: writable per the caller.
            unsafe { *tstype = ty };
        }
        ts
    })
}

/// Produce latency in microseconds (delivery reports), -1 if not available.
///
/// # Safety
/// `rkmessage` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_latency(rkmessage: *const rd_kafka_message_t) -> i64 {
    // SAFETY: per the caller's contract.
    ffi_guard!(-1, {
        unsafe { OwnedMessage::from_c(rkmessage) }.map_or(-1, |m| m.latency_us)
    })
}

/// The broker id the message was produced to or fetched from, -1 if unknown.
///
/// # Safety
/// `rkmessage` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_broker_id(rkmessage: *const rd_kafka_message_t) -> i32 {
    // SAFETY: per the caller's contract.
    ffi_guard!(-1, {
        unsafe { OwnedMessage::from_c(rkmessage) }.map_or(-1, |m| m.broker_id)
    })
}

/// The leader epoch of a consumed message, -1 if unknown or an error event.
///
/// # Safety
/// `rkmessage` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_leader_epoch(
    rkmessage: *const rd_kafka_message_t,
) -> i32 {
    ffi_guard!(-1, {
        // SAFETY: per the caller's contract.
        match unsafe { OwnedMessage::from_c(rkmessage) } {
            Some(m) if m.c.err == 0 => m.leader_epoch,
            _ => -1,
        }
    })
}

/// Delivery count of a share-consumer message: -1 (librskafka has no share consumer).
///
/// # Safety
/// `rkmessage` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_delivery_count(
    rkmessage: *const rd_kafka_message_t,
) -> i16 {
    let _ = rkmessage;
    ffi_guard!(-1, { -1 })
}

/// The persistence status of a produced message (`RD_KAFKA_MSG_STATUS_*`).
///
/// # Safety
/// `rkmessage` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_status(
    rkmessage: *const rd_kafka_message_t,
) -> rd_kafka_msg_status_t {
    ffi_guard!(RD_KAFKA_MSG_STATUS_NOT_PERSISTED, {
        // SAFETY: per the caller's contract.
        unsafe { OwnedMessage::from_c(rkmessage) }
            .map_or(RD_KAFKA_MSG_STATUS_NOT_PERSISTED, |m| m.status)
    })
}

/// The message's headers, owned by the message (do not free). `RD_KAFKA_RESP_ERR__NOENT` if it has
/// none.
///
/// # Safety
/// `rkmessage` is NULL or a live message; `hdrsp` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_headers(
    rkmessage: *const rd_kafka_message_t,
    hdrsp: *mut *mut rd_kafka_headers_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: the message is live; we hand out a pointer into it, as librdkafka does.
        let Some(m) = (unsafe { OwnedMessage::from_c_mut(rkmessage as *mut rd_kafka_message_t) })
        else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if hdrsp.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        match m.headers.as_deref_mut() {
            Some(h) => {
                // SAFETY: writable per the caller.
                unsafe { *hdrsp = h };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// Like `rd_kafka_message_headers`, but the caller takes ownership of the headers (free with
/// `rd_kafka_headers_destroy`) and the message no longer has any.
///
/// # Safety
/// `rkmessage` is NULL or a live message; `hdrsp` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_detach_headers(
    rkmessage: *mut rd_kafka_message_t,
    hdrsp: *mut *mut rd_kafka_headers_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let Some(m) = (unsafe { OwnedMessage::from_c_mut(rkmessage) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if hdrsp.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        match m.headers.take() {
            Some(h) => {
                // SAFETY: writable per the caller; ownership moves to the caller.
                unsafe { *hdrsp = Box::into_raw(h) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// Replaces the message's headers with `hdrs` (the message takes ownership; NULL removes them).
///
/// # Safety
/// `rkmessage` is NULL or a live message; `hdrs` is NULL or a header list owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_set_headers(
    rkmessage: *mut rd_kafka_message_t,
    hdrs: *mut rd_kafka_headers_t,
) {
    ffi_guard!((), {
        // SAFETY: allocated by Box::into_raw in headers.rs; ownership moves to the message.
        let new = (!hdrs.is_null()).then(|| unsafe { Box::from_raw(hdrs) });
        // SAFETY: per the caller's contract.
        if let Some(m) = unsafe { OwnedMessage::from_c_mut(rkmessage) } {
            m.headers = new;
        }
    })
}
