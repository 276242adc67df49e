//! Runs `tests/c/conf_smoke.c` (configuration, partition lists, headers, errors through the C ABI)
//! linked against librskafka's cdylib and against the system librdkafka, and checks that both
//! print the same. The C program is compiled against the system's rdkafka.h.
#![cfg(feature = "capi")]

mod common;

use std::path::Path;

use common::capi::{build_both, run, HEADER};

/// Codes whose name or description changed between librdkafka 2.0.2 (the system library) and
/// 2.15 (our target): `_DESTROY`'s wording, and three codes 2.0.2 does not have.
const CHANGED_SINCE_2_0_2: &[&str] = &["-197", "-139", "-138", "-137"];

fn comparable(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.starts_with("version:"))
        .filter(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            let code = match w.first() {
                Some(&"err") => w.get(1),
                Some(&"desc") => w.get(2),
                _ => None,
            };
            !code.is_some_and(|c| CHANGED_SINCE_2_0_2.contains(c))
        })
        .collect()
}

#[test]
fn conf_smoke_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/conf_smoke.c", "conf_smoke");
    let out = run(&ours, &[]);
    assert!(out.starts_with("version: 2.15.0 (librskafka "), "{out}");
    assert!(out.contains(
        "conf_set no.such.property=1 -> -2 \"No such configuration property: \"no.such.property\"\""
    ));
    assert!(out.ends_with("done\n"));

    let expected = run(&theirs, &[]);
    let (a, b) = (comparable(&expected), comparable(&out));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(
            x, y,
            "line {i} differs (left: librdkafka, right: librskafka)"
        );
    }
    assert_eq!(a.len(), b.len(), "different number of lines");
    eprintln!(
        "{} lines identical to the system librdkafka's output",
        a.len()
    );
}
