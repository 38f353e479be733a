#!/usr/bin/env bash
# File ingest benchmark: N synthetic reports (half .json.gz, half report mails) into a fresh
# SQLite database, RUNS times; prints reports/s and peak RSS per run, then the medians.
#   bench/ingest.sh [REPORTS] [RUNS]        (defaults: 100000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
reports="${1:-100000}"
runs="${2:-3}"
seed=8460
work="${BENCH_DIR:-${TMPDIR:-/tmp}/tlsrpt-bench}"
corpus="$work/corpus-$reports-$seed"

# shellcheck source=bench/lib.sh
. bench/lib.sh
build -p tlsrpt -p tlsrpt-corpus

if [ ! -d "$corpus" ]; then
    echo "generating $reports reports into $corpus" >&2
    "$bin/tlsrpt-corpus" --out "$corpus.tmp" --reports "$reports" --seed "$seed"
    mv "$corpus.tmp" "$corpus"
fi
# Read the corpus once, so that every run starts from the same (warm) page cache.
find "$corpus" -type f -exec cat {} + > /dev/null

rates=()
rss=()
for i in $(seq 1 "$runs"); do
    db="$work/bench.db"
    rm -f "$db" "$db-wal" "$db-shm"
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$bin/tlsrpt" --database-url "$db" ingest --json --no-progress "$corpus" > "$work/summary.json"
    end=$(date +%s.%N)
    stored=$(sed -E 's/.*"stored":([0-9]+).*/\1/' "$work/summary.json")
    if [ "$stored" != "$reports" ]; then
        echo "run $i stored $stored of $reports reports" >&2
        exit 1
    fi
    rate=$(awk -v n="$reports" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
    kb=$(cat "$work/rss")
    printf 'run %d: %s reports/s, peak RSS %s MB\n' "$i" "$rate" "$((kb / 1024))"
    rates+=("$rate")
    rss+=("$((kb / 1024))")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf 'median over %d runs: %s reports/s, peak RSS %s MB (%d reports, %s)\n' \
    "$runs" "$(median "${rates[@]}")" "$(median "${rss[@]}")" "$reports" "$(nproc) cores"
