#!/usr/bin/env bash
# HTTPS-endpoint load benchmark: wrk POSTs unique reports to `tlsrpt serve` (plain HTTP on
# loopback, fresh SQLite database per run) and prints requests/s, p50 and p99, then medians.
# The per-address rate limit is turned off, as all of wrk's connections come from one
# address; a run with any answer other than 2xx, or a socket error, fails the benchmark.
#   bench/https.sh [SECONDS] [CONNECTIONS] [RUNS]        (defaults: 10 32 3)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-32}"
runs="${3:-3}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
build -p tlsrpt
bin="$bin/tlsrpt"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

rates=(); p50s=(); p99s=()
for run in $(seq 1 "$runs"); do
    rm -f "$work"/bench.db*
    "$bin" --database-url "$work/bench.db" serve --listen 127.0.0.1:0 --rate-limit-per-ip off \
        2> "$work/serve.log" &
    server=$!
    until grep -q "listening on" "$work/serve.log"; do sleep 0.1; done
    url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/serve.log")
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/post.lua "$url" > "$work/wrk.txt"
    kill "$server"; wait "$server" || true
    rate=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$work/wrk.txt")
    p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk.txt")
    p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
    errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk.txt" || true)
    echo "run $run: $rate requests/s, p50 $p50, p99 $p99 ${errors:+($errors)}"
    if [ -n "$errors" ]; then
        echo "run $run had failed requests: the figures would not be of stored reports" >&2
        exit 1
    fi
    rates+=("$rate"); p50s+=("$p50"); p99s+=("$p99")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "median over $runs runs: $(median "${rates[@]}") requests/s, p50 $(median "${p50s[@]}"), p99 $(median "${p99s[@]}") ($connections connections, ${seconds}s, $(nproc) cores)"
