//! librdkafka's C ABI (`librdkafka.so.1`): `rd_kafka_*` functions with librdkafka's prototypes,
//! struct layouts and enum values (librdkafka 2.15).
//!
//! # Conventions
//! * Every exported function body runs inside [`ffi_guard!`]: a panic never unwinds into C; the
//!   function returns its fallback value (an error code, NULL, -1) instead, after the panic message
//!   was printed to stderr.
//! * Pointers are checked before use. A NULL where an object is required gives
//!   `RD_KAFKA_RESP_ERR__INVALID_ARG` (or NULL / -1 / nothing, whatever the function can return);
//!   it never crashes.
//! * Ownership: every function documents who frees what it returns, and with which function.
//!   Objects handed to C are Rust allocations (`Box`/`Vec`); they must only be freed with the
//!   matching `rd_kafka_*_destroy`. Strings returned as `char *` that the caller frees are
//!   allocated with the C allocator so that `rd_kafka_mem_free()` (= `free()`) releases them.
//! * Functions this module does not implement yet still exist as symbols: `stubs.rs` (generated)
//!   and `pending.rs` (generated; the handle-dependent ones). They log once per function and
//!   return librdkafka's "not implemented" value.

#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs an exported function's body, catching panics: on a panic the function returns `$fallback`.
/// The body is a block evaluating to the function's return value.
macro_rules! ffi_guard {
    ($fallback:expr, $body:block) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => $fallback,
        }
    }};
}

pub mod brokers;
pub mod conf;
pub mod conf_callbacks;
pub mod consumer;
pub mod ctypes;
pub mod errcodes;
pub mod error;
pub mod event;
pub mod group;
pub mod group_list;
pub mod group_metadata;
pub mod handle;
pub mod headers;
pub mod incremental;
pub mod layout;
pub mod legacy;
pub mod message;
pub mod messages_list;
pub mod metadata;
pub mod misc;
pub mod mock_cluster;
pub mod offset_queries;
pub mod ops;
pub mod partition_list;
pub mod partitioners;
pub mod pending;
pub mod positions;
pub mod produce;
pub mod queue;
pub mod sasl;
pub mod stubs;
pub mod topic;
pub mod topic_conf;
pub mod transactions;
pub mod types;

pub use ctypes::*;
pub use errcodes::*;
pub use types::*;

/// Prints librdkafka's log line for a function that is not implemented, once per function.
pub(crate) fn not_implemented(flag: &AtomicBool, name: &str) {
    if !flag.swap(true, Ordering::Relaxed) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!(
            "%3|{}.{:03}|NOTIMPL|{name} is not implemented by librskafka",
            now.as_secs(),
            now.subsec_millis()
        );
    }
}

/// Writes `msg` to a C error buffer as librdkafka's `rd_snprintf(errstr, errstr_size, "%s", msg)`
/// does: truncated to `errstr_size - 1` bytes and NUL-terminated. Nothing is written when `errstr`
/// is NULL or `errstr_size` is 0.
///
/// # Safety
/// `errstr` is NULL or points to at least `errstr_size` writable bytes.
pub(crate) unsafe fn write_errstr(errstr: *mut c_char, errstr_size: usize, msg: &str) {
    if errstr.is_null() || errstr_size == 0 {
        return;
    }
    let n = msg.len().min(errstr_size - 1);
    // SAFETY: the caller guarantees `errstr_size` writable bytes; we write `n + 1 <= errstr_size`.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), errstr.cast::<u8>(), n);
        *errstr.add(n) = 0;
    }
}

/// Borrows a C string as `&str` (`None` for NULL or invalid UTF-8).
///
/// # Safety
/// `s` is NULL or a NUL-terminated string that outlives the returned reference.
pub(crate) unsafe fn cstr<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { std::ffi::CStr::from_ptr(s) }.to_str().ok()
}

/// Copies `s` into a new C-allocated NUL-terminated string (freed with `free()` /
/// `rd_kafka_mem_free()`). Interior NULs end the string early. NULL if allocation fails.
pub(crate) fn c_strdup(s: &str) -> *mut c_char {
    let bytes = s.as_bytes();
    let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    // SAFETY: malloc of n + 1 bytes; checked for NULL before writing n + 1 bytes.
    unsafe {
        let p = libc_malloc(n + 1).cast::<u8>();
        if p.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, n);
        *p.add(n) = 0;
        p.cast()
    }
}

extern "C" {
    #[link_name = "malloc"]
    pub(crate) fn libc_malloc(size: usize) -> *mut std::os::raw::c_void;
    #[link_name = "calloc"]
    pub(crate) fn libc_calloc(n: usize, size: usize) -> *mut std::os::raw::c_void;
    #[link_name = "free"]
    pub(crate) fn libc_free(p: *mut std::os::raw::c_void);
}
