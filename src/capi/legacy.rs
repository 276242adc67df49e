//! The legacy (simple) consumer of the C ABI, as kcat's `-C` mode uses it: metadata for the
//! partition list, a queue per handle (`queue.rs`), `rd_kafka_consume_start_queue` per partition
//! and `rd_kafka_consume_callback_queue` to serve messages. Each started partition is added to the
//! Rust consumer's assignment; any queue of the handle reads the consumer's single message stream.

use std::ffi::CString;
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

/// A metadata result and the memory its pointers refer to (`md` first: the C pointer is its
/// address).
#[repr(C)]
struct OwnedMetadata {
    md: rd_kafka_metadata,
    topics: Vec<rd_kafka_metadata_topic>,
    partitions: Vec<Vec<rd_kafka_metadata_partition>>,
    names: Vec<CString>,
}

/// Cluster metadata: the topics (all, or `only_rkt`) with their partitions. Brokers, leaders
/// and replicas are not reported yet (counts 0, leader -1).
///
/// # Safety
/// `rk` is NULL or a live handle; `only_rkt` NULL or a topic of it; `metadatap` writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_metadata(
    rk: *mut rd_kafka_t,
    all_topics: c_int,
    only_rkt: *mut rd_kafka_topic_t,
    metadatap: *mut *const rd_kafka_metadata,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    let _ = all_topics;
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if metadatap.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let only = unsafe { only_rkt.as_ref() }.map(|t| t.name().to_string());
        let timeout = timeout_of(timeout_ms);
        let fetched = match (h.consumer(), h.producer()) {
            (Some(c), _) => c.fetch_metadata(only.as_deref(), timeout),
            (None, Some(p)) => p.fetch_metadata(only.as_deref(), timeout),
            (None, None) => return RD_KAFKA_RESP_ERR__INVALID_ARG,
        };
        let (list, topic_err) = match fetched {
            Ok(l) => (l, RD_KAFKA_RESP_ERR_NO_ERROR),
            Err(e) if only.is_some() && e.code.0 != RD_KAFKA_RESP_ERR__TIMED_OUT => {
                (vec![(only.clone().unwrap_or_default(), 0)], e.code.0)
            }
            Err(e) => return e.code.0,
        };
        let mut o = Box::new(OwnedMetadata {
            md: rd_kafka_metadata {
                broker_cnt: 0,
                brokers: std::ptr::null_mut(),
                topic_cnt: 0,
                topics: std::ptr::null_mut(),
                orig_broker_id: -1,
                orig_broker_name: std::ptr::null_mut(),
            },
            topics: Vec::new(),
            partitions: Vec::new(),
            names: Vec::new(),
        });
        o.names.push(CString::default());
        for (name, cnt) in &list {
            o.names
                .push(CString::new(name.replace('\0', "")).unwrap_or_default());
            o.partitions.push(
                (0..*cnt)
                    .map(|id| rd_kafka_metadata_partition {
                        id,
                        err: RD_KAFKA_RESP_ERR_NO_ERROR,
                        leader: -1,
                        replica_cnt: 0,
                        replicas: std::ptr::null_mut(),
                        isr_cnt: 0,
                        isrs: std::ptr::null_mut(),
                    })
                    .collect(),
            );
        }
        // Pointers into the vectors are taken once they no longer move.
        let topics: Vec<rd_kafka_metadata_topic> = (0..list.len())
            .map(|i| rd_kafka_metadata_topic {
                topic: o.names[i + 1].as_ptr() as *mut _,
                partition_cnt: o.partitions[i].len() as c_int,
                partitions: o.partitions[i].as_mut_ptr(),
                err: topic_err,
            })
            .collect();
        o.topics = topics;
        o.md.topic_cnt = o.topics.len() as c_int;
        o.md.topics = o.topics.as_mut_ptr();
        o.md.orig_broker_name = o.names[0].as_ptr() as *mut _;
        // SAFETY: checked non-NULL.
        unsafe { *metadatap = Box::into_raw(o).cast::<rd_kafka_metadata>() };
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Frees a result of `rd_kafka_metadata`. NULL is ignored.
///
/// # Safety
/// `metadata` is NULL or from `rd_kafka_metadata`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_metadata_destroy(metadata: *const rd_kafka_metadata) {
    ffi_guard!((), {
        if !metadata.is_null() {
            // SAFETY: `md` is the first field of the boxed OwnedMetadata.
            drop(unsafe { Box::from_raw(metadata as *mut OwnedMetadata) });
        }
    })
}

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

/// Asks the partition's leader for its low and high watermarks (consumers only).
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
        let Some(c) = h.consumer() else {
            return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
        };
        match c.fetch_watermarks(topic, partition, timeout_of(timeout_ms)) {
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
