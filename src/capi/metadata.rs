//! Cluster metadata on the C ABI: `rd_kafka_metadata` (brokers, topics, partitions with leaders,
//! replicas and ISRs, the answering broker), `rd_kafka_controllerid` and `rd_kafka_clusterid`.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use super::ctypes::*;
use super::errcodes::*;
use super::handle::{handle, rd_kafka_t, timeout_of};
use super::topic::rd_kafka_topic_t;
use super::types::*;
use crate::error::Result;
use crate::metadata::Metadata;

/// A metadata result and the memory its pointers refer to (`md` first: the C pointer is its
/// address). The vectors' heap buffers do not move when the struct does.
#[repr(C)]
struct OwnedMetadata {
    md: rd_kafka_metadata,
    brokers: Vec<rd_kafka_metadata_broker>,
    topics: Vec<rd_kafka_metadata_topic>,
    partitions: Vec<Vec<rd_kafka_metadata_partition>>,
    ids: Vec<Vec<i32>>,
    strings: Vec<CString>,
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

impl OwnedMetadata {
    /// Lays `m` out as librdkafka's structs.
    fn new(m: &Metadata) -> Box<Self> {
        let mut o = Box::new(OwnedMetadata {
            md: rd_kafka_metadata {
                broker_cnt: 0,
                brokers: std::ptr::null_mut(),
                topic_cnt: 0,
                topics: std::ptr::null_mut(),
                orig_broker_id: m.orig_broker_id,
                orig_broker_name: std::ptr::null_mut(),
            },
            brokers: Vec::with_capacity(m.brokers.len()),
            topics: Vec::with_capacity(m.topics.len()),
            partitions: Vec::with_capacity(m.topics.len()),
            ids: Vec::new(),
            strings: Vec::new(),
        });
        o.md.orig_broker_name = o.keep(&m.orig_broker_name);
        for b in &m.brokers {
            let host = o.keep(&b.host);
            o.brokers.push(rd_kafka_metadata_broker {
                id: b.id,
                host,
                port: b.port,
            });
        }
        for t in &m.topics {
            let mut parts = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let (replicas, replica_cnt) = o.keep_ids(&p.replicas);
                let (isrs, isr_cnt) = o.keep_ids(&p.isrs);
                parts.push(rd_kafka_metadata_partition {
                    id: p.id,
                    err: p.error.0,
                    leader: p.leader,
                    replica_cnt,
                    replicas,
                    isr_cnt,
                    isrs,
                });
            }
            o.partitions.push(parts);
            let partitions = o.partitions.last_mut().map_or(std::ptr::null_mut(), |v| {
                if v.is_empty() {
                    std::ptr::null_mut()
                } else {
                    v.as_mut_ptr()
                }
            });
            let topic = o.keep(&t.name);
            o.topics.push(rd_kafka_metadata_topic {
                topic,
                partition_cnt: t.partitions.len() as c_int,
                partitions,
                err: t.error.0,
            });
        }
        o.md.broker_cnt = o.brokers.len() as c_int;
        o.md.brokers = o.brokers.as_mut_ptr();
        o.md.topic_cnt = o.topics.len() as c_int;
        o.md.topics = o.topics.as_mut_ptr();
        o
    }

    /// Keeps a copy of `s` alive with the result and returns its address.
    fn keep(&mut self, s: &str) -> *mut c_char {
        self.strings.push(cstring(s));
        self.strings
            .last()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char)
    }

    /// Keeps a copy of `ids` alive with the result: (address, count).
    fn keep_ids(&mut self, ids: &[i32]) -> (*mut i32, c_int) {
        self.ids.push(ids.to_vec());
        let v = self.ids.last_mut().expect("just pushed");
        (v.as_mut_ptr(), v.len() as c_int)
    }
}

/// Metadata from the handle's client: every topic (`None`) or exactly `topics`.
fn query(h: &rd_kafka_t, topics: Option<&[&str]>, timeout_ms: c_int) -> Option<Result<Metadata>> {
    let timeout = timeout_of(timeout_ms);
    Some(match (h.consumer(), h.producer(), topics) {
        (Some(c), _, None) => c.fetch_metadata(None, timeout),
        (Some(c), _, Some(t)) => c.fetch_metadata_of(t, timeout),
        (None, Some(p), None) => p.fetch_metadata(None, timeout),
        (None, Some(p), Some(t)) => p.fetch_metadata_of(t, timeout),
        (None, None, _) => return None,
    })
}

/// Cluster metadata from a fresh Metadata request: every topic with `all_topics`, else only
/// `only_rkt`, else the topics the handle has objects for. On success `*metadatap` is set and
/// the caller frees it with `rd_kafka_metadata_destroy`; a topic that does not exist is listed
/// with its error (`UNKNOWN_TOPIC_OR_PART`).
///
/// # Safety
/// `rk` is NULL or a live handle; `only_rkt` NULL or a topic of it; `metadatap` writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_metadata(
    rk: *mut rd_kafka_t,
    all_topics: c_int,
    only_rkt: *mut rd_kafka_topic_t,
    metadatap: *mut *const rd_kafka_metadata,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if metadatap.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let only = unsafe { only_rkt.as_ref() }.map(|t| t.name().to_string());
        let known = match &only {
            Some(t) => vec![t.clone()],
            None => h.topic_names(),
        };
        let topics: Vec<&str> = known.iter().map(String::as_str).collect();
        let scope = (all_topics == 0).then_some(topics.as_slice());
        let fetched = query(h, scope, timeout_ms);
        match fetched {
            None => RD_KAFKA_RESP_ERR__INVALID_ARG,
            Some(Err(e)) => e.code.0,
            Some(Ok(m)) => {
                // SAFETY: checked non-NULL; `md` is the first field of the box.
                unsafe { *metadatap = Box::into_raw(OwnedMetadata::new(&m)).cast() };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
        }
    })
}

/// Frees a result of `rd_kafka_metadata`. NULL is ignored.
///
/// # Safety
/// `metadata` is NULL or from `rd_kafka_metadata`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_metadata_destroy(metadata: *const rd_kafka_metadata) {
    ffi_guard!((), {
        if !metadata.is_null() {
            // SAFETY: `md` is the first field of the boxed OwnedMetadata.
            drop(unsafe { Box::from_raw(metadata as *mut OwnedMetadata) });
        }
    })
}

/// Controller and cluster id: cached, or from the first metadata within `timeout_ms`.
///
/// # Safety
/// `rk` is NULL or a live handle.
unsafe fn cluster_info(rk: *mut rd_kafka_t, timeout_ms: c_int) -> Option<(i32, Option<String>)> {
    // SAFETY: per the contract.
    let h = unsafe { handle(rk) }?;
    let timeout = timeout_of(timeout_ms);
    match (h.consumer(), h.producer()) {
        (Some(c), _) => c.cluster_info(timeout).ok(),
        (None, Some(p)) => p.cluster_info(timeout).ok(),
        (None, None) => None,
    }
}

/// The controller's broker id from cached metadata, waiting up to `timeout_ms` for metadata
/// when none was received yet; -1 when unknown.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_controllerid(rk: *mut rd_kafka_t, timeout_ms: c_int) -> i32 {
    ffi_guard!(-1, {
        // SAFETY: per the contract.
        unsafe { cluster_info(rk, timeout_ms) }.map_or(-1, |(id, _)| id)
    })
}

/// The cluster id from cached metadata (Metadata v2+), waiting up to `timeout_ms` when none was
/// received yet; NULL when unknown. The caller frees it with `rd_kafka_mem_free()`.
///
/// # Safety
/// `rk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_clusterid(rk: *mut rd_kafka_t, timeout_ms: c_int) -> *mut c_char {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        match unsafe { cluster_info(rk, timeout_ms) } {
            Some((_, Some(id))) => super::c_strdup(&id),
            _ => std::ptr::null_mut(),
        }
    })
}
