//! `rd_kafka_headers_t`: an ordered list of message headers (duplicate names allowed).
//!
//! Ownership: lists from `rd_kafka_headers_new`/`_copy` and from `rd_kafka_message_detach_headers`
//! belong to the caller (free with `rd_kafka_headers_destroy`, or hand over to a message with
//! `rd_kafka_message_set_headers` / to `producev`). Lists from `rd_kafka_message_headers` belong to
//! the message. Returned names and values point into the list and live as long as the header.

use std::os::raw::{c_char, c_void};

use bytes::Bytes;

use crate::protocol::records::Header;

use super::ctypes::*;
use super::errcodes::*;

/// One header: name and value, each stored with a trailing NUL so C can read them as strings.
#[derive(Clone, Debug)]
struct Hdr {
    /// Name bytes followed by NUL.
    name: Vec<u8>,
    /// Value bytes followed by NUL; `None` is a null value.
    value: Option<Vec<u8>>,
}

impl Hdr {
    fn name(&self) -> &[u8] {
        &self.name[..self.name.len() - 1]
    }
}

/// A header list.
#[derive(Clone, Debug, Default)]
pub struct rd_kafka_headers_t {
    hdrs: Vec<Hdr>,
    /// Set on headers of messages handed to the producer: modifications are refused.
    pub(crate) read_only: bool,
}

fn with_nul(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    v
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
impl rd_kafka_headers_t {
    /// From the Rust API's headers (consumed messages).
    pub(crate) fn from_headers(h: &[Header]) -> Self {
        rd_kafka_headers_t {
            hdrs: h
                .iter()
                .map(|h| Hdr {
                    name: with_nul(&h.key),
                    value: h.value.as_deref().map(with_nul),
                })
                .collect(),
            read_only: false,
        }
    }

    /// To the Rust API's headers (produce).
    pub(crate) fn to_headers(&self) -> Vec<Header> {
        self.hdrs
            .iter()
            .map(|h| Header {
                key: Bytes::copy_from_slice(h.name()),
                value: h
                    .value
                    .as_ref()
                    .map(|v| Bytes::copy_from_slice(&v[..v.len() - 1])),
            })
            .collect()
    }

    /// Appends a header (used by `rd_kafka_header_add` and `producev`'s `RD_KAFKA_VTYPE_HEADER`).
    pub(crate) fn add(&mut self, name: &[u8], value: Option<&[u8]>) {
        self.hdrs.push(Hdr {
            name: with_nul(name),
            value: value.map(with_nul),
        });
    }
}

/// Creates an empty header list with room for `initial_count` headers. Owned by the caller.
#[no_mangle]
pub extern "C" fn rd_kafka_headers_new(initial_count: usize) -> *mut rd_kafka_headers_t {
    ffi_guard!(std::ptr::null_mut(), {
        Box::into_raw(Box::new(rd_kafka_headers_t {
            hdrs: Vec::with_capacity(initial_count.min(1 << 16)),
            read_only: false,
        }))
    })
}

/// Frees a header list owned by the caller. NULL is ignored.
///
/// # Safety
/// `hdrs` is NULL or a list owned by the caller, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_headers_destroy(hdrs: *mut rd_kafka_headers_t) {
    ffi_guard!((), {
        if !hdrs.is_null() {
            // SAFETY: allocated with Box::into_raw in this module.
            drop(unsafe { Box::from_raw(hdrs) });
        }
    })
}

/// Copies a header list; the copy is owned by the caller and writable.
///
/// # Safety
/// `src` is NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_headers_copy(
    src: *const rd_kafka_headers_t,
) -> *mut rd_kafka_headers_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        match unsafe { src.as_ref() } {
            Some(h) => Box::into_raw(Box::new(rd_kafka_headers_t {
                hdrs: h.hdrs.clone(),
                read_only: false,
            })),
            None => std::ptr::null_mut(),
        }
    })
}

/// Reads `size` bytes at `p`, or up to the NUL when `size` is -1.
///
/// # Safety
/// `p` is non-NULL and valid for that many bytes.
unsafe fn bytes_arg<'a>(p: *const c_void, size: isize) -> &'a [u8] {
    if size < 0 {
        // SAFETY: NUL-terminated per the caller.
        unsafe { std::ffi::CStr::from_ptr(p.cast::<c_char>()) }.to_bytes()
    } else {
        // SAFETY: `size` readable bytes per the caller.
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), size as usize) }
    }
}

/// Appends a header. `name_size`/`value_size` of -1 mean NUL-terminated; a NULL `value` is a null
/// header value. `RD_KAFKA_RESP_ERR__READ_ONLY` if the list is read-only.
///
/// # Safety
/// `hdrs` is NULL or live; `name` is NULL or valid for `name_size` bytes (or NUL-terminated);
/// likewise `value`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_add(
    hdrs: *mut rd_kafka_headers_t,
    name: *const c_char,
    name_size: isize,
    value: *const c_void,
    value_size: isize,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let Some(h) = (unsafe { hdrs.as_mut() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if name.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        if h.read_only {
            return RD_KAFKA_RESP_ERR__READ_ONLY;
        }
        // SAFETY: per the caller's contract.
        let n = unsafe { bytes_arg(name.cast(), name_size) };
        // SAFETY: per the caller's contract.
        let v = (!value.is_null()).then(|| unsafe { bytes_arg(value, value_size) });
        h.add(n, v);
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Removes all headers named `name`: `RD_KAFKA_RESP_ERR__NOENT` if there were none,
/// `RD_KAFKA_RESP_ERR__READ_ONLY` if the list is read-only.
///
/// # Safety
/// `hdrs` is NULL or live; `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_remove(
    hdrs: *mut rd_kafka_headers_t,
    name: *const c_char,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let Some(h) = (unsafe { hdrs.as_mut() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if name.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        if h.read_only {
            return RD_KAFKA_RESP_ERR__READ_ONLY;
        }
        // SAFETY: NUL-terminated per the caller.
        let n = unsafe { bytes_arg(name.cast(), -1) };
        let before = h.hdrs.len();
        h.hdrs.retain(|x| x.name() != n);
        if h.hdrs.len() == before {
            RD_KAFKA_RESP_ERR__NOENT
        } else {
            RD_KAFKA_RESP_ERR_NO_ERROR
        }
    })
}

/// Writes a header's value (NULL for a null value) and size to the out-pointers.
///
/// # Safety
/// Out-pointers are NULL or writable.
unsafe fn out_value(x: &Hdr, valuep: *mut *const c_void, sizep: *mut usize) {
    let (p, n) = match &x.value {
        Some(v) => (v.as_ptr().cast::<c_void>(), v.len() - 1),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: checked non-NULL, writable per the caller.
    unsafe {
        if !valuep.is_null() {
            *valuep = p;
        }
        if !sizep.is_null() {
            *sizep = n;
        }
    }
}

/// The value of the last header named `name` (the value is owned by the list, NUL-terminated for
/// convenience; NULL for a null value). `RD_KAFKA_RESP_ERR__NOENT` if there is none.
///
/// # Safety
/// `hdrs` is NULL or live; `name` is NULL or a C string; out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_get_last(
    hdrs: *const rd_kafka_headers_t,
    name: *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let Some(h) = (unsafe { hdrs.as_ref() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if name.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: NUL-terminated per the caller.
        let n = unsafe { bytes_arg(name.cast(), -1) };
        match h.hdrs.iter().rev().find(|x| x.name() == n) {
            Some(x) => {
                // SAFETY: forwarded contract.
                unsafe { out_value(x, valuep, sizep) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// The value of the `idx`-th header named `name` (counting only headers of that name).
/// `RD_KAFKA_RESP_ERR__NOENT` if there is none.
///
/// # Safety
/// As `rd_kafka_header_get_last`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_get(
    hdrs: *const rd_kafka_headers_t,
    idx: usize,
    name: *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let Some(h) = (unsafe { hdrs.as_ref() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if name.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: NUL-terminated per the caller.
        let n = unsafe { bytes_arg(name.cast(), -1) };
        match h.hdrs.iter().filter(|x| x.name() == n).nth(idx) {
            Some(x) => {
                // SAFETY: forwarded contract.
                unsafe { out_value(x, valuep, sizep) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// The `idx`-th header: name (NUL-terminated, owned by the list), value and size.
/// `RD_KAFKA_RESP_ERR__NOENT` past the end.
///
/// # Safety
/// `hdrs` is NULL or live; out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_get_all(
    hdrs: *const rd_kafka_headers_t,
    idx: usize,
    namep: *mut *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let Some(h) = (unsafe { hdrs.as_ref() }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match h.hdrs.get(idx) {
            Some(x) => {
                if !namep.is_null() {
                    // SAFETY: writable per the caller.
                    unsafe { *namep = x.name.as_ptr().cast() };
                }
                // SAFETY: forwarded contract.
                unsafe { out_value(x, valuep, sizep) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// Number of headers (0 for NULL).
///
/// # Safety
/// `hdrs` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_cnt(hdrs: *const rd_kafka_headers_t) -> usize {
    // SAFETY: per the caller's contract.
    ffi_guard!(0, { unsafe { hdrs.as_ref() }.map_or(0, |h| h.hdrs.len()) })
}
