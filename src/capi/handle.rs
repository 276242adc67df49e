//! The client handle `rd_kafka_t`: one per `rd_kafka_new()`, owning the configuration it was
//! created from, the Rust client that does the work ([`Kind`]), and the handle's topic objects.
//!
//! Ownership: `rd_kafka_new` returns a handle the caller owns and frees with `rd_kafka_destroy`
//! (or `rd_kafka_destroy_flags`). It takes ownership of `conf` only when it succeeds; on failure
//! the caller still owns `conf`.
//!
//! Callbacks: the Rust client hands delivery reports and errors to closures that only post them
//! to the handle's main queue (`queue.rs`, `Op`); `rd_kafka_poll`/`rd_kafka_flush` then call the
//! application's C callbacks (`ops.rs`) with no lock held, so a callback may call back into the
//! library (produce, poll, outq_len), and `rd_kafka_queue_poll` returns them as events instead.
//!
//! Functions that only make sense for one kind of client match on `rk.kind` (see
//! [`rd_kafka_t::producer`]).

use std::collections::HashMap;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::ClientConfig;
use crate::producer::Producer;
use crate::KafkaError;

use super::conf::{rd_kafka_conf_new, rd_kafka_conf_t, Callbacks};

use super::ctypes::*;
use super::errcodes::*;
use super::error::set_last_error;
use super::headers::rd_kafka_headers_t;
use super::ops::Op;
use super::queue::{EvQueue, PartitionQueues};
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
    pub(crate) name: CString,
    /// The configuration given to `rd_kafka_new` (owned since then; `rd_kafka_conf()` shows it).
    pub(crate) conf: Box<rd_kafka_conf_t>,
    /// The main queue: reports, errors, commit results, logs, filled by the Rust client's
    /// callbacks and served by `rd_kafka_poll` (or polled as events).
    pub(crate) main: Arc<EvQueue>,
    /// The consumer queue (consumers with a `group.id`): rebalances, and the consumer's messages.
    consumer_q: Option<Arc<EvQueue>>,
    /// The log queue with `log.queue=true` (`rd_kafka_set_log_queue` forwards it).
    pub(crate) logq: Option<Arc<EvQueue>>,
    /// `RD_KAFKA_EVENT_*` types the handle raises: `rd_kafka_conf_set_events` plus those of the
    /// configured callbacks, as librdkafka computes them.
    pub(crate) enabled_events: c_int,
    /// Delivery reports not yet served to a callback or destroyed with their DR event: they
    /// count in `rd_kafka_outq_len`, and `rd_kafka_flush` waits for them, as in librdkafka.
    pub(crate) dr_pending: Arc<AtomicUsize>,
    /// Partition queues by topic and partition (`rd_kafka_queue_get_partition`).
    pub(crate) partition_qs: PartitionQueues,
    /// The handle's topic objects by name; created by `rd_kafka_topic_new` or on first use by
    /// name (`producev` with `RD_KAFKA_V_TOPIC`, delivery reports).
    topics: Mutex<HashMap<String, TopicPtr>>,
    /// Headers of messages in flight, for their delivery reports (the Rust client's reports do
    /// not carry headers). Keyed by the opaque given to the Rust client: the address of the
    /// entry's box, which no application opaque can equal while the box lives.
    dr_headers: Mutex<HashMap<usize, Box<DrHeaders>>>,
    /// Entries in `dr_headers`: reports of messages without headers skip its lock.
    dr_headers_len: AtomicUsize,
    /// The first fatal error the client reported (`rd_kafka_fatal_error`).
    fatal: Arc<Mutex<Option<KafkaError>>>,
    /// Consumer group state seen by the rebalance callback (`rd_kafka_assignment_lost`,
    /// `rd_kafka_rebalance_protocol`).
    pub(crate) group: super::group::GroupState,
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

    /// The consumer queue, for consumers with a `group.id`.
    pub(crate) fn consumer_queue(&self) -> Option<&Arc<EvQueue>> {
        self.consumer_q.as_ref()
    }

    /// Whether delivery reports are raised as events rather than callbacks.
    pub(crate) fn dr_event_mode(&self) -> bool {
        let cbs = self.callbacks();
        cbs.dr_msg_cb.is_none()
            && cbs.dr_cb.is_none()
            && self.enabled_events & RD_KAFKA_EVENT_DR != 0
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

    /// Names of the handle's topic objects (librdkafka's locally known topics), sorted.
    pub(crate) fn topic_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.topics).keys().cloned().collect();
        names.sort();
        names
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
        if self.callbacks().dr_msg_cb.is_none() && !self.dr_event_mode() {
            return None;
        }
        let b = Box::new(DrHeaders {
            msg_opaque,
            headers: Box::new(headers),
        });
        let key = &*b as *const DrHeaders as usize;
        lock(&self.dr_headers).insert(key, b);
        self.dr_headers_len.fetch_add(1, Ordering::AcqRel);
        Some(key)
    }

    /// Takes back what [`keep_headers`](Self::keep_headers) kept under `key`.
    pub(crate) fn take_headers(&self, key: usize) -> Option<Box<DrHeaders>> {
        if self.dr_headers_len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let taken = lock(&self.dr_headers).remove(&key);
        if taken.is_some() {
            self.dr_headers_len.fetch_sub(1, Ordering::AcqRel);
        }
        taken
    }

    /// Messages produced and not yet reported to the application.
    /// (librdkafka: messages not yet finished, plus the ops waiting in the main queue.)
    pub(crate) fn outq_len(&self) -> usize {
        self.unfinished_msgs() + self.main.resolve().len()
    }

    /// Messages produced whose delivery report was not served or destroyed yet.
    fn unfinished_msgs(&self) -> usize {
        let reported = self.dr_pending.load(Ordering::Acquire);
        self.producer().map_or(0, Producer::in_flight_count) + reported
    }

    /// Waits up to `timeout_ms` (-1: forever) for events and serves them; returns how many.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn poll(&self, rk: *mut rd_kafka_t, timeout_ms: c_int) -> c_int {
        let timeout = timeout_of(timeout_ms);
        if self.main.resolve().len() == 0 {
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
        // SAFETY: forwarded.
        unsafe { serve_queue(rk, &self.main.resolve()) }
    }
}

/// Serves the ops waiting in `q` with the application's callbacks; returns how many.
///
/// # Safety
/// `rk` is a live handle.
pub(crate) unsafe fn serve_queue(rk: *mut rd_kafka_t, q: &EvQueue) -> c_int {
    let mut served = 0;
    while let Some(op) = q.pop() {
        served += 1;
        // SAFETY: forwarded.
        unsafe { super::ops::serve(rk, op) };
    }
    served
}

/// The `RD_KAFKA_EVENT_*` types a handle raises: those of `rd_kafka_conf_set_events` plus those
/// whose callback is configured (librdkafka does the same at `rd_kafka_new`).
fn enabled_events(cbs: &Callbacks) -> c_int {
    let mut ev = cbs.enabled_events;
    if cbs.dr_msg_cb.is_some() || cbs.dr_cb.is_some() {
        ev |= RD_KAFKA_EVENT_DR;
    }
    if cbs.rebalance_cb.is_some() {
        ev |= RD_KAFKA_EVENT_REBALANCE;
    }
    if cbs.offset_commit_cb.is_some() {
        ev |= RD_KAFKA_EVENT_OFFSET_COMMIT;
    }
    if cbs.error_cb.is_some() {
        ev |= RD_KAFKA_EVENT_ERROR;
    }
    if cbs.stats_cb.is_some() {
        ev |= RD_KAFKA_EVENT_STATS;
    }
    ev
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
        let enabled_events = enabled_events(&conf.callbacks);
        let main = EvQueue::new(0);
        let dr_pending = Arc::new(AtomicUsize::new(0));
        let fatal = Arc::new(Mutex::new(None));
        let consumer_q = match &kind {
            Kind::Consumer(_) => conf
                .config
                .get("group.id")
                .is_some_and(|g| !g.is_empty())
                .then(|| EvQueue::new(0)),
            Kind::Producer(p) => {
                // Without a delivery callback or DR events reports are dropped here, as
                // librdkafka does not queue them either.
                let wants_dr = enabled_events & RD_KAFKA_EVENT_DR != 0;
                let q = Arc::clone(&main);
                let pending = Arc::clone(&dr_pending);
                p.set_delivery_batch_callback(Box::new(move |reports| {
                    if wants_dr {
                        pending.fetch_add(reports.len(), Ordering::AcqRel);
                        for run in super::ops::batches(reports) {
                            q.push(Op::Deliveries(run));
                        }
                    }
                }));
                let q = Arc::clone(&main);
                let f = Arc::clone(&fatal);
                p.set_error_callback(Box::new(move |e| {
                    if e.fatal {
                        lock(&f).get_or_insert_with(|| e.clone());
                    }
                    q.push(Op::Error(e.clone()))
                }));
                if enabled_events & RD_KAFKA_EVENT_STATS != 0 {
                    let q = Arc::clone(&main);
                    p.set_stats_callback(Box::new(move |json| q.push(Op::Stats(json.to_string()))));
                }
                if conf.callbacks.throttle_cb.is_some() {
                    let q = Arc::clone(&main);
                    p.set_throttle_callback(Box::new(move |t| q.push(Op::Throttle(t.clone()))));
                }
                None
            }
        };
        let logq =
            (conf.config.get("log.queue").as_deref() == Some("true")).then(|| EvQueue::new(0));
        LIVE_HANDLES.fetch_add(1, Ordering::AcqRel);
        let rk = Box::into_raw(Box::new(rd_kafka_t {
            kind,
            rk_type: type_,
            name,
            conf,
            main,
            consumer_q,
            logq,
            enabled_events,
            dr_pending,
            partition_qs: Arc::new(Mutex::new(HashMap::new())),
            topics: Mutex::new(HashMap::new()),
            dr_headers: Mutex::new(HashMap::new()),
            dr_headers_len: AtomicUsize::new(0),
            fatal,
            group: Default::default(),
        }));
        // SAFETY: just created.
        let h = unsafe { &*rk };
        for q in [Some(&h.main), h.consumer_q.as_ref(), h.logq.as_ref()]
            .into_iter()
            .flatten()
        {
            q.set_handle(rk);
        }
        if let (Some(c), Some(cq)) = (h.consumer(), h.consumer_q.as_ref()) {
            // The consumer queue's messages are the consumer's: tell its reader when the engine
            // thread has handed some over (rust-rdkafka's StreamConsumer waits for that).
            let cq = Arc::clone(cq);
            c.set_wakeup(Some(Box::new(move || cq.resolve().notify_ready())));
        }
        if let Some(c) = h.consumer() {
            // What the consumer kept for a split partition: tell that queue's reader.
            let pqs = Arc::clone(&h.partition_qs);
            c.set_split_hook(Some(Box::new(move |topic: &str, partition: i32| {
                let q = lock(&pqs).get(&(topic.to_string(), partition)).cloned();
                if let Some(q) = q {
                    q.notify_ready();
                }
            })));
        }
        // SAFETY: just created; the callbacks need the handle's final address.
        unsafe { super::group::install_callbacks(rk) };
        // SAFETY: just created.
        unsafe { super::brokers::warn_without_brokers(rk) };
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
        unsafe { super::group::close_for_destroy(rk, flags) };
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

/// Produced messages whose delivery report was not yet served (or its DR event destroyed),
/// plus the ops waiting in the main queue, as librdkafka counts.
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
        if h.dr_event_mode() {
            // The reports are the application's events: wait for the messages without serving
            // the main queue (serving would drop them), as librdkafka does.
            let Some(p) = h.producer() else {
                return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
            };
            loop {
                let now = std::time::Instant::now();
                // A timeout here is ours to report at the deadline.
                let _ = p.flush(deadline.saturating_duration_since(now));
                if h.unfinished_msgs() == 0 {
                    return RD_KAFKA_RESP_ERR_NO_ERROR;
                }
                if std::time::Instant::now() >= deadline {
                    return RD_KAFKA_RESP_ERR__TIMED_OUT;
                }
                // Another thread is taking the events: look again shortly.
                std::thread::sleep(std::time::Duration::from_millis(10).min(deadline - now));
            }
        }
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
