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

/// The partition queues of a handle by topic and partition (`rd_kafka_queue_get_partition`).
pub(crate) type PartitionQueues =
    Arc<Mutex<std::collections::HashMap<(String, i32), Arc<EvQueue>>>>;

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
    /// For a partition queue (`rd_kafka_queue_get_partition`): its topic and partition.
    partition: Option<(String, i32)>,
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
        Self::with_partition(rk, None)
    }

    fn with_partition(rk: usize, partition: Option<(String, i32)>) -> Arc<EvQueue> {
        Arc::new(EvQueue {
            rk: AtomicUsize::new(rk),
            ops: Mutex::new(VecDeque::new()),
            cond: Condvar::new(),
            fwd: Mutex::new(None),
            notify: Mutex::new(Notify::default()),
            partition,
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
            if let Op::Throttle(_) = op {
                // SAFETY: per the contract; callback-only op.
                unsafe { super::ops::serve(rk, op) };
                continue;
            }
            if let Op::Rebalance { closing: true, .. } = op {
                h.group.close_taken();
            }
            // SAFETY: per the contract.
            return Some(unsafe { Event::from_op(rk, op) });
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
        } else if let (Some((topic, partition)), Some(c)) = (&d.partition, h.consumer()) {
            // A split partition queue: what the consumer's poll kept for it.
            let left = deadline.saturating_duration_since(now);
            if let Some(r) = c.poll_partition(topic, *partition, left) {
                // SAFETY: per the contract.
                return Some(unsafe { Event::from_consumer(rk, r) });
            }
            // Not split (still leading to the consumer queue): only posted ops come here.
            d.wait(deadline);
        } else {
            d.wait(deadline);
        }
        if Instant::now() >= deadline && d.len() == 0 {
            return None;
        }
    }
}

/// Makes the consumer keep a partition's messages for its queue when that queue no longer
/// leads to the consumer queue (librdkafka's split partition queue), or stop doing so.
///
/// # Safety
/// `h` is a live handle.
unsafe fn update_split(h: &rd_kafka_t, pq: &Arc<EvQueue>, topic: &str, partition: i32) {
    let Some(c) = h.consumer() else {
        return;
    };
    let joined = h
        .consumer_queue()
        .is_some_and(|cq| Arc::ptr_eq(&cq.resolve(), &pq.resolve()));
    if joined {
        c.unsplit_partition(topic, partition);
    } else {
        c.split_partition(topic, partition);
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

/// A reference to the queue of one partition (consumers; NULL for producers and NULL
/// arguments). It leads to the consumer queue until the application forwards it elsewhere, or to
/// NULL to poll it itself: from then on the partition's messages and end-of-partition errors
/// come only from this queue, taken from what `rd_kafka_consumer_poll`/polling the consumer queue
/// fetched (so the consumer queue must still be polled).
///
/// # Safety
/// `rk` is NULL or a live handle; `topic` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_queue_get_partition(
    rk: *mut rd_kafka_t,
    topic: *const std::os::raw::c_char,
    partition: i32,
) -> *mut rd_kafka_queue_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let (Some(h), Some(topic)) = (unsafe { handle(rk) }, unsafe { super::cstr(topic) }) else {
            return std::ptr::null_mut();
        };
        if h.consumer().is_none() {
            return std::ptr::null_mut();
        }
        let q = lock(&h.partition_qs)
            .entry((topic.to_string(), partition))
            .or_insert_with(|| {
                let q = EvQueue::with_partition(rk as usize, Some((topic.to_string(), partition)));
                if let Some(cq) = h.consumer_queue() {
                    q.forward(Some(Arc::clone(cq)));
                }
                q
            })
            .clone();
        Queue::into_raw(rk, q)
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
        // SAFETY: a queue's handle outlives it.
        if let (Some((topic, partition)), Some(h)) = (&s.q.partition, unsafe { handle(s.rk) }) {
            // SAFETY: as above.
            unsafe { update_split(h, &s.q, topic, *partition) };
        }
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
        let mut kept = 0;
        // SAFETY: a queue's handle outlives it.
        if let Some(h) = unsafe { handle(q.rk) } {
            if let Some(p) = h.producer() {
                if Arc::ptr_eq(&h.main.resolve(), &d) {
                    p.poll(Duration::ZERO);
                }
            }
            if let (Some((t, p)), Some(c)) = (&d.partition, h.consumer()) {
                kept = c.partition_queue_len(t, *p);
            }
        }
        d.len() + kept
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
mod tests;
