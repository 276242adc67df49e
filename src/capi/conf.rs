//! `rd_kafka_conf_t` and `rd_kafka_topic_conf_t`: property values (a [`ClientConfig`]) plus the
//! application's callbacks and opaques.
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

/// Delivery report callback (`dr_msg_cb`).
pub type DrMsgCb = unsafe extern "C" fn(*mut rd_kafka_t, *const rd_kafka_message_t, *mut c_void);
/// Legacy delivery report callback (`dr_cb`).
pub type DrCb = unsafe extern "C" fn(
    *mut rd_kafka_t,
    *mut c_void,
    usize,
    rd_kafka_resp_err_t,
    *mut c_void,
    *mut c_void,
);
/// Error callback.
pub type ErrorCb = unsafe extern "C" fn(*mut rd_kafka_t, c_int, *const c_char, *mut c_void);
/// Log callback.
pub type LogCb = unsafe extern "C" fn(*const rd_kafka_t, c_int, *const c_char, *const c_char);
/// Statistics callback: returns 1 to keep the JSON buffer (then freed with `rd_kafka_mem_free`).
pub type StatsCb = unsafe extern "C" fn(*mut rd_kafka_t, *mut c_char, usize, *mut c_void) -> c_int;
/// Throttle callback.
pub type ThrottleCb = unsafe extern "C" fn(*mut rd_kafka_t, *const c_char, i32, c_int, *mut c_void);
/// Rebalance and offset-commit callbacks.
pub type PartitionsCb = unsafe extern "C" fn(
    *mut rd_kafka_t,
    rd_kafka_resp_err_t,
    *mut rd_kafka_topic_partition_list_t,
    *mut c_void,
);
/// Consume callback.
pub type ConsumeCb = unsafe extern "C" fn(*mut rd_kafka_message_t, *mut c_void);
/// Background event callback.
pub type BackgroundEventCb =
    unsafe extern "C" fn(*mut rd_kafka_t, *mut rd_kafka_event_t, *mut c_void);
/// OAUTHBEARER token refresh callback.
pub type OauthbearerTokenRefreshCb =
    unsafe extern "C" fn(*mut rd_kafka_t, *const c_char, *mut c_void);
/// Socket callback.
pub type SocketCb = unsafe extern "C" fn(c_int, c_int, c_int, *mut c_void) -> c_int;
/// Connect callback.
pub type ConnectCb =
    unsafe extern "C" fn(c_int, *const c_void, c_int, *const c_char, *mut c_void) -> c_int;
/// Close-socket callback.
pub type CloseSocketCb = unsafe extern "C" fn(c_int, *mut c_void) -> c_int;
/// Open callback.
pub type OpenCb = unsafe extern "C" fn(*const c_char, c_int, u32, *mut c_void) -> c_int;
/// Resolve callback.
pub type ResolveCb = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_void,
    *mut *mut c_void,
    *mut c_void,
) -> c_int;
/// Partitioner callback.
pub type PartitionerCb = unsafe extern "C" fn(
    *const rd_kafka_topic_t,
    *const c_void,
    usize,
    i32,
    *mut c_void,
    *mut c_void,
) -> i32;
/// Message order comparator.
pub type MsgOrderCmp =
    unsafe extern "C" fn(*const rd_kafka_message_t, *const rd_kafka_message_t) -> c_int;

/// The application's client-level callbacks and opaque, as set on an `rd_kafka_conf_t`; the client
/// handle reads them. `None` = not set.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Callbacks {
    pub dr_msg_cb: Option<DrMsgCb>,
    pub dr_cb: Option<DrCb>,
    pub error_cb: Option<ErrorCb>,
    pub log_cb: Option<LogCb>,
    pub stats_cb: Option<StatsCb>,
    pub throttle_cb: Option<ThrottleCb>,
    pub rebalance_cb: Option<PartitionsCb>,
    pub offset_commit_cb: Option<PartitionsCb>,
    pub consume_cb: Option<ConsumeCb>,
    pub background_event_cb: Option<BackgroundEventCb>,
    pub oauthbearer_token_refresh_cb: Option<OauthbearerTokenRefreshCb>,
    pub socket_cb: Option<SocketCb>,
    pub connect_cb: Option<ConnectCb>,
    pub closesocket_cb: Option<CloseSocketCb>,
    pub open_cb: Option<OpenCb>,
    pub resolve_cb: Option<ResolveCb>,
    /// The `opaque` passed to callbacks (`rd_kafka_conf_set_opaque`, `rd_kafka_opaque`).
    pub opaque: *mut c_void,
    /// `rd_kafka_conf_set_engine_callback_data`.
    pub engine_callback_data: *mut c_void,
    /// `rd_kafka_conf_set_events`: `RD_KAFKA_EVENT_*` bits to deliver on the main queue.
    pub enabled_events: c_int,
    /// `rd_kafka_conf_enable_sasl_queue`.
    pub sasl_queue: bool,
}

/// Topic-level callbacks and opaque of an `rd_kafka_topic_conf_t`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct TopicCallbacks {
    pub partitioner_cb: Option<PartitionerCb>,
    pub msg_order_cmp:
        Option<unsafe extern "C" fn(*const rd_kafka_message_t, *const rd_kafka_message_t) -> c_int>,
    /// `rd_kafka_topic_conf_set_opaque`: the `rkt_opaque` of partitioners, `rd_kafka_topic_opaque`.
    pub opaque: *mut c_void,
}

/// A client configuration (`rd_kafka_conf_t`).
#[derive(Clone, Debug)]
pub struct rd_kafka_conf_t {
    /// Client properties (the default topic configuration is kept in `topic`, not in here).
    pub(crate) config: ClientConfig,
    pub(crate) callbacks: Callbacks,
    /// The default topic configuration, once a topic property was set or one was installed.
    pub(crate) topic: Option<Box<rd_kafka_topic_conf_t>>,
}

/// A topic configuration (`rd_kafka_topic_conf_t`).
#[derive(Clone, Debug)]
pub struct rd_kafka_topic_conf_t {
    pub(crate) config: ClientConfig,
    pub(crate) callbacks: TopicCallbacks,
}

impl rd_kafka_conf_t {
    fn new() -> Self {
        rd_kafka_conf_t {
            config: ClientConfig::new(),
            callbacks: Callbacks::default(),
            topic: None,
        }
    }

    #[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
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

    fn set_pointer(&mut self, name: &str, p: *const c_void) {
        let repr = (!p.is_null()).then(|| format!("{p:p}"));
        // The names are in the property table; a failure would be a table bug, not the caller's.
        let _ = self.config.set_pointer(name, repr);
    }
}

impl rd_kafka_topic_conf_t {
    fn new() -> Self {
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
unsafe fn copy_out(v: &str, dest: *mut c_char, dest_size: *mut usize) -> rd_kafka_conf_res_t {
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
fn dump_array(pairs: Vec<(String, String)>, cntp: *mut usize) -> *mut *const c_char {
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

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
/// Copies the default topic configuration of a client handle. Pending the client handle.
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

/// Sets the application opaque passed to the client's callbacks.
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_opaque(conf: *mut rd_kafka_conf_t, opaque: *mut c_void) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.opaque = opaque;
            c.set_pointer("opaque", opaque);
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

/// Sets the delivery report callback (one call per produced message).
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_dr_msg_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_t, *const rd_kafka_message_t, *mut c_void)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.dr_msg_cb = cb;
            c.set_pointer(
                "dr_msg_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the legacy delivery report callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_dr_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            *mut c_void,
            usize,
            rd_kafka_resp_err_t,
            *mut c_void,
            *mut c_void,
        ),
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.dr_cb = cb;
            c.set_pointer("dr_cb", cb.map_or(std::ptr::null(), |f| f as *const c_void));
        }
    })
}

/// Sets the error callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_error_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_t, c_int, *const c_char, *mut c_void)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.error_cb = cb;
            c.set_pointer(
                "error_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the log callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_log_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*const rd_kafka_t, c_int, *const c_char, *const c_char)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.log_cb = cb;
            c.set_pointer(
                "log_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the statistics callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_stats_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_t, *mut c_char, usize, *mut c_void) -> c_int>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.stats_cb = cb;
            c.set_pointer(
                "stats_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the throttle callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_throttle_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_t, *const c_char, i32, c_int, *mut c_void)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.throttle_cb = cb;
            c.set_pointer(
                "throttle_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the consumer group rebalance callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_rebalance_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            rd_kafka_resp_err_t,
            *mut rd_kafka_topic_partition_list_t,
            *mut c_void,
        ),
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.rebalance_cb = cb;
            c.set_pointer(
                "rebalance_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the offset commit result callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_offset_commit_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            rd_kafka_resp_err_t,
            *mut rd_kafka_topic_partition_list_t,
            *mut c_void,
        ),
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.offset_commit_cb = cb;
            c.set_pointer(
                "offset_commit_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the consume callback (for `rd_kafka_consumer_poll` and friends).
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_consume_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_message_t, *mut c_void)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.consume_cb = cb;
            c.set_pointer(
                "consume_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the background queue event callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_background_event_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_t, *mut rd_kafka_event_t, *mut c_void)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.background_event_cb = cb;
            c.set_pointer(
                "background_event_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the OAUTHBEARER token refresh callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_oauthbearer_token_refresh_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*mut rd_kafka_t, *const c_char, *mut c_void)>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.oauthbearer_token_refresh_cb = cb;
            c.set_pointer(
                "oauthbearer_token_refresh_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the socket creation callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_socket_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(c_int, c_int, c_int, *mut c_void) -> c_int>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.socket_cb = cb;
            c.set_pointer(
                "socket_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the connect callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_connect_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<
        unsafe extern "C" fn(c_int, *const c_void, c_int, *const c_char, *mut c_void) -> c_int,
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.connect_cb = cb;
            c.set_pointer(
                "connect_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the socket close callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_closesocket_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(c_int, *mut c_void) -> c_int>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.closesocket_cb = cb;
            c.set_pointer(
                "closesocket_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the file open callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_open_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<unsafe extern "C" fn(*const c_char, c_int, u32, *mut c_void) -> c_int>,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.open_cb = cb;
            c.set_pointer(
                "open_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Sets the address resolution callback.
///
/// # Safety
/// `conf` is NULL or a live configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_resolve_cb(
    conf: *mut rd_kafka_conf_t,
    cb: Option<
        unsafe extern "C" fn(
            *const c_char,
            *const c_char,
            *const c_void,
            *mut *mut c_void,
            *mut c_void,
        ) -> c_int,
    >,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.resolve_cb = cb;
            c.set_pointer(
                "resolve_cb",
                cb.map_or(std::ptr::null(), |f| f as *const c_void),
            );
        }
    })
}

/// Selects the `RD_KAFKA_EVENT_*` types delivered on the main queue.
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_events(conf: *mut rd_kafka_conf_t, events: c_int) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.enabled_events = events;
        }
    })
}

/// Routes SASL callbacks to their own queue (`rd_kafka_queue_get_sasl`).
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_enable_sasl_queue(
    conf: *mut rd_kafka_conf_t,
    enable: c_int,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.sasl_queue = enable != 0;
        }
    })
}

/// Stores the opaque for OpenSSL engine callbacks.
///
/// # Safety
/// `conf` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_engine_callback_data(
    conf: *mut rd_kafka_conf_t,
    callback_data: *mut c_void,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(c) = unsafe { conf.as_mut() } {
            c.callbacks.engine_callback_data = callback_data;
            c.set_pointer("ssl_engine_callback_data", callback_data);
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
