//! The high-level consumer path of the C ABI against librdkafka's mock cluster:
//! - `tests/c/consume.c` (compiled against the system rdkafka.h) subscribes with a rebalance
//!   callback, consumes what librdkafka produced, commits and reads the committed offsets back,
//!   linked once against librskafka's cdylib and once against the system librdkafka; both must
//!   print the same;
//! - Debian's `kcat -G` (high-level consumer) and `kcat -C` (legacy consumer: metadata, queue,
//!   `rd_kafka_consume_start_queue`, `rd_kafka_consume_callback_queue`) run with our library as
//!   `librdkafka.so.1` and print what they print on the system librdkafka.
#![cfg(feature = "capi")]

mod common;

use std::path::Path;

use common::{produce_with_librdkafka, MockCluster};

use common::capi::{build_both, have_kcat, lib_dir, run, run_on, HEADER};

#[test]
fn consume_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/consume.c", "consume");

    let cluster = MockCluster::builder(3)
        .topic("cons-ours", 4)
        .topic("cons-theirs", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    let n = 1000;
    produce_with_librdkafka(cluster.bootstrap(), "cons-ours", n, 100, "none");
    produce_with_librdkafka(cluster.bootstrap(), "cons-theirs", n, 100, "none");
    let n = n.to_string();
    let expected = run(
        &theirs,
        &[cluster.bootstrap(), "cons-theirs", "g-theirs", &n, "4"],
    );
    let out = run(
        &ours,
        &[cluster.bootstrap(), "cons-ours", "g-ours", &n, "4"],
    );
    let norm = |s: &str| s.replace("cons-ours", "T").replace("cons-theirs", "T");
    eprintln!("librdkafka:\n{expected}\nlibrskafka:\n{out}");
    assert_eq!(
        norm(&expected),
        norm(&out),
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(out.contains("consumed 1000 dups 0 bad 0 eofs 4\n"), "{out}");
    assert!(out.contains("rebalance _ASSIGN_PARTITIONS"), "{out}");
    assert!(out.contains("rebalance _REVOKE_PARTITIONS"), "{out}");
    assert!(
        out.contains("offset_commit_cb NO_ERROR (4 partitions)\n"),
        "{out}"
    );
    assert!(out.ends_with("done\n"));

    // Cooperative rebalancing: the callback applies it with incremental_assign/unassign.
    let expected = run(
        &theirs,
        &[
            cluster.bootstrap(),
            "cons-theirs",
            "gc-theirs",
            &n,
            "4",
            "cooperative",
        ],
    );
    let out = run(
        &ours,
        &[
            cluster.bootstrap(),
            "cons-ours",
            "gc-ours",
            &n,
            "4",
            "cooperative",
        ],
    );
    eprintln!("cooperative, librdkafka:\n{expected}\nlibrskafka:\n{out}");
    assert_eq!(
        norm(&expected),
        norm(&out),
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(out.contains("protocol COOPERATIVE"), "{out}");
    assert!(out.contains("incremental assign -> OK"), "{out}");
}

#[test]
fn consume_legacy_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/consume_legacy.c", "consume_legacy");

    let cluster = MockCluster::builder(3).topic("legacy", 3).start();
    produce_with_librdkafka(cluster.bootstrap(), "legacy", 600, 50, "none");
    let expected = run(&theirs, &[cluster.bootstrap(), "legacy", "600"]);
    let out = run(&ours, &[cluster.bootstrap(), "legacy", "600"]);
    eprintln!("librdkafka:\n{expected}\nlibrskafka:\n{out}");
    assert_eq!(
        expected, out,
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(out.contains("consumed 600 bad 0 eofs 3\n"), "{out}");
    assert!(out.contains("after seek [0] offset 10\n"), "{out}");
    assert!(out.ends_with("done\n"));
}

/// Runs kcat with `args`; `lib_dir` (if any) goes on `LD_LIBRARY_PATH`. Returns (success,
/// stdout, stderr).
fn kcat(lib_dir: Option<&Path>, args: &[&str]) -> (bool, String, String) {
    run_on(Path::new("kcat"), lib_dir, args)
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn kcat_group_consumer_through_librskafka() {
    if !have_kcat() {
        eprintln!("SKIP: kcat is not installed");
        return;
    }
    let dir = lib_dir();

    let cluster = MockCluster::builder(3)
        .topic("kcat-c", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    let n = 200;
    produce_with_librdkafka(cluster.bootstrap(), "kcat-c", n, 20, "none");
    let b = cluster.bootstrap();
    let fmt = "%t %p %o %k\\n";
    let args = |g: &'static str| {
        vec![
            "-b",
            b,
            "-G",
            g,
            "-o",
            "beginning",
            "-e",
            "-f",
            fmt,
            "kcat-c",
        ]
    };
    let (ok_theirs, out_theirs, err_theirs) = kcat(None, &args("kcat-theirs"));
    assert!(
        ok_theirs,
        "kcat on the system librdkafka failed: {err_theirs}"
    );
    let (ok_ours, out_ours, err_ours) = kcat(Some(&dir), &args("kcat-ours"));
    eprintln!(
        "kcat -G on librdkafka: stderr:\n{err_theirs}\nkcat -G on librskafka: stderr:\n{err_ours}"
    );
    assert!(ok_ours, "kcat on librskafka failed: {err_ours}");
    assert!(
        !err_ours.contains("NOTIMPL"),
        "kcat called functions librskafka does not implement:\n{err_ours}"
    );
    assert_eq!(sorted_lines(&out_theirs).len(), n as usize);
    assert_eq!(sorted_lines(&out_theirs), sorted_lines(&out_ours));

    // The legacy consumer (no group): from the beginning, and the last 5 of each partition.
    for offset in ["beginning", "-5"] {
        let args = ["-b", b, "-C", "-t", "kcat-c", "-o", offset, "-e", "-f", fmt];
        let (ok_theirs, out_theirs, err_theirs) = kcat(None, &args);
        assert!(
            ok_theirs,
            "kcat -C on the system librdkafka failed: {err_theirs}"
        );
        let (ok_ours, out_ours, err_ours) = kcat(Some(&dir), &args);
        assert!(ok_ours, "kcat -C on librskafka failed: {err_ours}");
        assert!(
            !err_ours.contains("NOTIMPL"),
            "kcat -C called functions librskafka does not implement:\n{err_ours}"
        );
        assert_eq!(
            sorted_lines(&out_theirs),
            sorted_lines(&out_ours),
            "kcat -C -o {offset}"
        );
        // Which partition reaches its end last (": exiting") is timing-dependent.
        let eofs = |s: &str| sorted_lines(&s.replace(": exiting", ""));
        assert_eq!(eofs(&err_theirs), eofs(&err_ours));
    }
}

/// Group functions refuse NULL handles with `_INVALID_ARG` and producers with librdkafka's
/// `_UNKNOWN_GROUP` (no broker needed: nothing is sent); tests/capi_misuse.rs compares more.
#[test]
fn consumer_functions_refuse_bad_handles() {
    use kafka::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set};
    use kafka::capi::consumer::*;
    use kafka::capi::group::*;
    use kafka::capi::handle::*;
    use kafka::capi::incremental::*;
    use kafka::capi::message::rd_kafka_message_destroy;
    use kafka::capi::*;
    use std::ffi::CString;
    use std::os::raw::c_char;

    let mut errstr = [0 as c_char; 256];
    unsafe {
        let conf = rd_kafka_conf_new();
        let (n, v) = (
            CString::new("bootstrap.servers").unwrap(),
            CString::new("127.0.0.1:1").unwrap(),
        );
        assert_eq!(
            rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 256),
            RD_KAFKA_CONF_OK
        );
        let producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), errstr.len());
        assert!(!producer.is_null());
        for (rk, want) in [
            (std::ptr::null_mut(), RD_KAFKA_RESP_ERR__INVALID_ARG),
            (producer, RD_KAFKA_RESP_ERR__UNKNOWN_GROUP),
        ] {
            assert_eq!(rd_kafka_subscribe(rk, std::ptr::null()), want);
            assert_eq!(rd_kafka_unsubscribe(rk), want);
            assert_eq!(rd_kafka_assign(rk, std::ptr::null()), want);
            assert_eq!(rd_kafka_commit(rk, std::ptr::null(), 0), want);
            let m = rd_kafka_consumer_poll(rk, 0);
            if rk.is_null() {
                assert!(m.is_null());
            } else {
                assert_eq!((*m).err, RD_KAFKA_RESP_ERR__UNKNOWN_GROUP);
                rd_kafka_message_destroy(m);
            }
            assert!(rd_kafka_memberid(rk).is_null());
            assert_eq!(rd_kafka_assignment_lost(rk), 0);
            assert_eq!(rd_kafka_consumer_closed(rk), 0);
            assert!(rd_kafka_rebalance_protocol(rk).is_null());
            let e = rd_kafka_incremental_assign(rk, std::ptr::null());
            assert!(!e.is_null());
            assert_eq!(
                kafka::capi::error::rd_kafka_error_code(e),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );
            kafka::capi::error::rd_kafka_error_destroy(e);
        }
        rd_kafka_destroy(producer);
    }
}
