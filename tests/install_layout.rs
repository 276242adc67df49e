//! `scripts/install.sh PREFIX` (and `make install`) lays librskafka out as librdkafka is installed:
//! this test installs into a temporary prefix, checks the files and links, asks `pkg-config` for
//! `rdkafka`, then builds `tests/c/installed.c` with those flags against the installed header and
//! runs it: it must load librskafka (its version string says so), dynamically and statically.
#![cfg(feature = "capi")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): stdout {} stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn link_target(p: &Path) -> PathBuf {
    std::fs::read_link(p).unwrap_or_else(|e| panic!("{} is not a symlink: {e}", p.display()))
}

#[test]
fn install_lays_out_librdkafka_and_pkg_config_finds_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install_layout");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let prefix = work.join("prefix");
    run_ok(
        Command::new("bash")
            .arg(root.join("scripts/install.sh"))
            .arg(&prefix)
            .env("CARGO", env!("CARGO")),
    );

    let lib = prefix.join("lib");
    assert!(lib.join("libkafka.so").is_file());
    assert!(lib.join("libkafka.a").is_file());
    assert_eq!(
        link_target(&lib.join("librdkafka.so.1")),
        Path::new("libkafka.so")
    );
    assert_eq!(
        link_target(&lib.join("librdkafka.so")),
        Path::new("librdkafka.so.1")
    );
    let header = prefix.join("include/librdkafka/rdkafka.h");
    assert_eq!(
        std::fs::read(&header).unwrap(),
        std::fs::read(root.join("include/rdkafka.h")).unwrap(),
        "the installed header is include/rdkafka.h"
    );
    let dynamic = run_ok(
        Command::new("readelf")
            .arg("-d")
            .arg(lib.join("libkafka.so")),
    );
    assert!(
        dynamic.contains("Library soname: [librdkafka.so.1]"),
        "{dynamic}"
    );

    let pc_path = lib.join("pkgconfig");
    let pkg = |args: &[&str]| {
        run_ok(
            Command::new("pkg-config")
                .args(args)
                .arg("rdkafka")
                .env("PKG_CONFIG_PATH", &pc_path)
                .env_remove("PKG_CONFIG_LIBDIR"),
        )
    };
    assert_eq!(pkg(&["--modversion"]), "2.15.0\n");
    let flags = pkg(&["--cflags", "--libs"]);
    assert_eq!(
        flags.split_whitespace().collect::<Vec<_>>(),
        [
            format!("-I{}/include", prefix.display()),
            format!("-L{}", lib.display()),
            "-lrdkafka".to_string()
        ],
        "{flags}"
    );

    // Dynamically, as a program built for librdkafka: it records librdkafka.so.1 and loads ours.
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let src = root.join("tests/c/installed.c");
    let exe = work.join("installed");
    run_ok(
        Command::new(&cc)
            .args(["-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(&src)
            .args(flags.split_whitespace())
            .arg(format!("-Wl,-rpath,{}", lib.display())),
    );
    let needed = run_ok(Command::new("readelf").arg("-d").arg(&exe));
    assert!(
        needed.contains("Shared library: [librdkafka.so.1]"),
        "{needed}"
    );
    let expected = "version_str: 2.15.0 (librskafka 0.1.0)\nversion: 0x020f00ff\n\
                    name: installed#producer-1\n\
                    err2str: Broker: Message size too large\n";
    assert_eq!(run_ok(&mut Command::new(&exe)), expected);

    // Statically: libkafka.a with the system libraries rdkafka.pc lists as private.
    let static_exe = work.join("installed_static");
    let private = pkg(&["--libs-only-l", "--static"]);
    run_ok(
        Command::new(&cc)
            .args(["-Wall", "-Werror", "-o"])
            .arg(&static_exe)
            .arg(&src)
            .args(pkg(&["--cflags"]).split_whitespace())
            .arg(lib.join("libkafka.a"))
            .args(private.split_whitespace().filter(|f| *f != "-lrdkafka")),
    );
    let needed = run_ok(Command::new("readelf").arg("-d").arg(&static_exe));
    assert!(!needed.contains("rdkafka"), "{needed}");
    assert_eq!(run_ok(&mut Command::new(&static_exe)), expected);
}
