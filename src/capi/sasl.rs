//! SASL OAUTHBEARER token functions. librskafka speaks PLAINTEXT only, so these answer as a
//! librdkafka built without SASL OAUTHBEARER support does: `RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED`,
//! with the reason in `errstr`. Applications that never configure OAUTHBEARER never call them.

use std::os::raw::c_char;

use super::ctypes::*;
use super::errcodes::*;
use super::handle::rd_kafka_t;
use super::write_errstr;

/// Sets the OAUTHBEARER token: not available (no SASL support), `_NOT_IMPLEMENTED` with the
/// reason in `errstr`.
///
/// # Safety
/// `errstr` is NULL or points to `errstr_size` writable bytes; no other argument is read.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_oauthbearer_set_token(
    rk: *mut rd_kafka_t,
    token_value: *const c_char,
    md_lifetime_ms: i64,
    md_principal_name: *const c_char,
    extensions: *mut *const c_char,
    extension_size: usize,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_resp_err_t {
    let _ = (rk, token_value, md_lifetime_ms, md_principal_name);
    let _ = (extensions, extension_size);
    ffi_guard!(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, {
        // SAFETY: per the contract.
        unsafe {
            write_errstr(
                errstr,
                errstr_size,
                "librskafka not built with SASL OAUTHBEARER support",
            )
        };
        RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED
    })
}

/// Reports a failure to get an OAUTHBEARER token: `_NOT_IMPLEMENTED` (no SASL support).
#[no_mangle]
pub extern "C" fn rd_kafka_oauthbearer_set_token_failure(
    rk: *mut rd_kafka_t,
    errstr: *const c_char,
) -> rd_kafka_resp_err_t {
    let _ = (rk, errstr);
    RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauthbearer_is_not_built_in() {
        let mut buf = [0 as c_char; 64];
        let err = unsafe {
            rd_kafka_oauthbearer_set_token(
                std::ptr::null_mut(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        assert_eq!(err, RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED);
        let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(
            msg.to_str().unwrap(),
            "librskafka not built with SASL OAUTHBEARER support"
        );
        assert_eq!(
            rd_kafka_oauthbearer_set_token_failure(std::ptr::null_mut(), std::ptr::null()),
            RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED
        );
    }
}
