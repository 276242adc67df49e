//! `rd_kafka_event_t`: what `rd_kafka_queue_poll` returns. An event owns what its accessors
//! return (messages, partition lists, strings) until `rd_kafka_event_destroy`, except the
//! partition of `rd_kafka_event_topic_partition`, which the caller frees.
//!
//! Accessors given NULL or an event of another type return what librdkafka returns for a type
//! without that data (NULL, 0, -1, `RD_KAFKA_EVENT_NONE`) instead of crashing.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::topic_partition::TopicPartition;
use crate::{ErrorCode, KafkaError, Message};

use super::ctypes::*;
use super::errcodes::*;
use super::handle::rd_kafka_t;
use super::message::OwnedMessage;
use super::ops::{cstring, Op};
use super::partition_list::{from_slice, new_standalone, rd_kafka_topic_partition_list_destroy};
use super::types::*;

/// What an event carries.
pub(crate) enum Kind {
    /// Delivery reports of one batch; `next` is the first not yet handed out.
    Dr {
        // Boxed: C holds each message's address while the event lives.
        #[allow(clippy::vec_box)]
        msgs: Vec<Box<OwnedMessage>>,
        next: usize,
    },
    /// One consumed message, handed out once.
    Fetch { msg: Box<OwnedMessage>, taken: bool },
    /// An error; `tp` for errors about a partition (end of partition: its offset).
    Error {
        errstr: CString,
        fatal: bool,
        tp: Option<TopicPartition>,
    },
    /// A rebalance or commit result: the partitions (a C list the event owns).
    Partitions {
        list: *mut rd_kafka_topic_partition_list_t,
        opaque: *mut c_void,
    },
    /// A log line.
    Log {
        level: c_int,
        fac: CString,
        line: CString,
    },
    /// Statistics JSON.
    Stats(CString),
}

/// An event (opaque to C).
pub(crate) struct Event {
    /// `RD_KAFKA_EVENT_*`.
    pub(crate) ty: rd_kafka_event_type_t,
    /// `rd_kafka_event_error()`.
    pub(crate) err: rd_kafka_resp_err_t,
    pub(crate) kind: Kind,
    /// For DR events: the handle's count of unfinished reports, lowered by the event's messages
    /// when it is destroyed.
    pub(crate) dr_pending: Option<Arc<AtomicUsize>>,
}

impl Drop for Event {
    fn drop(&mut self) {
        if let (Some(p), Kind::Dr { msgs, .. }) = (&self.dr_pending, &self.kind) {
            p.fetch_sub(msgs.len(), Ordering::AcqRel);
        }
        if let Kind::Partitions { list, .. } = self.kind {
            // SAFETY: the event owns the list.
            unsafe { rd_kafka_topic_partition_list_destroy(list) };
        }
    }
}

impl Event {
    /// The event for `op`.
    ///
    /// # Safety
    /// `rk` is a live handle.
    pub(crate) unsafe fn from_op(rk: *mut rd_kafka_t, op: Op) -> Event {
        // SAFETY: per the contract.
        let h = unsafe { &*rk };
        let ty = op.event_type();
        let (err, kind) = match op {
            Op::Deliveries(reports) => {
                let err = reports
                    .first()
                    .and_then(|d| d.error.as_ref())
                    .map_or(0, |e| e.code.0);
                let rkt = reports.first().map(|d| h.topic_by_name(&d.topic));
                let msgs = reports
                    .into_iter()
                    .zip(std::iter::repeat(rkt.unwrap_or(std::ptr::null_mut())))
                    .map(|(d, rkt)| Box::new(h.delivery_message(d, rkt)))
                    .collect();
                (err, Kind::Dr { msgs, next: 0 })
            }
            Op::Error(e) => (e.code.0, error_kind(&e, None)),
            Op::Rebalance {
                err, partitions, ..
            } => (
                err,
                Kind::Partitions {
                    list: from_slice(&partitions),
                    opaque: std::ptr::null_mut(),
                },
            ),
            Op::OffsetCommit {
                err,
                offsets,
                opaque,
                ..
            } => (
                err,
                Kind::Partitions {
                    list: from_slice(&offsets),
                    opaque,
                },
            ),
            Op::Log { level, fac, line } => (
                0,
                Kind::Log {
                    level,
                    fac: cstring(&fac),
                    line: cstring(&line),
                },
            ),
            Op::Stats(json) => (0, Kind::Stats(cstring(&json))),
            // Served as a callback before it could become an event (`next_event`).
            Op::Throttle(_) => (0, Kind::Stats(cstring(""))),
        };
        let dr_pending = (ty == RD_KAFKA_EVENT_DR).then(|| Arc::clone(&h.dr_pending));
        Event {
            ty,
            err,
            kind,
            dr_pending,
        }
    }

    /// The event for what the consumer's poll returned: a message (FETCH) or an error (ERROR).
    ///
    /// # Safety
    /// `rk` is a live handle.
    pub(crate) unsafe fn from_consumer(
        rk: *mut rd_kafka_t,
        r: Result<Message, KafkaError>,
    ) -> Event {
        // SAFETY: per the contract.
        let h = unsafe { &*rk };
        match r {
            Ok(m) => Event {
                ty: RD_KAFKA_EVENT_FETCH,
                err: 0,
                dr_pending: None,
                kind: Kind::Fetch {
                    msg: OwnedMessage::from_message(&m, h.topic_by_name(m.topic())),
                    taken: false,
                },
            },
            Err(e) => {
                let tp = if e.code == ErrorCode::L_PARTITION_EOF {
                    super::consumer::parse_eof(&e.message)
                        .map(|(t, p, o)| TopicPartition::with_offset(t, p, o))
                } else {
                    None
                };
                Event {
                    ty: RD_KAFKA_EVENT_ERROR,
                    err: e.code.0,
                    dr_pending: None,
                    kind: error_kind(&e, tp),
                }
            }
        }
    }
}

fn error_kind(e: &KafkaError, tp: Option<TopicPartition>) -> Kind {
    Kind::Error {
        errstr: cstring(&e.message),
        fatal: e.fatal,
        tp,
    }
}

/// Hands an event to C.
pub(crate) fn rd_kafka_event_t_new(ev: Event) -> *mut rd_kafka_event_t {
    Box::into_raw(Box::new(ev)).cast()
}

/// Borrows the event behind a C pointer.
///
/// # Safety
/// `p` is NULL or a live event from [`rd_kafka_event_t_new`].
unsafe fn ev<'a>(p: *const rd_kafka_event_t) -> Option<&'a Event> {
    // SAFETY: per the contract.
    unsafe { p.cast::<Event>().as_ref() }
}

/// Mutable variant of [`ev`].
///
/// # Safety
/// As `ev`, and no other reference to the event is in use.
unsafe fn ev_mut<'a>(p: *mut rd_kafka_event_t) -> Option<&'a mut Event> {
    // SAFETY: per the contract.
    unsafe { p.cast::<Event>().as_mut() }
}

/// The event's type, `RD_KAFKA_EVENT_NONE` for NULL.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_type(
    rkev: *const rd_kafka_event_t,
) -> rd_kafka_event_type_t {
    ffi_guard!(RD_KAFKA_EVENT_NONE, {
        // SAFETY: per the contract.
        unsafe { ev(rkev) }.map_or(RD_KAFKA_EVENT_NONE, |e| e.ty)
    })
}

/// The event type's name ("DeliveryReport", "Fetch", ...; "(NONE)" for NULL), static.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_name(rkev: *const rd_kafka_event_t) -> *const c_char {
    ffi_guard!(c"?unknown?".as_ptr(), {
        // SAFETY: per the contract.
        let ty = unsafe { ev(rkev) }.map_or(RD_KAFKA_EVENT_NONE, |e| e.ty);
        match ty {
            RD_KAFKA_EVENT_NONE => c"(NONE)".as_ptr(),
            RD_KAFKA_EVENT_DR => c"DeliveryReport".as_ptr(),
            RD_KAFKA_EVENT_FETCH => c"Fetch".as_ptr(),
            RD_KAFKA_EVENT_LOG => c"Log".as_ptr(),
            RD_KAFKA_EVENT_ERROR => c"Error".as_ptr(),
            RD_KAFKA_EVENT_REBALANCE => c"Rebalance".as_ptr(),
            RD_KAFKA_EVENT_OFFSET_COMMIT => c"OffsetCommit".as_ptr(),
            RD_KAFKA_EVENT_STATS => c"Stats".as_ptr(),
            _ => c"?unknown?".as_ptr(),
        }
    })
}

/// Frees an event and everything it owns (its messages and lists). NULL is ignored.
///
/// # Safety
/// `rkev` is NULL or a live event, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_destroy(rkev: *mut rd_kafka_event_t) {
    ffi_guard!((), {
        if !rkev.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(rkev.cast::<Event>()) });
        }
    })
}

/// The next message of a DR or FETCH event (a FETCH event has one), NULL when none is left or
/// for other types. The message belongs to the event: do not destroy it.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_message_next(
    rkev: *mut rd_kafka_event_t,
) -> *const rd_kafka_message_t {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        let Some(e) = (unsafe { ev_mut(rkev) }) else {
            return std::ptr::null();
        };
        match &mut e.kind {
            Kind::Dr { msgs, next } => match msgs.get(*next) {
                Some(m) => {
                    *next += 1;
                    &m.c
                }
                None => std::ptr::null(),
            },
            Kind::Fetch { msg, taken } if !*taken => {
                *taken = true;
                &msg.c
            }
            _ => std::ptr::null(),
        }
    })
}

/// Fills `rkmessages` with up to `size` of the event's next messages; returns how many.
///
/// # Safety
/// `rkev` is NULL or a live event; `rkmessages` has room for `size` pointers.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_message_array(
    rkev: *mut rd_kafka_event_t,
    rkmessages: *mut *const rd_kafka_message_t,
    size: usize,
) -> usize {
    ffi_guard!(0, {
        if rkmessages.is_null() {
            return 0;
        }
        let mut n = 0;
        while n < size {
            // SAFETY: forwarded.
            let m = unsafe { rd_kafka_event_message_next(rkev) };
            if m.is_null() {
                break;
            }
            // SAFETY: `n < size`, within the caller's array.
            unsafe { *rkmessages.add(n) = m };
            n += 1;
        }
        n
    })
}

/// Messages of the event not yet handed out by `message_next`/`message_array` (a DR event's
/// count goes down as they are taken, as in librdkafka); a FETCH event counts 1; others 0.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_message_count(rkev: *mut rd_kafka_event_t) -> usize {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        match unsafe { ev(rkev) }.map(|e| &e.kind) {
            Some(Kind::Dr { msgs, next }) => msgs.len() - next,
            Some(Kind::Fetch { .. }) => 1,
            _ => 0,
        }
    })
}

/// The event's error code (`RD_KAFKA_RESP_ERR_NO_ERROR` for NULL).
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_error(rkev: *mut rd_kafka_event_t) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR_NO_ERROR, {
        // SAFETY: per the contract.
        unsafe { ev(rkev) }.map_or(RD_KAFKA_RESP_ERR_NO_ERROR, |e| e.err)
    })
}

/// The error's description: an ERROR event's own text, else the code's `rd_kafka_err2str`.
/// Owned by the event (static for the code descriptions).
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_error_string(rkev: *mut rd_kafka_event_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        let Some(e) = (unsafe { ev(rkev) }) else {
            return super::error::rd_kafka_err2str(RD_KAFKA_RESP_ERR_NO_ERROR);
        };
        match &e.kind {
            Kind::Error { errstr, .. } if !errstr.as_bytes().is_empty() => errstr.as_ptr(),
            _ => super::error::rd_kafka_err2str(e.err),
        }
    })
}

/// 1 if the ERROR event reports a fatal error, else 0.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_error_is_fatal(rkev: *mut rd_kafka_event_t) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        match unsafe { ev(rkev) }.map(|e| &e.kind) {
            Some(Kind::Error { fatal: true, .. }) => 1,
            _ => 0,
        }
    })
}

/// The opaque of an OFFSET_COMMIT event (the application's `opaque`, or the one given to
/// `rd_kafka_commit_queue`); NULL otherwise.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_opaque(rkev: *mut rd_kafka_event_t) -> *mut c_void {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        match unsafe { ev(rkev) } {
            Some(Event {
                ty: RD_KAFKA_EVENT_OFFSET_COMMIT,
                kind: Kind::Partitions { opaque, .. },
                ..
            }) => *opaque,
            _ => std::ptr::null_mut(),
        }
    })
}

/// A LOG event's facility, text and level (each output NULL-able): 0, or -1 for other types.
/// The strings belong to the event.
///
/// # Safety
/// `rkev` is NULL or a live event; the outputs are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_log(
    rkev: *mut rd_kafka_event_t,
    fac: *mut *const c_char,
    str_: *mut *const c_char,
    level: *mut c_int,
) -> c_int {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        let Some(Kind::Log {
            level: l,
            fac: f,
            line,
        }) = (unsafe { ev(rkev) }).map(|e| &e.kind)
        else {
            return -1;
        };
        // SAFETY: each output is NULL or writable, per the contract.
        unsafe {
            if !fac.is_null() {
                *fac = f.as_ptr();
            }
            if !str_.is_null() {
                *str_ = line.as_ptr();
            }
            if !level.is_null() {
                *level = *l;
            }
        }
        0
    })
}

/// A STATS event's JSON (owned by the event); NULL for other types.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_stats(rkev: *mut rd_kafka_event_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        match unsafe { ev(rkev) }.map(|e| &e.kind) {
            Some(Kind::Stats(json)) => json.as_ptr(),
            _ => std::ptr::null(),
        }
    })
}

/// The partitions of a REBALANCE or OFFSET_COMMIT event (owned by the event, which the
/// application may modify for `rd_kafka_assign`); NULL otherwise.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_topic_partition_list(
    rkev: *mut rd_kafka_event_t,
) -> *mut rd_kafka_topic_partition_list_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        match unsafe { ev(rkev) }.map(|e| &e.kind) {
            Some(Kind::Partitions { list, .. }) => *list,
            _ => std::ptr::null_mut(),
        }
    })
}

/// The partition an ERROR or FETCH event is about (with the error code, and the offset for end of
/// partition), as a new partition the caller frees with `rd_kafka_topic_partition_destroy`;
/// NULL when the event is about no partition.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_topic_partition(
    rkev: *mut rd_kafka_event_t,
) -> *mut rd_kafka_topic_partition_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let Some(e) = (unsafe { ev(rkev) }) else {
            return std::ptr::null_mut();
        };
        let mut tp = match &e.kind {
            Kind::Error { tp: Some(tp), .. } => tp.clone(),
            Kind::Fetch { msg, .. } if !msg.c.rkt.is_null() => {
                // SAFETY: a message's topic object lives as long as the message.
                let topic = unsafe { (*msg.c.rkt).name() };
                TopicPartition::new(topic, msg.c.partition)
            }
            _ => return std::ptr::null_mut(),
        };
        tp.error = ErrorCode(e.err);
        new_standalone(&tp)
    })
}

/// The configuration string of an OAUTHBEARER_TOKEN_REFRESH event: none are raised (no SASL
/// OAUTHBEARER support), so always NULL.
///
/// # Safety
/// `rkev` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_event_config_string(
    rkev: *mut rd_kafka_event_t,
) -> *const c_char {
    let _ = rkev;
    std::ptr::null()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn raw(
        ty: rd_kafka_event_type_t,
        err: rd_kafka_resp_err_t,
        kind: Kind,
    ) -> *mut rd_kafka_event_t {
        rd_kafka_event_t_new(Event {
            ty,
            err,
            kind,
            dr_pending: None,
        })
    }

    fn s(p: *const c_char) -> String {
        // SAFETY: the accessors return NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn null_events_give_librdkafka_values() {
        let null = std::ptr::null_mut();
        // SAFETY: NULL is allowed everywhere.
        unsafe {
            assert_eq!(rd_kafka_event_type(null), RD_KAFKA_EVENT_NONE);
            assert_eq!(s(rd_kafka_event_name(null)), "(NONE)");
            rd_kafka_event_destroy(null);
            assert!(rd_kafka_event_message_next(null).is_null());
            assert_eq!(rd_kafka_event_message_count(null), 0);
            assert_eq!(rd_kafka_event_error(null), RD_KAFKA_RESP_ERR_NO_ERROR);
            assert_eq!(s(rd_kafka_event_error_string(null)), "Success");
            assert_eq!(rd_kafka_event_error_is_fatal(null), 0);
            assert!(rd_kafka_event_opaque(null).is_null());
            let mut level = 0;
            let (mut fac, mut line) = (std::ptr::null(), std::ptr::null());
            assert_eq!(
                rd_kafka_event_log(null, &mut fac, &mut line, &mut level),
                -1
            );
            assert!(rd_kafka_event_stats(null).is_null());
            assert!(rd_kafka_event_topic_partition_list(null).is_null());
            assert!(rd_kafka_event_topic_partition(null).is_null());
            assert!(rd_kafka_event_config_string(null).is_null());
            let mut arr = [std::ptr::null(); 2];
            assert_eq!(rd_kafka_event_message_array(null, arr.as_mut_ptr(), 2), 0);
        }
    }

    #[test]
    fn accessors_of_another_type_return_nothing() {
        let ev = raw(
            RD_KAFKA_EVENT_STATS,
            0,
            Kind::Stats(CString::new("{\"name\":\"x\"}").unwrap()),
        );
        // SAFETY: a live event of ours, destroyed once.
        unsafe {
            assert_eq!(s(rd_kafka_event_name(ev)), "Stats");
            assert_eq!(s(rd_kafka_event_stats(ev)), "{\"name\":\"x\"}");
            assert!(rd_kafka_event_message_next(ev).is_null());
            assert_eq!(rd_kafka_event_message_count(ev), 0);
            assert!(rd_kafka_event_topic_partition_list(ev).is_null());
            assert!(rd_kafka_event_topic_partition(ev).is_null());
            assert!(rd_kafka_event_opaque(ev).is_null());
            assert_eq!(
                rd_kafka_event_log(
                    ev,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut()
                ),
                -1
            );
            rd_kafka_event_destroy(ev);
        }
        let ev = raw(
            RD_KAFKA_EVENT_LOG,
            0,
            Kind::Log {
                level: 7,
                fac: CString::new("FAC").unwrap(),
                line: CString::new("text").unwrap(),
            },
        );
        let (mut fac, mut line, mut level) = (std::ptr::null(), std::ptr::null(), 0);
        // SAFETY: as above.
        unsafe {
            assert!(rd_kafka_event_stats(ev).is_null());
            assert_eq!(rd_kafka_event_log(ev, &mut fac, &mut line, &mut level), 0);
            assert_eq!((s(fac), s(line), level), ("FAC".into(), "text".into(), 7));
            rd_kafka_event_destroy(ev);
        }
    }

    #[test]
    fn error_event_carries_its_partition_and_text() {
        let e = KafkaError::new(ErrorCode::L_PARTITION_EOF, "end of t [2] at offset 9");
        let tp = TopicPartition::with_offset("t", 2, 9);
        let ev = raw(RD_KAFKA_EVENT_ERROR, e.code.0, error_kind(&e, Some(tp)));
        // SAFETY: as above; the partition is ours to destroy.
        unsafe {
            assert_eq!(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR__PARTITION_EOF);
            assert_eq!(
                s(rd_kafka_event_error_string(ev)),
                "end of t [2] at offset 9"
            );
            assert_eq!(rd_kafka_event_error_is_fatal(ev), 0);
            let p = rd_kafka_event_topic_partition(ev);
            assert!(!p.is_null());
            assert_eq!(((*p).partition, (*p).offset, (*p).err), (2, 9, e.code.0));
            super::super::partition_list::rd_kafka_topic_partition_destroy(p);
            rd_kafka_event_destroy(ev);
        }
        // An event without its own text describes its code.
        let ev = raw(
            RD_KAFKA_EVENT_REBALANCE,
            RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS,
            Kind::Partitions {
                list: from_slice(&[TopicPartition::new("t", 0)]),
                opaque: std::ptr::null_mut(),
            },
        );
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                s(rd_kafka_event_error_string(ev)),
                "Local: Assign partitions"
            );
            assert_eq!((*rd_kafka_event_topic_partition_list(ev)).cnt, 1);
            rd_kafka_event_destroy(ev);
        }
    }

    #[test]
    fn dr_event_hands_out_each_message_once() {
        let msgs = (0..3)
            .map(|i| {
                let mut m = OwnedMessage::error(0, "", std::ptr::null_mut(), 0, i);
                m.c.err = 0;
                m
            })
            .collect();
        let ev = raw(RD_KAFKA_EVENT_DR, 0, Kind::Dr { msgs, next: 0 });
        let mut arr = [std::ptr::null(); 8];
        // SAFETY: as above.
        unsafe {
            assert_eq!(rd_kafka_event_message_count(ev), 3);
            let first = rd_kafka_event_message_next(ev);
            assert_eq!((*first).offset, 0);
            assert_eq!(rd_kafka_event_message_count(ev), 2);
            assert_eq!(rd_kafka_event_message_array(ev, arr.as_mut_ptr(), 8), 2);
            assert_eq!(((*arr[0]).offset, (*arr[1]).offset), (1, 2));
            assert!(rd_kafka_event_message_next(ev).is_null());
            assert_eq!(rd_kafka_event_message_count(ev), 0);
            assert_eq!(rd_kafka_event_message_array(ev, std::ptr::null_mut(), 8), 0);
            rd_kafka_event_destroy(ev);
        }
    }
}
