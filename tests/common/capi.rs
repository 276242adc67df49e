//! Shared by the C ABI tests: the cdylib to link C programs against, compiling them against the
//! system's rdkafka.h, a `librdkafka.so.1` directory for unchanged programs (kcat, Python), and
//! running them.
//!
//! Tests of one binary run in parallel, and running a program while another test relinks it
//! fails (EACCES/ETXTBSY). So every output path is made once per test binary: [`our_lib`] and
//! [`lib_dir`] are memoised, and [`build_both`] builds each name once (later calls with the same
//! name reuse the programs; the same name for another source panics). Call [`compile`] directly
//! only with a path no other test of the binary writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

/// The system's librdkafka header (Debian `librdkafka-dev`) the C programs are compiled against.
pub const HEADER: &str = "/usr/include/librdkafka/rdkafka.h";

/// `target/<profile>`, from the test binary's path (`target/<profile>/deps/<test>-<hash>`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The name of the running test binary (`capi_metadata` for `deps/capi_metadata-<hash>`).
pub fn test_binary_name() -> String {
    let exe = std::env::current_exe().unwrap();
    let stem = exe.file_stem().unwrap().to_string_lossy().into_owned();
    match stem.rsplit_once('-') {
        Some((name, _hash)) => name.to_string(),
        None => stem,
    }
}

/// A scratch directory of the test named `name`, created if missing.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The cdylib with the `capi` feature, rebuilt once per test binary: `cargo test` builds the
/// test's rlib but leaves `libkafka.so` as it was, so the C programs would run an older library.
pub fn our_lib() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--lib", "--features", "capi"]);
        if profile_dir().ends_with("release") {
            cmd.arg("--release");
        }
        let st = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(st.success());
    });
    let lib = profile_dir().join("libkafka.so");
    let has_capi = Command::new("nm")
        .arg("-D")
        .arg(&lib)
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(" T rd_kafka_producev"));
    assert!(has_capi, "{} missing or lacks the C ABI", lib.display());
    lib
}

/// A directory where `librdkafka.so.1` is our library, for programs linked against librdkafka
/// (`LD_LIBRARY_PATH`); one per test binary, made once.
pub fn lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let lib = our_lib();
        let dir = work_dir(&test_binary_name()).join("lib");
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("librdkafka.so.1");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&lib, &link).unwrap();
        dir
    })
    .clone()
}

/// Compiles `src` (relative to the crate root) into `out` with the extra `link` arguments.
pub fn compile(src: &str, out: &Path, link: &[String]) {
    compile_with(src, out, &[], link)
}

/// [`compile`] with extra compiler flags (`-Werror`, `-g`...).
pub fn compile_with(src: &str, out: &Path, cflags: &[&str], link: &[String]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(src);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(cc)
        .args(["-Wall", "-Wno-deprecated-declarations"])
        .args(cflags)
        .arg("-o")
        .arg(out)
        .arg(&src)
        .args(link)
        .status()
        .unwrap();
    assert!(st.success(), "compiling {} failed", src.display());
}

/// `src` compiled twice into the test binary's work dir: `<name>_librskafka` linked against our
/// cdylib, `<name>_librdkafka` against the system librdkafka. Returns (ours, theirs).
pub fn build_both(src: &str, name: &str) -> (PathBuf, PathBuf) {
    build_both_with(src, name, &[])
}

/// [`build_both`] with extra compiler flags; built once per `name` in a test binary.
pub fn build_both_with(src: &str, name: &str, cflags: &[&str]) -> (PathBuf, PathBuf) {
    type Built = Arc<OnceLock<(PathBuf, PathBuf)>>;
    static BUILDS: OnceLock<Mutex<HashMap<String, (String, Built)>>> = OnceLock::new();
    let cell = {
        let mut builds = BUILDS.get_or_init(Default::default).lock().unwrap();
        let (built_src, cell) = builds
            .entry(name.to_string())
            .or_insert_with(|| (src.to_string(), Arc::default()));
        assert_eq!(built_src, src, "two sources built as {name}");
        cell.clone()
    };
    cell.get_or_init(|| {
        let lib = our_lib();
        let lib_dir = lib.parent().unwrap();
        let dir = work_dir(&test_binary_name());
        let ours = dir.join(format!("{name}_librskafka"));
        let link_ours = [
            format!("-L{}", lib_dir.display()),
            "-lkafka".to_string(),
            format!("-Wl,-rpath,{}", lib_dir.display()),
        ];
        compile_with(src, &ours, cflags, &link_ours);
        let theirs = dir.join(format!("{name}_librdkafka"));
        compile_with(src, &theirs, cflags, &["-lrdkafka".to_string()]);
        (ours, theirs)
    })
    .clone()
}

/// Runs `exe` (at most 120 s) and returns its stdout; fails the test if it fails.
pub fn run(exe: &Path, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("120")
        .arg(exe)
        .args(args)
        .output()
        .unwrap();
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

/// Runs `program` (at most 60 s) with `LD_LIBRARY_PATH=lib_dir` if given, whatever its outcome:
/// (success, stdout, stderr).
pub fn run_on(program: &Path, lib_dir: Option<&Path>, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("timeout");
    cmd.arg("60").arg(program).args(args);
    if let Some(d) = lib_dir {
        cmd.env("LD_LIBRARY_PATH", d);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether Debian's `kcat` is installed.
pub fn have_kcat() -> bool {
    Command::new("kcat").arg("-V").output().is_ok()
}
