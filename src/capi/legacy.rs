//! The legacy (simple) consumer of the C ABI, as kcat's `-C` mode uses it: a queue per handle
//! (`queue.rs`), `rd_kafka_consume_start_queue` per partition and `rd_kafka_consume_callback_queue`
//! to serve messages (the partition list comes from `rd_kafka_metadata`, in `metadata.rs`). Each
//! started partition is added to the Rust consumer's assignment; any queue of the handle reads the
//! consumer's single message stream.

use std::os::raw::{c_int, c_void};

use crate::topic_partition::TopicPartition;

use super::ctypes::*;
use super::errcodes::*;
use super::error::set_last_error;
use super::handle::{handle, rd_kafka_t, timeout_of};
use super::message::OwnedMessage;
use super::queue::Queue;
use super::topic::rd_kafka_topic_t;
use super::types::*;

/// The consumer behind a topic object; sets the last error and returns None if there is none.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
unsafe fn topic_consumer<'a>(
    rkt: *mut rd_kafka_topic_t,
) -> Option<(&'a rd_kafka_topic_t, &'a crate::Consumer)> {
    // SAFETY: per the contract; a topic's handle outlives it.
    let t = unsafe { rkt.as_ref() };
    let c = t
        .and_then(|t| unsafe { handle(t.rk) })
        .and_then(|h| h.consumer());
    match (t, c) {
        (Some(t), Some(c)) => Some((t, c)),
        _ => {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            None
        }
    }
}

/// Starts consuming `partition` of `rkt` from `offset` (an offset or `RD_KAFKA_OFFSET_*`) into
/// `rkqu`: 0, or -1 with `rd_kafka_last_error()` set.
///
/// # Safety
/// `rkt` is NULL or a live topic object; `rkqu` NULL or a queue of the same handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consume_start_queue(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    offset: i64,
    rkqu: *mut rd_kafka_queue_t,
) -> c_int {
    let _ = rkqu;
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        let Some((t, c)) = (unsafe { topic_consumer(rkt) }) else {
            return -1;
        };
        let tp = TopicPartition::with_offset(t.name(), partition, offset);
        match c.incremental_assign(&[tp]) {
            Ok(()) => 0,
            Err(e) => {
                set_last_error(e.code.0, 22);
                -1
            }
        }
    })
}

/// Stops consuming `partition` of `rkt`: 0, or -1 with `rd_kafka_last_error()` set.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consume_stop(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
) -> c_int {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        let Some((t, c)) = (unsafe { topic_consumer(rkt) }) else {
            return -1;
        };
        match c.incremental_unassign(&[TopicPartition::new(t.name(), partition)]) {
            Ok(()) => 0,
            Err(e) => {
                set_last_error(e.code.0, 22);
                -1
            }
        }
    })
}

/// Waits up to `timeout_ms` for messages of the queue and calls `consume_cb` for each one that
/// is ready (messages and error events, the message owned by the library); returns how many.
///
/// # Safety
/// `rkqu` is NULL or a live queue; `consume_cb` a valid callback.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consume_callback_queue(
    rkqu: *mut rd_kafka_queue_t,
    timeout_ms: c_int,
    consume_cb: Option<unsafe extern "C" fn(*mut rd_kafka_message_t, *mut c_void)>,
    commit_opaque: *mut c_void,
) -> c_int {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        let Some(q) = (unsafe { Queue::from_c(rkqu) }) else {
            return -1;
        };
        // SAFETY: the queue's handle outlives it.
        let Some(h) = (unsafe { handle(q.rk) }) else {
            return -1;
        };
        let Some(c) = h.consumer() else {
            return -1;
        };
        let mut served = 0;
        let mut timeout = timeout_of(timeout_ms);
        // Everything ready now, after waiting for the first (bounded, to return regularly).
        while served < 10_000 {
            let Some(mut m) = next(h, c, timeout) else {
                break;
            };
            timeout = std::time::Duration::ZERO;
            served += 1;
            if let Some(cb) = consume_cb {
                // SAFETY: the application's callback; the message lives across the call.
                unsafe { cb(&mut m.c, commit_opaque) };
            }
        }
        served
    })
}

/// Stores `offset + 1` (the next offset to consume) of `partition` for the next commit.
/// `_INVALID_ARG` with `enable.auto.offset.store=true`, `_STATE` for a partition not consumed.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_offset_store(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    offset: i64,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some((t, c)) = (unsafe { topic_consumer(rkt) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match c.store_offset(t.name(), partition, offset + 1) {
            Ok(()) => RD_KAFKA_RESP_ERR_NO_ERROR,
            Err(e) => e.code.0,
        }
    })
}

/// The handle and consumer behind a queue.
///
/// # Safety
/// `rkqu` is NULL or a live queue.
unsafe fn queue_consumer<'a>(
    rkqu: *mut rd_kafka_queue_t,
) -> Option<(&'a rd_kafka_t, &'a crate::Consumer)> {
    // SAFETY: per the contract; the queue's handle outlives it.
    let h = unsafe { handle(Queue::from_c(rkqu)?.rk) }?;
    Some((h, h.consumer()?))
}

/// One message (or error event) of the queue within `timeout`, owned by the caller.
fn next(
    h: &rd_kafka_t,
    c: &crate::Consumer,
    timeout: std::time::Duration,
) -> Option<Box<OwnedMessage>> {
    Some(match c.poll(timeout)? {
        Ok(m) => OwnedMessage::from_message(&m, h.topic_by_name(m.topic())),
        Err(e) => super::consumer::error_message(h, &e),
    })
}

/// Waits up to `timeout_ms` for one message of the queue; NULL on timeout (last error
/// `_TIMED_OUT`). The caller frees it with `rd_kafka_message_destroy`.
///
/// # Safety
/// `rkqu` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consume_queue(
    rkqu: *mut rd_kafka_queue_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_message_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let Some((h, c)) = (unsafe { queue_consumer(rkqu) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return std::ptr::null_mut();
        };
        match next(h, c, timeout_of(timeout_ms)) {
            Some(m) => m.into_raw(),
            None => {
                set_last_error(RD_KAFKA_RESP_ERR__TIMED_OUT, 110);
                std::ptr::null_mut()
            }
        }
    })
}

/// Waits up to `timeout_ms` for the first message and fills `rkmessages` with up to
/// `rkmessages_size` ready ones (each freed by the caller); returns how many, -1 on bad arguments.
///
/// # Safety
/// `rkqu` is NULL or a live queue; `rkmessages` has room for `rkmessages_size` pointers.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consume_batch_queue(
    rkqu: *mut rd_kafka_queue_t,
    timeout_ms: c_int,
    rkmessages: *mut *mut rd_kafka_message_t,
    rkmessages_size: usize,
) -> isize {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        let Some((h, c)) = (unsafe { queue_consumer(rkqu) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return -1;
        };
        if rkmessages.is_null() {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return -1;
        }
        let mut n = 0;
        let mut timeout = timeout_of(timeout_ms);
        while n < rkmessages_size {
            let Some(m) = next(h, c, timeout) else {
                break;
            };
            timeout = std::time::Duration::ZERO;
            // SAFETY: `n < rkmessages_size`, within the caller's array.
            unsafe { *rkmessages.add(n) = m.into_raw() };
            n += 1;
        }
        n as isize
    })
}

/// Moves the consume position of a started partition to `offset`; `timeout_ms` is not needed
/// (the engine applies the seek before answering).
///
/// # Safety
/// `rkt` is NULL or a live topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_seek(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    offset: i64,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    let _ = timeout_ms;
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some((t, c)) = (unsafe { topic_consumer(rkt) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match c.seek(t.name(), partition, offset) {
            Ok(()) => RD_KAFKA_RESP_ERR_NO_ERROR,
            Err(e) => e.code.0,
        }
    })
}

/// A producer's watermarks: offsets for the logical times BEGINNING and END, one query each
/// (a query holds a partition once).
fn producer_watermarks(
    p: &crate::Producer,
    topic: &str,
    partition: i32,
    timeout: std::time::Duration,
) -> crate::Result<(i64, i64)> {
    let deadline = std::time::Instant::now() + timeout;
    let mut ends = [0i64; 2];
    for (end, at) in ends.iter_mut().zip([-2, -1]) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let r = p.offsets_for_times(&[TopicPartition::with_offset(topic, partition, at)], left)?;
        let tp = r
            .first()
            .ok_or_else(|| crate::KafkaError::from_code(crate::ErrorCode::L_UNKNOWN_PARTITION))?;
        if tp.error.0 != 0 {
            return Err(crate::KafkaError::from_code(tp.error));
        }
        *end = tp.offset;
    }
    Ok((ends[0], ends[1]))
}

/// Asks the partition's leader for its low and high watermarks.
///
/// # Safety
/// `rk` is NULL or a live handle; `topic` NULL or a NUL-terminated string; `low`/`high` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_query_watermark_offsets(
    rk: *mut rd_kafka_t,
    topic: *const std::os::raw::c_char,
    partition: i32,
    low: *mut i64,
    high: *mut i64,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let (Some(h), Some(topic)) = (unsafe { handle(rk) }, unsafe { super::cstr(topic) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if low.is_null() || high.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        let timeout = timeout_of(timeout_ms);
        let result = match (h.consumer(), h.producer()) {
            (Some(c), _) => c.fetch_watermarks(topic, partition, timeout),
            (None, Some(p)) => producer_watermarks(p, topic, partition, timeout),
            (None, None) => return RD_KAFKA_RESP_ERR__INVALID_ARG,
        };
        match result {
            Ok((l, hi)) => {
                // SAFETY: checked non-NULL, writable per the contract.
                unsafe {
                    *low = l;
                    *high = hi;
                }
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            Err(e) => e.code.0,
        }
    })
}
