//! Locating and building `tests/mock-launcher`, and its `produce`/`consume` subcommands.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where the launcher's build output lives (git-ignored), independent of `CARGO_TARGET_DIR`.
fn launcher_target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mock-launcher/target")
}

/// The path of the `mock-launcher` binary, building it (release) first if it is missing.
///
/// `scripts/install-deps.sh` builds it too; building here keeps a bare `cargo test` working.
pub fn launcher_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let bin = launcher_target_dir().join("release/mock-launcher");
        if !bin.exists() {
            let manifest =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mock-launcher/Cargo.toml");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            eprintln!("building {} (about a minute)", bin.display());
            let status = Command::new(cargo)
                .arg("build")
                .arg("--release")
                .arg("--manifest-path")
                .arg(&manifest)
                .arg("--target-dir")
                .arg(launcher_target_dir())
                .status()
                .expect("running cargo to build the mock launcher");
            assert!(
                status.success(),
                "building the mock launcher failed: {status}"
            );
            assert!(bin.exists(), "{} missing after build", bin.display());
        }
        bin
    })
}

/// `(key, value, headers)`; headers as `(name, value)` in order.
pub type ExpectedMessage = (Vec<u8>, Vec<u8>, Vec<(String, Vec<u8>)>);

/// Message `i` (0-based) of the sequence that `mock-launcher produce --size SIZE` produces:
/// `(key, value, headers)`.
///
/// - key: `key-{i}`
/// - value: `value-{i}-` followed by filler bytes `b'a' + (j % 26)` for `j = 0, 1, ...` until
///   the value is `size` bytes long; if `value-{i}-` is already `size` bytes or longer, the
///   value is exactly that prefix;
/// - headers, in order: `idx` = `i` in decimal; then, for even `i` only, two headers with the
///   same key: `dup` = `a`, `dup` = `b`.
///
/// Must stay identical to `expected_message` in `tests/mock-launcher/src/main.rs`.
pub fn expected_message(i: u64, size: usize) -> ExpectedMessage {
    let key = format!("key-{i}").into_bytes();
    let mut value = format!("value-{i}-").into_bytes();
    let mut j = 0usize;
    while value.len() < size {
        value.push(b'a' + (j % 26) as u8);
        j += 1;
    }
    let mut headers = vec![("idx".to_string(), i.to_string().into_bytes())];
    if i.is_multiple_of(2) {
        headers.push(("dup".to_string(), b"a".to_vec()));
        headers.push(("dup".to_string(), b"b".to_vec()));
    }
    (key, value, headers)
}

/// Produces `count` messages of [`expected_message`]`(i, size)` to `topic` with librdkafka
/// 2.12.1 (idempotent, default partitioner, `codec` = none|gzip|snappy|lz4|zstd) and panics
/// unless every one was delivered.
pub fn produce_with_librdkafka(bootstrap: &str, topic: &str, count: u64, size: usize, codec: &str) {
    let out = Command::new(launcher_path())
        .args(["produce", "--bootstrap", bootstrap, "--topic", topic])
        .args(["--count", &count.to_string(), "--size", &size.to_string()])
        .args(["--codec", codec])
        .output()
        .expect("running mock-launcher produce");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.lines().last() == Some(&format!("produced {count}")),
        "mock-launcher produce failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One message read back by [`consume_with_librdkafka`] (key and value as lossy UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedMessage {
    /// The partition librdkafka read it from.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    pub key: String,
    pub value: String,
    /// `(name, value)` in the order the message carries them.
    pub headers: Vec<(String, String)>,
}

/// Reads `count` messages of `topic` from the beginning of every partition with librdkafka
/// 2.12.1 (no consumer group; per-partition order, partitions interleaved). Panics if fewer
/// arrive within `timeout_ms`.
pub fn consume_with_librdkafka(
    bootstrap: &str,
    topic: &str,
    count: u64,
    timeout_ms: u64,
) -> Vec<ConsumedMessage> {
    run_consume(
        bootstrap,
        topic,
        &["--count", &count.to_string()],
        timeout_ms,
    )
}

/// Reads every message of `topic` from the beginning of each partition until librdkafka
/// reports the end of every partition (`enable.partition.eof`): what the broker holds now.
/// Panics if the ends are not reached within `timeout_ms`.
pub fn consume_all_with_librdkafka(
    bootstrap: &str,
    topic: &str,
    timeout_ms: u64,
) -> Vec<ConsumedMessage> {
    run_consume(bootstrap, topic, &["--until-eof"], timeout_ms)
}

fn run_consume(
    bootstrap: &str,
    topic: &str,
    extra: &[&str],
    timeout_ms: u64,
) -> Vec<ConsumedMessage> {
    let out = Command::new(launcher_path())
        .args(["consume", "--bootstrap", bootstrap, "--topic", topic])
        .args(["--headers", "--positions"])
        .args(extra)
        .args(["--timeout-ms", &timeout_ms.to_string()])
        .output()
        .expect("running mock-launcher consume");
    assert!(
        out.status.success(),
        "mock-launcher consume failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut f = l.splitn(5, '\t');
            let partition = f.next().and_then(|p| p.parse().ok()).unwrap_or(-1);
            let offset = f.next().and_then(|o| o.parse().ok()).unwrap_or(-1);
            let key = f.next().unwrap_or_default().to_string();
            let value = f.next().unwrap_or_default().to_string();
            let headers = f
                .next()
                .unwrap_or_default()
                .split(',')
                .filter(|h| !h.is_empty())
                .map(|h| {
                    let (k, v) = h.split_once('=').unwrap_or((h, ""));
                    (k.to_string(), v.to_string())
                })
                .collect();
            ConsumedMessage {
                partition,
                offset,
                key,
                value,
                headers,
            }
        })
        .collect()
}
