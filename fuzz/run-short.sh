#!/usr/bin/env bash
# The CI run: every fuzz target for FUZZ_SECONDS (default 30) on the seeded corpus.
#
# Built with cargo alone, with the flags cargo-fuzz 0.13 passes for
# `cargo fuzz build -O -a --sanitizer none`, so that a fresh CI machine does not spend
# minutes compiling cargo-fuzz itself. No sanitizer: the crates forbid unsafe code, and
# libFuzzer still catches panics, aborts, timeouts and memory blow-ups. The build goes to
# "$CARGO_TARGET_DIR-fuzz" when CARGO_TARGET_DIR is set (beside the CI one, so it stays
# warm between runs), to fuzz/target otherwise.
#
# A crash fails the run after every target has had its turn; each crash input is kept as
# fuzz/regressions/<target>/<name>, which seed.sh feeds back into the corpus: commit it and
# add a regression test in the crate at fault (see README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-30}"
logs="${FUZZ_LOG_DIR:-$here/logs}"
mkdir -p "$logs"
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    export CARGO_TARGET_DIR="$CARGO_TARGET_DIR-fuzz"
else
    export CARGO_TARGET_DIR="$here/target"
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
targets=(unpack mail report_json txt_records policy)

# Stable rustc accepts the coverage flags with RUSTC_BOOTSTRAP=1 (see README.md).
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
-Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=1"
echo "== building the fuzz targets ($CARGO_TARGET_DIR)"
started=$SECONDS
cargo build --locked --release --target "$triple" --bins \
    --config 'profile.release.debug="line-tables-only"'
echo "built in $((SECONDS - started)) s"

./seed.sh >/dev/null
failed=()
for target in "${targets[@]}"; do
    log="$logs/fuzz-$target.log"
    artifacts="$here/artifacts/$target"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    status=0
    "$CARGO_TARGET_DIR/$triple/release/$target" "corpus/$target" \
        -artifact_prefix="$artifacts/" -max_total_time="$seconds" -max_len=262144 \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz $target: ${executions:-?} executions, ${rate:-?} execs/s, exit $status"
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log"
        mkdir -p "regressions/$target"
        for input in "$artifacts"/*; do
            [ -f "$input" ] || continue
            cp "$input" "regressions/$target/"
            echo "kept the input as fuzz/regressions/$target/$(basename "$input")"
        done
        failed+=("$target")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]}" >&2
    exit 1
fi
