//! Topic objects (`rd_kafka_topic_t`): a topic name with its topic configuration and opaque,
//! one object per name and client handle, reference-counted.
//!
//! Ownership: `rd_kafka_topic_new` returns a reference the caller releases with
//! `rd_kafka_topic_destroy`. Calling it again for the same name returns the same object with one
//! more reference. The handle holds a reference of its own until `rd_kafka_destroy`, so the
//! topic pointers in delivery reports (`rkmessage->rkt`) stay valid while the handle lives.
//!
//! Per-topic properties given to `rd_kafka_topic_new` are kept (and `rd_kafka_topic_opaque`
//! returns their opaque) but the producer applies the handle's default topic configuration.

use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use super::conf::{default_topic_conf_dup, rd_kafka_conf_t, rd_kafka_topic_conf_t};
use super::handle::{handle, rd_kafka_t};
use super::{cstr, errcodes::*, error::set_last_error};

/// A topic object (opaque to C).
pub struct rd_kafka_topic_t {
    refcnt: AtomicUsize,
    /// NUL-terminated, for `rd_kafka_topic_name`.
    name: CString,
    /// The topic configuration (the handle's default when none was given).
    pub(crate) conf: Box<rd_kafka_topic_conf_t>,
    /// The handle the topic belongs to.
    pub(crate) rk: *mut rd_kafka_t,
    /// Partition count, once looked up for the application's partitioner (-1: not yet).
    pub(crate) partition_cnt: AtomicI32,
}

impl rd_kafka_topic_t {
    /// A new object with one reference. `conf` None: a copy of the handle's default topic
    /// configuration.
    pub(crate) fn new_raw(
        rk: *mut rd_kafka_t,
        name: &str,
        conf: Option<Box<rd_kafka_topic_conf_t>>,
        rk_conf: &rd_kafka_conf_t,
    ) -> *mut rd_kafka_topic_t {
        let conf = conf.unwrap_or_else(|| {
            // SAFETY: default_topic_conf_dup returns a fresh Box allocation.
            unsafe { Box::from_raw(default_topic_conf_dup(rk_conf)) }
        });
        Box::into_raw(Box::new(rd_kafka_topic_t {
            refcnt: AtomicUsize::new(1),
            name: CString::new(name.replace('\0', "")).unwrap_or_default(),
            conf,
            rk,
            partition_cnt: AtomicI32::new(-1),
        }))
    }

    /// The topic name.
    pub(crate) fn name(&self) -> &str {
        self.name.to_str().unwrap_or("")
    }

    /// Adds a reference.
    pub(crate) fn incref(&self) {
        self.refcnt.fetch_add(1, Ordering::AcqRel);
    }

    /// Releases a reference, freeing the object with the last one.
    ///
    /// # Safety
    /// `p` is a live object on which the caller holds a reference it gives up.
    pub(crate) unsafe fn decref(p: *mut rd_kafka_topic_t) {
        // SAFETY: live per the contract.
        if unsafe { &*p }.refcnt.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: that was the last reference; allocated by `new_raw`.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

/// Borrows a topic object.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
pub(crate) unsafe fn topic<'a>(rkt: *const rd_kafka_topic_t) -> Option<&'a rd_kafka_topic_t> {
    // SAFETY: per the contract.
    unsafe { rkt.as_ref() }
}

/// Returns the handle's object for topic `topic` with a new reference (release it with
/// `rd_kafka_topic_destroy`). Takes ownership of `conf` (may be NULL: the handle's default topic
/// configuration); when the object already exists, `conf` is freed and the object's configuration
/// is kept. NULL (with `rd_kafka_last_error() == RD_KAFKA_RESP_ERR__INVALID_ARG`) for a NULL name,
/// one longer than 512 bytes (librdkafka's limit; an empty name is accepted) or a NULL handle.
///
/// # Safety
/// `rk` is NULL or a live handle; `topic` is NULL or a NUL-terminated string; `conf` is NULL or
/// a topic configuration owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_new(
    rk: *mut rd_kafka_t,
    topic: *const c_char,
    conf: *mut rd_kafka_topic_conf_t,
) -> *mut rd_kafka_topic_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract; ownership of a non-NULL conf passes to us.
        let conf = (!conf.is_null()).then(|| unsafe { Box::from_raw(conf) });
        // SAFETY: per the contract.
        let (Some(h), Some(name)) = (unsafe { handle(rk) }, unsafe { cstr(topic) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return std::ptr::null_mut();
        };
        if name.len() > 512 {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return std::ptr::null_mut();
        }
        h.topic_new(name, conf)
    })
}

/// Releases a reference from `rd_kafka_topic_new`. NULL is ignored.
///
/// # Safety
/// `rkt` is NULL or a topic object the caller holds a reference on, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_destroy(rkt: *mut rd_kafka_topic_t) {
    ffi_guard!((), {
        if !rkt.is_null() {
            // SAFETY: per the contract.
            unsafe { rd_kafka_topic_t::decref(rkt) };
        }
    })
}

/// The topic name, owned by the topic object. NULL for NULL.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_name(rkt: *const rd_kafka_topic_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { topic(rkt) }.map_or(std::ptr::null(), |t| t.name.as_ptr())
    })
}

/// The opaque of the topic's configuration (`rd_kafka_topic_conf_set_opaque`), NULL if none.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_opaque(rkt: *const rd_kafka_topic_t) -> *mut c_void {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        unsafe { topic(rkt) }.map_or(std::ptr::null_mut(), |t| t.conf.callbacks.opaque)
    })
}

/// Whether `partition` exists (for partitioner callbacks): 1 if it is below the partition count
/// the producer looked up for the topic, else 0.
///
/// # Safety
/// `rkt` is NULL or a live topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_available(
    rkt: *const rd_kafka_topic_t,
    partition: i32,
) -> std::os::raw::c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        unsafe { topic(rkt) }.map_or(0, |t| {
            (partition >= 0 && partition < t.partition_cnt.load(Ordering::Acquire)) as _
        })
    })
}
