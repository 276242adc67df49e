//! Compiles the C part of the C ABI (`src/capi/producev.c`: the variadic `rd_kafka_producev`,
//! and `src/capi/mock_errors.c`: the variadic `rd_kafka_mock_push_request_errors`, which stable
//! Rust cannot define) when the `capi` feature is on.
//!
//! `LIBRSKAFKA_SONAME=librdkafka.so.1` (set by `scripts/install.sh`) gives the cdylib that soname,
//! so programs linked against an installed copy record `librdkafka.so.1` as librdkafka's do. It
//! stays off by default: tests link `-lkafka` from `target/` and must not then resolve the system's
//! `librdkafka.so.1`.

fn main() {
    println!("cargo:rerun-if-changed=src/capi/producev.c");
    println!("cargo:rerun-if-changed=src/capi/mock_errors.c");
    println!("cargo:rerun-if-env-changed=LIBRSKAFKA_SONAME");
    if std::env::var_os("CARGO_FEATURE_CAPI").is_some() {
        cc::Build::new()
            .file("src/capi/producev.c")
            .file("src/capi/mock_errors.c")
            .warnings(true)
            .compile("rskafka_capi_c");
        if let Ok(soname) = std::env::var("LIBRSKAFKA_SONAME") {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
        }
    }
}
