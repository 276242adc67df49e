//! The high-level consumer of the C ABI: subscribe, `rd_kafka_consumer_poll`, assignment,
//! commits and positions, forwarded to [`crate::Consumer`].
//!
//! Callbacks: the Rust consumer calls its rebalance and commit closures from inside its `poll`
//! (and `close`); the closures installed here call the application's `rebalance_cb` and
//! `offset_commit_cb` with the handle pointer. No lock of the handle is held at that point, so the
//! application may call `rd_kafka_assign` & co. from its callback: they reach the same Rust
//! consumer, whose assignment methods do not take the lock its `poll` holds.

use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;

use crate::consumer::{CommitMode, RebalanceType};
use crate::topic_partition::TopicPartition;
use crate::{Consumer, ErrorCode, KafkaError, Rebalance};

use super::ctypes::*;
use super::errcodes::*;
use super::handle::{handle, rd_kafka_t, timeout_of};
use super::message::OwnedMessage;
use super::partition_list::{from_slice, rd_kafka_topic_partition_list_destroy, to_vec};
use super::positions::fill;
use super::types::*;

/// What the handle remembers of the group's rebalances.
#[derive(Default)]
pub(crate) struct GroupState {
    /// Whether the last assignment was lost rather than revoked.
    lost: AtomicBool,
    /// 0: no rebalance yet, 1: eager, 2: cooperative.
    protocol: AtomicU8,
    /// Set by `rd_kafka_consumer_close`.
    closed: AtomicBool,
    /// `group.id` is configured: the group functions work (librdkafka's `rk_cgrp`).
    enabled: AtomicBool,
    /// Results of synchronous commits for `offset_commit_cb`, served by the next
    /// `rd_kafka_consumer_poll` or `rd_kafka_consumer_close` (as librdkafka does).
    commits: Mutex<Vec<(rd_kafka_resp_err_t, Vec<TopicPartition>)>>,
}

/// Calls `offset_commit_cb` for the queued synchronous commit results, with no lock held.
///
/// # Safety
/// `rk` is a live handle.
unsafe fn serve_commits(rk: *mut rd_kafka_t) {
    // SAFETY: per the contract.
    let h = unsafe { &*rk };
    let cbs = h.callbacks();
    let Some(cb) = cbs.offset_commit_cb else {
        return;
    };
    loop {
        let next = {
            let mut q = h.group.commits.lock().unwrap_or_else(|e| e.into_inner());
            if q.is_empty() {
                return;
            }
            q.remove(0)
        };
        let list = from_slice(&next.1);
        // SAFETY: the application's callback; the list lives across the call.
        unsafe {
            cb(rk, next.0, list, cbs.opaque);
            rd_kafka_topic_partition_list_destroy(list);
        }
    }
}

/// Installs the Rust consumer's rebalance and commit closures, which call the application's C
/// callbacks with `rk`. Nothing for a producer.
///
/// # Safety
/// `rk` is a live handle whose address does not change until it is destroyed.
pub(crate) unsafe fn install_callbacks(rk: *mut rd_kafka_t) {
    // SAFETY: per the contract.
    let h = unsafe { &*rk };
    let Some(c) = h.consumer() else {
        return;
    };
    let group_id = h.conf.client_config().get("group.id");
    h.group
        .enabled
        .store(group_id.is_some_and(|g| !g.is_empty()), Ordering::Release);
    let addr = rk as usize;
    c.set_rebalance_callback(Box::new(move |_c: &Consumer, r: &Rebalance| {
        let rk = addr as *mut rd_kafka_t;
        // SAFETY: the closure lives inside the handle's consumer, so the handle is alive.
        let h = unsafe { &*rk };
        h.group.lost.store(r.lost, Ordering::Release);
        h.group
            .protocol
            .store(if r.cooperative { 2 } else { 1 }, Ordering::Release);
        let cbs = h.callbacks();
        if let Some(cb) = cbs.rebalance_cb {
            let err = match r.kind {
                RebalanceType::Assign => RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS,
                RebalanceType::Revoke => RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS,
            };
            let list = from_slice(&r.partitions);
            // SAFETY: the application's callback; the list lives across the call.
            unsafe {
                cb(rk, err, list, cbs.opaque);
                rd_kafka_topic_partition_list_destroy(list);
            }
        }
    }));
    // Statistics and throttle times join the handle's event queue and are served at once, from
    // inside `rd_kafka_consumer_poll` (or `rd_kafka_poll`), as librdkafka serves them.
    c.set_stats_callback(Box::new(move |json: &str| {
        let rk = addr as *mut rd_kafka_t;
        // SAFETY: as above.
        let h = unsafe { &*rk };
        h.push_event(super::handle::Event::Stats(json.to_string()));
        // SAFETY: `rk` is this live handle; no lock is held.
        unsafe { h.serve(rk) };
    }));
    c.set_throttle_callback(Box::new(move |t: &crate::Throttle| {
        let rk = addr as *mut rd_kafka_t;
        // SAFETY: as above.
        let h = unsafe { &*rk };
        h.push_event(super::handle::Event::Throttle(t.clone()));
        // SAFETY: `rk` is this live handle; no lock is held.
        unsafe { h.serve(rk) };
    }));
    if h.callbacks().offset_commit_cb.is_some() {
        c.set_commit_callback(Box::new(move |res: &crate::Result<()>, offs| {
            let rk = addr as *mut rd_kafka_t;
            // SAFETY: as above.
            let h = unsafe { &*rk };
            let cbs = h.callbacks();
            if let Some(cb) = cbs.offset_commit_cb {
                let err = res
                    .as_ref()
                    .err()
                    .map_or(RD_KAFKA_RESP_ERR_NO_ERROR, |e| e.code.0);
                let list = from_slice(offs);
                // SAFETY: as above.
                unsafe {
                    cb(rk, err, list, cbs.opaque);
                    rd_kafka_topic_partition_list_destroy(list);
                }
            }
        }));
    }
}

/// Closes the consumer of a handle being destroyed while the handle is still whole (the close
/// may call the application's callbacks). With `RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE` the
/// application's callbacks are detached instead.
///
/// # Safety
/// `rk` is a live handle.
pub(crate) unsafe fn close_for_destroy(rk: *mut rd_kafka_t, flags: c_int) {
    // SAFETY: per the contract.
    let Some(c) = (unsafe { &*rk }).consumer() else {
        return;
    };
    if flags & RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE != 0 {
        c.set_rebalance_callback(Box::new(|_, _| {}));
        c.set_commit_callback(Box::new(|_, _| {}));
    }
    let _ = c.close();
}

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
            .filter(|_| h.group.enabled.load(Ordering::Acquire))
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
fn parse_eof(msg: &str) -> Option<(&str, i32, i64)> {
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
        // SAFETY: `rk` is this live handle.
        unsafe { serve_commits(rk) };
        match c.poll(timeout_of(timeout_ms)) {
            None => std::ptr::null_mut(),
            Some(Ok(m)) => OwnedMessage::from_message(&m, h.topic_by_name(m.topic())).into_raw(),
            Some(Err(e)) => error_message(h, &e).into_raw(),
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

/// Routes `rd_kafka_poll` events to `rd_kafka_consumer_poll`: the consumer's events are always
/// served there, so this only checks the handle.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_poll_set_consumer(rk: *mut rd_kafka_t) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        match unsafe { consumer(rk) } {
            Ok(_) => RD_KAFKA_RESP_ERR_NO_ERROR,
            Err(_) => RD_KAFKA_RESP_ERR__UNKNOWN_GROUP,
        }
    })
}

/// Commits (with `enable.auto.commit`), revokes the assignment through the rebalance callback
/// and leaves the group. The handle must still be destroyed.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_close(rk: *mut rd_kafka_t) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        match unsafe { consumer(rk) } {
            Ok(c) => {
                // SAFETY: a consumer handle, so live.
                unsafe { serve_commits(rk) };
                let r = code_of(c.close());
                // SAFETY: a consumer handle, so live.
                unsafe { (*rk).group.closed.store(true, Ordering::Release) };
                r
            }
            Err(e) => e,
        }
    })
}

/// Keeps the result of a synchronous commit for `offset_commit_cb` (asynchronous results come
/// through the Rust consumer's commit callback).
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
    if async_ != 0 || h.callbacks().offset_commit_cb.is_none() {
        return;
    }
    let entry = match r {
        Ok(v) => (RD_KAFKA_RESP_ERR_NO_ERROR, v.clone()),
        Err(e) => (e.code.0, requested),
    };
    h.group
        .commits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
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

/// 1 once `rd_kafka_consumer_close` has returned, else 0.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_closed(rk: *mut rd_kafka_t) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(0, |h| h.group.closed.load(Ordering::Acquire) as c_int)
    })
}

/// Whether the last revoked assignment was lost (session timeout, fencing) rather than revoked.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_assignment_lost(rk: *mut rd_kafka_t) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { handle(rk) }.map_or(0, |h| h.group.lost.load(Ordering::Acquire) as c_int)
    })
}

/// "COOPERATIVE" or "EAGER" once the group has rebalanced, "NONE" before; NULL without a group
/// (producers, consumers without `group.id`).
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_rebalance_protocol(rk: *mut rd_kafka_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        if unsafe { consumer(rk) }.is_err() {
            return std::ptr::null();
        }
        // SAFETY: per the contract.
        let p = unsafe { handle(rk) }.map_or(0, |h| h.group.protocol.load(Ordering::Acquire));
        match p {
            1 => c"EAGER".as_ptr(),
            2 => c"COOPERATIVE".as_ptr(),
            _ => c"NONE".as_ptr(),
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
