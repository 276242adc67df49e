//! `rd_kafka_commit_queue`: a commit whose result goes to a callback of the call rather than to
//! the configuration's `offset_commit_cb` (confluent-kafka-python's synchronous `commit()`).

use std::os::raw::c_void;
use std::sync::atomic::AtomicBool;

use crate::consumer::CommitMode;

use super::consumer::consumer;
use super::ctypes::*;
use super::errcodes::*;
use super::handle::rd_kafka_t;
use super::partition_list::{from_slice, rd_kafka_topic_partition_list_destroy, to_vec};
use super::types::*;

/// Commits `offsets` (NULL: the stored offsets of the assignment). With `rkqu` NULL the commit
/// is synchronous and `cb` (if any) is called from this call with the result: the committed
/// offsets, or the requested ones (NULL when none were given) with the error. A result queue
/// (`rkqu` not NULL) is not supported yet: `_NOT_IMPLEMENTED`.
///
/// Ownership: the list given to `cb` is freed after `cb` returns; `offsets` stays the caller's.
///
/// # Safety
/// `rk` is NULL or a live handle; `offsets` is NULL or a valid list; `cb` is NULL or callable
/// with `commit_opaque`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_commit_queue(
    rk: *mut rd_kafka_t,
    offsets: *const rd_kafka_topic_partition_list_t,
    rkqu: *mut rd_kafka_queue_t,
    cb: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            rd_kafka_resp_err_t,
            *mut rd_kafka_topic_partition_list_t,
            *mut c_void,
        ),
    >,
    commit_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if !rkqu.is_null() {
            static LOGGED: AtomicBool = AtomicBool::new(false);
            super::not_implemented(&LOGGED, "rd_kafka_commit_queue with a result queue");
            return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
        }
        let requested = (!offsets.is_null()).then(|| {
            // SAFETY: per the contract.
            unsafe { to_vec(offsets) }
        });
        let (err, list) = match c.commit(requested.as_deref(), CommitMode::Sync) {
            Ok(done) => (RD_KAFKA_RESP_ERR_NO_ERROR, from_slice(&done)),
            Err(e) => (
                e.code.0,
                requested.map_or(std::ptr::null_mut(), |r| from_slice(&r)),
            ),
        };
        if let Some(cb) = cb {
            // SAFETY: the application's callback; the list lives across the call.
            unsafe { cb(rk, err, list, commit_opaque) };
        }
        if !list.is_null() {
            // SAFETY: created above and no longer used.
            unsafe { rd_kafka_topic_partition_list_destroy(list) };
        }
        err
    })
}
