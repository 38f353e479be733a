#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test of every crate.
# Installs nothing by hand-made assumption: what the tests need is checked here first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus/tlsrpt-real ]; then
    echo "error: ../shared/corpus/tlsrpt-real is missing; the conformance tests read it" >&2
    exit 1
fi

# Real services the tests run against; installed here when missing, never mocked.
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
    echo "== installing dovecot-imapd (the IMAP tests run a real Dovecot)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "== installing postgresql-15 (the tests start a throwaway PostgreSQL)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "== installing chromium and chromium-driver (the dashboard tests drive a real headless Chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

if ! command -v ip >/dev/null 2>&1; then
    echo "== installing iproute2 (the SSRF tests put a simulated public address on loopback)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2
fi

if ! command -v c++ >/dev/null 2>&1; then
    echo "== installing g++ (the fuzz run builds libFuzzer)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++
fi

if ! command -v promtool >/dev/null 2>&1; then
    echo "== installing prometheus (the metrics tests check each scrape with promtool)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
fi

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk (bench/run --quick drives the HTTPS endpoint with it)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" = 0 ]; then
    # The benchmark scripts still work: their quick mode, on the debug build the tests just
    # made (building the bench binaries with the tests' features reuses every library), so
    # no release build. Not a timing: parsedmarc (a PyPI install) is left out.
    echo "== bench/run --quick (debug build: checks the scripts, not the figures)"
    cargo build --workspace --locked --bins --examples --tests
    BENCH_BIN_DIR="${CARGO_TARGET_DIR:-target}/debug" bench/run --quick --no-parsedmarc || status=$?
fi
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "total: %d passed, %d failed\n", passed, failed }' "$log"

# A short run of every fuzz target (FUZZ_SECONDS, 30 s each); a crash fails the suite and
# its input is kept under fuzz/regressions/ (see fuzz/README.md).
echo "== fuzz"
fuzz_status=0
./fuzz/run-short.sh || fuzz_status=$?
[ "$status" -ne 0 ] && exit "$status"
exit "$fuzz_status"
