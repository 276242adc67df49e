//! Runs `tests/c/conf_smoke.c` (configuration, partition lists, headers, errors through the C ABI)
//! linked against librskafka's cdylib and, when installed, against the system librdkafka, and
//! checks that both print the same. The C program is compiled against the system's rdkafka.h.
#![cfg(feature = "capi")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Codes whose name or description changed between librdkafka 2.0.2 (the system library) and
/// 2.15 (our target): `_DESTROY`'s wording, and three codes 2.0.2 does not have.
const CHANGED_SINCE_2_0_2: &[&str] = &["-197", "-139", "-138", "-137"];

fn profile_dir() -> PathBuf {
    // target/<profile>/deps/capi_smoke-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn compile(out: &Path, link: &[String]) -> bool {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/conf_smoke.c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    Command::new(cc)
        .args(["-Wall", "-Wno-deprecated-declarations", "-o"])
        .arg(out)
        .arg(&src)
        .args(link)
        .status()
        .is_ok_and(|s| s.success())
}

fn run(exe: &Path) -> String {
    let out = Command::new(exe).output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

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
    if !Path::new("/usr/include/librdkafka/rdkafka.h").exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capi_smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let lib_dir = profile_dir();
    let ours = dir.join("conf_smoke_librskafka");
    let link_ours = vec![
        format!("-L{}", lib_dir.display()),
        "-lkafka".to_string(),
        format!("-Wl,-rpath,{}", lib_dir.display()),
    ];
    // `cargo test` leaves the cdylib as it was: rebuild it so the current code is tested.
    let st = Command::new(env!("CARGO"))
        .args(["build", "--lib", "--features", "capi"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        compile(&ours, &link_ours),
        "linking against libkafka.so failed"
    );
    let out = run(&ours);
    assert!(out.starts_with("version: 2.15.0 (librskafka "), "{out}");
    assert!(out.contains(
        "conf_set no.such.property=1 -> -2 \"No such configuration property: \"no.such.property\"\""
    ));
    assert!(out.ends_with("done\n"));

    let theirs = dir.join("conf_smoke_librdkafka");
    if !compile(&theirs, &["-lrdkafka".to_string()]) {
        eprintln!("SKIP comparison: cannot link against the system librdkafka");
        return;
    }
    let expected = run(&theirs);
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
