//! The producer path of the C ABI against librdkafka's mock cluster:
//! - `tests/c/produce.c` (compiled against the system rdkafka.h) produces 2000 messages through
//!   `rd_kafka_producev` and `rd_kafka_produce` (and 100 with `rd_kafka_produce_batch`), linked once against librskafka's cdylib and once
//!   against the system librdkafka; both must print the same, and librdkafka must read back what
//!   librskafka produced;
//! - Debian's `kcat -P` runs with our library as `librdkafka.so.1` on `LD_LIBRARY_PATH`.
#![cfg(feature = "capi")]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{consume_with_librdkafka, MockCluster};

use common::capi::{build_both, have_kcat, lib_dir, run, HEADER};

#[test]
fn produce_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/produce.c", "produce");

    let cluster = MockCluster::builder(3)
        .topic("capi-ours", 4)
        .topic("capi-theirs", 4)
        .start();
    let out = run(&ours, &[cluster.bootstrap(), "capi-ours"]);
    let expected = run(&theirs, &[cluster.bootstrap(), "capi-theirs"]);
    let norm = |s: &str| s.replace("capi-ours", "T").replace("capi-theirs", "T");
    assert_eq!(
        norm(&expected),
        norm(&out),
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(out.contains("delivered 2100 failed 0 missing 0\n"), "{out}");
    assert!(out.contains("batch_queued 100\n"), "{out}");
    assert!(out.contains("bad_content 0 bad_opaque 0 bad_topic 0 dup_offsets 0"));
    assert!(out.contains("dr_headers_ok 1000\n"), "{out}");
    assert!(out.ends_with("done\n"));

    // What librdkafka reads back: every message once, with its key, value and headers.
    let got = consume_with_librdkafka(cluster.bootstrap(), "capi-ours", 2100, 30_000);
    let mut by_key = HashMap::new();
    for m in &got {
        assert!(
            by_key.insert(m.key.clone(), m.clone()).is_none(),
            "duplicate {}",
            m.key
        );
    }
    for i in 0..2100 {
        let m = by_key
            .get(&format!("key-{i}"))
            .unwrap_or_else(|| panic!("key-{i} missing"));
        assert_eq!(m.value, format!("value-{i}"));
        let h: Vec<(&str, &str)> = m
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let idx = i.to_string();
        let want: Vec<(&str, &str)> = match i {
            i if i >= 1000 => vec![],
            i if i % 2 == 0 => vec![("idx", &idx), ("kind", "producev")],
            _ => vec![("idx", &idx), ("kind", "headers")],
        };
        assert_eq!(h, want, "headers of key-{i}");
        if i >= 2000 {
            assert_eq!(m.partition, (i - 2000) % 4, "RD_KAFKA_MSG_F_PARTITION");
        }
    }
}

/// Runs `kcat -P -K: -b bootstrap -t topic` with `lines` on stdin; `lib_dir` (if any) goes on
/// `LD_LIBRARY_PATH`. Returns (success, stderr).
fn kcat_produce(
    lib_dir: Option<&Path>,
    bootstrap: &str,
    topic: &str,
    lines: &str,
) -> (bool, String) {
    let mut cmd = Command::new("kcat");
    cmd.args(["-P", "-K:", "-b", bootstrap, "-t", topic])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = lib_dir {
        cmd.env("LD_LIBRARY_PATH", d);
    }
    let mut child = cmd
        .spawn()
        .expect("running kcat (scripts/install-deps.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kcat_produces_through_librskafka() {
    if !have_kcat() {
        eprintln!("SKIP: kcat is not installed");
        return;
    }
    let dir = lib_dir();

    let cluster = MockCluster::builder(3)
        .topic("kcat-ours", 4)
        .topic("kcat-theirs", 4)
        .start();
    let n = 100;
    let lines: String = (0..n).map(|i| format!("k{i}:v{i}\n")).collect();
    let (ok_theirs, err_theirs) = kcat_produce(None, cluster.bootstrap(), "kcat-theirs", &lines);
    assert!(
        ok_theirs,
        "kcat on the system librdkafka failed: {err_theirs}"
    );
    let (ok_ours, err_ours) = kcat_produce(Some(&dir), cluster.bootstrap(), "kcat-ours", &lines);
    assert!(ok_ours, "kcat on librskafka failed: {err_ours}");
    assert!(
        !err_ours.contains("NOTIMPL"),
        "kcat called functions librskafka does not implement:\n{err_ours}"
    );

    for topic in ["kcat-theirs", "kcat-ours"] {
        let got = consume_with_librdkafka(cluster.bootstrap(), topic, n, 30_000);
        let mut kv: Vec<(String, String)> = got
            .iter()
            .map(|m| (m.key.clone(), m.value.clone()))
            .collect();
        kv.sort();
        let mut want: Vec<(String, String)> =
            (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
        want.sort();
        assert_eq!(kv, want, "{topic}");
    }
}

/// The handle's own functions, called from Rust (no broker needed: nothing is produced).
#[test]
fn handle_lifecycle_and_refusals() {
    use kafka::capi::conf::{rd_kafka_conf_destroy, rd_kafka_conf_new, rd_kafka_conf_set};
    use kafka::capi::error::rd_kafka_last_error;
    use kafka::capi::handle::*;
    use kafka::capi::produce::rd_kafka_produce;
    use kafka::capi::topic::*;
    use kafka::capi::*;
    use std::ffi::{CStr, CString};
    use std::os::raw::c_char;

    let mut errstr = [0 as c_char; 256];
    let s = |b: &[c_char]| {
        // SAFETY: NUL-terminated by write_errstr.
        unsafe { CStr::from_ptr(b.as_ptr()) }
            .to_str()
            .unwrap()
            .to_string()
    };
    unsafe {
        // A configuration librdkafka refuses at rd_kafka_new (a cross-check of two properties):
        // no handle, the reason in errstr, and the caller still owns the configuration.
        let bad = rd_kafka_conf_new();
        for (n, v) in [
            ("reconnect.backoff.ms", "1000"),
            ("reconnect.backoff.max.ms", "10"),
        ] {
            let (n, v) = (CString::new(n).unwrap(), CString::new(v).unwrap());
            assert_eq!(
                rd_kafka_conf_set(bad, n.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 256),
                RD_KAFKA_CONF_OK
            );
        }
        let rk = rd_kafka_new(RD_KAFKA_CONSUMER, bad, errstr.as_mut_ptr(), errstr.len());
        assert!(rk.is_null());
        assert_eq!(
            s(&errstr),
            "`reconnect.backoff.max.ms` must be >= `reconnect.backoff.ms`"
        );
        kafka::capi::conf::rd_kafka_conf_destroy(bad);
        let conf = rd_kafka_conf_new();
        let (n, v) = (
            CString::new("client.id").unwrap(),
            CString::new("app").unwrap(),
        );
        assert_eq!(
            rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 256),
            RD_KAFKA_CONF_OK
        );
        let (n, v) = (
            CString::new("bootstrap.servers").unwrap(),
            CString::new("127.0.0.1:1").unwrap(),
        );
        assert_eq!(
            rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 256),
            RD_KAFKA_CONF_OK
        );

        // Success consumes the configuration.
        let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), errstr.len());
        assert!(!rk.is_null(), "{}", s(&errstr));
        let name = CStr::from_ptr(rd_kafka_name(rk)).to_str().unwrap();
        assert!(name.starts_with("app#producer-"), "{name}");
        assert_eq!(rd_kafka_type(rk), RD_KAFKA_PRODUCER);
        assert!(rd_kafka_opaque(rk).is_null());
        assert_eq!(rd_kafka_outq_len(rk), 0);
        assert_eq!(rd_kafka_flush(rk, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
        // Only the refused bootstrap connection's `_TRANSPORT` and `_ALL_BROKERS_DOWN` errors
        // can be served yet (librdkafka reports them too).
        let served = rd_kafka_poll(rk, 0);
        assert!((0..=2).contains(&served), "{served}");

        // One object per topic name, reference-counted.
        let t = CString::new("t").unwrap();
        let a = rd_kafka_topic_new(rk, t.as_ptr(), std::ptr::null_mut());
        let b = rd_kafka_topic_new(rk, t.as_ptr(), std::ptr::null_mut());
        assert_eq!(a, b);
        assert_eq!(CStr::from_ptr(rd_kafka_topic_name(a)), t.as_c_str());
        rd_kafka_topic_destroy(b);
        assert_eq!(CStr::from_ptr(rd_kafka_topic_name(a)), t.as_c_str());

        // Synchronous refusals set rd_kafka_last_error().
        assert_eq!(
            rd_kafka_produce(
                std::ptr::null_mut(),
                0,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
                0,
                std::ptr::null_mut()
            ),
            -1
        );
        assert_eq!(rd_kafka_last_error(), RD_KAFKA_RESP_ERR__INVALID_ARG);
        assert_eq!(
            rd_kafka_produce(
                a,
                -5,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
                0,
                std::ptr::null_mut()
            ),
            -1
        );
        assert_eq!(rd_kafka_last_error(), RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION);

        rd_kafka_topic_destroy(a);
        rd_kafka_destroy(rk);
        assert_eq!(rd_kafka_wait_destroyed(1000), 0);

        // An invalid type: NULL, and the configuration is still the caller's.
        let conf = rd_kafka_conf_new();
        assert!(rd_kafka_new(7, conf, errstr.as_mut_ptr(), errstr.len()).is_null());
        rd_kafka_conf_destroy(conf);
    }
}

static PURGED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
static OTHER: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

unsafe extern "C" fn count_purged(
    _rk: *mut kafka::capi::rd_kafka_t,
    m: *const kafka::capi::rd_kafka_message_t,
    _opaque: *mut std::os::raw::c_void,
) {
    use std::sync::atomic::Ordering;
    // SAFETY: a live message for the duration of the callback.
    let m = unsafe { &*m };
    if m.err == kafka::capi::RD_KAFKA_RESP_ERR__PURGE_QUEUE && m._private as usize == 7 {
        PURGED.fetch_add(1, Ordering::Relaxed);
    } else {
        OTHER.fetch_add(1, Ordering::Relaxed);
    }
}

/// Messages for an unreachable cluster stay queued; `rd_kafka_purge` fails them with
/// `_PURGE_QUEUE`, reported through `rd_kafka_poll`. `rd_kafka_produceva` refuses bad input.
#[test]
fn purge_reports_queued_messages() {
    use kafka::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set, rd_kafka_conf_set_dr_msg_cb};
    use kafka::capi::error::{rd_kafka_error_code, rd_kafka_error_destroy};
    use kafka::capi::handle::*;
    use kafka::capi::produce::{rd_kafka_produce, rd_kafka_produceva, rd_kafka_purge};
    use kafka::capi::topic::*;
    use kafka::capi::*;
    use std::ffi::CString;
    use std::os::raw::c_char;
    use std::sync::atomic::Ordering;

    let mut errstr = [0 as c_char; 256];
    unsafe {
        let conf = rd_kafka_conf_new();
        let (n, v) = (
            CString::new("bootstrap.servers").unwrap(),
            CString::new("127.0.0.1:1").unwrap(),
        );
        rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 256);
        rd_kafka_conf_set_dr_msg_cb(conf, Some(count_purged));
        let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), errstr.len());
        assert!(!rk.is_null());
        let t = CString::new("purged").unwrap();
        let rkt = rd_kafka_topic_new(rk, t.as_ptr(), std::ptr::null_mut());
        for _ in 0..5 {
            let mut payload = *b"hello";
            assert_eq!(
                rd_kafka_produce(
                    rkt,
                    RD_KAFKA_PARTITION_UA,
                    RD_KAFKA_MSG_F_COPY,
                    payload.as_mut_ptr().cast(),
                    payload.len(),
                    std::ptr::null(),
                    0,
                    7 as *mut _,
                ),
                0
            );
        }
        assert_eq!(rd_kafka_outq_len(rk), 5);
        assert_eq!(rd_kafka_purge(rk, 0x100), RD_KAFKA_RESP_ERR__INVALID_ARG);
        assert_eq!(
            rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE),
            RD_KAFKA_RESP_ERR_NO_ERROR
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while PURGED.load(Ordering::Relaxed) < 5 && std::time::Instant::now() < deadline {
            rd_kafka_poll(rk, 100);
        }
        assert_eq!(PURGED.load(Ordering::Relaxed), 5);
        assert_eq!(OTHER.load(Ordering::Relaxed), 0);
        assert_eq!(rd_kafka_outq_len(rk), 0);

        // An unknown vtype and a missing topic are refused.
        let vus = [rd_kafka_vu_t {
            vtype: 99,
            u: rd_kafka_vu_value { i: 0 },
        }];
        let e = rd_kafka_produceva(rk, vus.as_ptr(), vus.len());
        assert_eq!(rd_kafka_error_code(e), RD_KAFKA_RESP_ERR__INVALID_ARG);
        rd_kafka_error_destroy(e);
        let e = rd_kafka_produceva(rk, std::ptr::null(), 0);
        assert_eq!(rd_kafka_error_code(e), RD_KAFKA_RESP_ERR__INVALID_ARG);
        rd_kafka_error_destroy(e);

        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
    }
}

static PARTITIONER_CALLS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
static ON_PARTITION: [std::sync::atomic::AtomicI32; 4] =
    [const { std::sync::atomic::AtomicI32::new(0) }; 4];

unsafe extern "C" fn always_three(
    rkt: *const kafka::capi::rd_kafka_topic_t,
    _key: *const std::os::raw::c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut std::os::raw::c_void,
    _msg_opaque: *mut std::os::raw::c_void,
) -> i32 {
    assert_eq!(partition_cnt, 4);
    assert_eq!(rkt_opaque as usize, 0x55);
    assert_eq!(keylen, 3);
    // SAFETY: the topic object passed to the partitioner is live.
    assert_eq!(
        unsafe { kafka::capi::topic::rd_kafka_topic_partition_available(rkt, 3) },
        1
    );
    PARTITIONER_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    3
}

unsafe extern "C" fn count_partitions(
    _rk: *mut kafka::capi::rd_kafka_t,
    m: *const kafka::capi::rd_kafka_message_t,
    _opaque: *mut std::os::raw::c_void,
) {
    // SAFETY: a live message for the duration of the callback.
    let m = unsafe { &*m };
    if m.err == 0 && (0..4).contains(&m.partition) {
        ON_PARTITION[m.partition as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `rd_kafka_topic_conf_set_partitioner_cb`: the application's partitioner places messages
/// produced to `RD_KAFKA_PARTITION_UA`; an explicit partition bypasses it.
#[test]
fn application_partitioner_places_messages() {
    use kafka::capi::conf::*;
    use kafka::capi::handle::*;
    use kafka::capi::produce::rd_kafka_produce;
    use kafka::capi::topic::*;
    use kafka::capi::*;
    use std::ffi::CString;
    use std::os::raw::c_char;
    use std::sync::atomic::Ordering;

    let cluster = MockCluster::builder(1).topic("parted", 4).start();
    let mut errstr = [0 as c_char; 256];
    unsafe {
        let conf = rd_kafka_conf_new();
        let (n, v) = (
            CString::new("bootstrap.servers").unwrap(),
            CString::new(cluster.bootstrap()).unwrap(),
        );
        rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 256);
        rd_kafka_conf_set_dr_msg_cb(conf, Some(count_partitions));
        let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), errstr.len());
        assert!(!rk.is_null());
        let tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, Some(always_three));
        rd_kafka_topic_conf_set_opaque(tconf, 0x55 as *mut _);
        let t = CString::new("parted").unwrap();
        let rkt = rd_kafka_topic_new(rk, t.as_ptr(), tconf);
        assert_eq!(rd_kafka_topic_opaque(rkt) as usize, 0x55);
        for i in 0..12 {
            let mut payload = *b"value";
            let part = if i < 10 { RD_KAFKA_PARTITION_UA } else { 1 };
            assert_eq!(
                rd_kafka_produce(
                    rkt,
                    part,
                    RD_KAFKA_MSG_F_COPY,
                    payload.as_mut_ptr().cast(),
                    payload.len(),
                    b"key".as_ptr().cast(),
                    3,
                    std::ptr::null_mut(),
                ),
                0
            );
        }
        assert_eq!(rd_kafka_flush(rk, 10_000), RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_eq!(PARTITIONER_CALLS.load(Ordering::Relaxed), 10);
        let counts: Vec<i32> = ON_PARTITION
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts, [0, 2, 0, 10]);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
    }
}
