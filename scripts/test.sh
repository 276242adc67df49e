#!/usr/bin/env bash
# The project's single test command.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/install-deps.sh
# The C tests load the cdylib, which `cargo test` alone does not rebuild.
cargo build --lib --all-features
cargo test --all-features
