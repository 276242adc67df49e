//! The consumer group as the C application sees it: each rebalance goes to `rebalance_cb`,
//! becomes a REBALANCE event, or is applied by the consumer itself, as librdkafka's configuration
//! asks; commit results become OFFSET_COMMIT ops; and the close (`rd_kafka_consumer_close`,
//! `_close_queue`, `_closed`).
//!
//! Callbacks: the Rust consumer calls its rebalance and commit closures from inside its `poll`
//! (and `close`); the closures installed here call the application's `rebalance_cb` with the
//! handle pointer, or post ops. No lock of the handle is held at that point, so the application
//! may call `rd_kafka_assign` & co. from its callback: they reach the same Rust consumer, whose
//! assignment methods do not take the lock its `poll` holds.

use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::consumer::RebalanceType;
use crate::{Consumer, Rebalance};

use super::consumer::{code_of, consumer};
use super::ctypes::*;
use super::errcodes::*;
use super::error::rd_kafka_error_t;
use super::handle::{handle, rd_kafka_t, serve_queue};
use super::ops::{in_event_poll, Op};
use super::queue::{EvQueue, Queue};
use super::types::*;

/// What the handle remembers of the group's rebalances and its close.
#[derive(Default)]
pub(crate) struct GroupState {
    /// Whether the last assignment was lost rather than revoked.
    lost: AtomicBool,
    /// 0: no rebalance yet, 1: eager, 2: cooperative.
    protocol: AtomicU8,
    /// Set once `rd_kafka_consumer_close` (or `_close_queue`) has closed the consumer.
    closed: AtomicBool,
    /// The queue of a running `rd_kafka_consumer_close_queue`: the close's rebalance goes there.
    close_q: Mutex<Option<Arc<EvQueue>>>,
    /// Rebalances posted by `rd_kafka_consumer_close_queue` not yet taken by the application.
    close_pending: AtomicUsize,
    /// Asynchronous `rd_kafka_commit`s whose results are not reported yet: librdkafka raises
    /// OFFSET_COMMIT for them only with an `offset_commit_cb`.
    pub(crate) async_manual: AtomicUsize,
}

impl GroupState {
    /// A rebalance posted by `rd_kafka_consumer_close_queue` was taken by the application.
    pub(crate) fn close_taken(&self) {
        let _ = self
            .close_pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Whether the consumer was closed (its engine has stopped).
    pub(crate) fn consumer_stopped(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) && self.close_pending.load(Ordering::Acquire) == 0
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves what waits in the consumer queue (the main queue's ops too after
/// `rd_kafka_poll_set_consumer`) with the application's callbacks.
///
/// # Safety
/// `rk` is a live handle.
pub(crate) unsafe fn serve_consumer_queue(rk: *mut rd_kafka_t) {
    // SAFETY: per the contract.
    if let Some(q) = unsafe { &*rk }.consumer_queue() {
        // SAFETY: per the contract.
        unsafe { serve_queue(rk, &q.resolve()) };
    }
}

/// Installs the Rust consumer's rebalance and commit closures, which turn the consumer's
/// rebalances and commit results into callbacks or ops, as librdkafka's configuration asks.
/// Nothing for a producer.
///
/// # Safety
/// `rk` is a live handle whose address does not change until it is destroyed.
pub(crate) unsafe fn install_callbacks(rk: *mut rd_kafka_t) {
    // SAFETY: per the contract.
    let h = unsafe { &*rk };
    let Some(c) = h.consumer() else {
        return;
    };
    let addr = rk as usize;
    c.set_rebalance_callback(Box::new(move |c: &Consumer, r: &Rebalance| {
        let rk = addr as *mut rd_kafka_t;
        // SAFETY: the closure lives inside the handle's consumer, so the handle is alive.
        let h = unsafe { &*rk };
        h.group.lost.store(r.lost, Ordering::Release);
        h.group
            .protocol
            .store(if r.cooperative { 2 } else { 1 }, Ordering::Release);
        if h.enabled_events & RD_KAFKA_EVENT_REBALANCE == 0 {
            // Neither rebalance_cb nor REBALANCE events: the consumer applies it.
            return;
        }
        let err = match r.kind {
            RebalanceType::Assign => RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS,
            RebalanceType::Revoke => RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS,
        };
        let op = |closing| Op::Rebalance {
            err,
            partitions: r.partitions.clone(),
            closing,
        };
        let close_q = lock(&h.group.close_q).clone();
        if let Some(q) = close_q {
            h.group.close_pending.fetch_add(1, Ordering::AcqRel);
            q.push(op(true));
            c.defer_rebalance();
            return;
        }
        if in_event_poll() {
            if let Some(q) = h.consumer_queue() {
                q.push(op(false));
                c.defer_rebalance();
                c.interrupt_poll();
                return;
            }
        }
        // SAFETY: the handle is alive; no lock of ours is held.
        unsafe { super::ops::serve(rk, op(false)) };
    }));
    // Statistics and throttle times join the main queue (served by `rd_kafka_poll`, or by
    // `rd_kafka_consumer_poll` after `rd_kafka_poll_set_consumer`, as librdkafka serves them).
    if h.enabled_events & RD_KAFKA_EVENT_STATS != 0 {
        c.set_stats_callback(Box::new(move |json: &str| {
            // SAFETY: as above.
            let h = unsafe { &*(addr as *mut rd_kafka_t) };
            h.main.push(Op::Stats(json.to_string()));
            if let Some(c) = h.consumer() {
                c.interrupt_poll();
            }
        }));
    }
    if h.callbacks().throttle_cb.is_some() {
        c.set_throttle_callback(Box::new(move |t: &crate::Throttle| {
            // SAFETY: as above.
            let h = unsafe { &*(addr as *mut rd_kafka_t) };
            h.main.push(Op::Throttle(t.clone()));
            if let Some(c) = h.consumer() {
                c.interrupt_poll();
            }
        }));
    }
    c.set_commit_callback(Box::new(move |res: &crate::Result<()>, offs| {
        let rk = addr as *mut rd_kafka_t;
        // SAFETY: as above.
        let h = unsafe { &*rk };
        let cbs = h.callbacks();
        let manual = h
            .group
            .async_manual
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        let wanted = cbs.offset_commit_cb.is_some()
            || (!manual && h.enabled_events & RD_KAFKA_EVENT_OFFSET_COMMIT != 0);
        if !wanted {
            return;
        }
        let err = res
            .as_ref()
            .err()
            .map_or(RD_KAFKA_RESP_ERR_NO_ERROR, |e| e.code.0);
        h.main.push(Op::OffsetCommit {
            err,
            offsets: offs.to_vec(),
            cb: cbs.offset_commit_cb,
            opaque: cbs.opaque,
        });
        if let Some(c) = h.consumer() {
            c.interrupt_poll();
        }
    }));
}

/// Closes the consumer of a handle being destroyed while the handle is still whole (the close
/// may call the application's callbacks). With `RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE` the
/// application's callbacks are detached instead.
///
/// # Safety
/// `rk` is a live handle.
pub(crate) unsafe fn close_for_destroy(rk: *mut rd_kafka_t, flags: c_int) {
    // SAFETY: per the contract.
    let Some(c) = (unsafe { &*rk }).consumer() else {
        return;
    };
    if flags & RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE != 0 {
        c.set_rebalance_callback(Box::new(|_, _| {}));
        c.set_commit_callback(Box::new(|_, _| {}));
    }
    let _ = c.close();
}

/// Commits (with `enable.auto.commit`), revokes the assignment through the rebalance callback
/// and leaves the group. The handle must still be destroyed.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_close(rk: *mut rd_kafka_t) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        match unsafe { consumer(rk) } {
            Ok(c) => {
                // SAFETY: a consumer handle, so live.
                unsafe { serve_consumer_queue(rk) };
                let r = code_of(c.close());
                // SAFETY: a consumer handle, so live.
                unsafe {
                    (*rk).group.closed.store(true, Ordering::Release);
                    serve_consumer_queue(rk);
                }
                r
            }
            Err(e) => e,
        }
    })
}

/// 1 once the consumer is closed: `rd_kafka_consumer_close` returned, or after
/// `rd_kafka_consumer_close_queue` the application took the close's rebalance event; else 0
/// (always 0 without a consumer group, as in librdkafka).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_closed(rk: *mut rd_kafka_t) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { handle(rk) }
            .filter(|h| h.consumer_queue().is_some())
            .map_or(0, |h| h.group.is_closed() as c_int)
    })
}

/// Closes the consumer with its close's rebalance delivered as an event on `rkqu` (with
/// REBALANCE events or a `rebalance_cb`): the application polls `rkqu` until
/// `rd_kafka_consumer_closed()`. NULL on success, else an error the caller destroys. The close
/// itself (commit, leave) completes before this returns.
///
/// # Safety
/// `rk` is NULL or a live handle; `rkqu` NULL or a live queue of it.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_close_queue(
    rk: *mut rd_kafka_t,
    rkqu: *mut rd_kafka_queue_t,
) -> *mut rd_kafka_error_t {
    ffi_guard!(rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__FAIL, ""), {
        // SAFETY: per the contract.
        let Some(q) = (unsafe { Queue::from_c(rkqu) }) else {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                "Queue must be specified",
            );
        };
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "");
        };
        let (Some(c), Some(cq)) = (h.consumer(), h.consumer_queue()) else {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__UNKNOWN_GROUP,
                "Consume close called on non-group consumer",
            );
        };
        cq.forward(Some(Arc::clone(&q.q)));
        *lock(&h.group.close_q) = Some(Arc::clone(&q.q));
        let _ = c.close();
        *lock(&h.group.close_q) = None;
        h.group.closed.store(true, Ordering::Release);
        std::ptr::null_mut()
    })
}

/// Whether the last revoked assignment was lost (session timeout, fencing) rather than revoked.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_assignment_lost(rk: *mut rd_kafka_t) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(0, |h| h.group.lost.load(Ordering::Acquire) as c_int)
    })
}

/// "COOPERATIVE" or "EAGER" once the group has rebalanced, "NONE" before; NULL without a group
/// (producers, consumers without `group.id`).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_rebalance_protocol(rk: *mut rd_kafka_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        if unsafe { super::consumer::consumer(rk) }.is_err() {
            return std::ptr::null();
        }
        // SAFETY: per the contract.
        let p = unsafe { handle(rk) }.map_or(0, |h| h.group.protocol.load(Ordering::Acquire));
        match p {
            1 => c"EAGER".as_ptr(),
            2 => c"COOPERATIVE".as_ptr(),
            _ => c"NONE".as_ptr(),
        }
    })
}
