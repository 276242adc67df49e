//! `rd_kafka_queue_t`: librdkafka's queues. A handle has a main queue (delivery reports,
//! errors, commit results, logs, statistics), a consumer has a consumer queue (rebalances and,
//! virtually, its fetched messages and consumer errors), and the application creates its own
//! with `rd_kafka_queue_new`. A queue may be forwarded to another: what is posted to it lands in
//! the destination, and polling it polls the destination.
//!
//! Ops are posted by the Rust client's callbacks, which run on the thread that drives the client
//! (`poll`). So polling a queue that the producer's main queue or the consumer queue resolves to
//! drives that client; any other queue waits for ops posted from elsewhere.
//!
//! Ownership: every `rd_kafka_queue_t *` returned here is a new reference that the application
//! frees with `rd_kafka_queue_destroy`; the queue itself lives while a reference or the handle
//! holds it.

use std::collections::VecDeque;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::ctypes::*;
use super::errcodes::*;
use super::event::{rd_kafka_event_t_new, Event};
use super::handle::{handle, rd_kafka_t, timeout_of};
use super::ops::{as_event_poll, Op};

/// The callback of `rd_kafka_queue_cb_event_enable`.
pub(crate) type QueueEventCb = unsafe extern "C" fn(*mut rd_kafka_t, *mut c_void);

/// How a queue tells the application that an op arrived in it while it was empty (one way at
/// a time: enabling one replaces the other, as in librdkafka).
#[derive(Default)]
enum Notify {
    #[default]
    Off,
    /// `rd_kafka_queue_cb_event_enable`: the callback and its opaque.
    Callback(QueueEventCb, usize),
    /// `rd_kafka_queue_io_event_enable`: fd and payload, written once until the next poll
    /// (`sent`).
    Io {
        fd: c_int,
        payload: Vec<u8>,
        sent: bool,
    },
}

/// A queue of ops (shared by the handle and the `rd_kafka_queue_t` references to it).
pub(crate) struct EvQueue {
    /// The handle's address, for `event_cb`.
    rk: AtomicUsize,
    ops: Mutex<VecDeque<Op>>,
    cond: Condvar,
    fwd: Mutex<Option<Arc<EvQueue>>>,
    notify: Mutex<Notify>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

extern "C" {
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
}

/// Forwarding chains longer than this are cut (a cycle would otherwise loop forever).
const MAX_HOPS: usize = 16;

impl EvQueue {
    /// A new empty queue of the handle at `rk` (0 until the handle exists).
    pub(crate) fn new(rk: usize) -> Arc<EvQueue> {
        Arc::new(EvQueue {
            rk: AtomicUsize::new(rk),
            ops: Mutex::new(VecDeque::new()),
            cond: Condvar::new(),
            fwd: Mutex::new(None),
            notify: Mutex::new(Notify::default()),
        })
    }

    /// Sets the handle address once the handle exists.
    pub(crate) fn set_handle(&self, rk: *mut rd_kafka_t) {
        self.rk.store(rk as usize, Ordering::Release);
    }

    /// The queue this one's ops end up in (itself unless forwarded).
    pub(crate) fn resolve(self: &Arc<Self>) -> Arc<EvQueue> {
        let mut q = Arc::clone(self);
        for _ in 0..MAX_HOPS {
            let next = lock(&q.fwd).clone();
            match next {
                Some(n) => q = n,
                None => break,
            }
        }
        q
    }

    /// Posts `op` to the queue this one resolves to.
    pub(crate) fn push(self: &Arc<Self>, op: Op) {
        self.resolve().enqueue(op);
    }

    fn enqueue(&self, op: Op) {
        let was_empty = {
            let mut ops = lock(&self.ops);
            ops.push_back(op);
            ops.len() == 1
        };
        self.cond.notify_all();
        if was_empty {
            self.notify_ready();
        }
    }

    /// Tells the application that the queue has something (its event callback or io event).
    pub(crate) fn notify_ready(&self) {
        let mut cb = None;
        let mut io = None;
        match &mut *lock(&self.notify) {
            Notify::Off => {}
            Notify::Callback(f, opaque) => cb = Some((*f, *opaque)),
            Notify::Io { fd, payload, sent } => {
                if !*sent {
                    *sent = true;
                    io = Some((*fd, payload.clone()));
                }
            }
        }
        if let Some((cb, opaque)) = cb {
            let rk = self.rk.load(Ordering::Acquire) as *mut rd_kafka_t;
            // SAFETY: the application's callback with its own opaque.
            unsafe { cb(rk, opaque as *mut c_void) };
        }
        if let Some((fd, payload)) = io {
            // SAFETY: writes the application's payload to its descriptor; a failed write is
            // ignored, as librdkafka does.
            unsafe { write(fd, payload.as_ptr().cast(), payload.len()) };
        }
    }

    /// Takes the first op, if any (a poll: the io event may be written again).
    pub(crate) fn pop(&self) -> Option<Op> {
        if let Notify::Io { sent, .. } = &mut *lock(&self.notify) {
            *sent = false;
        }
        lock(&self.ops).pop_front()
    }

    /// Takes the delivery reports that directly follow, for the same partition and outcome as
    /// `first` (they become one DR event, as librdkafka reports a batch at a time).
    pub(crate) fn pop_same_batch(&self, first: &crate::producer::DeliveryReport) -> Vec<Op> {
        let code = |d: &crate::producer::DeliveryReport| d.error.as_ref().map(|e| e.code);
        let mut ops = lock(&self.ops);
        let mut out = Vec::new();
        while let Some(Op::Delivery(d)) = ops.front() {
            if d.topic != first.topic || d.partition != first.partition || code(d) != code(first) {
                break;
            }
            out.extend(ops.pop_front());
        }
        out
    }

    /// Ops waiting in this queue (not following forwarding).
    pub(crate) fn len(&self) -> usize {
        lock(&self.ops).len()
    }

    /// Waits until an op is posted or `deadline` passes.
    fn wait(&self, deadline: Instant) {
        let mut ops = lock(&self.ops);
        while ops.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            ops = match self.cond.wait_timeout(ops, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Forwards this queue to `dst` (None: stops forwarding); ops already waiting move along.
    pub(crate) fn forward(self: &Arc<Self>, dst: Option<Arc<EvQueue>>) {
        if let Some(d) = &dst {
            if Arc::ptr_eq(&d.resolve(), self) {
                return;
            }
        }
        *lock(&self.fwd) = dst.clone();
        if let Some(d) = dst {
            let moved: Vec<Op> = lock(&self.ops).drain(..).collect();
            let d = d.resolve();
            for op in moved {
                d.enqueue(op);
            }
        }
    }
}

/// What a `rd_kafka_queue_t *` points to: one reference to a queue of a handle.
pub(crate) struct Queue {
    /// The handle (alive while the application uses the queue, as in librdkafka).
    pub(crate) rk: *mut rd_kafka_t,
    /// The queue.
    pub(crate) q: Arc<EvQueue>,
}

impl Queue {
    /// A new reference to `q` for C.
    pub(crate) fn into_raw(rk: *mut rd_kafka_t, q: Arc<EvQueue>) -> *mut rd_kafka_queue_t {
        Box::into_raw(Box::new(Queue { rk, q })).cast()
    }

    /// Borrows the queue behind a C pointer.
    ///
    /// # Safety
    /// `p` is NULL or a live queue from this module.
    pub(crate) unsafe fn from_c<'a>(p: *const rd_kafka_queue_t) -> Option<&'a Queue> {
        // SAFETY: per the contract.
        unsafe { p.cast::<Queue>().as_ref() }
    }
}

/// Polls the queue `d` (already resolved) of handle `rk` for one op or consumer result, driving
/// the client when its queue resolves to `d`; None when nothing came before `deadline`.
///
/// # Safety
/// `rk` is a live handle.
unsafe fn next_event(rk: *mut rd_kafka_t, d: &Arc<EvQueue>, deadline: Instant) -> Option<Event> {
    // SAFETY: per the contract.
    let h = unsafe { &*rk };
    loop {
        if let Some(op) = d.pop() {
            if let Op::Rebalance { closing: true, .. } = op {
                h.group.close_taken();
            }
            let more = match &op {
                Op::Delivery(first) => d.pop_same_batch(first),
                _ => Vec::new(),
            };
            // SAFETY: per the contract.
            return Some(unsafe { Event::from_ops(rk, op, more) });
        }
        let now = Instant::now();
        // A closed consumer has nothing more to give: its queue only holds what was posted.
        let drives_consumer = !h.group.consumer_stopped()
            && h.consumer_queue()
                .is_some_and(|c| Arc::ptr_eq(&c.resolve(), d));
        let drives_producer = h.producer().is_some() && Arc::ptr_eq(&h.main.resolve(), d);
        if drives_consumer {
            if let Some(c) = h.consumer() {
                let left = deadline.saturating_duration_since(now);
                match as_event_poll(|| c.poll(left)) {
                    // SAFETY: per the contract.
                    Some(r) => return Some(unsafe { Event::from_consumer(rk, r) }),
                    None if d.len() > 0 => continue,
                    None => {}
                }
            }
        } else if let (true, Some(p)) = (drives_producer, h.producer()) {
            p.poll(deadline.saturating_duration_since(now));
        } else {
            d.wait(deadline);
        }
        if Instant::now() >= deadline && d.len() == 0 {
            return None;
        }
    }
}

/// Creates an application queue of `rk` (NULL for a NULL handle); free it with
/// `rd_kafka_queue_destroy`.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_new(rk: *mut rd_kafka_t) -> *mut rd_kafka_queue_t {
    ffi_guard!(std::ptr::null_mut(), {
        if rk.is_null() {
            return std::ptr::null_mut();
        }
        Queue::into_raw(rk, EvQueue::new(rk as usize))
    })
}

/// Releases a queue reference. NULL is ignored.
///
/// # Safety
/// `rkqu` is NULL or a queue from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_destroy(rkqu: *mut rd_kafka_queue_t) {
    ffi_guard!((), {
        if !rkqu.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(rkqu.cast::<Queue>()) });
        }
    })
}

/// A reference to the handle's main queue (delivery reports, errors, commit results, logs,
/// statistics). NULL for a NULL handle.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_get_main(rk: *mut rd_kafka_t) -> *mut rd_kafka_queue_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        match unsafe { handle(rk) } {
            Some(h) => Queue::into_raw(rk, Arc::clone(&h.main)),
            None => std::ptr::null_mut(),
        }
    })
}

/// A reference to the consumer queue (messages, consumer errors, rebalances); NULL for
/// producers and consumers without `group.id`, as in librdkafka.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_get_consumer(rk: *mut rd_kafka_t) -> *mut rd_kafka_queue_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        match unsafe { handle(rk) }.and_then(|h| h.consumer_queue()) {
            Some(q) => Queue::into_raw(rk, Arc::clone(q)),
            None => std::ptr::null_mut(),
        }
    })
}

/// Forwards `src` to `dst` (NULL: stops forwarding): what is posted to `src`, and what waits in
/// it now, goes to `dst`, and polling `src` polls `dst`.
///
/// # Safety
/// `src` and `dst` are NULL or live queues of the same handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_forward(
    src: *mut rd_kafka_queue_t,
    dst: *mut rd_kafka_queue_t,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        let Some(s) = (unsafe { Queue::from_c(src) }) else {
            return;
        };
        // SAFETY: per the contract.
        let d = unsafe { Queue::from_c(dst) }.map(|d| Arc::clone(&d.q));
        s.q.forward(d);
    })
}

/// Ops waiting in the queue (following forwarding). For a producer's main queue, finished
/// delivery reports are collected first. Messages the consumer has fetched but not yet returned
/// are not counted. 0 for NULL.
///
/// # Safety
/// `rkqu` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_length(rkqu: *mut rd_kafka_queue_t) -> usize {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        let Some(q) = (unsafe { Queue::from_c(rkqu) }) else {
            return 0;
        };
        let d = q.q.resolve();
        // SAFETY: a queue's handle outlives it.
        if let Some(h) = unsafe { handle(q.rk) } {
            if let Some(p) = h.producer() {
                if Arc::ptr_eq(&h.main.resolve(), &d) {
                    p.poll(Duration::ZERO);
                }
            }
        }
        d.len()
    })
}

/// Waits up to `timeout_ms` (-1: forever) for the next event of the queue; NULL on timeout.
/// The caller frees the event with `rd_kafka_event_destroy`.
///
/// # Safety
/// `rkqu` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_poll(
    rkqu: *mut rd_kafka_queue_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_event_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let Some(q) = (unsafe { Queue::from_c(rkqu) }) else {
            return std::ptr::null_mut();
        };
        if q.rk.is_null() {
            return std::ptr::null_mut();
        }
        let deadline = Instant::now() + timeout_of(timeout_ms);
        let d = q.q.resolve();
        // SAFETY: a queue's handle outlives it.
        match unsafe { next_event(q.rk, &d, deadline) } {
            Some(ev) => rd_kafka_event_t_new(ev),
            None => std::ptr::null_mut(),
        }
    })
}

/// Calls `event_cb(rk, qev_opaque)` when an op is posted to the empty queue (NULL: stops;
/// replaces an io event). The callback must not poll the queue itself; it tells another thread
/// to.
///
/// # Safety
/// `rkqu` is NULL or a live queue; `event_cb` is NULL or a valid function.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_cb_event_enable(
    rkqu: *mut rd_kafka_queue_t,
    event_cb: Option<QueueEventCb>,
    qev_opaque: *mut c_void,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        if let Some(q) = unsafe { Queue::from_c(rkqu) } {
            *lock(&q.q.notify) = match event_cb {
                Some(cb) => Notify::Callback(cb, qev_opaque as usize),
                None => Notify::Off,
            };
        }
    })
}

/// Writes `payload` to `fd` when an op is posted to the empty queue, once until the queue is
/// polled again (`fd` -1: stops; replaces an event callback).
///
/// # Safety
/// `rkqu` is NULL or a live queue; `payload` is NULL or `size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_io_event_enable(
    rkqu: *mut rd_kafka_queue_t,
    fd: c_int,
    payload: *const c_void,
    size: usize,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        let Some(q) = (unsafe { Queue::from_c(rkqu) }) else {
            return;
        };
        let bytes = if payload.is_null() || size == 0 {
            Vec::new()
        } else {
            // SAFETY: per the contract.
            unsafe { std::slice::from_raw_parts(payload.cast::<u8>(), size) }.to_vec()
        };
        *lock(&q.q.notify) = if fd == -1 {
            Notify::Off
        } else {
            Notify::Io {
                fd,
                payload: bytes,
                sent: false,
            }
        };
    })
}

/// Sends the handle's log lines to `rkqu` as `RD_KAFKA_EVENT_LOG` events (NULL: the main
/// queue). Needs `log.queue=true`: `RD_KAFKA_RESP_ERR__NOT_CONFIGURED` otherwise.
///
/// # Safety
/// `rk` is NULL or a live handle; `rkqu` NULL or a live queue of it.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_set_log_queue(
    rk: *mut rd_kafka_t,
    rkqu: *mut rd_kafka_queue_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        let Some(logq) = &h.logq else {
            return RD_KAFKA_RESP_ERR__NOT_CONFIGURED;
        };
        // SAFETY: per the contract.
        let dst = unsafe { Queue::from_c(rkqu) }
            .map_or_else(|| Arc::clone(&h.main), |q| Arc::clone(&q.q));
        logq.forward(Some(dst));
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Routes the main queue into the consumer queue, so that `rd_kafka_consumer_poll` (or polling
/// the consumer queue) also serves what `rd_kafka_poll` would. `RD_KAFKA_RESP_ERR__UNKNOWN_GROUP`
/// without a consumer group.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_poll_set_consumer(rk: *mut rd_kafka_t) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__UNKNOWN_GROUP;
        };
        match h.consumer_queue() {
            Some(cq) => {
                h.main.forward(Some(Arc::clone(cq)));
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__UNKNOWN_GROUP,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KafkaError;

    fn err_op(msg: &str) -> Op {
        Op::Error(KafkaError::new(
            crate::ErrorCode(RD_KAFKA_RESP_ERR__FAIL),
            msg,
        ))
    }

    fn text(op: Option<Op>) -> String {
        match op {
            Some(Op::Error(e)) => e.message,
            _ => "none".into(),
        }
    }

    #[test]
    fn forwarding_moves_waiting_ops_and_routes_new_ones() {
        let (a, b) = (EvQueue::new(0), EvQueue::new(0));
        a.push(err_op("1"));
        a.forward(Some(Arc::clone(&b)));
        a.push(err_op("2"));
        assert_eq!((a.len(), b.len()), (0, 2));
        assert!(Arc::ptr_eq(&a.resolve(), &b));
        // A cycle is refused.
        b.forward(Some(Arc::clone(&a)));
        assert!(Arc::ptr_eq(&a.resolve(), &b));
        a.forward(None);
        a.push(err_op("3"));
        assert_eq!((a.len(), b.len()), (1, 2));
        assert_eq!(text(b.pop()), "1");
        assert_eq!(text(b.pop()), "2");
        assert_eq!(text(a.pop()), "3");
        assert!(a.pop().is_none());
    }

    #[test]
    fn deliveries_of_one_batch_become_one_event() {
        let q = EvQueue::new(0);
        let dr = |p: i32, off: i64| crate::producer::DeliveryReport {
            topic: "t".into(),
            partition: p,
            offset: off,
            timestamp: -1,
            error: None,
            opaque: 0,
            key: None,
            value: None,
        };
        for (p, off) in [(0, 0), (0, 1), (1, 0), (0, 2)] {
            q.push(Op::Delivery(dr(p, off)));
        }
        assert_eq!(q.len(), 4);
        let Some(Op::Delivery(first)) = q.pop() else {
            panic!("no report");
        };
        assert_eq!(q.pop_same_batch(&first).len(), 1);
        let Some(Op::Delivery(next)) = q.pop() else {
            panic!("no report");
        };
        assert_eq!(next.partition, 1);
        assert_eq!(q.pop_same_batch(&next).len(), 0);
        assert_eq!(q.len(), 1);
    }

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    unsafe extern "C" fn count_call(_rk: *mut rd_kafka_t, opaque: *mut c_void) {
        assert_eq!(opaque as usize, 7);
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn event_callback_fires_when_the_queue_turns_non_empty() {
        let q = EvQueue::new(0);
        let r = Queue::into_raw(std::ptr::null_mut(), Arc::clone(&q));
        // SAFETY: a live queue of ours, destroyed once.
        unsafe {
            rd_kafka_queue_cb_event_enable(r, Some(count_call), 7 as *mut c_void);
            q.push(err_op("a"));
            q.push(err_op("b"));
            assert_eq!(CALLS.load(Ordering::SeqCst), 1);
            q.pop();
            q.pop();
            q.push(err_op("c"));
            assert_eq!(CALLS.load(Ordering::SeqCst), 2);
            assert_eq!(rd_kafka_queue_length(r), 1);
            rd_kafka_queue_cb_event_enable(r, None, std::ptr::null_mut());
            q.pop();
            q.push(err_op("d"));
            assert_eq!(CALLS.load(Ordering::SeqCst), 2);
            rd_kafka_queue_destroy(r);
        }
    }

    #[test]
    fn null_queues_are_refused_without_crashing() {
        let (rk, q) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: NULL is allowed everywhere.
        unsafe {
            assert!(rd_kafka_queue_new(rk).is_null());
            assert!(rd_kafka_queue_get_main(rk).is_null());
            assert!(rd_kafka_queue_get_consumer(rk).is_null());
            assert!(rd_kafka_queue_poll(q, 0).is_null());
            assert_eq!(rd_kafka_queue_length(q), 0);
            rd_kafka_queue_forward(q, q);
            rd_kafka_queue_cb_event_enable(q, None, std::ptr::null_mut());
            rd_kafka_queue_io_event_enable(q, -1, std::ptr::null(), 0);
            rd_kafka_queue_destroy(q);
            assert_eq!(
                rd_kafka_set_log_queue(rk, q),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );
            assert_eq!(
                rd_kafka_poll_set_consumer(rk),
                RD_KAFKA_RESP_ERR__UNKNOWN_GROUP
            );
        }
    }

    #[test]
    fn log_lines_reach_the_log_queue_as_events() {
        use super::super::conf::{rd_kafka_conf_new, rd_kafka_conf_set};
        use super::super::event::*;
        use super::super::handle::{rd_kafka_destroy, rd_kafka_new};
        use super::super::types::*;
        // SAFETY: a configuration and handle of ours, destroyed once; strings are NUL-terminated.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as std::os::raw::c_char; 128];
            for (k, v) in [
                (c"bootstrap.servers", c"127.0.0.1:1"),
                (c"log.queue", c"true"),
            ] {
                let r = rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 128);
                assert_eq!(r, RD_KAFKA_CONF_OK);
            }
            let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), 128);
            assert!(!rk.is_null());
            let main = rd_kafka_queue_get_main(rk);
            assert_eq!(
                rd_kafka_set_log_queue(rk, std::ptr::null_mut()),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            (*rk).log(rk, 6, "FAC", "hello");
            let ev = rd_kafka_queue_poll(main, 1000);
            assert_eq!(rd_kafka_event_type(ev), RD_KAFKA_EVENT_LOG);
            let (mut fac, mut line, mut level) = (std::ptr::null(), std::ptr::null(), 0);
            assert_eq!(rd_kafka_event_log(ev, &mut fac, &mut line, &mut level), 0);
            assert_eq!(std::ffi::CStr::from_ptr(line).to_str(), Ok("hello"));
            assert_eq!(level, 6);
            rd_kafka_event_destroy(ev);
            assert!(rd_kafka_queue_poll(main, 0).is_null());
            assert!(rd_kafka_queue_get_consumer(rk).is_null());
            rd_kafka_queue_destroy(main);
            rd_kafka_destroy(rk);
        }
    }
}

#[cfg(test)]
mod client_tests {
    use super::super::conf::{rd_kafka_conf_new, rd_kafka_conf_set, rd_kafka_conf_set_events};
    use super::super::consumer::rd_kafka_subscribe;
    use super::super::event::*;
    use super::super::handle::{rd_kafka_destroy_flags, rd_kafka_new};
    use super::super::partition_list::*;
    use super::super::types::*;
    use super::*;

    #[test]
    fn consumer_errors_arrive_as_error_events_on_the_consumer_queue() {
        // SAFETY: a configuration, list and handle of ours, destroyed once; strings are
        // NUL-terminated.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as std::os::raw::c_char; 128];
            for (k, v) in [(c"bootstrap.servers", c"127.0.0.1:1"), (c"group.id", c"g")] {
                let r = rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 128);
                assert_eq!(r, RD_KAFKA_CONF_OK);
            }
            rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_REBALANCE);
            let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.as_mut_ptr(), 128);
            assert!(!rk.is_null());
            assert_eq!(rd_kafka_poll_set_consumer(rk), RD_KAFKA_RESP_ERR_NO_ERROR);
            let topics = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(topics, c"t".as_ptr(), RD_KAFKA_PARTITION_UA);
            assert_eq!(rd_kafka_subscribe(rk, topics), RD_KAFKA_RESP_ERR_NO_ERROR);
            rd_kafka_topic_partition_list_destroy(topics);
            let cq = rd_kafka_queue_get_consumer(rk);
            let ev = rd_kafka_queue_poll(cq, 10_000);
            assert_eq!(rd_kafka_event_type(ev), RD_KAFKA_EVENT_ERROR);
            assert_eq!(
                rd_kafka_event_error(ev),
                RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
            );
            assert!(!rd_kafka_event_error_string(ev).is_null());
            assert_eq!(rd_kafka_event_error_is_fatal(ev), 0);
            assert!(rd_kafka_event_message_next(ev).is_null());
            assert!(rd_kafka_event_topic_partition(ev).is_null());
            assert!(rd_kafka_event_topic_partition_list(ev).is_null());
            rd_kafka_event_destroy(ev);
            rd_kafka_queue_destroy(cq);
            rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        }
    }
}
