#!/usr/bin/env bash
# The CI run: every fuzz target for about 30 seconds (see README.md). Needs cargo-fuzz
# (`cargo install cargo-fuzz --locked`); fails on the first crash.
set -euo pipefail
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2; exit 1; }
exec "$(dirname "$0")/run.sh" "${FUZZ_SECONDS:-30}"
