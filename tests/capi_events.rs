//! librdkafka's queue and event API on the C ABI, against librdkafka's mock cluster:
//! `tests/c/events.c` (compiled against the system rdkafka.h) takes delivery reports as DR events
//! from the main queue, forwards queues, and runs a group consumer on the consumer queue with
//! REBALANCE, FETCH, ERROR and OFFSET_COMMIT events; linked once against librskafka's cdylib and
//! once against the system librdkafka, both runs must print the same.
#![cfg(feature = "capi")]

mod common;

use std::path::Path;

use common::MockCluster;

use common::capi::{build_both, run, HEADER};

#[test]
fn events_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/events.c", "events");

    let cluster = MockCluster::builder(3)
        .topic("ev-ours", 4)
        .topic("ev-theirs", 4)
        .topic("evc-ours", 4)
        .topic("evc-theirs", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    let expected = run(
        &theirs,
        &[cluster.bootstrap(), "ev-theirs", "g-theirs", "500", "4"],
    );
    let out = run(
        &ours,
        &[cluster.bootstrap(), "ev-ours", "g-ours", "500", "4"],
    );
    eprintln!("librdkafka:\n{expected}\nlibrskafka:\n{out}");
    assert_eq!(
        expected, out,
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(
        out.contains("dr events: delivered 500 bad 0 count after array 0 batches ok\n"),
        "{out}"
    );
    assert!(out.contains("consumed 503 dups 0 bad 0 eofs 4\n"), "{out}");
    assert!(out.contains("purged reports 3 bad 0\n"), "{out}");
    assert!(out.contains("closed 1\n"), "{out}");
    assert!(out.contains("after close: poll NULL\n"), "{out}");
    assert!(
        out.contains("split: consumer queue 0 126 126 125 eofs 3\nsplit: partition queue 126 0 0 0 eofs 1, length 0\n"),
        "{out}"
    );
    assert!(out.ends_with("done\n"));

    // Cooperative rebalancing: the application applies the events incrementally.
    let args = |t: &'static str, g: &'static str| {
        vec![cluster.bootstrap(), t, g, "500", "4", "cooperative"]
    };
    let expected = run(&theirs, &args("evc-theirs", "gc-theirs"));
    let out = run(&ours, &args("evc-ours", "gc-ours"));
    eprintln!("cooperative, librdkafka:\n{expected}\nlibrskafka:\n{out}");
    assert_eq!(
        expected, out,
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(out.contains("incremental assign -> OK\n"), "{out}");
    assert!(out.contains("consumed 503 dups 0 bad 0 eofs 4\n"), "{out}");
}
