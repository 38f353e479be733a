#!/usr/bin/env bash
# Scale benchmark (issue 4): REPORTS reports for DOMAINS domains over DAYS days written
# through the store's real write path, then the 30-day stats of one domain and the
# portfolio overview of every domain timed RUNS times, on SQLite and on a throwaway
# PostgreSQL (the test kit's: initdb in a temp dir, fsync off). Prints ingest reports/s and
# p50/p99 per query for each backend.
#   bench/scale.sh [REPORTS] [RUNS] [BACKENDS...]   (defaults: 1000000 50 sqlite postgres)
# Environment: DOMAINS (1000), DAYS (400), EXPLAIN=1 to print each hot query's plan.
set -euo pipefail
cd "$(dirname "$0")/.."
reports="${1:-1000000}"
runs="${2:-50}"
shift $(( $# < 2 ? $# : 2 ))
backends=("$@")
[ "${#backends[@]}" -gt 0 ] || backends=(sqlite postgres)

# shellcheck source=bench/lib.sh
. bench/lib.sh
build -p tlsrpt-bench
bin="$bin/tlsrpt-bench"
explain=()
[ "${EXPLAIN:-0}" = 1 ] && explain=(--explain)

for backend in "${backends[@]}"; do
    echo "== $backend: $reports reports, ${DOMAINS:-1000} domains, ${DAYS:-400} days, $runs runs"
    "$bin" scale --backend "$backend" --reports "$reports" --domains "${DOMAINS:-1000}" \
        --days "${DAYS:-400}" --runs "$runs" "${explain[@]}"
done
