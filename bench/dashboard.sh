#!/usr/bin/env bash
# Dashboard benchmark (issue 6): builds the scale dataset (REPORTS reports for 1,000
# domains over 400 days, through the store's real write path) in a SQLite file, serves the
# dashboard on it, then times RUNS requests each of the portfolio page and of one domain's
# page with curl and prints the median and p99 in milliseconds. The first portfolio view
# after start computes and caches every domain's verdict; its time is printed separately
# ("cold"), then the cache is warm, as in a running `tlsrpt serve`.
#   bench/dashboard.sh [REPORTS] [RUNS]   (defaults: 1000000 30)
# SCALE_RUNS=N also times the store's stats and portfolio queries N times on the same
# dataset (as bench/scale.sh does), before the pages.
set -euo pipefail
cd "$(dirname "$0")/.."
reports="${1:-1000000}"
runs="${2:-30}"

# shellcheck source=bench/lib.sh
. bench/lib.sh
build -p tlsrpt -p tlsrpt-bench
target="$bin"
dir="$(mktemp -d)"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

echo "== building the dataset: $reports reports, ${DOMAINS:-1000} domains, ${DAYS:-400} days" >&2
"$target/tlsrpt-bench" scale --backend sqlite --reports "$reports" --domains "${DOMAINS:-1000}" \
    --days "${DAYS:-400}" --runs "${SCALE_RUNS:-1}" --keep-in "$dir"
db="$dir/scale.db"
domain="$(sqlite3 "$db" "SELECT policy_domain FROM domain_activity ORDER BY trusted_reports DESC LIMIT 1" 2>/dev/null \
    || "$target/tlsrpt" --database-url "$db" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["policy_domain"])')"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$target/tlsrpt" --database-url "$db" serve --dashboard "127.0.0.1:$port" --check-interval 0 \
    2>"$dir/serve.log" &
server=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/static/app.css" && break
    sleep 0.1
done

# Wait for the background refresh to cache every verdict, timing the first full view.
cold=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/")

time_page() {
    local path="$1"
    for _ in $(seq "$runs"); do
        curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$path"
    done | sort -n | awk '{ t[NR] = $1 * 1000 } END {
        p50 = t[int((NR + 1) / 2)]; p99 = t[int(NR * 0.99 + 0.999)];
        printf "%.1f ms median, %.1f ms p99 (%d runs)", p50, p99, NR }'
}

printf 'portfolio, cold (verdicts computed): %.1f ms\n' "$(awk -v t="$cold" 'BEGIN { print t * 1000 }')"
echo "portfolio (/):             $(time_page /)"
echo "domain page ($domain):     $(time_page "/domains/$domain")"
