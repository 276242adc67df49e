//! `rd_kafka_consumer_group_metadata_t`: a consumer's group membership (for a transactional
//! producer), its constructors and getters, and its serialized form
//! ([`crate::group_metadata`] documents the format).

use std::ffi::CString;
use std::os::raw::{c_char, c_void};

use super::ctypes::*;
use super::errcodes::*;
use super::error::rd_kafka_error_t;
use super::handle::{handle, rd_kafka_t};
use crate::group_metadata::ConsumerGroupMetadata;

/// What a `rd_kafka_consumer_group_metadata_t *` points to: the value and C copies of its
/// strings (the getters return them).
struct CgMetadata {
    meta: ConsumerGroupMetadata,
    group_id: CString,
    member_id: CString,
    group_instance_id: Option<CString>,
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// Boxes `meta` for C (freed with `rd_kafka_consumer_group_metadata_destroy`).
fn into_raw(meta: ConsumerGroupMetadata) -> *mut rd_kafka_consumer_group_metadata_t {
    let c = CgMetadata {
        group_id: cstring(&meta.group_id),
        member_id: cstring(&meta.member_id),
        group_instance_id: meta.group_instance_id.as_deref().map(cstring),
        meta,
    };
    Box::into_raw(Box::new(c)).cast()
}

/// # Safety
/// `p` is NULL or from this module, not destroyed.
unsafe fn get<'a>(p: *const rd_kafka_consumer_group_metadata_t) -> Option<&'a CgMetadata> {
    // SAFETY: per the contract.
    unsafe { p.cast::<CgMetadata>().as_ref() }
}

/// The metadata behind a C pointer (for `rd_kafka_send_offsets_to_transaction`).
///
/// # Safety
/// `p` is NULL or from this module, not destroyed.
pub(crate) unsafe fn value<'a>(
    p: *const rd_kafka_consumer_group_metadata_t,
) -> Option<&'a ConsumerGroupMetadata> {
    // SAFETY: per the contract.
    unsafe { get(p) }.map(|c| &c.meta)
}

/// The group membership of consumer `rk` (group id, generation, member id, instance id); NULL
/// for a producer or a consumer without `group.id`. Freed with
/// `rd_kafka_consumer_group_metadata_destroy`.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata(
    rk: *mut rd_kafka_t,
) -> *mut rd_kafka_consumer_group_metadata_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let c = unsafe { handle(rk) }.and_then(|h| h.consumer());
        match c.map(|c| c.group_metadata()) {
            Some(Ok(Some(m))) => into_raw(m),
            _ => std::ptr::null_mut(),
        }
    })
}

/// Metadata for `group_id` alone (generation -1, empty member id); NULL for a NULL id.
///
/// # Safety
/// `group_id` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_new(
    group_id: *const c_char,
) -> *mut rd_kafka_consumer_group_metadata_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        match unsafe { super::cstr(group_id) } {
            Some(g) => into_raw(ConsumerGroupMetadata::new(g)),
            None => std::ptr::null_mut(),
        }
    })
}

/// Metadata from its parts (`group_instance_id` may be NULL); NULL for a NULL group or member id.
///
/// # Safety
/// Each string is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_new_with_genid(
    group_id: *const c_char,
    generation_id: i32,
    member_id: *const c_char,
    group_instance_id: *const c_char,
) -> *mut rd_kafka_consumer_group_metadata_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let (Some(g), Some(m)) = (unsafe { super::cstr(group_id) }, unsafe {
            super::cstr(member_id)
        }) else {
            return std::ptr::null_mut();
        };
        into_raw(ConsumerGroupMetadata {
            group_id: g.to_string(),
            generation_id,
            member_id: m.to_string(),
            // SAFETY: per the contract.
            group_instance_id: unsafe { super::cstr(group_instance_id) }.map(str::to_string),
        })
    })
}

/// Frees a metadata object. NULL is ignored.
///
/// # Safety
/// `cgmd` is NULL or from this module, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_destroy(
    cgmd: *mut rd_kafka_consumer_group_metadata_t,
) {
    ffi_guard!((), {
        if !cgmd.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(cgmd.cast::<CgMetadata>()) });
        }
    })
}

/// The group id (owned by the object). NULL for a NULL object.
///
/// # Safety
/// `cgmd` is NULL or a live object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_group_id(
    cgmd: *const rd_kafka_consumer_group_metadata_t,
) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { get(cgmd) }.map_or(std::ptr::null(), |c| c.group_id.as_ptr())
    })
}

/// The member id (owned by the object). NULL for a NULL object.
///
/// # Safety
/// `cgmd` is NULL or a live object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_member_id(
    cgmd: *const rd_kafka_consumer_group_metadata_t,
) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { get(cgmd) }.map_or(std::ptr::null(), |c| c.member_id.as_ptr())
    })
}

/// The group instance id (owned by the object), NULL when there is none.
///
/// # Safety
/// `cgmd` is NULL or a live object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_group_instance_id(
    cgmd: *const rd_kafka_consumer_group_metadata_t,
) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { get(cgmd) }
            .and_then(|c| c.group_instance_id.as_ref())
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// The generation id (-1 for a NULL object).
///
/// # Safety
/// `cgmd` is NULL or a live object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_generation_id(
    cgmd: *const rd_kafka_consumer_group_metadata_t,
) -> i32 {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        unsafe { get(cgmd) }.map_or(-1, |c| c.meta.generation_id)
    })
}

/// Serializes `cgmd` into a new buffer (`*bufferp`, `*sizep` bytes) that the caller frees with
/// `rd_kafka_mem_free()`. NULL on success, else an error object (`_INVALID_ARG`).
///
/// # Safety
/// `cgmd` is NULL or a live object; `bufferp` and `sizep` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_write(
    cgmd: *const rd_kafka_consumer_group_metadata_t,
    bufferp: *mut *mut c_void,
    sizep: *mut usize,
) -> *mut rd_kafka_error_t {
    let fail = || rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__FAIL, "");
    ffi_guard!(fail(), {
        // SAFETY: per the contract.
        let Some(c) = (unsafe { get(cgmd) }) else {
            return rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "");
        };
        if bufferp.is_null() || sizep.is_null() {
            return rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "");
        }
        let bytes = c.meta.write();
        // SAFETY: malloc of the buffer's size, checked; the outputs are writable per the contract.
        unsafe {
            let p = super::libc_malloc(bytes.len());
            if p.is_null() {
                return fail();
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.cast::<u8>(), bytes.len());
            *bufferp = p;
            *sizep = bytes.len();
        }
        std::ptr::null_mut()
    })
}

/// Reads what `rd_kafka_consumer_group_metadata_write` wrote into a new object (`*cgmdp`,
/// freed with `rd_kafka_consumer_group_metadata_destroy`). NULL on success, else an error
/// object (`_BAD_MSG` for bytes in another format, `_INVALID_ARG` for NULL arguments).
///
/// # Safety
/// `cgmdp` is NULL or writable; `buffer` NULL or `size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_read(
    cgmdp: *mut *mut rd_kafka_consumer_group_metadata_t,
    buffer: *const c_void,
    size: usize,
) -> *mut rd_kafka_error_t {
    ffi_guard!(rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__FAIL, ""), {
        if cgmdp.is_null() || (buffer.is_null() && size > 0) {
            return rd_kafka_error_t::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "");
        }
        let bytes = if size == 0 {
            &[][..]
        } else {
            // SAFETY: `size` readable bytes per the contract.
            unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), size) }
        };
        match ConsumerGroupMetadata::read(bytes) {
            Ok(m) => {
                // SAFETY: checked non-NULL, writable per the contract.
                unsafe { *cgmdp = into_raw(m) };
                std::ptr::null_mut()
            }
            Err(e) => rd_kafka_error_t::boxed(e.code.0, &e.message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn getters_and_serialized_form_round_trip() {
        let g = CString::new("g").unwrap();
        let m = CString::new("m-1").unwrap();
        // SAFETY: valid strings; every object is destroyed once.
        unsafe {
            let md = rd_kafka_consumer_group_metadata_new_with_genid(
                g.as_ptr(),
                4,
                m.as_ptr(),
                std::ptr::null(),
            );
            assert_eq!(rd_kafka_consumer_group_metadata_generation_id(md), 4);
            let member = CStr::from_ptr(rd_kafka_consumer_group_metadata_member_id(md));
            assert_eq!(member.to_str(), Ok("m-1"));
            assert!(rd_kafka_consumer_group_metadata_group_instance_id(md).is_null());
            let (mut buf, mut size) = (std::ptr::null_mut(), 0);
            assert!(rd_kafka_consumer_group_metadata_write(md, &mut buf, &mut size).is_null());
            let mut back = std::ptr::null_mut();
            assert!(rd_kafka_consumer_group_metadata_read(&mut back, buf, size).is_null());
            let group = CStr::from_ptr(rd_kafka_consumer_group_metadata_group_id(back));
            assert_eq!(group.to_str(), Ok("g"));
            assert_eq!(rd_kafka_consumer_group_metadata_generation_id(back), 4);
            super::super::libc_free(buf);
            rd_kafka_consumer_group_metadata_destroy(md);
            rd_kafka_consumer_group_metadata_destroy(back);
            assert!(rd_kafka_consumer_group_metadata_new(std::ptr::null()).is_null());
        }
    }
}
