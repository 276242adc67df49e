//! Offset queries on the C ABI that any handle can make: `rd_kafka_offsets_for_times` (offsets
//! by timestamp, ListOffsets to each leader) and `rd_kafka_get_watermark_offsets` (the
//! watermarks the last fetch responses reported, without a request).

use std::os::raw::c_int;

use super::ctypes::*;
use super::errcodes::*;
use super::handle::{handle, timeout_of};
use super::partition_list::to_vec;
use super::types::*;

/// Replaces each partition's timestamp (its `offset`) with the offset of the first message at
/// or after it (-1 past the last message). On success every partition's offset and error are
/// set; on failure (the first partition error, `_TIMED_OUT`, `_UNKNOWN_PARTITION` when no
/// partition is known, `_INVALID_ARG` for an empty list) only the errors of unknown topics and
/// partitions are, as librdkafka does.
///
/// # Safety
/// `rk` is NULL or a live handle; `offsets` NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_offsets_for_times(
    rk: *mut rd_kafka_t,
    offsets: *mut rd_kafka_topic_partition_list_t,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let (Some(h), Some(list)) = (unsafe { handle(rk) }, unsafe { offsets.as_mut() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(list) };
        let timeout = timeout_of(timeout_ms);
        let result = match (h.consumer(), h.producer()) {
            (Some(c), _) => c.offsets_for_times_raw(&tps, timeout),
            (None, Some(p)) => p.offsets_for_times_raw(&tps, timeout),
            (None, None) => return RD_KAFKA_RESP_ERR__INVALID_ARG,
        };
        let (err, res) = match result {
            Ok(r) => r,
            Err(e) => return e.code.0,
        };
        // SAFETY: the list is valid; the result has one entry per element, in order.
        let elems = unsafe { super::partition_list::elems_mut(list) };
        for (e, r) in elems.iter_mut().zip(&res) {
            if err.0 == 0 {
                e.offset = r.offset;
            }
            e.err = r.error.0;
        }
        err.0
    })
}

/// The low and high watermarks of a partition as the last fetch responses reported them (no
/// request is made): `RD_KAFKA_OFFSET_INVALID` (-1001) until the partition was fetched, and
/// always for producers, as librdkafka.
///
/// # Safety
/// `rk` is NULL or a live handle; `topic` NULL or a NUL-terminated string; `low`/`high` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_get_watermark_offsets(
    rk: *mut rd_kafka_t,
    topic: *const std::os::raw::c_char,
    partition: i32,
    low: *mut i64,
    high: *mut i64,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let (Some(h), Some(topic)) = (unsafe { handle(rk) }, unsafe { super::cstr(topic) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if low.is_null() || high.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        let invalid = crate::topic_partition::offset::INVALID;
        let (l, hi) = h.consumer().map_or((invalid, invalid), |c| {
            c.cached_watermarks(topic, partition)
        });
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe {
            *low = l;
            *high = hi;
        }
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}
