//! Producing through the C ABI: `rd_kafka_produce`, `rd_kafka_produceva`, `rd_kafka_purge`.
//! `rd_kafka_producev` (variadic) is `producev.c`, which walks its arguments into an
//! `rd_kafka_vu_t` array for `rd_kafka_produceva`; `producev_trampoline` below exports it.
//!
//! Payload ownership: the library always copies key, value and headers before returning, so
//! `RD_KAFKA_MSG_F_COPY` changes nothing and with `RD_KAFKA_MSG_F_FREE` the payload is
//! `free()`d as soon as it is copied, on success only (on failure the caller keeps it, as with
//! librdkafka). `RD_KAFKA_MSG_F_COPY` wins over `RD_KAFKA_MSG_F_FREE`, as in librdkafka.

use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::producer::{Producer, Record};
use crate::KafkaError;

use super::ctypes::*;
use super::error::{rd_kafka_error_t, set_last_error};
use super::handle::{handle, rd_kafka_t, timeout_of};
use super::headers::rd_kafka_headers_t;
use super::topic::{rd_kafka_topic_t, topic};
use super::types::*;
use super::{cstr, errcodes::*, libc_free};

/// `RD_KAFKA_MSG_F_FREE`: free the payload when done with it.
const MSG_F_FREE: c_int = 0x1;
/// `RD_KAFKA_MSG_F_COPY`: the caller keeps the payload (overrides `RD_KAFKA_MSG_F_FREE`).
const MSG_F_COPY: c_int = 0x2;
/// `RD_KAFKA_MSG_F_BLOCK`: wait for room in a full queue.
const MSG_F_BLOCK: c_int = 0x4;
/// `RD_KAFKA_MSG_F_PARTITION`: `rd_kafka_produce_batch` uses each message's partition.
const MSG_F_PARTITION: c_int = 0x8;
/// `RD_KAFKA_PURGE_F_QUEUE`, `_INFLIGHT`, `_NON_BLOCKING`.
const PURGE_F_QUEUE: c_int = 0x1;
const PURGE_F_INFLIGHT: c_int = 0x2;
const PURGE_F_NON_BLOCKING: c_int = 0x4;

/// Whether a successfully produced payload is the library's to `free()`.
fn frees_payload(msgflags: c_int) -> bool {
    msgflags & MSG_F_FREE != 0 && msgflags & MSG_F_COPY == 0
}

/// The `errno` librdkafka sets next to each `rd_kafka_produce` error.
fn errno_of(err: rd_kafka_resp_err_t) -> c_int {
    match err {
        RD_KAFKA_RESP_ERR__QUEUE_FULL => 105,       // ENOBUFS
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE => 90, // EMSGSIZE
        RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION => 3,  // ESRCH
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC => 2,      // ENOENT
        RD_KAFKA_RESP_ERR__FATAL => 125,            // ECANCELED
        _ => 22,                                    // EINVAL
    }
}

/// One message, as gathered from any of the produce calls.
struct Msg<'a> {
    topic: &'a str,
    /// The topic's object when the caller gave one (NULL: looked up by name).
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    flags: c_int,
    value: Option<&'a [u8]>,
    key: Option<&'a [u8]>,
    headers: Vec<(String, Option<&'a [u8]>)>,
    timestamp: i64,
    opaque: *mut c_void,
}

/// Borrows a C buffer (`None` for NULL: a null key or value).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive the result.
unsafe fn buf<'a>(p: *const c_void, len: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else if len == 0 {
        Some(&[])
    } else {
        // SAFETY: per the contract.
        Some(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
    }
}

/// How long `rd_kafka_produce` may wait for a topic's partition count the first time an
/// application partitioner needs it.
const PARTITIONER_METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// The partition the application's partitioner callback (`rd_kafka_topic_conf_set_partitioner_cb`)
/// picks, or `None` when the topic has none. The partition count is looked up once per topic
/// (a metadata round trip on the first message; librdkafka would queue the message instead).
fn app_partition(rk: &rd_kafka_t, p: &Producer, m: &Msg<'_>) -> Result<Option<i32>, KafkaError> {
    let rkt = if m.rkt.is_null() {
        rk.topic_by_name(m.topic)
    } else {
        m.rkt
    };
    // SAFETY: the handle's table keeps its topic objects alive.
    let t = unsafe { &*rkt };
    let Some(cb) = t.conf.callbacks.partitioner_cb else {
        return Ok(None);
    };
    let mut cnt = t.partition_cnt.load(Ordering::Acquire);
    if cnt <= 0 {
        let md = p.fetch_metadata(Some(m.topic), PARTITIONER_METADATA_TIMEOUT)?;
        cnt = md
            .topics
            .iter()
            .find(|t| t.name == m.topic && t.error.0 == 0)
            .map_or(0, |t| t.partitions.len() as i32);
        if cnt <= 0 {
            return Err(KafkaError::new(
                crate::ErrorCode::L_UNKNOWN_TOPIC,
                "Local: Unknown topic",
            ));
        }
        t.partition_cnt.store(cnt, Ordering::Release);
    }
    let (kp, kl) = m.key.map_or((std::ptr::null(), 0), |k| {
        (k.as_ptr().cast::<c_void>(), k.len())
    });
    // SAFETY: the application's callback with its topic opaque; the key outlives the call.
    let part = unsafe { cb(rkt, kp, kl, cnt, t.conf.callbacks.opaque, m.opaque) };
    if !(0..cnt).contains(&part) {
        return Err(KafkaError::new(
            crate::ErrorCode::L_UNKNOWN_PARTITION,
            "Local: Unknown partition",
        ));
    }
    Ok(Some(part))
}

/// Queues one message on the handle's producer.
fn send(rk: &rd_kafka_t, m: &Msg<'_>) -> Result<(), KafkaError> {
    let Some(p) = rk.producer() else {
        return Err(KafkaError::new(
            crate::ErrorCode::L_INVALID_ARG,
            "Not a producer handle",
        ));
    };
    let partition = if m.partition == RD_KAFKA_PARTITION_UA {
        app_partition(rk, p, m)?.unwrap_or(RD_KAFKA_PARTITION_UA)
    } else {
        m.partition
    };
    // Headers for the delivery report: the report then finds them under the substitute opaque.
    let kept = if m.headers.is_empty() {
        None
    } else {
        let mut h = rd_kafka_headers_t::default();
        for (k, v) in &m.headers {
            h.add(k.as_bytes(), *v);
        }
        rk.keep_headers(m.opaque, h)
    };
    let rec = Record {
        topic: m.topic,
        partition: (partition != RD_KAFKA_PARTITION_UA).then_some(partition),
        key: m.key,
        value: m.value,
        headers: m.headers.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        timestamp: (m.timestamp > 0).then_some(m.timestamp),
        opaque: kept.unwrap_or(m.opaque as usize),
    };
    let r = if m.flags & MSG_F_BLOCK != 0 {
        p.send_blocking(&rec, timeout_of(-1))
    } else {
        p.send(&rec)
    };
    if let (Err(_), Some(k)) = (&r, kept) {
        rk.take_headers(k);
    }
    r
}

/// Produces one message to `rkt`'s topic and `partition` (`RD_KAFKA_PARTITION_UA`: the
/// partitioner chooses). Returns 0 when queued (its delivery report comes from `rd_kafka_poll`),
/// or -1 with `rd_kafka_last_error()` (`_QUEUE_FULL`, `MSG_SIZE_TOO_LARGE`, `_UNKNOWN_PARTITION`,
/// `_INVALID_ARG`) and `errno` set. `msg_opaque` comes back as the report's `_private`.
///
/// # Safety
/// `rkt` is NULL or a live topic object of a live handle; `payload`/`key` are NULL or point to
/// `len`/`keylen` readable bytes; with `RD_KAFKA_MSG_F_FREE`, `payload` came from `malloc`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_produce(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    msgflags: c_int,
    payload: *mut c_void,
    len: usize,
    key: *const c_void,
    keylen: usize,
    msg_opaque: *mut c_void,
) -> c_int {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        let Some(t) = (unsafe { topic(rkt) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return -1;
        };
        // SAFETY: a live topic object's handle is live.
        let Some(rk) = (unsafe { handle(t.rk) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return -1;
        };
        let m = Msg {
            topic: t.name(),
            rkt,
            partition,
            flags: msgflags,
            // SAFETY: per the contract.
            value: unsafe { buf(payload, len) },
            // SAFETY: per the contract.
            key: unsafe { buf(key, keylen) },
            headers: Vec::new(),
            timestamp: 0,
            opaque: msg_opaque,
        };
        match send(rk, &m) {
            Ok(()) => {
                if frees_payload(msgflags) && !payload.is_null() {
                    // SAFETY: copied by `send`; the caller handed the malloc'd buffer over.
                    unsafe { libc_free(payload) };
                }
                set_last_error(RD_KAFKA_RESP_ERR_NO_ERROR, 0);
                0
            }
            Err(e) => {
                set_last_error(e.code.0, errno_of(e.code.0));
                -1
            }
        }
    })
}

/// Produces `message_cnt` messages to `rkt`'s topic: to `partition`, or with
/// `RD_KAFKA_MSG_F_PARTITION` to each message's own `partition`. Each message's `err` is set
/// (0 when queued); `_private` is its opaque. Returns how many were queued. With
/// `RD_KAFKA_MSG_F_FREE` the payloads of queued messages are freed.
///
/// # Safety
/// `rkt` is NULL or a live topic object; `rkmessages` points to `message_cnt` messages whose
/// payload and key pointers are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_produce_batch(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    msgflags: c_int,
    rkmessages: *mut rd_kafka_message_t,
    message_cnt: c_int,
) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        let Some(t) = (unsafe { topic(rkt) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return 0;
        };
        // SAFETY: a live topic object's handle is live.
        let Some(rk) = (unsafe { handle(t.rk) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, 22);
            return 0;
        };
        if rkmessages.is_null() || message_cnt <= 0 {
            return 0;
        }
        // SAFETY: per the contract.
        let msgs = unsafe { std::slice::from_raw_parts_mut(rkmessages, message_cnt as usize) };
        let mut queued = 0;
        for rm in msgs {
            let m = Msg {
                topic: t.name(),
                rkt,
                partition: if msgflags & MSG_F_PARTITION != 0 {
                    rm.partition
                } else {
                    partition
                },
                flags: msgflags & !MSG_F_BLOCK,
                // SAFETY: per the contract.
                value: unsafe { buf(rm.payload, rm.len) },
                // SAFETY: per the contract.
                key: unsafe { buf(rm.key, rm.key_len) },
                headers: Vec::new(),
                timestamp: 0,
                opaque: rm._private,
            };
            match send(rk, &m) {
                Ok(()) => {
                    rm.err = RD_KAFKA_RESP_ERR_NO_ERROR;
                    queued += 1;
                    if frees_payload(msgflags) && !rm.payload.is_null() {
                        // SAFETY: copied; the caller handed the malloc'd buffer over.
                        unsafe { libc_free(rm.payload) };
                        rm.payload = std::ptr::null_mut();
                    }
                }
                Err(e) => rm.err = e.code.0,
            }
        }
        queued
    })
}

/// Produces one message described by `cnt` typed values (`RD_KAFKA_VTYPE_*`). Returns NULL when
/// queued, or an error the caller frees with `rd_kafka_error_destroy`. On success the library
/// owns an `RD_KAFKA_VTYPE_HEADERS` list (and a `RD_KAFKA_MSG_F_FREE` payload); on failure the
/// caller keeps them.
///
/// # Safety
/// `rk` is NULL or a live handle; `vus` points to `cnt` values whose pointers are valid as their
/// vtype says.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_produceva(
    rk: *mut rd_kafka_t,
    vus: *const rd_kafka_vu_t,
    cnt: usize,
) -> *mut rd_kafka_error_t {
    let fail = |code: rd_kafka_resp_err_t, msg: &str| rd_kafka_error_t::boxed(code, msg);
    ffi_guard!(
        fail(RD_KAFKA_RESP_ERR__FAIL, "panic in rd_kafka_produceva"),
        {
            // SAFETY: per the contract.
            let Some(h) = (unsafe { handle(rk) }) else {
                return fail(RD_KAFKA_RESP_ERR__INVALID_ARG, "NULL handle");
            };
            let vus: &[rd_kafka_vu_t] = if vus.is_null() || cnt == 0 {
                &[]
            } else {
                // SAFETY: per the contract.
                unsafe { std::slice::from_raw_parts(vus, cnt) }
            };
            let mut m = Msg {
                topic: "",
                rkt: std::ptr::null_mut(),
                partition: RD_KAFKA_PARTITION_UA,
                flags: 0,
                value: None,
                key: None,
                headers: Vec::new(),
                timestamp: 0,
                opaque: std::ptr::null_mut(),
            };
            let mut payload_ptr: *mut c_void = std::ptr::null_mut();
            let mut owned_headers: *mut rd_kafka_headers_t = std::ptr::null_mut();
            let mut list_headers = Vec::new();
            // SAFETY (whole loop): each union field read is the one its vtype names.
            for vu in vus {
                unsafe {
                    match vu.vtype {
                        RD_KAFKA_VTYPE_TOPIC => match cstr(vu.u.cstr) {
                            Some(t) => m.topic = t,
                            None => {
                                return fail(RD_KAFKA_RESP_ERR__INVALID_ARG, "Invalid topic name")
                            }
                        },
                        RD_KAFKA_VTYPE_RKT => match topic(vu.u.rkt) {
                            Some(t) => {
                                m.topic = t.name();
                                m.rkt = vu.u.rkt;
                            }
                            None => {
                                return fail(RD_KAFKA_RESP_ERR__INVALID_ARG, "NULL topic object")
                            }
                        },
                        RD_KAFKA_VTYPE_PARTITION => m.partition = vu.u.i32_,
                        RD_KAFKA_VTYPE_VALUE => {
                            payload_ptr = vu.u.mem.ptr;
                            m.value = buf(vu.u.mem.ptr, vu.u.mem.size);
                        }
                        RD_KAFKA_VTYPE_KEY => m.key = buf(vu.u.mem.ptr, vu.u.mem.size),
                        RD_KAFKA_VTYPE_OPAQUE => m.opaque = vu.u.ptr,
                        RD_KAFKA_VTYPE_MSGFLAGS => m.flags = vu.u.i,
                        RD_KAFKA_VTYPE_TIMESTAMP => m.timestamp = vu.u.i64_,
                        RD_KAFKA_VTYPE_HEADER => {
                            let hd = vu.u.header;
                            let Some(name) = cstr(hd.name) else {
                                return fail(RD_KAFKA_RESP_ERR__INVALID_ARG, "NULL header name");
                            };
                            let size = if hd.size < 0 && !hd.val.is_null() {
                                std::ffi::CStr::from_ptr(hd.val.cast::<c_char>())
                                    .to_bytes()
                                    .len()
                            } else {
                                hd.size.max(0) as usize
                            };
                            m.headers.push((name.to_string(), buf(hd.val, size)));
                        }
                        RD_KAFKA_VTYPE_HEADERS => {
                            owned_headers = vu.u.headers;
                            if let Some(l) = owned_headers.as_ref() {
                                list_headers = l.to_headers();
                            }
                        }
                        RD_KAFKA_VTYPE_END => break,
                        other => {
                            return fail(
                                RD_KAFKA_RESP_ERR__INVALID_ARG,
                                &format!("Unsupported VTYPE {other}"),
                            )
                        }
                    }
                }
            }
            if !owned_headers.is_null() && !m.headers.is_empty() {
                return fail(
                    RD_KAFKA_RESP_ERR__CONFLICT,
                    "VTYPE_HEADER and VTYPE_HEADERS are mutually exclusive",
                );
            }
            for hd in &list_headers {
                m.headers.push((
                    String::from_utf8_lossy(&hd.key).into_owned(),
                    hd.value.as_deref(),
                ));
            }
            if m.topic.is_empty() {
                return fail(RD_KAFKA_RESP_ERR__INVALID_ARG, "No topic given");
            }
            match send(h, &m) {
                Ok(()) => {
                    if !owned_headers.is_null() {
                        // SAFETY: on success the list is ours (copied above).
                        drop(unsafe { Box::from_raw(owned_headers) });
                    }
                    if frees_payload(m.flags) && !payload_ptr.is_null() {
                        // SAFETY: copied; the caller handed the malloc'd buffer over.
                        unsafe { libc_free(payload_ptr) };
                    }
                    std::ptr::null_mut()
                }
                Err(e) => rd_kafka_error_t::from_kafka(&e),
            }
        }
    )
}

/// Fails messages not yet delivered: queued ones (`RD_KAFKA_PURGE_F_QUEUE`, reported with
/// `_PURGE_QUEUE`) and those waiting for a broker's answer (`RD_KAFKA_PURGE_F_INFLIGHT`,
/// `_PURGE_INFLIGHT`); their delivery reports come from `rd_kafka_poll`.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_purge(
    rk: *mut rd_kafka_t,
    purge_flags: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        let Some(p) = h.producer() else {
            return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
        };
        if purge_flags & !(PURGE_F_QUEUE | PURGE_F_INFLIGHT | PURGE_F_NON_BLOCKING) != 0 {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        match p.purge(
            purge_flags & PURGE_F_QUEUE != 0,
            purge_flags & PURGE_F_INFLIGHT != 0,
        ) {
            Ok(()) => RD_KAFKA_RESP_ERR_NO_ERROR,
            Err(e) => e.code.0,
        }
    })
}

/// `rd_kafka_producev(rk, ...)`: jumps to the C implementation in `producev.c` with the caller's
/// registers and stack untouched, so the variadic arguments arrive as the caller passed them.
/// (A symbol defined in C would not be exported from the cdylib: rustc's version script only
/// lists Rust items.)
///
/// # Safety
/// Called from C as `rd_kafka_producev(rd_kafka_t *rk, ...)`: `rk` is a live handle and the
/// arguments are `RD_KAFKA_V_*()` pairs ending with `RD_KAFKA_V_END`, as rdkafka.h defines them.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_producev() {
    #[cfg(target_arch = "x86_64")]
    core::arch::naked_asm!("jmp {}", sym rskafka_producev_impl);
    #[cfg(target_arch = "aarch64")]
    core::arch::naked_asm!("b {}", sym rskafka_producev_impl);
}

extern "C" {
    /// `producev.c`.
    fn rskafka_producev_impl(rk: *mut c_void, ...) -> rd_kafka_resp_err_t;
}
