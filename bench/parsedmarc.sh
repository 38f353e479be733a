#!/usr/bin/env bash
# Side by side with parsedmarc (PyPI, in the virtualenv bench/.venv, created on first use):
# the same FILES synthetic .json.gz reports parsed by parsedmarc's Python API
# (parse_report_file, offline; its fastest path, see bench/README.md; and parse-to-JSON,
# with json.dumps of each report timed apart) and ingested by `tlsrpt ingest` into a fresh
# SQLite database, RUNS times; medians, then the ratios. tlsrpt's parse-only rate on the
# same files (`tlsrpt-bench parse-files`) gives the parse-only ratio. Then the
# totals (sessions, failures by result type) of both tools are compared on that set and on
# the real reports in ../shared/corpus/tlsrpt-real, and every difference is listed.
#   bench/parsedmarc.sh [FILES] [RUNS]        (defaults: 20000 3)
# Environment: PARSEDMARC_VERSION (11.1.0), CLI=1 to also time parsedmarc's CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-20000}"
runs="${2:-3}"
seed=8460
version="${PARSEDMARC_VERSION:-11.1.0}"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/tlsrpt-bench}"
corpus="$work/corpus-gz-$files-$seed"
real=../shared/corpus/tlsrpt-real
venv=bench/.venv
helper=bench/parsedmarc_totals.py

if [ ! -x "$venv/bin/parsedmarc" ]; then
    echo "installing parsedmarc $version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "parsedmarc==$version" >&2
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
build -p tlsrpt -p tlsrpt-corpus
build -p tlsrpt-bench
mkdir -p "$work"

if [ ! -d "$corpus" ]; then
    echo "generating $files .json.gz reports into $corpus" >&2
    "$bin/tlsrpt-corpus" --out "$corpus.tmp" --reports "$files" --seed "$seed" --eml-percent 0
    mv "$corpus.tmp" "$corpus"
fi
find "$corpus" -type f -exec cat {} + > /dev/null

# Ingests DIR into the fresh database DB; prints "SECONDS RSS_MB".
ingest() {
    rm -f "$2" "$2-wal" "$2-shm"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$bin/tlsrpt" --database-url "$2" ingest --json --no-progress "$1" > "$work/summary.json" || true
    end=$(date +%s.%N)
    echo "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }') $(($(tail -1 "$work/rss") / 1024))"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ours=(); ours_rss=(); theirs=(); theirs_json=(); theirs_rss=(); cli=()
db="$work/parsedmarc-bench.db"
for run in $(seq 1 "$runs"); do
    read -r seconds rss < <(ingest "$corpus" "$db")
    stored=$(sed -E 's/.*"stored":([0-9]+).*/\1/' "$work/summary.json")
    [ "$stored" = "$files" ] || { echo "tlsrpt stored $stored of $files reports" >&2; exit 1; }
    ours+=("$(awk -v n="$files" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')"); ours_rss+=("$rss")

    "$venv/bin/python" "$helper" api "$corpus" > "$work/parsedmarc-api.json" 2> "$work/parsedmarc.log"
    read -r seconds to_json rss errors < <("$venv/bin/python" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["seconds"], r["to_json_seconds"], r["peak_rss_mb"], len(r["errors"]))' "$work/parsedmarc-api.json")
    [ "$errors" = 0 ] || { echo "parsedmarc rejected $errors files" >&2; exit 1; }
    theirs+=("$(awk -v n="$files" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')"); theirs_rss+=("$rss")
    theirs_json+=("$(awk -v n="$files" -v s="$seconds" -v j="$to_json" 'BEGIN { printf "%.0f", n / (s + j) }')")

    line="run $run: tlsrpt ingest ${ours[-1]} reports/s (${ours_rss[-1]} MB), parsedmarc API ${theirs[-1]} reports/s (${theirs_rss[-1]} MB), to JSON ${theirs_json[-1]} reports/s"
    if [ "${CLI:-0}" = 1 ]; then
        rm -rf "$work/parsedmarc-out"
        start=$(date +%s.%N)
        "$venv/bin/parsedmarc" --offline -s -r -o "$work/parsedmarc-out" "$corpus" 2>> "$work/parsedmarc.log"
        end=$(date +%s.%N)
        cli+=("$(awk -v n="$files" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')")
        line+=", parsedmarc CLI ${cli[-1]} reports/s"
    fi
    echo "$line"
done

ours_median=$(median "${ours[@]}"); theirs_median=$(median "${theirs[@]}"); json_median=$(median "${theirs_json[@]}")
"$bin/tlsrpt-bench" parse-files "$corpus" | tee "$work/parse-files.txt"
parse_only=$(sed -n 's/^parse only, [^:]*: \([0-9]*\) reports\/s.*/\1/p' "$work/parse-files.txt")
[ -n "$parse_only" ] || { echo "no parse-only figure" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
echo "median over $runs runs of $files .json.gz files: tlsrpt ingest $ours_median reports/s, peak RSS $(median "${ours_rss[@]}") MB; parsedmarc $version API $theirs_median reports/s (parse to JSON $json_median), peak RSS $(median "${theirs_rss[@]}") MB${cli:+; parsedmarc CLI $(median "${cli[@]}") reports/s}"
echo "ratio: tlsrpt ingest / parsedmarc API = $(ratio "$ours_median" "$theirs_median")x (parse to JSON: $(ratio "$ours_median" "$json_median")x)"
echo "parse-only ratio: tlsrpt parse only $parse_only reports/s / parsedmarc API = $(ratio "$parse_only" "$theirs_median")x (parse to JSON: $(ratio "$parse_only" "$json_median")x)"

# Agreement on totals: the synthetic set (from the last run's database), then the real reports.
agree() {
    "$bin/tlsrpt" --database-url "$2" stats --json > "$work/stats.json"
    "$venv/bin/python" "$helper" tlsrpt "$work/stats.json" > "$work/tlsrpt-totals.json"
    echo "agreement on $1:"
    if "$venv/bin/python" "$helper" compare "$work/tlsrpt-totals.json" "$3"; then
        echo "  same totals"
    fi
}
agree "the $files synthetic files (tlsrpt vs parsedmarc)" "$db" "$work/parsedmarc-api.json"
if [ -d "$real" ]; then
    ingest "$real" "$db" > /dev/null
    "$venv/bin/python" "$helper" api "$real" > "$work/parsedmarc-real.json" 2>> "$work/parsedmarc.log"
    agree "the real reports in $real (tlsrpt vs parsedmarc)" "$db" "$work/parsedmarc-real.json" || true
    echo "  tlsrpt ingest: $(cat "$work/summary.json") (duplicates: the same report id from the same reporter, counted once)"
    "$venv/bin/python" -c 'import json, sys
for e in json.load(open(sys.argv[1]))["errors"]: print("  parsedmarc rejects", e[:160])' "$work/parsedmarc-real.json"
    "$bin/tlsrpt" --database-url "$db" rejected 2>/dev/null | sed 's/^/  tlsrpt rejected: /' || true
fi
rm -f "$db" "$db-wal" "$db-shm"
