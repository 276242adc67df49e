//! Compiles the C part of the C ABI (`src/capi/producev.c`: the variadic `rd_kafka_producev`,
//! which stable Rust cannot define) when the `capi` feature is on.

fn main() {
    println!("cargo:rerun-if-changed=src/capi/producev.c");
    if std::env::var_os("CARGO_FEATURE_CAPI").is_some() {
        cc::Build::new()
            .file("src/capi/producev.c")
            .warnings(true)
            .compile("rskafka_capi_c");
    }
}
