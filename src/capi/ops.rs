//! What the client posts to its queues ([`Op`], librdkafka's "ops") and how a callback-serving
//! poll (`rd_kafka_poll`, `rd_kafka_consumer_poll`, `rd_kafka_flush`) hands one to the
//! application's callbacks. `rd_kafka_queue_poll` returns the same ops as events (`event.rs`).

use std::cell::Cell;
use std::ffi::CString;
use std::os::raw::{c_int, c_void};

use crate::producer::DeliveryReport;
use crate::topic_partition::TopicPartition;
use crate::KafkaError;

use super::conf::PartitionsCb;
use super::ctypes::*;
use super::handle::rd_kafka_t;
use super::partition_list::{from_slice, rd_kafka_topic_partition_list_destroy};
use super::types::*;

/// One thing waiting on a queue.
pub(crate) enum Op {
    /// A delivery report (`RD_KAFKA_EVENT_DR`; `dr_msg_cb`/`dr_cb`).
    Delivery(DeliveryReport),
    /// A client error (`RD_KAFKA_EVENT_ERROR`; `error_cb`).
    Error(KafkaError),
    /// A rebalance for the application to apply (`RD_KAFKA_EVENT_REBALANCE`; `rebalance_cb`).
    /// `closing`: posted by `rd_kafka_consumer_close_queue`, counted until it is taken.
    Rebalance {
        err: rd_kafka_resp_err_t,
        partitions: Vec<TopicPartition>,
        closing: bool,
    },
    /// An offset commit result (`RD_KAFKA_EVENT_OFFSET_COMMIT`): served by `cb` (the
    /// `offset_commit_cb`, or the one given to `rd_kafka_commit_queue`) with `opaque`.
    OffsetCommit {
        err: rd_kafka_resp_err_t,
        offsets: Vec<TopicPartition>,
        cb: Option<PartitionsCb>,
        opaque: *mut c_void,
    },
    /// A log line (`RD_KAFKA_EVENT_LOG`; `log_cb`), with `log.queue=true`.
    Log {
        level: c_int,
        fac: String,
        line: String,
    },
    /// Statistics JSON (`RD_KAFKA_EVENT_STATS`; `stats_cb`): the statistics emitter posts it.
    #[allow(dead_code)] // Posted by the statistics emitter (another change).
    Stats(String),
}

// SAFETY: the raw pointer is the application's opaque, only handed back to the application.
unsafe impl Send for Op {}

impl Op {
    /// The `RD_KAFKA_EVENT_*` type this op becomes on `rd_kafka_queue_poll`.
    pub(crate) fn event_type(&self) -> rd_kafka_event_type_t {
        match self {
            Op::Delivery(_) => RD_KAFKA_EVENT_DR,
            Op::Error(_) => RD_KAFKA_EVENT_ERROR,
            Op::Rebalance { .. } => RD_KAFKA_EVENT_REBALANCE,
            Op::OffsetCommit { .. } => RD_KAFKA_EVENT_OFFSET_COMMIT,
            Op::Log { .. } => RD_KAFKA_EVENT_LOG,
            Op::Stats(_) => RD_KAFKA_EVENT_STATS,
        }
    }
}

thread_local! {
    /// Set while `rd_kafka_queue_poll` drives the consumer on this thread: rebalances then
    /// become events instead of `rebalance_cb` calls.
    static EVENT_POLL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with rebalances delivered as events (see [`in_event_poll`]).
pub(crate) fn as_event_poll<T>(f: impl FnOnce() -> T) -> T {
    let before = EVENT_POLL.with(|c| c.replace(true));
    let r = f();
    EVENT_POLL.with(|c| c.set(before));
    r
}

/// Whether this thread is inside `rd_kafka_queue_poll` driving the consumer.
pub(crate) fn in_event_poll() -> bool {
    EVENT_POLL.with(Cell::get)
}

/// Serves one op with the application's callbacks, as librdkafka's callback-serving polls do.
///
/// # Safety
/// `rk` is a live handle.
pub(crate) unsafe fn serve(rk: *mut rd_kafka_t, op: Op) {
    // SAFETY: per the contract.
    let h = unsafe { &*rk };
    let cbs = h.callbacks();
    match op {
        Op::Delivery(dr) => {
            // SAFETY: forwarded.
            unsafe { h.deliver(rk, &dr) };
            h.dr_pending
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
        // SAFETY: forwarded.
        Op::Error(e) => unsafe { h.report_error(rk, &e) },
        Op::Rebalance {
            err, partitions, ..
        } => match cbs.rebalance_cb {
            Some(cb) => {
                let list = from_slice(&partitions);
                // SAFETY: the application's callback; the list lives across the call.
                unsafe {
                    cb(rk, err, list, cbs.opaque);
                    rd_kafka_topic_partition_list_destroy(list);
                }
            }
            // As librdkafka: without a rebalance_cb the assignment is cleared.
            None => {
                if let Some(c) = h.consumer() {
                    let _ = c.unassign();
                }
            }
        },
        Op::OffsetCommit {
            err,
            offsets,
            cb,
            opaque,
        } => {
            if let Some(cb) = cb {
                let list = from_slice(&offsets);
                // SAFETY: as above.
                unsafe {
                    cb(rk, err, list, opaque);
                    rd_kafka_topic_partition_list_destroy(list);
                }
            }
        }
        // SAFETY: forwarded.
        Op::Log { level, fac, line } => unsafe { h.log_to_app(rk, level, &fac, &line) },
        Op::Stats(json) => {
            if let Some(cb) = cbs.stats_cb {
                let len = json.len();
                let p = super::c_strdup(&json);
                // SAFETY: the application's callback; a return of 1 keeps the buffer, which it
                // then frees with rd_kafka_mem_free.
                unsafe {
                    if cb(rk, p, len, cbs.opaque) == 0 {
                        super::libc_free(p.cast());
                    }
                }
            }
        }
    }
}

/// A C string copy of `s` (interior NULs become spaces).
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}
