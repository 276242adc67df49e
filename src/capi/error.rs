//! Error codes, descriptions, the thread-local last error and `rd_kafka_error_t`.

use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::sync::OnceLock;

use super::ctypes::rd_kafka_resp_err_t;
use super::errcodes::*;
use super::types::rd_kafka_err_desc;

thread_local! {
    static LAST_ERROR: Cell<rd_kafka_resp_err_t> = const { Cell::new(0) };
    static LAST_ERRNO: Cell<c_int> = const { Cell::new(0) };
    /// Buffers for err2str / err2name of unknown codes (each valid until the next call of the
    /// same function for an unknown code on the same thread).
    static UNKNOWN_STR: RefCell<[u8; 32]> = const { RefCell::new([0; 32]) };
    static UNKNOWN_NAME: RefCell<[u8; 32]> = const { RefCell::new([0; 32]) };
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
/// Records the calling thread's last error, as the legacy API (`rd_kafka_produce`,
/// `rd_kafka_topic_new`, ...) does, with the matching errno.
pub(crate) fn set_last_error(err: rd_kafka_resp_err_t, errno: c_int) {
    LAST_ERROR.with(|c| c.set(err));
    LAST_ERRNO.with(|c| c.set(errno));
    // librdkafka sets the C errno too; applications (kcat) read it with errno/strerror.
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *errno_location() = errno };
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
extern "C" {
    #[link_name = "__errno_location"]
    fn errno_location() -> *mut c_int;
}

/// Table entry of a code that has a description.
fn lookup(err: rd_kafka_resp_err_t) -> Option<&'static (i32, &'static str, Option<&'static str>)> {
    ERR_TABLE
        .iter()
        .find(|e| e.0 == err)
        .filter(|e| e.2.is_some())
}

/// The description of a code, as `rd_kafka_err2str` (without NUL).
pub fn err2str(err: rd_kafka_resp_err_t) -> String {
    match lookup(err) {
        Some(e) => e.2.unwrap_or_default().trim_end_matches('\0').to_string(),
        None => format!("Err-{err}?"),
    }
}

/// The name of a code, as `rd_kafka_err2name` (without NUL).
pub fn err2name(err: rd_kafka_resp_err_t) -> String {
    match lookup(err) {
        Some(e) => e.1.trim_end_matches('\0').to_string(),
        None => format!("ERR_{err}?"),
    }
}

fn unknown_text(
    buf: &'static std::thread::LocalKey<RefCell<[u8; 32]>>,
    s: String,
) -> *const c_char {
    buf.with(|b| {
        let mut b = b.borrow_mut();
        let n = s.len().min(b.len() - 1);
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        b[n] = 0;
        b.as_ptr().cast()
    })
}

/// Returns a human-readable description of an error code.
///
/// The string is static for known codes; for an unknown code it is `"Err-<n>?"` in a thread-local
/// buffer valid until the next call for an unknown code on the same thread. Never freed by the
/// caller.
#[no_mangle]
pub extern "C" fn rd_kafka_err2str(err: rd_kafka_resp_err_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        match lookup(err) {
            Some(e) => e.2.unwrap_or("\0").as_ptr().cast(),
            None => unknown_text(&UNKNOWN_STR, format!("Err-{err}?")),
        }
    })
}

/// Returns the name of an error code without its `RD_KAFKA_RESP_ERR_` prefix (`"_TIMED_OUT"`),
/// or `"ERR_<n>?"` for unknown codes (same lifetime rules as `rd_kafka_err2str`).
#[no_mangle]
pub extern "C" fn rd_kafka_err2name(err: rd_kafka_resp_err_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        match lookup(err) {
            Some(e) => e.1.as_ptr().cast(),
            None => unknown_text(&UNKNOWN_NAME, format!("ERR_{err}?")),
        }
    })
}

struct Descs(Vec<rd_kafka_err_desc>);
// SAFETY: the pointers in the table point to 'static immutable string data.
unsafe impl Send for Descs {}
// SAFETY: as above; the table is never mutated after initialisation.
unsafe impl Sync for Descs {}

/// The description table indexed by `code - RD_KAFKA_RESP_ERR__BEGIN`; unused codes are zeroed.
fn descs() -> &'static [rd_kafka_err_desc] {
    static DESCS: OnceLock<Descs> = OnceLock::new();
    &DESCS
        .get_or_init(|| {
            let max = ERR_TABLE.iter().map(|e| e.0).max().unwrap_or(0);
            let n = (max - RD_KAFKA_RESP_ERR__BEGIN + 1) as usize;
            let mut v: Vec<rd_kafka_err_desc> = (0..n)
                .map(|_| rd_kafka_err_desc {
                    code: 0,
                    name: std::ptr::null(),
                    desc: std::ptr::null(),
                })
                .collect();
            for &(code, name, desc) in ERR_TABLE {
                v[(code - RD_KAFKA_RESP_ERR__BEGIN) as usize] = rd_kafka_err_desc {
                    code,
                    name: name.as_ptr().cast(),
                    desc: desc.map_or(std::ptr::null(), |d| d.as_ptr().cast()),
                };
            }
            Descs(v)
        })
        .0
}

/// Returns the full table of error codes: `*errdescs` points to `*cntp` entries, indexed by
/// `code - RD_KAFKA_RESP_ERR__BEGIN`; entries of unused codes have NULL `name`/`desc`.
/// The table is static: never freed.
///
/// # Safety
/// `errdescs` and `cntp` are NULL (then nothing is written) or writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_get_err_descs(
    errdescs: *mut *const rd_kafka_err_desc,
    cntp: *mut usize,
) {
    ffi_guard!((), {
        let d = descs();
        if !errdescs.is_null() {
            // SAFETY: checked non-NULL; the caller passes a writable pointer.
            unsafe { *errdescs = d.as_ptr() };
        }
        if !cntp.is_null() {
            // SAFETY: as above.
            unsafe { *cntp = d.len() };
        }
    })
}

/// Converts an `errno` value set by the legacy API to an error code.
#[no_mangle]
pub extern "C" fn rd_kafka_errno2err(errnox: c_int) -> rd_kafka_resp_err_t {
    const EINVAL: c_int = 22;
    const EBUSY: c_int = 16;
    const ENOENT: c_int = 2;
    const ESRCH: c_int = 3;
    const ETIMEDOUT: c_int = 110;
    const EMSGSIZE: c_int = 90;
    const ENOBUFS: c_int = 105;
    const ECANCELED: c_int = 125;
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        match errnox {
            EINVAL => RD_KAFKA_RESP_ERR__INVALID_ARG,
            EBUSY => RD_KAFKA_RESP_ERR__CONFLICT,
            ENOENT => RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
            ESRCH => RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
            ETIMEDOUT => RD_KAFKA_RESP_ERR__TIMED_OUT,
            EMSGSIZE => RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
            ENOBUFS => RD_KAFKA_RESP_ERR__QUEUE_FULL,
            ECANCELED => RD_KAFKA_RESP_ERR__FATAL,
            _ => RD_KAFKA_RESP_ERR__FAIL,
        }
    })
}

/// The last error of a legacy API call on the calling thread.
#[no_mangle]
pub extern "C" fn rd_kafka_last_error() -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, { LAST_ERROR.with(|c| c.get()) })
}

/// The `errno` matching the last legacy API error on the calling thread.
#[no_mangle]
pub extern "C" fn rd_kafka_errno() -> c_int {
    ffi_guard!(0, { LAST_ERRNO.with(|c| c.get()) })
}

// ---- rd_kafka_error_t ----

/// A rich error object (`rd_kafka_error_t`): code, message and flags. Created by librskafka (or
/// `rd_kafka_error_new`), owned by whoever receives it, freed with `rd_kafka_error_destroy()`.
pub struct rd_kafka_error_t {
    pub(crate) code: rd_kafka_resp_err_t,
    /// The message, NUL-terminated.
    pub(crate) message: CString,
    pub(crate) fatal: bool,
    pub(crate) retriable: bool,
    pub(crate) txn_requires_abort: bool,
}

impl rd_kafka_error_t {
    /// A new error object, boxed for C. An empty message means the code's description.
    pub(crate) fn boxed(code: rd_kafka_resp_err_t, message: &str) -> *mut rd_kafka_error_t {
        let message = if message.is_empty() {
            err2str(code)
        } else {
            message.to_string()
        };
        Box::into_raw(Box::new(rd_kafka_error_t {
            code,
            message: CString::new(message.replace('\0', " ")).unwrap_or_default(),
            fatal: false,
            retriable: false,
            txn_requires_abort: false,
        }))
    }

    #[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
    /// From the Rust API's error.
    pub(crate) fn from_kafka(e: &crate::KafkaError) -> *mut rd_kafka_error_t {
        let p = Self::boxed(e.code.0, &e.message);
        // SAFETY: just allocated, non-NULL and exclusively ours.
        let r = unsafe { &mut *p };
        r.fatal = e.fatal;
        r.retriable = e.code.is_retriable();
        p
    }
}

/// The error returned by not-implemented functions that return `rd_kafka_error_t *`.
pub(crate) fn not_implemented_error(name: &str) -> *mut rd_kafka_error_t {
    rd_kafka_error_t::boxed(
        RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED,
        &format!("{name} is not implemented by librskafka"),
    )
}

/// Creates an error object; the caller owns it and frees it with `rd_kafka_error_destroy()`.
///
/// `fmt` is a printf format; the C function is variadic. Rust cannot define variadic functions on
/// stable, so this definition takes the register-passed variadic slots as fixed integer
/// parameters (the x86-64 System V and AArch64 Linux calling conventions pass them exactly like
/// named integer parameters) and forwards them to the C library's `snprintf`: integer, pointer
/// and string conversions work (up to six arguments); floating-point conversions do not.
///
/// # Safety
/// `fmt` is NULL or a NUL-terminated printf format whose conversions match the arguments passed.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_new(
    code: rd_kafka_resp_err_t,
    fmt: *const c_char,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> *mut rd_kafka_error_t {
    extern "C" {
        fn snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
    }
    ffi_guard!(std::ptr::null_mut(), {
        if fmt.is_null() {
            return rd_kafka_error_t::boxed(code, "");
        }
        let mut buf = vec![0u8; 512];
        // SAFETY: `buf` has 512 writable bytes; `fmt` is a valid format per the caller.
        let n = unsafe {
            snprintf(
                buf.as_mut_ptr().cast(),
                buf.len(),
                fmt,
                a1,
                a2,
                a3,
                a4,
                a5,
                a6,
            )
        };
        let n = (n.max(0) as usize).min(buf.len() - 1);
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        rd_kafka_error_t::boxed(code, &msg)
    })
}

/// Borrows an error object.
///
/// # Safety
/// `error` is NULL or a live object from librskafka.
unsafe fn err_ref<'a>(error: *const rd_kafka_error_t) -> Option<&'a rd_kafka_error_t> {
    // SAFETY: per the caller's contract.
    unsafe { error.as_ref() }
}

/// The error's code (`RD_KAFKA_RESP_ERR_NO_ERROR` for NULL).
///
/// # Safety
/// `error` is NULL or a live `rd_kafka_error_t`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_code(
    error: *const rd_kafka_error_t,
) -> rd_kafka_resp_err_t {
    // SAFETY: forwarded contract.
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        unsafe { err_ref(error) }.map_or(0, |e| e.code)
    })
}

/// The error code's name (see `rd_kafka_err2name`); `""` for NULL. Owned by the library.
///
/// # Safety
/// `error` is NULL or a live `rd_kafka_error_t`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_name(error: *const rd_kafka_error_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: forwarded contract.
        match unsafe { err_ref(error) } {
            Some(e) => rd_kafka_err2name(e.code),
            None => c"".as_ptr(),
        }
    })
}

/// The error message; `""` for NULL. Valid until the error is destroyed.
///
/// # Safety
/// `error` is NULL or a live `rd_kafka_error_t`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_string(error: *const rd_kafka_error_t) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: forwarded contract.
        match unsafe { err_ref(error) } {
            Some(e) => e.message.as_ptr(),
            None => c"".as_ptr(),
        }
    })
}

/// 1 if the error is fatal to the client instance.
///
/// # Safety
/// `error` is NULL or a live `rd_kafka_error_t`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_is_fatal(error: *const rd_kafka_error_t) -> c_int {
    // SAFETY: forwarded contract.
    ffi_guard!(0, {
        unsafe { err_ref(error) }.is_some_and(|e| e.fatal) as c_int
    })
}

/// 1 if the operation may be retried.
///
/// # Safety
/// `error` is NULL or a live `rd_kafka_error_t`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_is_retriable(error: *const rd_kafka_error_t) -> c_int {
    // SAFETY: forwarded contract.
    ffi_guard!(0, {
        unsafe { err_ref(error) }.is_some_and(|e| e.retriable) as c_int
    })
}

/// 1 if the current transaction must be aborted.
///
/// # Safety
/// `error` is NULL or a live `rd_kafka_error_t`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_txn_requires_abort(
    error: *const rd_kafka_error_t,
) -> c_int {
    // SAFETY: forwarded contract.
    ffi_guard!(0, {
        unsafe { err_ref(error) }.is_some_and(|e| e.txn_requires_abort) as c_int
    })
}

/// Frees an error object (NULL is ignored).
///
/// # Safety
/// `error` is NULL or an `rd_kafka_error_t` owned by the caller, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_destroy(error: *mut rd_kafka_error_t) {
    ffi_guard!((), {
        if !error.is_null() {
            // SAFETY: created by Box::into_raw in `boxed`; ownership returns to us.
            drop(unsafe { Box::from_raw(error) });
        }
    })
}
