//! `rd_kafka_topic_conf_t`: a topic configuration (topic-scope properties, partitioner and
//! opaque), its set/get/dup/dump; the default one of a client configuration lives in `conf.rs`.

use std::os::raw::{c_char, c_int, c_void};

use crate::config::ClientConfig;

use super::conf::{copy_out, dump_array, rd_kafka_conf_t, PartitionerCb};
use super::ctypes::*;
use super::types::*;
use super::{cstr, write_errstr};

/// Topic-level callbacks and opaque of an `rd_kafka_topic_conf_t`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct TopicCallbacks {
    pub partitioner_cb: Option<PartitionerCb>,
    pub msg_order_cmp:
        Option<unsafe extern "C" fn(*const rd_kafka_message_t, *const rd_kafka_message_t) -> c_int>,
    /// `rd_kafka_topic_conf_set_opaque`: the `rkt_opaque` of partitioners, `rd_kafka_topic_opaque`.
    pub opaque: *mut c_void,
}

/// A topic configuration (`rd_kafka_topic_conf_t`).
#[derive(Clone, Debug)]
pub struct rd_kafka_topic_conf_t {
    pub(crate) config: ClientConfig,
    pub(crate) callbacks: TopicCallbacks,
}

impl rd_kafka_topic_conf_t {
    pub(super) fn new() -> Self {
        rd_kafka_topic_conf_t {
            config: ClientConfig::new_topic(),
            callbacks: TopicCallbacks::default(),
        }
    }

    fn set_pointer(&mut self, name: &str, p: *const c_void) {
        let repr = (!p.is_null()).then(|| format!("{p:p}"));
        let _ = self.config.set_pointer(name, repr);
    }
}

/// Dumps a topic configuration; see `rd_kafka_conf_dump`.
///
/// # Safety
/// `conf` is NULL or live; `cntp` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_dump(
    conf: *mut rd_kafka_topic_conf_t,
    cntp: *mut usize,
) -> *mut *const c_char {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        match unsafe { conf.as_ref() } {
            Some(c) => dump_array(c.config.dump(), cntp),
            None => {
                if !cntp.is_null() {
                    // SAFETY: writable per the contract.
                    unsafe { *cntp = 0 };
                }
                std::ptr::null_mut()
            }
        }
    })
}

/// Creates a topic configuration with defaults, owned by the caller (freed with
/// `rd_kafka_topic_conf_destroy` unless consumed by `rd_kafka_topic_new` or
/// `rd_kafka_conf_set_default_topic_conf`).
#[no_mangle]
pub extern "C" fn rd_kafka_topic_conf_new() -> *mut rd_kafka_topic_conf_t {
    ffi_guard!(std::ptr::null_mut(), {
        Box::into_raw(Box::new(rd_kafka_topic_conf_t::new()))
    })
}

/// Frees a topic configuration. NULL is ignored.
///
/// # Safety
/// `topic_conf` is NULL or owned by the caller, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_destroy(topic_conf: *mut rd_kafka_topic_conf_t) {
    ffi_guard!((), {
        if !topic_conf.is_null() {
            // SAFETY: allocated by Box::into_raw in this module.
            drop(unsafe { Box::from_raw(topic_conf) });
        }
    })
}

/// Copies a topic configuration; the copy is owned by the caller.
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_dup(
    conf: *const rd_kafka_topic_conf_t,
) -> *mut rd_kafka_topic_conf_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        match unsafe { conf.as_ref() } {
            Some(c) => Box::into_raw(Box::new(c.clone())),
            None => std::ptr::null_mut(),
        }
    })
}

/// Copies the default topic configuration of a client handle.
pub(crate) fn default_topic_conf_dup(conf: &rd_kafka_conf_t) -> *mut rd_kafka_topic_conf_t {
    Box::into_raw(match &conf.topic {
        Some(t) => t.clone(),
        None => Box::new(rd_kafka_topic_conf_t::new()),
    })
}

/// Sets a topic property; see `rd_kafka_conf_set`.
///
/// # Safety
/// As `rd_kafka_conf_set`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set(
    conf: *mut rd_kafka_topic_conf_t,
    name: *const c_char,
    value: *const c_char,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_conf_res_t {
    ffi_guard!(RD_KAFKA_CONF_INVALID, {
        // SAFETY: per the caller's contract.
        let (Some(c), Some(name)) = (unsafe { conf.as_mut() }, unsafe { cstr(name) }) else {
            // SAFETY: per the caller's contract.
            unsafe { write_errstr(errstr, errstr_size, "Invalid argument") };
            return RD_KAFKA_CONF_INVALID;
        };
        // SAFETY: per the caller's contract.
        let value = unsafe { cstr(value) }.unwrap_or("");
        match c.config.set(name, value) {
            Ok(_) => RD_KAFKA_CONF_OK,
            Err(e) => {
                // SAFETY: per the caller's contract.
                unsafe { write_errstr(errstr, errstr_size, e.errstr()) };
                e.code()
            }
        }
    })
}

/// Reads a topic property; see `rd_kafka_conf_get`.
///
/// # Safety
/// As `rd_kafka_conf_get`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_get(
    conf: *const rd_kafka_topic_conf_t,
    name: *const c_char,
    dest: *mut c_char,
    dest_size: *mut usize,
) -> rd_kafka_conf_res_t {
    ffi_guard!(RD_KAFKA_CONF_INVALID, {
        // SAFETY: per the caller's contract.
        let (Some(c), Some(name)) = (unsafe { conf.as_ref() }, unsafe { cstr(name) }) else {
            return RD_KAFKA_CONF_UNKNOWN;
        };
        match c.config.get(name) {
            // SAFETY: forwarded contract.
            Some(v) => unsafe { copy_out(&v, dest, dest_size) },
            None => RD_KAFKA_CONF_UNKNOWN,
        }
    })
}

/// Sets the topic opaque (`rkt_opaque` of partitioners).
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set_opaque(
    conf: *mut rd_kafka_topic_conf_t,
    rkt_opaque: *mut c_void,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.opaque = rkt_opaque;
            c.set_pointer("opaque", rkt_opaque);
        }
    })
}

/// Sets the partitioner of a topic configuration.
///
/// # Safety
/// `topic_conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set_partitioner_cb(
    topic_conf: *mut rd_kafka_topic_conf_t,
    partitioner: Option<
        unsafe extern "C" fn(
            *const rd_kafka_topic_t,
            *const c_void,
            usize,
            i32,
            *mut c_void,
            *mut c_void,
        ) -> i32,
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { topic_conf.as_mut() } {
            c.callbacks.partitioner_cb = partitioner;
            c.set_pointer(
                "partitioner_cb",
                partitioner.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the message order comparator of a topic configuration (accepted; not used by librskafka).
///
/// # Safety
/// `topic_conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set_msg_order_cmp(
    topic_conf: *mut rd_kafka_topic_conf_t,
    msg_order_cmp: Option<
        unsafe extern "C" fn(*const rd_kafka_message_t, *const rd_kafka_message_t) -> c_int,
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { topic_conf.as_mut() } {
            c.callbacks.msg_order_cmp = msg_order_cmp;
            c.set_pointer(
                "msg_order_cmp",
                msg_order_cmp.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}
