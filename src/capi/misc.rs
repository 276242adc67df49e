//! Version and memory helpers.

use std::os::raw::{c_char, c_int, c_void};

use super::ctypes::*;
use super::types::*;

/// The librdkafka version librskafka is compatible with, `0xMMmmrrxx` (2.15.0 final).
#[no_mangle]
pub extern "C" fn rd_kafka_version() -> c_int {
    ffi_guard!(RD_KAFKA_VERSION, { RD_KAFKA_VERSION })
}

/// `"2.15.0 (librskafka <version>)"`: the compatible librdkafka version first (bindings parse it),
/// then the implementation. Static; never freed.
#[no_mangle]
pub extern "C" fn rd_kafka_version_str() -> *const c_char {
    const S: &str = concat!("2.15.0 (librskafka ", env!("CARGO_PKG_VERSION"), ")\0");
    ffi_guard!(S.as_ptr().cast(), { S.as_ptr().cast() })
}

/// Frees memory that librskafka allocated and documented as "free with `rd_kafka_mem_free`"
/// (the C allocator's `free`). `rk` may be NULL.
///
/// # Safety
/// `ptr` is NULL or such an allocation, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mem_free(rk: *mut rd_kafka_t, ptr: *mut c_void) {
    let _ = rk;
    // SAFETY: per the caller's contract; free(NULL) is a no-op.
    ffi_guard!((), { unsafe { super::libc_free(ptr) } })
}

/// Allocates `size` bytes with the C allocator (free with `rd_kafka_mem_free`). `rk` may be NULL.
///
/// # Safety
/// None beyond the C allocator's.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mem_malloc(rk: *mut rd_kafka_t, size: usize) -> *mut c_void {
    let _ = rk;
    // SAFETY: plain malloc.
    ffi_guard!(std::ptr::null_mut(), {
        unsafe { super::libc_malloc(size) }
    })
}

/// Allocates `num * size` zeroed bytes (free with `rd_kafka_mem_free`). `rk` may be NULL.
///
/// # Safety
/// None beyond the C allocator's.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mem_calloc(
    rk: *mut rd_kafka_t,
    num: usize,
    size: usize,
) -> *mut c_void {
    let _ = rk;
    // SAFETY: plain calloc.
    ffi_guard!(std::ptr::null_mut(), {
        unsafe { super::libc_calloc(num, size) }
    })
}
