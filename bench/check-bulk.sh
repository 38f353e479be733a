#!/usr/bin/env bash
# Bulk check benchmark: N domains on a closed loopback network (the closed_network example:
# in-process DNS, one HTTPS policy host, one STARTTLS MX), checked by `tlsrpt check --file`
# at concurrency C, RUNS times; first without storing (--no-save), then storing every check
# in a fresh SQLite database. Prints the wall time of each run. Needs root (ports 443, 25).
#   bench/check-bulk.sh [DOMAINS] [CONCURRENCY] [RUNS]      (defaults: 1000 50 3)
set -euo pipefail
cd "$(dirname "$0")/.."
domains="${1:-1000}"
concurrency="${2:-50}"
runs="${3:-3}"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/tlsrpt-bench}/check"
mkdir -p "$work"

# shellcheck source=bench/lib.sh
. bench/lib.sh
build -p tlsrpt
build -p tlsrpt-check --example closed_network

rm -f "$work/env"
"$bin/examples/closed_network" "$work" "$domains" > "$work/network.log" &
network=$!
trap 'kill -INT "$network" 2>/dev/null; wait "$network" 2>/dev/null || true' EXIT
until grep -q ready "$work/network.log" 2>/dev/null; do sleep 0.2; done
set -a
# shellcheck disable=SC1091
. "$work/env"
set +a

secs_nosave=(); secs_stored=()
run() { # LABEL ARGS…
    local label=$1
    shift
    local start end
    start=$(date +%s.%N)
    "$bin/tlsrpt" check --json --file "$work/domains.txt" --concurrency "$concurrency" "$@" \
        > "$work/out.json"
    end=$(date +%s.%N)
    local pass
    pass=$(grep -c '^    "verdict": "pass"' "$work/out.json" || true)
    if [ "$pass" != "$domains" ]; then
        echo "$label: only $pass of $domains domains passed" >&2
        exit 1
    fi
    awk -v l="$label" -v n="$domains" -v c="$concurrency" -v s="$start" -v e="$end" \
        'BEGIN { printf "%s: %d domains at concurrency %d in %.2f s (%.0f domains/s)\n", l, n, c, e - s, n / (e - s) }'
    seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
}
for i in $(seq 1 "$runs"); do
    run "run $i, --no-save" --no-save
    secs_nosave+=("$seconds")
done
for i in $(seq 1 "$runs"); do
    db="$work/checks.db"
    rm -f "$db" "$db-wal" "$db-shm"
    run "run $i, stored in SQLite" --database-url "$db"
    secs_stored+=("$seconds")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { awk -v n="$domains" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
m1=$(median "${secs_nosave[@]}"); m2=$(median "${secs_stored[@]}")
echo "median over $runs runs: --no-save $m1 s ($(rate "$m1") domains/s), stored in SQLite $m2 s ($(rate "$m2") domains/s) ($domains domains, concurrency $concurrency, $(nproc) cores)"
