//! Per-partition positions, which librdkafka keeps for any handle rather than per group:
//! `rd_kafka_position`, `rd_kafka_pause_partitions`/`rd_kafka_resume_partitions`,
//! `rd_kafka_offsets_store` and `rd_kafka_seek_partitions`. A producer has no consumed partitions
//! and answers as librdkafka does for them.

use std::os::raw::c_int;

use crate::topic_partition::TopicPartition;
use crate::ErrorCode;

use super::consumer::code_of;
use super::ctypes::*;
use super::errcodes::*;
use super::error::rd_kafka_error_t;
use super::handle::{handle, rd_kafka_t};
use super::partition_list::to_vec;
use super::types::*;

/// Writes the per-partition results `res` (offset, error) into the C list `l`, matching by
/// topic and partition.
///
/// # Safety
/// `l` is a valid list.
pub(crate) unsafe fn fill(l: *mut rd_kafka_topic_partition_list_t, res: &[TopicPartition]) {
    // SAFETY: per the contract.
    let l = unsafe { &mut *l };
    if l.elems.is_null() || l.cnt <= 0 {
        return;
    }
    // SAFETY: `elems` has `cnt` initialised elements.
    let elems = unsafe { std::slice::from_raw_parts_mut(l.elems, l.cnt as usize) };
    for e in elems {
        // SAFETY: element topics are NUL-terminated strings.
        let topic = unsafe { super::cstr(e.topic) }.unwrap_or("");
        match res
            .iter()
            .find(|r| r.topic == topic && r.partition == e.partition)
        {
            Some(r) => {
                e.offset = r.offset;
                e.err = r.error.0;
            }
            None => e.err = RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        }
    }
}

/// Fills the list with the consume positions (the offset after the last message returned;
/// `RD_KAFKA_OFFSET_INVALID` where nothing was consumed, and for every partition of a producer).
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_position(
    rk: *mut rd_kafka_t,
    partitions: *mut rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if partitions.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(partitions) };
        let res = match h.consumer() {
            Some(c) => c.position(&tps),
            None => tps
                .into_iter()
                .map(|mut t| {
                    t.offset = RD_KAFKA_OFFSET_INVALID;
                    t.error = ErrorCode(RD_KAFKA_RESP_ERR_NO_ERROR);
                    t
                })
                .collect(),
        };
        // SAFETY: per the contract.
        unsafe { fill(partitions, &res) };
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Stops fetching from the listed partitions; per-partition results in `err`.
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_pause_partitions(
    rk: *mut rd_kafka_t,
    partitions: *mut rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    // SAFETY: forwarded.
    unsafe { pause_resume(rk, partitions, true) }
}

/// Resumes fetching from the listed partitions.
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_resume_partitions(
    rk: *mut rd_kafka_t,
    partitions: *mut rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    // SAFETY: forwarded.
    unsafe { pause_resume(rk, partitions, false) }
}

unsafe fn pause_resume(
    rk: *mut rd_kafka_t,
    partitions: *mut rd_kafka_topic_partition_list_t,
    pause: bool,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if partitions.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(partitions) };
        let r = match h.consumer() {
            Some(c) if pause => c.pause(&tps),
            Some(c) => c.resume(&tps),
            None => Ok(()),
        };
        let err = r.err().map_or(RD_KAFKA_RESP_ERR_NO_ERROR, |e| e.code.0);
        let res: Vec<TopicPartition> = tps
            .into_iter()
            .map(|mut t| {
                t.error = ErrorCode(err);
                t
            })
            .collect();
        // SAFETY: per the contract.
        unsafe { fill(partitions, &res) };
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Stores the listed offsets for the next commit; per-partition results in `err`.
/// `_INVALID_ARG`, list untouched, while `enable.auto.offset.store` is true (and for producers).
///
/// # Safety
/// `rk` is NULL or a live handle; `offsets` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_offsets_store(
    rk: *mut rd_kafka_t,
    offsets: *mut rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(c) = (unsafe { handle(rk) }).and_then(|h| h.consumer()) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if offsets.is_null() || c.auto_offset_store() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(offsets) };
        let mut first = RD_KAFKA_RESP_ERR_NO_ERROR;
        let res: Vec<TopicPartition> = tps
            .into_iter()
            .map(|mut t| {
                let e = code_of(c.store_offset(&t.topic, t.partition, t.offset));
                if first == RD_KAFKA_RESP_ERR_NO_ERROR {
                    first = e;
                }
                t.error = ErrorCode(e);
                t
            })
            .collect();
        // SAFETY: per the contract.
        unsafe { fill(offsets, &res) };
        first
    })
}

/// Moves the fetch positions of assigned partitions; NULL on success, per-partition results in
/// `err`. `timeout_ms` is not needed: the seek is applied by the engine before it answers.
/// Consumers only, with a non-empty list (librdkafka's errors otherwise).
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_seek_partitions(
    rk: *mut rd_kafka_t,
    partitions: *mut rd_kafka_topic_partition_list_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    let _ = timeout_ms;
    ffi_guard!(rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__FAIL, ""), {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "");
        };
        let Some(c) = h.consumer() else {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                "Must only be used on consumer instance",
            );
        };
        // SAFETY: per the contract.
        if partitions.is_null() || unsafe { (*partitions).cnt } <= 0 {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                "partitions must be specified",
            );
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(partitions) };
        let res: Vec<TopicPartition> = tps
            .into_iter()
            .map(|mut t| {
                t.error = ErrorCode(code_of(c.seek(&t.topic, t.partition, t.offset)));
                t
            })
            .collect();
        // SAFETY: per the contract.
        unsafe { fill(partitions, &res) };
        std::ptr::null_mut()
    })
}
