#!/usr/bin/env bash
# Installs what the tests need and is missing, and nothing else:
#  - Debian packages: kcat, librdkafka-dev, python3-confluent-kafka
#  - tansu 0.6.0 (a Kafka-protocol broker) via cargo install
#  - cbindgen via cargo install (tests/capi_header.rs checks include/rdkafka.h is current)
#  - builds tests/mock-launcher (librdkafka 2.12.1 mock cluster + producer/consumer)
# Idempotent, and fast when everything is present.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# --- Debian packages -----------------------------------------------------------------------
APT_PKGS=(kcat librdkafka-dev python3-confluent-kafka)
missing=()
for p in "${APT_PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: apt-get install ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# --- tansu 0.6.0 ---------------------------------------------------------------------------
TANSU_VERSION=0.6.0
if ! tansu --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    echo "install-deps: cargo install tansu $TANSU_VERSION (this takes a while)"
    cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore
fi

# --- cbindgen ------------------------------------------------------------------------------
if ! command -v cbindgen >/dev/null 2>&1; then
    echo "install-deps: cargo install cbindgen"
    cargo install cbindgen --locked
fi

# --- mock launcher -------------------------------------------------------------------------
# cargo itself decides whether anything needs rebuilding (a no-op build takes well under 1 s).
cargo build --release --quiet --manifest-path tests/mock-launcher/Cargo.toml \
    --target-dir tests/mock-launcher/target
