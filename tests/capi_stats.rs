//! Statistics through the C ABI: `tests/c/stats.c` (compiled against the system rdkafka.h) runs
//! once linked against librskafka's cdylib and once against the system librdkafka 2.0.2. Both
//! must print the same (stats_cb called with the handle's opaque and the JSON's length; the
//! documents show what was produced and committed; return 1 keeps the buffer, 0 frees it), and
//! the JSON documents each wrote must have the same key paths: ours must contain every key
//! librdkafka emits, with the same JSON type (broker, topic and partition names are mapped to
//! placeholders).
#![cfg(feature = "capi")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::capi::{build_both, run, work_dir, HEADER};
use common::MockCluster;
use serde_json::Value;

/// Every key path of `v` with its JSON type; members of name-keyed objects become `*`.
fn key_paths(v: &Value, path: &str, out: &mut BTreeMap<String, &'static str>) {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.insert(path.to_string(), kind);
    if let Value::Object(m) = v {
        let named = ["brokers", "topics", "partitions", "toppars"]
            .iter()
            .any(|k| path.ends_with(&format!("/{k}")));
        for (k, x) in m {
            let k = if named { "*" } else { k.as_str() };
            key_paths(x, &format!("{path}/{k}"), out);
        }
    }
}

fn load(dir: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}: {text}"))
}

#[test]
fn stats_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let ours_dir = work_dir("capi_stats/librskafka");
    let theirs_dir = work_dir("capi_stats/librdkafka");
    let (ours, theirs) = build_both("tests/c/stats.c", "stats");

    let cluster = MockCluster::builder(3)
        .topic("stats-ours", 4)
        .topic("stats-theirs", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    let g = format!("stats-{}", std::process::id());
    let out = run(
        &ours,
        &[
            cluster.bootstrap(),
            "stats-ours",
            &format!("{g}-ours"),
            ours_dir.to_str().unwrap(),
        ],
    );
    let expected = run(
        &theirs,
        &[
            cluster.bootstrap(),
            "stats-theirs",
            &format!("{g}-theirs"),
            theirs_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(
        expected, out,
        "left: linked against librdkafka, right: against librskafka"
    );
    assert!(out.contains("producer stats txmsgs 1\n"), "{out}");
    assert!(out.contains("consumer stats committed 1\n"), "{out}");
    assert!(out.ends_with("done\n"));

    for file in ["producer.json", "consumer.json"] {
        let (mut mine, mut reference) = (BTreeMap::new(), BTreeMap::new());
        key_paths(&load(&ours_dir, file), "", &mut mine);
        key_paths(&load(&theirs_dir, file), "", &mut reference);
        let missing: Vec<String> = reference
            .iter()
            .filter(|(k, t)| mine.get(*k) != Some(*t))
            .map(|(k, t)| format!("{k} ({t}, ours: {:?})", mine.get(k)))
            .collect();
        assert!(
            missing.is_empty(),
            "{file}: keys librdkafka emits that ours lacks or types differently:\n{}",
            missing.join("\n")
        );
    }
    let doc = load(&ours_dir, "consumer.json");
    let p0 = &doc["topics"]["stats-ours"]["partitions"]["0"];
    assert_eq!(p0["committed_offset"], 50);
    assert_eq!(p0["app_offset"], 50);
    assert_eq!(doc["rxmsgs"], 50);
    let doc = load(&ours_dir, "producer.json");
    assert_eq!(doc["txmsgs"], 50);
    assert_eq!(doc["topics"]["stats-ours"]["partitions"]["0"]["txmsgs"], 50);
}
