//! `rd_kafka_incremental_assign` and `rd_kafka_incremental_unassign` (cooperative rebalancing),
//! with librdkafka's checks of the input list before the assignment changes.

use crate::topic_partition::TopicPartition;

use super::consumer::consumer;
use super::ctypes::*;
use super::errcodes::*;
use super::error::rd_kafka_error_t;
use super::handle::rd_kafka_t;
use super::partition_list::to_vec;
use super::types::*;

/// Offsets below this are "tail" offsets (`RD_KAFKA_OFFSET_TAIL(n)`).
const OFFSET_TAIL_BASE: i64 = -2000;

/// The error for a handle that has no group, as librdkafka words it.
fn no_group(code: rd_kafka_resp_err_t) -> *mut rd_kafka_error_t {
    let msg = if code == RD_KAFKA_RESP_ERR__UNKNOWN_GROUP {
        "Requires a consumer with group.id configured"
    } else {
        ""
    };
    rd_kafka_error_t::boxed(code, msg)
}

fn sorted(tps: &[TopicPartition]) -> Vec<&TopicPartition> {
    let mut v: Vec<&TopicPartition> = tps.iter().collect();
    v.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    v
}

fn assigned(current: &[TopicPartition], tp: &TopicPartition) -> bool {
    current
        .iter()
        .any(|c| c.topic == tp.topic && c.partition == tp.partition)
}

/// librdkafka's checks for partitions to add: valid start offsets, no duplicates, none assigned.
fn check_add(
    add: &[TopicPartition],
    current: &[TopicPartition],
) -> Result<(), *mut rd_kafka_error_t> {
    let list = sorted(add);
    for (i, tp) in list.iter().enumerate() {
        let o = tp.offset;
        let logical_ok = [
            RD_KAFKA_OFFSET_BEGINNING,
            RD_KAFKA_OFFSET_END,
            RD_KAFKA_OFFSET_STORED,
            RD_KAFKA_OFFSET_INVALID,
        ]
        .contains(&o);
        if o < 0 && !logical_ok && o > OFFSET_TAIL_BASE {
            let msg = format!(
                "{} [{}] has invalid start offset {o}",
                tp.topic, tp.partition
            );
            return Err(rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                &msg,
            ));
        }
        if i > 0 && list[i - 1].topic == tp.topic && list[i - 1].partition == tp.partition {
            let msg = format!("Duplicate {} [{}] in input list", tp.topic, tp.partition);
            return Err(rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                &msg,
            ));
        }
        if assigned(current, tp) {
            let msg = format!(
                "{} [{}] is already part of the current assignment",
                tp.topic, tp.partition
            );
            return Err(rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__CONFLICT, &msg));
        }
    }
    Ok(())
}

/// librdkafka's checks for partitions to remove: each must be assigned.
fn check_remove(
    remove: &[TopicPartition],
    current: &[TopicPartition],
) -> Result<(), *mut rd_kafka_error_t> {
    if current.is_empty() && !remove.is_empty() {
        return Err(rd_kafka_error_t::boxed(
            RD_KAFKA_RESP_ERR__INVALID_ARG,
            "Can't subtract from empty assignment",
        ));
    }
    for tp in sorted(remove) {
        if !assigned(current, tp) {
            let msg = format!(
                "{} [{}] can't be unassigned since it is not in the current assignment",
                tp.topic, tp.partition
            );
            return Err(rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                &msg,
            ));
        }
    }
    Ok(())
}

fn error_of(r: crate::Result<()>) -> *mut rd_kafka_error_t {
    match r {
        Ok(()) => std::ptr::null_mut(),
        Err(e) => rd_kafka_error_t::from_kafka(&e),
    }
}

/// Adds partitions to the assignment (cooperative rebalancing); NULL on success.
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_incremental_assign(
    rk: *mut rd_kafka_t,
    partitions: *const rd_kafka_topic_partition_list_t,
) -> *mut rd_kafka_error_t {
    ffi_guard!(rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__FAIL, ""), {
        if partitions.is_null() {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                "partitions must not be NULL",
            );
        }
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return no_group(e),
        };
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(partitions) };
        if let Err(e) = check_add(&tps, &c.assignment()) {
            return e;
        }
        error_of(c.incremental_assign(&tps))
    })
}

/// Removes partitions from the assignment (cooperative rebalancing); NULL on success.
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_incremental_unassign(
    rk: *mut rd_kafka_t,
    partitions: *const rd_kafka_topic_partition_list_t,
) -> *mut rd_kafka_error_t {
    ffi_guard!(rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__FAIL, ""), {
        if partitions.is_null() {
            return rd_kafka_error_t::boxed(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                "partitions must not be NULL",
            );
        }
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return no_group(e),
        };
        // SAFETY: a consumer handle, so live.
        if unsafe { &*rk }.group.consumer_stopped() {
            // Answering the close's revoke event: the close already cleared the assignment.
            return std::ptr::null_mut();
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(partitions) };
        if let Err(e) = check_remove(&tps, &c.assignment()) {
            return e;
        }
        error_of(c.incremental_unassign(&tps))
    })
}
