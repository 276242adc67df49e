//! rust-rdkafka 0.39 (`dynamic-linking`) on librskafka: `scripts/install.sh` installs our library
//! into a temporary prefix, `tests/rust-rdkafka-compat` is built against its `rdkafka.pc` (as
//! rdkafka-sys finds a system librdkafka) and run on a fresh mock cluster with
//! `LD_LIBRARY_PATH` at that prefix. Its transcript (deliveries with offsets, consumed messages
//! per partition, rebalances, committed offsets, positions, watermarks; manual assignment with
//! logical offsets, partition EOF, seek, pause/resume; oversized and purged messages; keyed
//! placement) must equal
//! `tests/rust-rdkafka-compat/expected.txt`, which is what librdkafka 2.12.1 prints. When a
//! librdkafka 2.12.1 `librdkafka.so.1` is at hand (`LIBRDKAFKA_2_12_DIR`, or the benchmarks'
//! `target/bench-cache/librdkafka-2.12.1/`), the same binary runs on it too and must print the same,
//! as must the system's librdkafka (Debian's 2.0.2) when installed.
#![cfg(feature = "capi")]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::MockCluster;

const TOPIC: &str = "rrd";
const KEYED_TOPIC: &str = "rrd-keyed";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Installs librskafka under a fixed temporary prefix (fixed, so that the compat crate's
/// rdkafka-sys build script, which depends on PKG_CONFIG_PATH, is not rerun every time).
/// Installed once per test binary: the tests run in parallel and share the prefix.
fn install_prefix() -> PathBuf {
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust_rdkafka/prefix");
            run_ok(
                Command::new("bash")
                    .arg(root().join("scripts/install.sh"))
                    .arg(&prefix)
                    .env("CARGO", env!("CARGO")),
            );
            prefix
        })
        .clone()
}

/// Builds the compat program against the installed `rdkafka.pc`, from the local cargo registry;
/// when crates are missing there, `cargo fetch` once (crates.io, locked versions) and retry.
/// `None` (skip) when its dependencies cannot be had.
fn build_compat(prefix: &Path) -> Option<PathBuf> {
    static BUILT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| build_compat_once(prefix)).clone()
}

fn build_compat_once(prefix: &Path) -> Option<PathBuf> {
    let dir = root().join("tests/rust-rdkafka-compat");
    let target = dir.join("target");
    let build = || {
        Command::new(env!("CARGO"))
            .args(["build", "--offline", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .env_remove("PKG_CONFIG_LIBDIR")
            .env_remove("RUSTFLAGS")
            .output()
            .expect("running cargo build for tests/rust-rdkafka-compat")
    };
    let missing_crates = |stderr: &str| {
        [
            "offline",
            "failed to download",
            "no matching package",
            "failed to select",
        ]
        .iter()
        .any(|s| stderr.contains(s))
    };
    let mut out = build();
    if !out.status.success() && missing_crates(&String::from_utf8_lossy(&out.stderr)) {
        let fetched = Command::new(env!("CARGO"))
            .args(["fetch", "--locked", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .status()
            .is_ok_and(|s| s.success());
        if fetched {
            out = build();
        }
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if missing_crates(&stderr) {
            eprintln!("SKIP: rust-rdkafka's crates cannot be had here:\n{stderr}");
            return None;
        }
        panic!("building tests/rust-rdkafka-compat failed:\n{stderr}");
    }
    Some(target.join("debug/rust-rdkafka-compat"))
}

/// A directory with librdkafka 2.12.1's `librdkafka.so.1`, if one was built on this machine.
fn reference_lib_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("LIBRDKAFKA_2_12_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([root().join("target/bench-cache/librdkafka-2.12.1")]);
    candidates
        .into_iter()
        .find(|d| d.join("librdkafka.so.1").is_file())
}

/// Runs the program on a fresh mock cluster with `librdkafka.so.1` from `lib_dir`: its stdout and
/// stderr. Killed after 120 s.
fn run_compat(exe: &Path, lib_dir: &Path) -> (String, String) {
    let cluster = MockCluster::builder(3)
        .topic(TOPIC, 3)
        .topic(KEYED_TOPIC, 4)
        .initial_rebalance_delay_ms(0)
        .start();
    run_compat_on(exe, lib_dir, cluster.bootstrap())
}

/// Runs the program against the brokers at `bootstrap` (topics created, empty).
fn run_compat_on(exe: &Path, lib_dir: &Path, bootstrap: &str) -> (String, String) {
    let mut child = Command::new(exe)
        .args([bootstrap, TOPIC, KEYED_TOPIC])
        .env("LD_LIBRARY_PATH", lib_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning rust-rdkafka-compat");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "rust-rdkafka-compat on {} timed out; stdout so far:\n{}",
                lib_dir.display(),
                out_reader.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out_reader.join().unwrap(), err_reader.join().unwrap());
    assert!(
        status.success(),
        "rust-rdkafka-compat on {} failed ({status}):\n{out}\nstderr:\n{err}",
        lib_dir.display()
    );
    (out, err)
}

/// Real outcomes spelled out, so that a failure says what went wrong before the full diff.
fn check_outcomes(transcript: &str) {
    let lines: Vec<&str> = transcript.lines().collect();
    let has = |l: &str| lines.contains(&l);
    for (stage, base) in [("base", 0), ("threaded", 2)] {
        for i in 0..6 {
            let line = format!(
                "{stage} delivered #{i} key={stage}-{i} partition={} offset={}",
                i % 3,
                base + i / 3
            );
            assert!(has(&line), "missing delivery report: {line}\n{transcript}");
        }
    }
    for i in 0..6 {
        let line = format!(
            "future delivered #{i} key=future-{i} partition={} offset={}",
            i % 3,
            4 + i / 3
        );
        assert!(has(&line), "missing delivery: {line}\n{transcript}");
    }
    assert!(has("future send key=future-6 partition=0 offset=6"));
    assert_eq!(
        lines
            .iter()
            .filter(|l| ["base ", "threaded ", "future "]
                .iter()
                .any(|s| l.starts_with(s) && l.contains(" delivered #")))
            .count(),
        18,
        "each message is reported once\n{transcript}"
    );
    for who in ["base", "stream"] {
        assert!(has(&format!("{who} consumed 19 messages")), "{transcript}");
        for (p, n) in [(0, 7), (1, 6), (2, 6)] {
            let line = format!("{who} partition {p}: {n} messages, in order: true");
            assert!(has(&line), "{line}\n{transcript}");
        }
        let assign =
            format!("{who} post_rebalance assign {{rrd[0]=Invalid rrd[1]=Invalid rrd[2]=Invalid}}");
        assert!(has(&assign), "{assign}\n{transcript}");
    }
    for line in [
        "base position {rrd[0]=7 rrd[1]=6 rrd[2]=6}",
        "base committed {rrd[0]=7 rrd[1]=6 rrd[2]=6}",
        "base committed after async commit {rrd[0]=5 rrd[1]=5 rrd[2]=5}",
        "stream committed after commit_message {rrd[0]=3 rrd[1]=3 rrd[2]=3}",
        "stream committed_offsets {rrd[0]=3 rrd[1]=5 rrd[2]=3}",
        "base watermarks [0] low 0 high 7",
        "metadata: 3 brokers",
        "manual assignment {rrd[0]=OffsetTail(2) rrd[1]=Beginning rrd[2]=End}",
        "manual partition 0: 2 messages, in order: true",
        "manual partition EOF [0, 1, 2]",
        "  [1]@4 future-1=value-future-1",
        "manual partition EOF while [2] paused [0, 1]",
        "manual resumed [2] partition 2: 6 messages, in order: true",
        "oversized message: Message production error: MessageSizeTooLarge (Broker: Message size too large)",
        "errors FAILED #2 key=purged-2: Message production error: PurgeQueue (Local: Purged in queue)",
        "consumer stats cgrp state up join_state steady assignment_size 4",
        "done",
    ] {
        assert!(has(line), "missing: {line}\n{transcript}");
    }
}

#[test]
fn rust_rdkafka_runs_unchanged_on_librskafka() {
    let prefix = install_prefix();
    let Some(exe) = build_compat(&prefix) else {
        return;
    };
    let expected = std::fs::read_to_string(root().join("tests/rust-rdkafka-compat/expected.txt"))
        .expect("reading expected.txt");

    let (ours, ours_err) = run_compat(&exe, &prefix.join("lib"));
    assert!(
        ours_err.contains("(librskafka "),
        "the program must have loaded librskafka: {ours_err}"
    );
    let notimpl: Vec<&str> = ours_err.lines().filter(|l| l.contains("NOTIMPL")).collect();
    assert!(
        notimpl.is_empty(),
        "unimplemented functions called: {notimpl:?}"
    );
    check_outcomes(&ours);
    assert_eq!(
        ours, expected,
        "librskafka's transcript differs from librdkafka's"
    );

    // Debian's librdkafka 2.0.2 (the system's, when installed) prints the same too.
    let system = Path::new("/usr/lib/x86_64-linux-gnu");
    if system.join("librdkafka.so.1").is_file() {
        let (theirs, theirs_err) = run_compat(&exe, system);
        assert!(theirs_err.contains("librdkafka version 2."), "{theirs_err}");
        assert_eq!(theirs, expected, "the system librdkafka prints otherwise");
    } else {
        eprintln!("SKIP comparison: no system librdkafka.so.1");
    }

    match reference_lib_dir() {
        Some(dir) => {
            let (theirs, theirs_err) = run_compat(&exe, &dir);
            assert!(
                theirs_err.contains("librdkafka version 2.12."),
                "{} is not librdkafka 2.12: {theirs_err}",
                dir.display()
            );
            assert_eq!(
                theirs, expected,
                "librdkafka 2.12.1 no longer prints expected.txt"
            );
        }
        None => eprintln!(
            "SKIP comparison: no librdkafka 2.12.1 librdkafka.so.1 (set LIBRDKAFKA_2_12_DIR); \
             compared with tests/rust-rdkafka-compat/expected.txt only"
        ),
    }
}

/// The same program, linked against the system librdkafka and against librskafka, served by
/// librskafka's in-process mock cluster (`kafka::mock`, and through rust-rdkafka's `MockCluster`
/// on librskafka) instead of librdkafka's: the transcript is
/// expected.txt except for `offsets_for_times(0)`, which librdkafka's mock answers with the end
/// offset and ours, as Kafka, with the first offset at or after the timestamp.
#[test]
fn rust_rdkafka_on_librskafkas_mock_cluster() {
    let prefix = install_prefix();
    let Some(exe) = build_compat(&prefix) else {
        return;
    };
    let expected = std::fs::read_to_string(root().join("tests/rust-rdkafka-compat/expected.txt"))
        .expect("reading expected.txt")
        .replace(
            "base offsets_for_timestamp(0) {rrd[0]=End rrd[1]=End rrd[2]=End}",
            "base offsets_for_timestamp(0) {rrd[0]=0 rrd[1]=0 rrd[2]=0}",
        );
    let system = Path::new("/usr/lib/x86_64-linux-gnu");
    let libs = [
        Some(prefix.join("lib")),
        system
            .join("librdkafka.so.1")
            .is_file()
            .then(|| system.to_path_buf()),
    ];
    for lib in libs.into_iter().flatten() {
        let cluster = kafka::mock::MockCluster::new(3).unwrap();
        cluster.set_initial_rebalance_delay(Duration::ZERO);
        cluster.create_topic(TOPIC, 3, 1).unwrap();
        cluster.create_topic(KEYED_TOPIC, 4, 1).unwrap();
        let (out, _) = run_compat_on(&exe, &lib, cluster.bootstrap_servers());
        check_outcomes(&out);
        assert_eq!(out, expected, "on {}", lib.display());
    }
}
