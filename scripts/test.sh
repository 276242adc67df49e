#!/usr/bin/env bash
# The project's single test command.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/install-deps.sh
cargo test --all-features
