//! The high-level consumer of the C ABI: subscribe, `rd_kafka_consumer_poll`, assignment,
//! commits and positions, forwarded to [`crate::Consumer`]. Rebalances, commit results and the
//! close are in `group.rs`.

use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::consumer::CommitMode;
use crate::topic_partition::TopicPartition;
use crate::{Consumer, ErrorCode, KafkaError};

use super::conf::PartitionsCb;
use super::ctypes::*;
use super::errcodes::*;
use super::group::serve_consumer_queue;
use super::handle::{handle, rd_kafka_t, timeout_of};
use super::message::OwnedMessage;
use super::ops::Op;
use super::partition_list::{from_slice, rd_kafka_topic_partition_list_destroy, to_vec};
use super::positions::fill;
use super::queue::Queue;
use super::types::*;

/// The consumer of a handle with a group, for the group functions: `_INVALID_ARG` for NULL,
/// `_UNKNOWN_GROUP` for producers and consumers without `group.id` (as librdkafka).
///
/// # Safety
/// `rk` is NULL or a live handle.
pub(crate) unsafe fn consumer<'a>(
    rk: *const rd_kafka_t,
) -> Result<&'a Consumer, rd_kafka_resp_err_t> {
    // SAFETY: per the contract.
    match unsafe { handle(rk) } {
        None => Err(RD_KAFKA_RESP_ERR__INVALID_ARG),
        Some(h) => h
            .consumer()
            .filter(|_| h.consumer_queue().is_some())
            .ok_or(RD_KAFKA_RESP_ERR__UNKNOWN_GROUP),
    }
}

pub(crate) fn code_of(r: crate::Result<()>) -> rd_kafka_resp_err_t {
    match r {
        Ok(()) => RD_KAFKA_RESP_ERR_NO_ERROR,
        Err(e) => e.code.0,
    }
}

/// Topic, partition and offset of a `_PARTITION_EOF` error ("... partition <topic> [<p>] at
/// offset <o>"); topic names cannot contain spaces or brackets.
pub(crate) fn parse_eof(msg: &str) -> Option<(&str, i32, i64)> {
    let rest = &msg[msg.find(" partition ")? + " partition ".len()..];
    let (topic, rest) = rest.split_once(" [")?;
    let (part, rest) = rest.split_once(']')?;
    let off = rest.trim().strip_prefix("at offset ")?;
    let off = off.split_whitespace().next()?;
    Some((topic, part.parse().ok()?, off.parse().ok()?))
}

/// Subscribes to the topics named in `topics` (partition numbers are ignored).
///
/// # Safety
/// `rk` is NULL or a live handle; `topics` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_subscribe(
    rk: *mut rd_kafka_t,
    topics: *const rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if topics.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(topics) };
        let mut names: Vec<&str> = Vec::new();
        for tp in &tps {
            if !names.contains(&tp.topic.as_str()) {
                names.push(&tp.topic);
            }
        }
        code_of(c.subscribe(&names))
    })
}

/// Leaves the subscription.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_unsubscribe(rk: *mut rd_kafka_t) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        match unsafe { consumer(rk) } {
            Ok(c) => code_of(c.unsubscribe()),
            Err(e) => e,
        }
    })
}

/// The current subscription as a new list (partition `RD_KAFKA_PARTITION_UA`) in `*topics`.
///
/// # Safety
/// `rk` is NULL or a live handle; `topics` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_subscription(
    rk: *mut rd_kafka_t,
    topics: *mut *mut rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if topics.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        let v: Vec<TopicPartition> = c
            .subscription()
            .into_iter()
            .map(|t| TopicPartition::new(t, RD_KAFKA_PARTITION_UA))
            .collect();
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { *topics = from_slice(&v) };
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Waits up to `timeout_ms` for a message: a message, an error event as a message with `err`
/// set, or NULL on timeout. Rebalance and commit callbacks run inside this call.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_poll(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_message_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return std::ptr::null_mut();
        };
        // SAFETY: per the contract.
        let Ok(c) = (unsafe { consumer(rk) }) else {
            let e = KafkaError::new(ErrorCode::L_UNKNOWN_GROUP, "Local: Unknown group");
            return error_message(h, &e).into_raw();
        };
        let deadline = Instant::now() + timeout_of(timeout_ms);
        loop {
            // SAFETY: `rk` is this live handle.
            unsafe { serve_consumer_queue(rk) };
            match c.poll(deadline.saturating_duration_since(Instant::now())) {
                Some(Ok(m)) => {
                    return OwnedMessage::from_message(&m, h.topic_by_name(m.topic())).into_raw()
                }
                Some(Err(e)) => return error_message(h, &e).into_raw(),
                // Interrupted for something posted: serve it and go on waiting.
                None if Instant::now() < deadline => {}
                None => {
                    // SAFETY: as above.
                    unsafe { serve_consumer_queue(rk) };
                    return std::ptr::null_mut();
                }
            }
        }
    })
}

pub(crate) fn error_message(h: &rd_kafka_t, e: &KafkaError) -> Box<OwnedMessage> {
    if e.code == ErrorCode::L_PARTITION_EOF {
        if let Some((topic, partition, offset)) = parse_eof(&e.message) {
            let rkt = h.topic_by_name(topic);
            return OwnedMessage::error(e.code.0, &e.message, rkt, partition, offset);
        }
    }
    OwnedMessage::error(
        e.code.0,
        &e.message,
        std::ptr::null_mut(),
        RD_KAFKA_PARTITION_UA,
        RD_KAFKA_OFFSET_INVALID,
    )
}

/// Posts the result of a synchronous commit for `offset_commit_cb` to the main queue
/// (asynchronous results come through the Rust consumer's commit callback), as librdkafka does.
///
/// # Safety
/// `rk` is a live handle.
unsafe fn queue_commit_result(
    rk: *mut rd_kafka_t,
    async_: c_int,
    r: &crate::Result<Vec<TopicPartition>>,
    requested: Vec<TopicPartition>,
) {
    // SAFETY: per the contract.
    let h = unsafe { &*rk };
    if async_ != 0 {
        if r.is_ok() {
            h.group.async_manual.fetch_add(1, Ordering::AcqRel);
        }
        return;
    }
    let cbs = h.callbacks();
    if cbs.offset_commit_cb.is_none() {
        return;
    }
    let (err, offsets) = match r {
        Ok(v) => (RD_KAFKA_RESP_ERR_NO_ERROR, v.clone()),
        Err(e) => (e.code.0, requested),
    };
    h.main.push(Op::OffsetCommit {
        err,
        offsets,
        cb: cbs.offset_commit_cb,
        opaque: cbs.opaque,
    });
}

fn mode(async_: c_int) -> CommitMode {
    if async_ != 0 {
        CommitMode::Async
    } else {
        CommitMode::Sync
    }
}

/// Commits `offsets` (NULL: the stored offsets of the assignment); waits for the result unless
/// `async_`.
///
/// # Safety
/// `rk` is NULL or a live handle; `offsets` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_commit(
    rk: *mut rd_kafka_t,
    offsets: *const rd_kafka_topic_partition_list_t,
    async_: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        let list = (!offsets.is_null()).then(|| {
            // SAFETY: per the contract.
            unsafe { to_vec(offsets) }
        });
        let r = c.commit(list.as_deref(), mode(async_));
        // SAFETY: a consumer handle, so live.
        unsafe { queue_commit_result(rk, async_, &r, list.unwrap_or_default()) };
        code_of(r.map(|_| ()))
    })
}

/// Commits the offset after `rkmessage`.
///
/// # Safety
/// `rk` is NULL or a live handle; `rkmessage` is NULL or a message from this library.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_commit_message(
    rk: *mut rd_kafka_t,
    rkmessage: *const rd_kafka_message_t,
    async_: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        // SAFETY: per the contract.
        let Some(m) = (unsafe { rkmessage.as_ref() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if m.err != 0 || m.rkt.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: a message's topic object is alive while the message is.
        let topic = unsafe { (*m.rkt).name() };
        let tp = TopicPartition::with_offset(topic, m.partition, m.offset + 1);
        let r = c.commit(Some(std::slice::from_ref(&tp)), mode(async_));
        // SAFETY: a consumer handle, so live.
        unsafe { queue_commit_result(rk, async_, &r, vec![tp]) };
        code_of(r.map(|_| ()))
    })
}

/// Fills the list with the group's committed offsets (and per-partition errors).
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_committed(
    rk: *mut rd_kafka_t,
    partitions: *mut rd_kafka_topic_partition_list_t,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if partitions.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let tps = unsafe { to_vec(partitions) };
        match c.committed(&tps, timeout_of(timeout_ms)) {
            Ok(res) => {
                // SAFETY: per the contract.
                unsafe { fill(partitions, &res) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            Err(e) => e.code.0,
        }
    })
}

/// Replaces the assignment (NULL: clears it).
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_assign(
    rk: *mut rd_kafka_t,
    partitions: *const rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if partitions.is_null() {
            // SAFETY: a consumer handle, so live.
            if unsafe { &*rk }.group.consumer_stopped() {
                // Answering the close's revoke event: the close already cleared the assignment.
                return RD_KAFKA_RESP_ERR_NO_ERROR;
            }
            code_of(c.unassign())
        } else {
            // SAFETY: per the contract.
            code_of(c.assign(&unsafe { to_vec(partitions) }))
        }
    })
}

/// The current assignment as a new list in `*partitions` (offsets as assigned; none: STORED).
///
/// # Safety
/// `rk` is NULL or a live handle; `partitions` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_assignment(
    rk: *mut rd_kafka_t,
    partitions: *mut *mut rd_kafka_topic_partition_list_t,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let c = match unsafe { consumer(rk) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if partitions.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // librdkafka keeps `RD_KAFKA_OFFSET_INVALID` ("no offset given") as STORED.
        let mut v = c.assignment();
        for tp in &mut v {
            if tp.offset == RD_KAFKA_OFFSET_INVALID {
                tp.offset = RD_KAFKA_OFFSET_STORED;
            }
        }
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { *partitions = from_slice(&v) };
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Commits `offsets` (NULL: the stored offsets of the assignment) and reports the result: with
/// `rkqu`, as an OFFSET_COMMIT op on it (served by `cb` or returned as an event with
/// `commit_opaque`), returning `RD_KAFKA_RESP_ERR_NO_ERROR`; without, to `cb` before returning
/// the result. (The commit itself is synchronous in both cases.)
///
/// # Safety
/// `rk` is NULL or a live handle; `offsets` NULL or a valid list; `rkqu` NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_commit_queue(
    rk: *mut rd_kafka_t,
    offsets: *const rd_kafka_topic_partition_list_t,
    rkqu: *mut rd_kafka_queue_t,
    cb: Option<PartitionsCb>,
    commit_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__UNKNOWN_GROUP;
        };
        let (Some(c), Some(_)) = (h.consumer(), h.consumer_queue()) else {
            return RD_KAFKA_RESP_ERR__UNKNOWN_GROUP;
        };
        let list = (!offsets.is_null()).then(|| {
            // SAFETY: per the contract.
            unsafe { to_vec(offsets) }
        });
        let (err, done) = match c.commit(list.as_deref(), CommitMode::Sync) {
            Ok(v) => (RD_KAFKA_RESP_ERR_NO_ERROR, v),
            Err(e) => (e.code.0, list.unwrap_or_default()),
        };
        let cbs = h.callbacks();
        if cb.is_none() && cbs.offset_commit_cb.is_some() {
            h.main.push(Op::OffsetCommit {
                err,
                offsets: done.clone(),
                cb: cbs.offset_commit_cb,
                opaque: cbs.opaque,
            });
        }
        // SAFETY: per the contract.
        match unsafe { Queue::from_c(rkqu) } {
            Some(q) => {
                q.q.push(Op::OffsetCommit {
                    err,
                    offsets: done,
                    cb,
                    opaque: commit_opaque,
                });
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => {
                if let Some(cb) = cb {
                    let l = from_slice(&done);
                    // SAFETY: the application's callback; the list lives across the call.
                    unsafe {
                        cb(rk, err, l, commit_opaque);
                        rd_kafka_topic_partition_list_destroy(l);
                    }
                }
                err
            }
        }
    })
}

/// The group member id given by the coordinator, as a `malloc`ed string the application frees
/// with `rd_kafka_mem_free`; NULL before the consumer joined its group (and for producers).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_memberid(rk: *const rd_kafka_t) -> *mut c_char {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let Ok(c) = (unsafe { consumer(rk) }) else {
            return std::ptr::null_mut();
        };
        match c.member_id() {
            Ok(id) if !id.is_empty() => super::c_strdup(&id),
            _ => std::ptr::null_mut(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_eof;

    #[test]
    fn eof_message_parses() {
        assert_eq!(
            parse_eof("Fetch from broker reached end of partition t-1.x [3] at offset 42"),
            Some(("t-1.x", 3, 42))
        );
        assert_eq!(parse_eof("something else"), None);
    }
}
