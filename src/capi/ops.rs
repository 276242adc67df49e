//! What the client posts to its queues (`Op`, librdkafka's "ops") and how a callback-serving
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
use super::errcodes::*;
use super::handle::rd_kafka_t;
use super::message::OwnedMessage;
use super::partition_list::{from_slice, rd_kafka_topic_partition_list_destroy};
use super::types::*;

/// One thing waiting on a queue.
pub(crate) enum Op {
    /// Delivery reports of one partition's batch with one outcome (`RD_KAFKA_EVENT_DR`;
    /// `dr_msg_cb`/`dr_cb`), as librdkafka posts one op per batch.
    Deliveries(Vec<DeliveryReport>),
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
    /// Statistics JSON (`RD_KAFKA_EVENT_STATS`; `stats_cb`).
    Stats(String),
    /// A broker's throttle time (`throttle_cb`). Callback-only, as in librdkafka: an event poll
    /// serves it with the callback and goes on.
    Throttle(crate::Throttle),
}

// SAFETY: the raw pointer is the application's opaque, only handed back to the application.
unsafe impl Send for Op {}

impl Op {
    /// The `RD_KAFKA_EVENT_*` type this op becomes on `rd_kafka_queue_poll`.
    pub(crate) fn event_type(&self) -> rd_kafka_event_type_t {
        match self {
            Op::Deliveries(_) => RD_KAFKA_EVENT_DR,
            Op::Error(_) => RD_KAFKA_EVENT_ERROR,
            Op::Rebalance { .. } => RD_KAFKA_EVENT_REBALANCE,
            Op::OffsetCommit { .. } => RD_KAFKA_EVENT_OFFSET_COMMIT,
            Op::Log { .. } => RD_KAFKA_EVENT_LOG,
            Op::Stats(_) => RD_KAFKA_EVENT_STATS,
            Op::Throttle(_) => RD_KAFKA_EVENT_NONE,
        }
    }
}

/// Splits reports into runs of one topic, partition and outcome (one DR op each, in order).
pub(crate) fn batches(mut reports: Vec<DeliveryReport>) -> Vec<Vec<DeliveryReport>> {
    let same = |a: &DeliveryReport, b: &DeliveryReport| {
        a.partition == b.partition
            && a.error.as_ref().map(|e| e.code) == b.error.as_ref().map(|e| e.code)
            && a.topic == b.topic
    };
    let mut cuts: Vec<usize> = (1..reports.len())
        .filter(|&i| !same(&reports[i - 1], &reports[i]))
        .collect();
    let mut runs = Vec::with_capacity(cuts.len() + 1);
    while let Some(at) = cuts.pop() {
        runs.push(reports.split_off(at));
    }
    if !reports.is_empty() {
        runs.push(reports);
    }
    runs.reverse();
    runs
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
        Op::Deliveries(reports) => {
            let n = reports.len();
            // SAFETY: forwarded.
            unsafe { h.deliver(rk, reports) };
            h.dr_pending
                .fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
        }
        // SAFETY: forwarded.
        Op::Error(e) => unsafe { h.report_error(rk, &e) },
        Op::Rebalance {
            err,
            partitions,
            closing,
        } => {
            match cbs.rebalance_cb {
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
            }
            if closing {
                h.group.close_taken();
            }
        }
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
        Op::Throttle(t) => {
            if let Some(cb) = cbs.throttle_cb {
                let name = cstring(&t.broker_name);
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
        }
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

/// How the handle hands ops to the application's callbacks.
impl rd_kafka_t {
    /// A log line: to the log queue with `log.queue=true`, else to the application now.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn log(&self, rk: *mut rd_kafka_t, level: c_int, fac: &str, line: &str) {
        match &self.logq {
            Some(q) => q.push(Op::Log {
                level,
                fac: fac.to_string(),
                line: line.to_string(),
            }),
            // SAFETY: forwarded.
            None => unsafe { self.log_to_app(rk, level, fac, line) },
        }
    }

    /// A log line to `log_cb`, or to stderr in librdkafka's format.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn log_to_app(
        &self,
        rk: *mut rd_kafka_t,
        level: c_int,
        fac: &str,
        line: &str,
    ) {
        match self.callbacks().log_cb {
            Some(cb) => {
                let fac = cstring(fac);
                let line = cstring(line);
                // SAFETY: the application's callback; the strings live across the call.
                unsafe { cb(rk, level, fac.as_ptr(), line.as_ptr()) };
            }
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                eprintln!(
                    "%{level}|{}.{:03}|{fac}|{}| {line}",
                    now.as_secs(),
                    now.subsec_millis(),
                    self.name.to_string_lossy()
                );
            }
        }
    }

    /// An error to `error_cb`; without one, logged as librdkafka does (`log_cb` or stderr, level 3,
    /// facility `ERROR`).
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn report_error(&self, rk: *mut rd_kafka_t, e: &KafkaError) {
        let cbs = self.callbacks();
        if let Some(cb) = cbs.error_cb {
            let reason = CString::new(e.message.replace('\0', " ")).unwrap_or_default();
            // A fatal error is `_FATAL` to error_cb; rd_kafka_fatal_error() gives its own code.
            let code = if e.fatal {
                RD_KAFKA_RESP_ERR__FATAL
            } else {
                e.code.0
            };
            // SAFETY: the application's callback with its own opaque.
            unsafe { cb(rk, code, reason.as_ptr(), cbs.opaque) };
            return;
        }
        let name = self.name.to_string_lossy();
        let line = format!("[thrd:app]: {name}: {}", e.message);
        // SAFETY: forwarded.
        unsafe { self.log(rk, 3, "ERROR", &line) };
    }

    /// One delivery report to `dr_msg_cb` and/or `dr_cb`.
    ///
    /// # Safety
    /// `rk` is the live handle `self`.
    pub(crate) unsafe fn deliver(&self, rk: *mut rd_kafka_t, reports: Vec<DeliveryReport>) {
        let cbs = self.callbacks();
        if cbs.dr_msg_cb.is_none() && cbs.dr_cb.is_none() {
            for dr in &reports {
                self.take_headers(dr.opaque);
            }
            if let (true, Some(dr)) = (self.dr_event_mode(), reports.first()) {
                // One run is one partition: the same line for each of its reports.
                let line = format!(
                    "Delivery report for a message to {} [{}] dropped: with EVENT_DR the \
                     application takes reports from the main queue, poll() and flush() must \
                     not serve it",
                    dr.topic, dr.partition
                );
                for _ in 0..reports.len() {
                    // SAFETY: forwarded.
                    unsafe { self.log(rk, 4, "DRDROP", &line) };
                }
            }
            return;
        }
        // One run is one topic: its object is looked up once.
        let Some(rkt) = reports.first().map(|d| self.topic_by_name(&d.topic)) else {
            return;
        };
        for dr in reports {
            let msg = self.delivery_message(dr, rkt);
            if let Some(cb) = cbs.dr_msg_cb {
                // SAFETY: the message lives until the end of this iteration, past the callback.
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

    /// The C message of a delivery report: status, the application's opaque and headers.
    /// `rkt` is the handle's object for the report's topic.
    pub(crate) fn delivery_message(
        &self,
        dr: DeliveryReport,
        rkt: *mut rd_kafka_topic_t,
    ) -> OwnedMessage {
        let extra = self.take_headers(dr.opaque);
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
        match extra {
            Some(x) => {
                let mut m = OwnedMessage::from_delivery(dr, rkt, Some(x.headers), status);
                m.c._private = x.msg_opaque;
                m
            }
            None => OwnedMessage::from_delivery(dr, rkt, None, status),
        }
    }
}
