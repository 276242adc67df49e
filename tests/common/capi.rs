//! Shared by the C ABI tests: the cdylib to link C programs against, compiling them against the
//! system's rdkafka.h, and running them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The system's librdkafka header (Debian `librdkafka-dev`) the C programs are compiled against.
pub const HEADER: &str = "/usr/include/librdkafka/rdkafka.h";

/// `target/<profile>`, from the test binary's path (`target/<profile>/deps/<test>-<hash>`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
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
    use std::sync::OnceLock;
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

/// Compiles `src` (relative to the crate root) into `out` with the extra `link` arguments.
pub fn compile(src: &str, out: &Path, link: &[String]) {
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
