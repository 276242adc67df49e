//! The transactional producer API (`rd_kafka_init_transactions`, `rd_kafka_begin_transaction`,
//! `rd_kafka_send_offsets_to_transaction`, `rd_kafka_commit_transaction`,
//! `rd_kafka_abort_transaction`): each returns NULL on success or
//! an `rd_kafka_error_t` the caller frees with `rd_kafka_error_destroy()`, whose flags say
//! retriable, `txn_requires_abort` or fatal, as librdkafka's.

use std::os::raw::c_int;
use std::time::Duration;

use crate::transaction::TxnResult;
use crate::{ErrorCode, KafkaError, Producer};

use super::ctypes::*;
use super::errcodes::*;
use super::error::rd_kafka_error_t;
use super::handle::{handle, rd_kafka_flush};
use super::types::rd_kafka_topic_partition_list_t;

/// NULL for success, else a new error object carrying the flags of `r`'s error.
fn to_c(r: TxnResult) -> *mut rd_kafka_error_t {
    match r {
        Ok(()) => std::ptr::null_mut(),
        Err(e) => {
            let p = rd_kafka_error_t::boxed(e.code().0, e.message());
            // SAFETY: just allocated, non-NULL and exclusively ours.
            let r = unsafe { &mut *p };
            r.fatal = e.is_fatal();
            r.retriable = e.is_retriable();
            r.txn_requires_abort = e.txn_requires_abort();
            p
        }
    }
}

/// The producer of `rk`, or librdkafka's error for a NULL or consumer handle.
///
/// # Safety
/// `rk` is NULL or a live handle.
unsafe fn producer<'a>(rk: *mut rd_kafka_t) -> Result<&'a Producer, *mut rd_kafka_error_t> {
    // SAFETY: per the caller's contract.
    let h = unsafe { handle(rk) }.ok_or_else(|| {
        rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "Invalid NULL handle")
    })?;
    h.producer().ok_or_else(|| {
        rd_kafka_error_t::boxed(
            RD_KAFKA_RESP_ERR__INVALID_ARG,
            "The Transactional API can only be used on producer instances",
        )
    })
}

/// `timeout_ms` as the Rust API's timeout: negative is no timeout.
fn timeout(timeout_ms: c_int) -> Option<Duration> {
    (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64))
}

/// `rd_kafka_flush` on `rk` as the Rust API's flush: delivery reports go to the C callbacks.
fn c_flush(rk: *mut rd_kafka_t) -> impl FnMut(Duration) -> crate::Result<()> {
    move |d: Duration| {
        let ms = d.as_millis().min(i32::MAX as u128) as c_int;
        // SAFETY: `rk` is the live handle the transactional call was made on.
        match unsafe { rd_kafka_flush(rk, ms) } {
            RD_KAFKA_RESP_ERR_NO_ERROR => Ok(()),
            code => Err(KafkaError::from_code(ErrorCode(code))),
        }
    }
}

/// Gets the producer id for `transactional.id`, fencing older instances. `timeout_ms` -1 waits
/// up to twice `transaction.timeout.ms`. Returns NULL or an error the caller frees.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_init_transactions(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let p = match unsafe { producer(rk) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        to_c(p.init_transactions(timeout(timeout_ms)))
    })
}

/// Starts a transaction. Returns NULL or an error the caller frees.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_begin_transaction(rk: *mut rd_kafka_t) -> *mut rd_kafka_error_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let p = match unsafe { producer(rk) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        to_c(p.begin_transaction())
    })
}

/// Flushes (serving delivery reports) and commits the transaction. Returns NULL or an error the
/// caller frees.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_commit_transaction(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let p = match unsafe { producer(rk) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        to_c(p.commit_transaction_with(timeout(timeout_ms), &mut c_flush(rk)))
    })
}

/// Purges queued messages (`_PURGE_QUEUE` reports), waits for in-flight ones and aborts the
/// transaction. Returns NULL or an error the caller frees.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_abort_transaction(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let p = match unsafe { producer(rk) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        to_c(p.abort_transaction_with(timeout(timeout_ms), &mut c_flush(rk)))
    })
}

/// Adds a consumer's offsets to the transaction (committed for `cgmetadata`'s group when the
/// transaction commits). Offsets below 0 are skipped; none left is a no-op. Returns NULL or an
/// error the caller frees; neither argument is taken over.
///
/// # Safety
/// `rk` is NULL or a live handle; `offsets` NULL or a valid list; `cgmetadata` NULL or from
/// `rd_kafka_consumer_group_metadata*()`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_send_offsets_to_transaction(
    rk: *mut rd_kafka_t,
    offsets: *const rd_kafka_topic_partition_list_t,
    cgmetadata: *const rd_kafka_consumer_group_metadata_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let group = unsafe { super::group_metadata::value(cgmetadata) };
        let (Some(group), false) = (group, offsets.is_null()) else {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                "cgmetadata and offsets are required parameters",
            );
        };
        // SAFETY: per the contract.
        let p = match unsafe { producer(rk) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        // SAFETY: `offsets` is a valid list per the contract.
        let list = unsafe { super::partition_list::to_vec(offsets) };
        to_c(p.send_offsets_to_transaction(&list, group, timeout(timeout_ms)))
    })
}
