//! The client handle `rd_kafka_t`: one per `rd_kafka_new()`, owning the configuration it was
//! created from, the Rust client that does the work ([`Kind`]), and the handle's topic objects.
//!
//! Ownership: `rd_kafka_new` returns a handle the caller owns and frees with `rd_kafka_destroy`
//! (or `rd_kafka_destroy_flags`). It takes ownership of `conf` only when it succeeds; on failure
//! the caller still owns `conf`.
//!
//! Callbacks: the Rust client hands delivery reports and errors to closures that only queue them
//! ([`Event`]); `rd_kafka_poll`/`rd_kafka_flush` then call the application's C callbacks with no
//! lock held, so a callback may call back into the library (produce, poll, outq_len).
//!
//! Adding the consumer: add `Kind::Consumer(..)`, create it in [`rd_kafka_t::create`], and let
//! functions that only make sense for one kind match on `rk.kind` (see [`rd_kafka_t::producer`]).

use std::collections::{HashMap, VecDeque};
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::ClientConfig;
use crate::producer::{DeliveryReport, Producer};
use crate::KafkaError;

use super::conf::{rd_kafka_conf_new, rd_kafka_conf_t, Callbacks};

use super::ctypes::*;
use super::errcodes::*;
use super::error::set_last_error;
use super::headers::rd_kafka_headers_t;
use super::message::OwnedMessage;
use super::topic::rd_kafka_topic_t;
use super::types::*;
use super::{cstr, write_errstr};

/// `EINVAL`: the errno librdkafka sets for a failed `rd_kafka_new`.
const EINVAL: c_int = 22;

/// What the handle is.
// One per handle: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Kind {
    /// `RD_KAFKA_PRODUCER`.
    Producer(Producer),
    /// `RD_KAFKA_CONSUMER`.
    Consumer(crate::Consumer),
}

/// Something for `rd_kafka_poll` to hand to the application's callbacks.
pub(crate) enum Event {
    /// A delivery report (`dr_msg_cb` / `dr_cb`).
    Delivery(DeliveryReport),
    /// A client error (`error_cb`).
    Error(KafkaError),
    /// A statistics JSON document (`stats_cb`).
    Stats(String),
    /// A broker's throttle time (`throttle_cb`).
    Throttle(crate::Throttle),
}

/// A topic object pointer kept in the handle's table (the handle holds one reference).
struct TopicPtr(*mut rd_kafka_topic_t);
// SAFETY: the topic object is reference-counted with atomics and immutable after creation.
unsafe impl Send for TopicPtr {}

/// Handles created and not yet completely destroyed (for `rd_kafka_wait_destroyed`).
static LIVE_HANDLES: AtomicUsize = AtomicUsize::new(0);

/// A client handle (opaque to C).
pub struct rd_kafka_t {
    /// The Rust client doing the work.
    pub(crate) kind: Kind,
    /// `RD_KAFKA_PRODUCER` or `RD_KAFKA_CONSUMER`.
    pub(crate) rk_type: rd_kafka_type_t,
    /// `rd_kafka_name()`: `<client.id>#<type>-<n>`.
    name: CString,
    /// The configuration given to `rd_kafka_new` (owned since then; `rd_kafka_conf()` shows it).
    pub(crate) conf: Box<rd_kafka_conf_t>,
    /// Reports and errors waiting for `rd_kafka_poll`, filled by the Rust client's callbacks.
    events: Arc<Mutex<VecDeque<Event>>>,
    /// The handle's topic objects by name; created by `rd_kafka_topic_new` or on first use by
    /// name (`producev` with `RD_KAFKA_V_TOPIC`, delivery reports).
    topics: Mutex<HashMap<String, TopicPtr>>,
    /// Headers of messages in flight, for their delivery reports (the Rust client's reports do
    /// not carry headers). Keyed by the opaque given to the Rust client: the address of the
    /// entry's box, which no application opaque can equal while the box lives.
    dr_headers: Mutex<HashMap<usize, Box<DrHeaders>>>,
    /// The first fatal error the client reported (`rd_kafka_fatal_error`).
    fatal: Arc<Mutex<Option<KafkaError>>>,
    /// Consumer group state seen by the rebalance callback (`rd_kafka_assignment_lost`,
    /// `rd_kafka_rebalance_protocol`).
    pub(crate) group: super::consumer::GroupState,
}

/// What a delivery report needs beyond the Rust client's report.
pub(crate) struct DrHeaders {
    /// The application's `msg_opaque`.
    pub msg_opaque: *mut c_void,
    /// The produced headers.
    pub headers: Box<rd_kafka_headers_t>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl rd_kafka_t {
    /// Builds the client of `rk_type` from `conf` (not consumed on failure).
    fn create(rk_type: rd_kafka_type_t, conf: &rd_kafka_conf_t) -> Result<Kind, KafkaError> {
        let config: ClientConfig = conf.client_config();
        match rk_type {
            RD_KAFKA_PRODUCER => Ok(Kind::Producer(Producer::new(&config)?)),
            RD_KAFKA_CONSUMER => Ok(Kind::Consumer(crate::Consumer::new(&config)?)),
            _ => Err(KafkaError::new(
                crate::ErrorCode::L_INVALID_ARG,
                format!("Invalid client type {rk_type}"),
            )),
        }
    }

    /// The application's callbacks and opaque.
    pub(crate) fn callbacks(&self) -> &Callbacks {
        &self.conf.callbacks
    }

    /// The producer, if this is a producer handle.
    pub(crate) fn producer(&self) -> Option<&Producer> {
        match &self.kind {
            Kind::Producer(p) => Some(p),
            Kind::Consumer(_) => None,
        }
    }

    /// The consumer, if this is a consumer handle.
    pub(crate) fn consumer(&self) -> Option<&crate::Consumer> {
        match &self.kind {
            Kind::Consumer(c) => Some(c),
            Kind::Producer(_) => None,
        }
    }

    /// The topic object for `name`, created with the default topic configuration on first use.
    /// The returned pointer is borrowed from the handle (no reference is added).
    pub(crate) fn topic_by_name(&self, name: &str) -> *mut rd_kafka_topic_t {
        let mut t = lock(&self.topics);
        if let Some(p) = t.get(name) {
            return p.0;
        }
        let p = rd_kafka_topic_t::new_raw(self as *const _ as *mut _, name, None, &self.conf);
        t.insert(name.to_string(), TopicPtr(p));
        p
    }

    /// `rd_kafka_topic_new`: the existing object with one more reference, or a new one with
    /// `topic_conf` (owned from here on; dropped when the topic already exists, as librdkafka).
    pub(crate) fn topic_new(
        &self,
        name: &str,
        topic_conf: Option<Box<super::conf::rd_kafka_topic_conf_t>>,
    ) -> *mut rd_kafka_topic_t {
        let mut t = lock(&self.topics);
        if let Some(p) = t.get(name) {
            // SAFETY: the table's reference keeps the object alive.
            unsafe { (*p.0).incref() };
            return p.0;
        }
        let p = rd_kafka_topic_t::new_raw(self as *const _ as *mut _, name, topic_conf, &self.conf);
        // SAFETY: just created with one reference (the table's); the caller gets a second.
        unsafe { (*p).incref() };
        t.insert(name.to_string(), TopicPtr(p));
        p
    }

    /// Keeps `headers` for the delivery report of a message produced with `msg_opaque`; returns
    /// the opaque to give the Rust client instead. Only when a `dr_msg_cb` will see them.
    pub(crate) fn keep_headers(
        &self,
        msg_opaque: *mut c_void,
        headers: rd_kafka_headers_t,
    ) -> Option<usize> {
        self.callbacks().dr_msg_cb?;
        let b = Box::new(DrHeaders {
            msg_opaque,
            headers: Box::new(headers),
        });
        let key = &*b as *const DrHeaders as usize;
        lock(&self.dr_headers).insert(key, b);
        Some(key)
    }

    /// Queues an event for the next `rd_kafka_poll` (or `rd_kafka_consumer_poll`).
    pub(crate) fn push_event(&self, ev: Event) {
        lock(&self.events).push_back(ev);
    }

    /// Takes back what [`keep_headers`](Self::keep_headers) kept under `key`.
    pub(crate) fn take_headers(&self, key: usize) -> Option<Box<DrHeaders>> {
        lock(&self.dr_headers).remove(&key)
    }

    /// Messages produced and not yet reported to the application.
    pub(crate) fn outq_len(&self) -> usize {
        let queued = lock(&self.events)
            .iter()
            .filter(|e| matches!(e, Event::Delivery(_)))
            .count();
        self.producer().map_or(0, Producer::in_flight_count) + queued
    }

    /// Waits up to `timeout_ms` (-1: forever) for events and serves them; returns how many.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn poll(&self, rk: *mut rd_kafka_t, timeout_ms: c_int) -> c_int {
        let timeout = timeout_of(timeout_ms);
        if lock(&self.events).is_empty() {
            if let Some(p) = self.producer() {
                p.poll(timeout);
            }
        } else if let Some(p) = self.producer() {
            p.poll(std::time::Duration::ZERO);
        }
        // SAFETY: forwarded.
        unsafe { self.serve(rk) }
    }

    /// Calls the application's callbacks for the queued events, with no lock held.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn serve(&self, rk: *mut rd_kafka_t) -> c_int {
        let mut served = 0;
        loop {
            let Some(ev) = lock(&self.events).pop_front() else {
                return served;
            };
            served += 1;
            match ev {
                // SAFETY: forwarded.
                Event::Delivery(dr) => unsafe { self.deliver(rk, &dr) },
                // SAFETY: forwarded.
                Event::Error(e) => unsafe { self.report_error(rk, &e) },
                // SAFETY: forwarded.
                Event::Stats(json) => unsafe { self.stats(rk, &json) },
                // SAFETY: forwarded.
                Event::Throttle(t) => unsafe { self.throttle(rk, &t) },
            }
        }
    }

    /// An error to `error_cb`; without one, logged as librdkafka does (`log_cb` or stderr, level 3,
    /// facility `ERROR`).
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    unsafe fn report_error(&self, rk: *mut rd_kafka_t, e: &KafkaError) {
        let cbs = self.callbacks();
        if let Some(cb) = cbs.error_cb {
            let reason = CString::new(e.message.replace('\0', " ")).unwrap_or_default();
            // SAFETY: the application's callback with its own opaque.
            // A fatal error is `_FATAL` to error_cb; rd_kafka_fatal_error() gives its own code.
            let code = if e.fatal {
                RD_KAFKA_RESP_ERR__FATAL
            } else {
                e.code.0
            };
            unsafe { cb(rk, code, reason.as_ptr(), cbs.opaque) };
            return;
        }
        let name = self.name.to_string_lossy();
        let line = format!("[thrd:app]: {name}: {}", e.message);
        match cbs.log_cb {
            Some(cb) => {
                let line = CString::new(line.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the application's callback; the strings live across the call.
                unsafe { cb(rk, 3, c"ERROR".as_ptr(), line.as_ptr()) };
            }
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                eprintln!(
                    "%3|{}.{:03}|ERROR|{name}| {line}",
                    now.as_secs(),
                    now.subsec_millis()
                );
            }
        }
    }

    /// A statistics document to `stats_cb` in a `malloc`ed copy: librdkafka's contract is that a
    /// callback returning 1 keeps it (and frees it with `rd_kafka_mem_free`), 0 lets us free it.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    unsafe fn stats(&self, rk: *mut rd_kafka_t, json: &str) {
        let cbs = self.callbacks();
        let Some(cb) = cbs.stats_cb else {
            return;
        };
        let p = super::c_strdup(json);
        if p.is_null() {
            return;
        }
        // SAFETY: the application's callback; `p` holds `json.len()` bytes plus the NUL.
        let keep = unsafe { cb(rk, p, json.len(), cbs.opaque) };
        if keep == 0 {
            // SAFETY: allocated by `c_strdup` with `malloc`; the application did not keep it.
            unsafe { super::libc_free(p.cast()) };
        }
    }

    /// A broker throttle time to `throttle_cb`.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    unsafe fn throttle(&self, rk: *mut rd_kafka_t, t: &crate::Throttle) {
        let cbs = self.callbacks();
        let Some(cb) = cbs.throttle_cb else {
            return;
        };
        let name = CString::new(t.broker_name.replace('\0', "")).unwrap_or_default();
        // SAFETY: the application's callback; the name lives across the call.
        unsafe {
            cb(
                rk,
                name.as_ptr(),
                t.broker_id,
                t.throttle_time_ms,
                cbs.opaque,
            )
        };
    }

    /// One delivery report to `dr_msg_cb` and/or `dr_cb`.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    unsafe fn deliver(&self, rk: *mut rd_kafka_t, dr: &DeliveryReport) {
        let cbs = self.callbacks();
        let extra = self.take_headers(dr.opaque);
        if cbs.dr_msg_cb.is_none() && cbs.dr_cb.is_none() {
            return;
        }
        let rkt = self.topic_by_name(&dr.topic);
        let status = match &dr.error {
            None => RD_KAFKA_MSG_STATUS_PERSISTED,
            // Sent, but the answer was lost: the broker may have written it.
            Some(e)
                if matches!(
                    e.code.0,
                    RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
                        | RD_KAFKA_RESP_ERR__TIMED_OUT
                        | RD_KAFKA_RESP_ERR__TRANSPORT
                        | RD_KAFKA_RESP_ERR__PURGE_INFLIGHT
                        | RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT
                ) =>
            {
                RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED
            }
            Some(_) => RD_KAFKA_MSG_STATUS_NOT_PERSISTED,
        };
        let mut msg = match extra {
            Some(x) => {
                let mut m = OwnedMessage::from_delivery(dr, rkt, Some(x.headers), status);
                m.c._private = x.msg_opaque;
                m
            }
            None => OwnedMessage::from_delivery(dr, rkt, None, status),
        };
        let msg = &mut *msg;
        if let Some(cb) = cbs.dr_msg_cb {
            // SAFETY: the message lives until the end of this function, past the callback.
            unsafe { cb(rk, &msg.c, cbs.opaque) };
        }
        if let Some(cb) = cbs.dr_cb {
            // SAFETY: as above.
            unsafe {
                cb(
                    rk,
                    msg.c.payload,
                    msg.c.len,
                    msg.c.err,
                    cbs.opaque,
                    msg.c._private,
                )
            };
        }
    }
}

/// librdkafka's timeout convention: -1 (any negative) waits "forever".
pub(crate) fn timeout_of(timeout_ms: c_int) -> std::time::Duration {
    if timeout_ms < 0 {
        // Long enough to be forever, short enough not to overflow `Instant + Duration`.
        std::time::Duration::from_secs(365 * 24 * 3600)
    } else {
        std::time::Duration::from_millis(timeout_ms as u64)
    }
}

/// Borrows a handle.
///
/// # Safety
/// `rk` is NULL or a live handle from `rd_kafka_new`.
pub(crate) unsafe fn handle<'a>(rk: *const rd_kafka_t) -> Option<&'a rd_kafka_t> {
    // SAFETY: per the contract.
    unsafe { rk.as_ref() }
}

/// Creates a client handle of `type` (`RD_KAFKA_PRODUCER` or `RD_KAFKA_CONSUMER`) from `conf`. On success the handle owns `conf` (NULL: the default configuration) and the
/// caller frees the handle with `rd_kafka_destroy`. On failure returns NULL, writes the reason
/// into `errstr`, and the caller still owns `conf`.
///
/// # Safety
/// `conf` is NULL or a configuration owned by the caller; `errstr` is NULL or points to
/// `errstr_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_new(
    type_: rd_kafka_type_t,
    conf: *mut rd_kafka_conf_t,
    errstr: *mut c_char,
    errstr_size: usize,
) -> *mut rd_kafka_t {
    ffi_guard!(std::ptr::null_mut(), {
        let conf = if conf.is_null() {
            rd_kafka_conf_new()
        } else {
            conf
        };
        // SAFETY: non-NULL, owned by the caller until we succeed.
        let kind = match rd_kafka_t::create(type_, unsafe { &*conf }) {
            Ok(k) => k,
            Err(e) => {
                // SAFETY: the caller's buffer contract.
                unsafe { write_errstr(errstr, errstr_size, &e.message) };
                set_last_error(e.code.0, EINVAL);
                return std::ptr::null_mut();
            }
        };
        // SAFETY: creation succeeded: the configuration is ours now.
        let conf = unsafe { Box::from_raw(conf) };
        // The Rust client's name (`<client.id>#<type>-<n>`), which its statistics carry too.
        let name = match &kind {
            Kind::Producer(p) => p.name(),
            Kind::Consumer(c) => c.name(),
        };
        let name = CString::new(name.replace('\0', "")).unwrap_or_default();
        let events = Arc::new(Mutex::new(VecDeque::new()));
        let fatal = Arc::new(Mutex::new(None));
        match &kind {
            Kind::Consumer(_) => {}
            Kind::Producer(p) => {
                // Without a delivery callback reports are dropped here, as librdkafka does not
                // queue them either (they would only hold memory until the next poll).
                let wants_dr = conf.callbacks.dr_msg_cb.is_some() || conf.callbacks.dr_cb.is_some();
                let q = Arc::clone(&events);
                p.set_delivery_callback(Box::new(move |dr| {
                    if wants_dr {
                        lock(&q).push_back(Event::Delivery(dr.clone()))
                    }
                }));
                let q = Arc::clone(&events);
                let f = Arc::clone(&fatal);
                p.set_error_callback(Box::new(move |e| {
                    if e.fatal {
                        lock(&f).get_or_insert_with(|| e.clone());
                    }
                    lock(&q).push_back(Event::Error(e.clone()))
                }));
                let q = Arc::clone(&events);
                p.set_stats_callback(Box::new(move |json| {
                    lock(&q).push_back(Event::Stats(json.to_string()))
                }));
                let q = Arc::clone(&events);
                p.set_throttle_callback(Box::new(move |t| {
                    lock(&q).push_back(Event::Throttle(t.clone()))
                }));
            }
        }
        LIVE_HANDLES.fetch_add(1, Ordering::AcqRel);
        let rk = Box::into_raw(Box::new(rd_kafka_t {
            kind,
            rk_type: type_,
            name,
            conf,
            events,
            topics: Mutex::new(HashMap::new()),
            dr_headers: Mutex::new(HashMap::new()),
            fatal,
            group: Default::default(),
        }));
        // SAFETY: just created; the callbacks need the handle's final address.
        unsafe { super::consumer::install_callbacks(rk) };
        rk
    })
}

/// Destroys a handle: queued messages are dropped without delivery reports (call
/// `rd_kafka_flush` first to deliver them). Topic objects the application still holds stay
/// valid until their `rd_kafka_topic_destroy`. NULL is ignored.
///
/// # Safety
/// `rk` is NULL or a handle from `rd_kafka_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_destroy(rk: *mut rd_kafka_t) {
    // SAFETY: forwarded.
    unsafe { rd_kafka_destroy_flags(rk, 0) }
}

/// `rd_kafka_destroy` with `RD_KAFKA_DESTROY_F_*` flags: a consumer is closed first (revoking its
/// assignment through the rebalance callback and leaving the group) unless
/// `RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE` is given.
///
/// # Safety
/// As `rd_kafka_destroy`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_destroy_flags(rk: *mut rd_kafka_t, flags: c_int) {
    ffi_guard!((), {
        if rk.is_null() {
            return;
        }
        // SAFETY: the handle is still whole: its callbacks may run during the close.
        unsafe { super::consumer::close_for_destroy(rk, flags) };
        // SAFETY: per the contract, ours to free.
        let rk = unsafe { Box::from_raw(rk) };
        let rk = *rk;
        // Stop the client first: its engine thread may still report into `events`.
        drop(rk.kind);
        for (_, t) in lock(&rk.topics).drain() {
            // SAFETY: the table's reference.
            unsafe { rd_kafka_topic_t::decref(t.0) };
        }
        LIVE_HANDLES.fetch_sub(1, Ordering::AcqRel);
    })
}

/// Waits up to `timeout_ms` for every handle of the process to be completely destroyed: 0 when
/// none is left, -1 on timeout. (`rd_kafka_destroy` returns once the engine thread has stopped,
/// so this only waits for handles other threads are still destroying.)
#[no_mangle]
pub extern "C" fn rd_kafka_wait_destroyed(timeout_ms: c_int) -> c_int {
    ffi_guard!(-1, {
        let deadline = std::time::Instant::now() + timeout_of(timeout_ms);
        while LIVE_HANDLES.load(Ordering::Acquire) > 0 {
            if std::time::Instant::now() >= deadline {
                return -1;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        0
    })
}

/// The handle's name (`rdkafka#producer-1`), owned by the handle. NULL for a NULL handle.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_name(rk: *const rd_kafka_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(std::ptr::null(), |rk| rk.name.as_ptr())
    })
}

/// The handle's type (`RD_KAFKA_PRODUCER`, `RD_KAFKA_CONSUMER`).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_type(rk: *const rd_kafka_t) -> rd_kafka_type_t {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(0, |rk| rk.rk_type)
    })
}

/// The application opaque set with `rd_kafka_conf_set_opaque` (NULL if none).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_opaque(rk: *const rd_kafka_t) -> *mut c_void {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(std::ptr::null_mut(), |rk| rk.callbacks().opaque)
    })
}

/// The handle's configuration (owned by the handle; do not modify or free it).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf(rk: *mut rd_kafka_t) -> *const rd_kafka_conf_t {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(std::ptr::null(), |rk| &*rk.conf as *const _)
    })
}

/// Serves queued callbacks (delivery reports, errors), waiting up to `timeout_ms` (-1: forever)
/// for the first; returns how many were served.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_poll(rk: *mut rd_kafka_t, timeout_ms: c_int) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        match unsafe { handle(rk) } {
            // SAFETY: `rk` is this live handle.
            Some(h) => unsafe { h.poll(rk, timeout_ms) },
            None => 0,
        }
    })
}

/// Messages (and callbacks) not yet served: produced messages without a served delivery report.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_outq_len(rk: *mut rd_kafka_t) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(0, |h| h.outq_len().min(c_int::MAX as usize) as c_int)
    })
}

/// Sends everything queued and serves delivery reports until none is outstanding
/// (`RD_KAFKA_RESP_ERR_NO_ERROR`) or `timeout_ms` passes (`RD_KAFKA_RESP_ERR__TIMED_OUT`).
/// Producers only: `_NOT_IMPLEMENTED` for consumers, as librdkafka.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_flush(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if h.producer().is_none() {
            return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
        }
        let deadline = std::time::Instant::now() + timeout_of(timeout_ms);
        loop {
            // SAFETY: `rk` is this live handle.
            unsafe { h.serve(rk) };
            if h.outq_len() == 0 {
                return RD_KAFKA_RESP_ERR_NO_ERROR;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return RD_KAFKA_RESP_ERR__TIMED_OUT;
            }
            let step = (deadline - now).min(std::time::Duration::from_millis(100));
            if let Some(p) = h.producer() {
                // A timeout here is ours to report at the deadline.
                let _ = p.flush(step);
            }
        }
    })
}

/// The client's fatal error (idempotence or transaction state lost), with its reason written to
/// `errstr`; `RD_KAFKA_RESP_ERR_NO_ERROR` while there is none.
///
/// # Safety
/// `rk` is NULL or a live handle; `errstr` is NULL or points to `errstr_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_fatal_error(
    rk: *mut rd_kafka_t,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match &*lock(&h.fatal) {
            Some(e) => {
                // SAFETY: the caller's buffer contract.
                unsafe { write_errstr(errstr, errstr_size, &e.message) };
                e.code.0
            }
            None => RD_KAFKA_RESP_ERR_NO_ERROR,
        }
    })
}

/// Asks a running `rd_kafka_poll` to return early. Callbacks are served one at a time and the
/// poll returns after each batch anyway, so there is nothing to interrupt: a no-op.
#[no_mangle]
pub extern "C" fn rd_kafka_yield(rk: *mut rd_kafka_t) {
    let _ = rk;
}

/// Sets the handle's log level. The Rust client logs only with the `debug` property, so the
/// level is accepted and has no effect yet.
#[no_mangle]
pub extern "C" fn rd_kafka_set_log_level(rk: *mut rd_kafka_t, level: c_int) {
    let _ = (rk, level);
}

/// A log callback that prints to stderr in librdkafka's format:
/// `%<level>|<seconds>.<millis>|<facility>|<handle name>| <message>`.
///
/// # Safety
/// `rk` is NULL or a live handle; `fac` and `buf` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_log_print(
    rk: *const rd_kafka_t,
    level: c_int,
    fac: *const c_char,
    buf: *const c_char,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        let name = unsafe { handle(rk) }.map_or("".into(), |h| h.name.to_string_lossy());
        // SAFETY: per the contract.
        let (fac, buf) = unsafe { (cstr(fac).unwrap_or(""), cstr(buf).unwrap_or("")) };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!(
            "%{level}|{}.{:03}|{fac}|{name}| {buf}",
            now.as_secs(),
            now.subsec_millis()
        );
    })
}
