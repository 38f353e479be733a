#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 30), one after another, on the
# corpus seeded by seed.sh, and prints libFuzzer's final statistics. Stable rustc accepts
# cargo-fuzz's nightly flags only with RUSTC_BOOTSTRAP=1 (see README.md). Stops at the
# first crash, whose input libFuzzer saves under artifacts/<target>/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-30}"
logs="${FUZZ_LOG_DIR:-$here/logs}"
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1
[ -d corpus ] || ./seed.sh
for target in $(cargo fuzz list); do
    echo "== $target ($seconds s)"
    log="$logs/fuzz-$target.log"
    status=0
    cargo fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done )' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        exit "$status"
    fi
done
