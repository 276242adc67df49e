//! Misuse of the C API (`tests/c/misuse.c`, compiled against the system rdkafka.h): NULL
//! arguments, consumer calls on a producer and on a consumer without `group.id`, producer calls on
//! a consumer, invalid configuration, oversized messages, partition list and header misuse.
//! Linked against the system librdkafka and against librskafka, both must print the same (up to
//! the "librskafka only" section: cases librdkafka itself crashes on). The librskafka build runs
//! under valgrind: no invalid read or write, no memory definitely lost.
#![cfg(feature = "capi")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::capi::{build_both_with, run, HEADER};

/// The last lines of a run, after every handle was destroyed.
const TAIL: &str = "wait_destroyed -> 0\ndone, 0 wrong\n";

fn stdout_of(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}): stdout {} stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn have_valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn misuse_matches_librdkafka_and_is_clean_under_valgrind() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both_with("tests/c/misuse.c", "misuse", &["-Werror", "-g"]);

    let expected = run(&theirs, &[]);
    let out = if have_valgrind() {
        let o = Command::new("valgrind")
            .args([
                "-q",
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
            ])
            .arg(&ours)
            .output()
            .unwrap();
        stdout_of("librskafka under valgrind", &o)
    } else {
        eprintln!("SKIP valgrind: not installed (apt-get install valgrind)");
        run(&ours, &[])
    };

    let (shared, only_ours) = out
        .split_once("librskafka only\n")
        .expect("the librskafka-only section");
    assert_eq!(
        expected
            .strip_suffix(TAIL)
            .expect("librdkafka's run ends with TAIL"),
        shared,
        "left: librdkafka, right: librskafka"
    );
    assert!(!only_ours.contains("WRONG"), "{only_ours}");
    assert!(only_ours.ends_with(TAIL), "{only_ours}");
    for line in [
        "produce 1001 bytes -> -1 MSG_SIZE_TOO_LARGE errno 90\n",
        "produce_batch 3 (one oversized) -> 2 [NO_ERROR MSG_SIZE_TOO_LARGE NO_ERROR]\n",
        "producer subscribe -> _UNKNOWN_GROUP\n",
        "consumer flush -> _NOT_IMPLEMENTED\n",
        "incremental_assign duplicate -> _INVALID_ARG \"Duplicate misuse [0] in input list\"\n",
    ] {
        assert!(shared.contains(line), "missing {line:?} in {shared}");
    }
}
