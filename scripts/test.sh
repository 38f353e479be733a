#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test of every crate.
# Installs nothing by hand-made assumption: what the tests need is checked here first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus/tlsrpt-real ]; then
    echo "error: ../shared/corpus/tlsrpt-real is missing; the conformance tests read it" >&2
    exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
