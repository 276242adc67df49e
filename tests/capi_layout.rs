//! Compares librskafka's C ABI with librdkafka's header: struct sizes and field offsets, enum and
//! `#define` values, and every `RD_KAFKA_RESP_ERR_*` code. The C side is compiled with `cc`
//! against the system's `<librdkafka/rdkafka.h>` (Debian `librdkafka-dev`); the test is skipped
//! (with a message) when that header or `cc` is missing.
#![cfg(feature = "capi")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SYSTEM_HEADER: &str = "/usr/include/librdkafka/rdkafka.h";

fn tmpdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles and runs a C program, returning its "name value" lines; None if the toolchain or the
/// system header is missing.
fn run_c(src: &Path, exe: &Path) -> Option<BTreeMap<String, i64>> {
    if !Path::new(SYSTEM_HEADER).exists() {
        eprintln!("SKIP: {SYSTEM_HEADER} not installed (apt-get install librdkafka-dev)");
        return None;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = match Command::new(&cc).arg("-o").arg(exe).arg(src).status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("SKIP: cannot run {cc}: {e}");
            return None;
        }
    };
    assert!(st.success(), "compiling {} failed", src.display());
    let out = Command::new(exe).output().unwrap();
    assert!(out.status.success());
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_string(), v.parse().unwrap())
            })
            .collect(),
    )
}

#[test]
fn struct_layouts_and_constants_match_librdkafka() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/layout.c");
    let Some(c) = run_c(&src, &tmpdir("capi_layout").join("layout")) else {
        return;
    };
    let mut checked = 0;
    let mut bad = Vec::new();
    for (name, v) in kafka::capi::layout::struct_layouts() {
        match c.get(&name) {
            Some(&cv) if cv == v as i64 => checked += 1,
            other => bad.push(format!("{name}: C {other:?}, Rust {v}")),
        }
    }
    for (name, v) in kafka::capi::layout::constants() {
        match c.get(name) {
            Some(&cv) if cv == v => checked += 1,
            other => bad.push(format!("{name}: C {other:?}, Rust {v}")),
        }
    }
    assert!(bad.is_empty(), "ABI mismatches:\n{}", bad.join("\n"));
    // Every line the C program printed was compared.
    assert_eq!(checked, c.len());
    eprintln!("{checked} sizes, offsets and constants match {SYSTEM_HEADER}");
}

#[test]
fn error_codes_match_librdkafka() {
    if !Path::new(SYSTEM_HEADER).exists() {
        eprintln!("SKIP: {SYSTEM_HEADER} not installed");
        return;
    }
    let header = std::fs::read_to_string(SYSTEM_HEADER).unwrap();
    // The enumerators of rd_kafka_resp_err_t, as declared in the header.
    let mut names: Vec<&str> = header
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("RD_KAFKA_RESP_ERR_") && (l.contains('=') || l.ends_with(',')))
        .map(|l| {
            l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap()
        })
        .collect();
    names.sort();
    names.dedup();
    let mut src =
        String::from("#include <stdio.h>\n#include <librdkafka/rdkafka.h>\nint main(void) {\n");
    for n in &names {
        src.push_str(&format!("    printf(\"{n} %d\\n\", (int){n});\n"));
    }
    src.push_str("    return 0;\n}\n");
    let dir = tmpdir("capi_layout");
    let path = dir.join("errcodes.c");
    std::fs::write(&path, src).unwrap();
    let Some(c) = run_c(&path, &dir.join("errcodes")) else {
        return;
    };
    let mut bad = Vec::new();
    for (name, v) in &c {
        let short = name.strip_prefix("RD_KAFKA_RESP_ERR_").unwrap();
        if short == "END_ALL" {
            // One past the last code: grows with every librdkafka release.
            let ours = kafka::capi::layout::error_code("END_ALL").unwrap() as i64;
            assert!(ours >= *v, "END_ALL {ours} < system {v}");
            continue;
        }
        match kafka::capi::layout::error_code(short) {
            Some(r) if r as i64 == *v => {}
            other => bad.push(format!("{name}: C {v}, Rust {other:?}")),
        }
    }
    assert!(bad.is_empty(), "error code mismatches:\n{}", bad.join("\n"));
    eprintln!("{} error codes match {SYSTEM_HEADER}", c.len());
}
