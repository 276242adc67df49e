//! `rd_kafka_conf_t`: the client configuration object, its property values (a [`ClientConfig`]),
//! set/get/dup/dump, and its default topic configuration. Callbacks are in `conf_callbacks.rs`,
//! topic configurations in `topic_conf.rs`; both are re-exported here.
//!
//! Ownership: `rd_kafka_conf_new`/`_dup`/`_dup_filter` return a configuration the caller owns; it is
//! freed with `rd_kafka_conf_destroy`, or consumed by a successful `rd_kafka_new` (the handle keeps
//! it). The same holds for topic configurations (`rd_kafka_topic_conf_destroy`, consumed by
//! `rd_kafka_topic_new` and `rd_kafka_conf_set_default_topic_conf`).

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

use crate::config::{find_property, ClientConfig, PropertyType, Scope, PROPERTIES};

use super::ctypes::*;
use super::types::*;
use super::{cstr, write_errstr};

pub use super::conf_callbacks::*;
pub use super::topic_conf::*;

/// A client configuration (`rd_kafka_conf_t`).
#[derive(Clone, Debug)]
pub struct rd_kafka_conf_t {
    /// Client properties (the default topic configuration is kept in `topic`, not in here).
    pub(crate) config: ClientConfig,
    pub(crate) callbacks: Callbacks,
    /// The default topic configuration, once a topic property was set or one was installed.
    pub(crate) topic: Option<Box<rd_kafka_topic_conf_t>>,
}

impl rd_kafka_conf_t {
    fn new() -> Self {
        rd_kafka_conf_t {
            config: ClientConfig::new(),
            callbacks: Callbacks::default(),
            topic: None,
        }
    }

    /// The complete configuration for the client handle: client properties with the default topic
    /// configuration installed.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut c = self.config.clone();
        if let Some(t) = &self.topic {
            c.set_default_topic_conf(t.config.clone());
        }
        c
    }

    /// The default topic configuration, created empty on first use.
    fn topic_mut(&mut self) -> &mut rd_kafka_topic_conf_t {
        self.topic
            .get_or_insert_with(|| Box::new(rd_kafka_topic_conf_t::new()))
    }

    /// `rd_kafka_conf_set` semantics: client properties here, topic properties (also with a
    /// `topic.` prefix) on the default topic configuration.
    fn set(&mut self, name: &str, value: &str) -> Result<(), crate::config::ConfigError> {
        let topic_name = name.strip_prefix("topic.").unwrap_or(name);
        if find_property(Scope::Global, name).is_none()
            && find_property(Scope::Topic, topic_name).is_some()
        {
            self.topic_mut().config.set(topic_name, value)?;
            return Ok(());
        }
        self.config.set(name, value).map(|_| ())
    }

    fn get(&self, name: &str) -> Option<String> {
        self.client_config().get(name)
    }

    pub(super) fn set_pointer(&mut self, name: &str, p: *const c_void) {
        let repr = (!p.is_null()).then(|| format!("{p:p}"));
        // The names are in the property table; a failure would be a table bug, not the caller's.
        let _ = self.config.set_pointer(name, repr);
    }
}

/// Creates a client configuration with every property at its default. The caller owns it: freed
/// with `rd_kafka_conf_destroy()` unless passed to a successful `rd_kafka_new()`.
#[no_mangle]
pub extern "C" fn rd_kafka_conf_new() -> *mut rd_kafka_conf_t {
    ffi_guard!(std::ptr::null_mut(), {
        Box::into_raw(Box::new(rd_kafka_conf_t::new()))
    })
}

/// Frees a client configuration (and its default topic configuration). NULL is ignored.
///
/// # Safety
/// `conf` is NULL or a configuration owned by the caller, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_destroy(conf: *mut rd_kafka_conf_t) {
    ffi_guard!((), {
        if !conf.is_null() {
            // SAFETY: allocated by Box::into_raw in this module; ownership comes back to us.
            drop(unsafe { Box::from_raw(conf) });
        }
    })
}

/// Copies a configuration, callbacks included. The copy is owned by the caller.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dup(conf: *const rd_kafka_conf_t) -> *mut rd_kafka_conf_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: NULL or live per the caller.
        match unsafe { conf.as_ref() } {
            Some(c) => Box::into_raw(Box::new(c.clone())),
            None => std::ptr::null_mut(),
        }
    })
}

/// Copies a configuration, leaving out the properties whose names start with any of the
/// `filter_cnt` prefixes in `filter` (they get their defaults in the copy). Owned by the caller.
///
/// # Safety
/// `conf` is NULL or live; `filter` points to `filter_cnt` NUL-terminated strings (or is NULL when
/// `filter_cnt` is 0).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dup_filter(
    conf: *const rd_kafka_conf_t,
    filter_cnt: usize,
    filter: *mut *const c_char,
) -> *mut rd_kafka_conf_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: NULL or live per the caller.
        let Some(src) = (unsafe { conf.as_ref() }) else {
            return std::ptr::null_mut();
        };
        let mut prefixes = Vec::new();
        if !filter.is_null() {
            for i in 0..filter_cnt {
                // SAFETY: `filter` has `filter_cnt` entries, each NULL or a C string.
                if let Some(s) = unsafe { cstr(*filter.add(i)) } {
                    prefixes.push(s.to_string());
                }
            }
        }
        let keep = |name: &str| !prefixes.iter().any(|p| name.starts_with(p.as_str()));
        let mut out = rd_kafka_conf_t::new();
        out.callbacks = src.callbacks;
        out.topic = src.topic.clone();
        for p in PROPERTIES.iter().filter(|p| p.scope == Scope::Global) {
            if !keep(p.name) || !src.config.is_set(p.name) {
                continue;
            }
            if matches!(p.ty, PropertyType::Alias(_) | PropertyType::Invalid(_)) {
                continue;
            }
            let v = src.config.get(p.name);
            if p.ty == PropertyType::Pointer {
                let _ = out.config.set_pointer(p.name, v);
            } else if let Some(v) = v {
                let _ = out.config.set(p.name, &v);
            }
        }
        Box::into_raw(Box::new(out))
    })
}

/// Sets a property from its string value. On failure, writes librdkafka's error message to
/// `errstr` (truncated to `errstr_size`, NUL-terminated) and returns `RD_KAFKA_CONF_UNKNOWN` or
/// `RD_KAFKA_CONF_INVALID`.
///
/// # Safety
/// `conf` is NULL or live; `name`/`value` are NULL or C strings; `errstr` is NULL or has
/// `errstr_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set(
    conf: *mut rd_kafka_conf_t,
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
        match c.set(name, value) {
            Ok(()) => RD_KAFKA_CONF_OK,
            Err(e) => {
                // SAFETY: per the caller's contract.
                unsafe { write_errstr(errstr, errstr_size, e.errstr()) };
                e.code()
            }
        }
    })
}

/// Copies `v` into a caller buffer with `rd_kafka_conf_get` semantics: truncated to the buffer
/// (NUL-terminated) and `*dest_size` set to the full size needed, including the NUL.
///
/// # Safety
/// `dest` is NULL or has `*dest_size` writable bytes; `dest_size` is writable.
pub(super) unsafe fn copy_out(
    v: &str,
    dest: *mut c_char,
    dest_size: *mut usize,
) -> rd_kafka_conf_res_t {
    if dest_size.is_null() {
        return RD_KAFKA_CONF_INVALID;
    }
    // SAFETY: checked non-NULL; writable per the caller.
    let size = unsafe { &mut *dest_size };
    if !dest.is_null() {
        // SAFETY: `dest` has `*size` bytes; write_errstr truncates and NUL-terminates.
        unsafe { write_errstr(dest, *size, v) };
    }
    *size = v.len() + 1;
    RD_KAFKA_CONF_OK
}

/// Reads a property as a string into `dest` (truncated to `*dest_size`, NUL-terminated) and stores
/// the size needed, including the NUL, in `*dest_size`; with `dest` NULL only the size is stored.
/// `RD_KAFKA_CONF_UNKNOWN` for unknown properties or properties without a value.
///
/// # Safety
/// `conf` is NULL or live; `name` is NULL or a C string; `dest` is NULL or has `*dest_size`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_get(
    conf: *const rd_kafka_conf_t,
    name: *const c_char,
    dest: *mut c_char,
    dest_size: *mut usize,
) -> rd_kafka_conf_res_t {
    ffi_guard!(RD_KAFKA_CONF_INVALID, {
        // SAFETY: per the caller's contract.
        let (Some(c), Some(name)) = (unsafe { conf.as_ref() }, unsafe { cstr(name) }) else {
            return RD_KAFKA_CONF_UNKNOWN;
        };
        match c.get(name) {
            // SAFETY: forwarded contract.
            Some(v) => unsafe { copy_out(&v, dest, dest_size) },
            None => RD_KAFKA_CONF_UNKNOWN,
        }
    })
}

/// Builds the `name, value, name, value, ...` array of `rd_kafka_conf_dump`: one C allocation
/// holding the pointer array followed by the strings, freed with `rd_kafka_conf_dump_free`.
pub(super) fn dump_array(pairs: Vec<(String, String)>, cntp: *mut usize) -> *mut *const c_char {
    let n = pairs.len() * 2;
    let strings: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let ptrs_bytes = (n + 1) * std::mem::size_of::<*const c_char>();
    // SAFETY: calloc of the whole block; checked for NULL.
    let block = unsafe { super::libc_calloc(1, ptrs_bytes + strings) }.cast::<u8>();
    if block.is_null() {
        return std::ptr::null_mut();
    }
    let arr = block.cast::<*const c_char>();
    // SAFETY: the block has room for n + 1 pointers followed by all strings with their NULs.
    unsafe {
        let mut s = block.add(ptrs_bytes);
        let mut i = 0;
        for (k, v) in &pairs {
            for text in [k, v] {
                std::ptr::copy_nonoverlapping(text.as_ptr(), s, text.len());
                *s.add(text.len()) = 0;
                *arr.add(i) = s.cast();
                s = s.add(text.len() + 1);
                i += 1;
            }
        }
        if !cntp.is_null() {
            *cntp = n;
        }
    }
    arr
}

/// Dumps the client properties that have a value as an array of `*cntp` strings
/// (name, value, name, value, ...). Free it with `rd_kafka_conf_dump_free(arr, *cntp)`.
/// A NULL `conf` gives NULL and a count of 0.
///
/// # Safety
/// `conf` is NULL or live; `cntp` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dump(
    conf: *mut rd_kafka_conf_t,
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

/// Frees an array from `rd_kafka_conf_dump` / `rd_kafka_topic_conf_dump`.
///
/// # Safety
/// `arr` is NULL or such an array, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dump_free(arr: *mut *const c_char, cnt: usize) {
    let _ = cnt;
    // SAFETY: the array is one C allocation (see `dump_array`); free(NULL) is a no-op.
    ffi_guard!((), { unsafe { super::libc_free(arr.cast()) } })
}

/// Prints the table of supported properties to `fp` (a `FILE *`).
///
/// # Safety
/// `fp` is NULL or an open `FILE *`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_properties_show(fp: *mut c_void) {
    extern "C" {
        fn fputs(s: *const c_char, fp: *mut c_void) -> c_int;
    }
    ffi_guard!((), {
        if fp.is_null() {
            return;
        }
        let mut out = String::from(
            "Property | C/P | Range | Default | Importance\n\
             -----------------------------------------|-----|-----------------|--------------:|------------\n",
        );
        for scope in [Scope::Global, Scope::Topic] {
            if scope == Scope::Topic {
                out.push_str("\n\n## Topic configuration properties\n\n");
            }
            for p in PROPERTIES.iter().filter(|p| p.scope == scope && !p.hidden) {
                if matches!(p.ty, PropertyType::Internal | PropertyType::Invalid(_)) {
                    continue;
                }
                let role = match p.role {
                    crate::config::Role::Consumer => "C",
                    crate::config::Role::Producer => "P",
                    crate::config::Role::Both => "*",
                };
                let range = match p.ty {
                    PropertyType::Integer { min, max, .. } => format!("{min} .. {max}"),
                    PropertyType::Float { min, max } => format!("{min} .. {max}"),
                    PropertyType::Boolean => "true, false".to_string(),
                    PropertyType::Enum(v) | PropertyType::Flags(v) => {
                        v.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
                    }
                    PropertyType::Alias(t) => format!("alias for {t}"),
                    _ => String::new(),
                };
                let imp = match p.importance {
                    crate::config::Importance::Low => "low",
                    crate::config::Importance::Medium => "medium",
                    crate::config::Importance::High => "high",
                };
                out.push_str(&format!(
                    "{:<41}| {:<3} | {:<15} | {:>13} | {}\n",
                    p.name,
                    role,
                    range,
                    p.default.unwrap_or(""),
                    imp
                ));
            }
        }
        let s = CString::new(out).unwrap_or_default();
        // SAFETY: `fp` is an open stream per the caller; `s` is NUL-terminated.
        unsafe { fputs(s.as_ptr(), fp) };
    })
}

/// Installs `tconf` as the default topic configuration of `conf`, replacing any previous one.
/// `conf` takes ownership of `tconf`: the application must not use or free it afterwards.
///
/// # Safety
/// `conf` is NULL or live; `tconf` is NULL or a topic configuration owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_default_topic_conf(
    conf: *mut rd_kafka_conf_t,
    tconf: *mut rd_kafka_topic_conf_t,
) {
    ffi_guard!((), {
        if tconf.is_null() {
            return;
        }
        // SAFETY: allocated by Box::into_raw here; ownership moves to `conf` (or is dropped).
        let t = unsafe { Box::from_raw(tconf) };
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            let p: *const rd_kafka_topic_conf_t = &*t;
            c.set_pointer("default_topic_conf", p.cast());
            c.topic = Some(t);
        }
    })
}

/// The default topic configuration of `conf`, or NULL if none. Owned by `conf`: valid while
/// `conf` lives and until replaced; modifying it modifies `conf`'s default topic configuration.
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_get_default_topic_conf(
    conf: *mut rd_kafka_conf_t,
) -> *mut rd_kafka_topic_conf_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        match unsafe { conf.as_mut() }.and_then(|c| c.topic.as_deref_mut()) {
            Some(t) => t,
            None => std::ptr::null_mut(),
        }
    })
}
