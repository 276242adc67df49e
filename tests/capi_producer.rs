//! The producer path of the C ABI against librdkafka's mock cluster:
//! - `tests/c/produce.c` (compiled against the system rdkafka.h) produces 2000 messages through
//!   `rd_kafka_producev` and `rd_kafka_produce`, linked once against librskafka's cdylib and once
//!   against the system librdkafka; both must print the same, and librdkafka must read back what
//!   librskafka produced;
//! - Debian's `kcat -P` runs with our library as `librdkafka.so.1` on `LD_LIBRARY_PATH`.
#![cfg(feature = "capi")]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{consume_with_librdkafka, MockCluster};

const HEADER: &str = "/usr/include/librdkafka/rdkafka.h";

fn profile_dir() -> PathBuf {
    // target/<profile>/deps/capi_producer-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capi_producer");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The cdylib with the `capi` feature (built here if a test run did not build it).
fn our_lib() -> PathBuf {
    let lib = profile_dir().join("libkafka.so");
    let has_capi = |p: &Path| {
        Command::new("nm")
            .arg("-D")
            .arg(p)
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(" T rd_kafka_producev"))
    };
    if !has_capi(&lib) {
        let st = Command::new(env!("CARGO"))
            .args(["build", "--lib", "--features", "capi"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(st.success());
    }
    assert!(has_capi(&lib), "{} lacks the C ABI", lib.display());
    lib
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

#[test]
fn produce_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let lib = our_lib();
    let lib_dir = lib.parent().unwrap();
    let dir = work_dir();
    let ours = dir.join("produce_librskafka");
    compile(
        "tests/c/produce.c",
        &ours,
        &[
            format!("-L{}", lib_dir.display()),
            "-lkafka".to_string(),
            format!("-Wl,-rpath,{}", lib_dir.display()),
        ],
    );
    let theirs = dir.join("produce_librdkafka");
    compile("tests/c/produce.c", &theirs, &["-lrdkafka".to_string()]);

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
    assert!(out.contains("delivered 2000 failed 0 missing 0\n"), "{out}");
    assert!(out.contains("bad_content 0 bad_opaque 0 bad_topic 0 dup_offsets 0"));
    assert!(out.ends_with("done\n"));

    // What librdkafka reads back: every message once, with its key, value and headers.
    let got = consume_with_librdkafka(cluster.bootstrap(), "capi-ours", 2000, 30_000);
    let mut by_key = HashMap::new();
    for m in &got {
        assert!(
            by_key.insert(m.key.clone(), m.clone()).is_none(),
            "duplicate {}",
            m.key
        );
    }
    for i in 0..2000 {
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
    if Command::new("kcat").arg("-V").output().is_err() {
        eprintln!("SKIP: kcat is not installed");
        return;
    }
    let lib = our_lib();
    // A directory where librdkafka.so.1 is our library.
    let dir = work_dir().join("kcat-lib");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("librdkafka.so.1");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&lib, &link).unwrap();

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
