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
use std::path::{Path, PathBuf};
use std::process::Command;

use common::MockCluster;
use serde_json::Value;

const HEADER: &str = "/usr/include/librdkafka/rdkafka.h";

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("capi_stats")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The cdylib with the `capi` feature, rebuilt first (`cargo test` only builds the rlib).
fn our_lib() -> PathBuf {
    let st = Command::new(env!("CARGO"))
        .args(["build", "--lib", "--features", "capi"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(st.success());
    profile_dir().join("libkafka.so")
}

fn compile(src: &str, out: &Path, link: &[String]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(src);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(cc)
        .args(["-Wall", "-Wno-deprecated-declarations", "-o"])
        .arg(out)
        .arg(&src)
        .args(link)
        .status()
        .unwrap();
    assert!(st.success(), "compiling {} failed", src.display());
}

fn run(exe: &Path, args: &[&str]) -> String {
    let out = Command::new(exe).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} failed ({}): stdout {} stderr {}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

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
    let lib = our_lib();
    let lib_dir = lib.parent().unwrap();
    let ours_dir = work_dir("librskafka");
    let theirs_dir = work_dir("librdkafka");
    let ours = ours_dir.join("stats");
    compile(
        "tests/c/stats.c",
        &ours,
        &[
            format!("-L{}", lib_dir.display()),
            "-lkafka".to_string(),
            format!("-Wl,-rpath,{}", lib_dir.display()),
        ],
    );
    let theirs = theirs_dir.join("stats");
    compile("tests/c/stats.c", &theirs, &["-lrdkafka".to_string()]);

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
