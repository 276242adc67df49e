//! The application's callbacks and opaques on an `rd_kafka_conf_t`: their C types, the
//! [`Callbacks`] record the client handle reads, and the `rd_kafka_conf_set_*_cb` setters.

use std::os::raw::{c_char, c_int, c_void};

use super::conf::rd_kafka_conf_t;
use super::ctypes::*;
use super::types::*;

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
