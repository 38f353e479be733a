#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ (git-ignored) from the shared corpus of real reports and
# the repository's fixtures. The shared corpus is read in place, never committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared="${TLSRPT_SHARED_CORPUS:-$root/../shared/corpus}"
[ -d "$shared" ] || shared=/work/shared/corpus
corpus="$here/corpus"

seed() { # seed TARGET FILE...
    local dir="$corpus/$1"; shift
    mkdir -p "$dir"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$dir/$(sha1sum "$f" | cut -c1-16)"
    done
}

mapfile -t real < <(find "$shared" -type f ! -name '*.md')
mapfile -t json < <(find "$shared" "$root/fixtures" -type f -name '*.json')
mapfile -t eml < <(find "$shared" -type f -name '*.eml')
regress=()
[ -d "$root/fixtures/fuzz-regressions" ] && mapfile -t regress < <(find "$root/fixtures/fuzz-regressions" -type f)

seed unpack "${real[@]}" "${json[@]}" "${regress[@]}"
seed mail "${eml[@]}" "${regress[@]}"
seed report_json "${json[@]}" "${regress[@]}"

# TXT records and policy files: the shapes the checker's tests use, valid and broken.
mkdir -p "$corpus/txt_records" "$corpus/policy"
i=0
for txt in 'v=STSv1; id=20250101T000000' 'v=STSv1; id=1;' 'v=STSv1;id=abc; ext=1' \
    'v=TLSRPTv1; rua=mailto:tlsrpt@example.org' \
    'v=TLSRPTv1;rua=mailto:a@example.org,https://r.example.org/tlsrpt' \
    'v=TLSRPTv1; rua=mailto:a%40b@example.org!10m'; do
    printf '%s' "$txt" > "$corpus/txt_records/seed$i"; i=$((i + 1))
done
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.example.net\r\nmax_age: 604800\r\n' \
    > "$corpus/policy/crlf"
printf 'version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 86400\n' > "$corpus/policy/lf"
printf 'version: STSv1\nmode: none\nmax_age: 1\nextra: x\nmode: enforce\n\n\n' > "$corpus/policy/odd"
for f in "$shared"/tlsrpt-real/*.json; do # policy-string lines as they are published
    python3 - "$f" "$corpus/policy" <<'PY' || true
import json, sys, hashlib, os
try:
    doc = json.load(open(sys.argv[1], encoding="utf-8-sig"))
except Exception:
    sys.exit(0)
for p in doc.get("policies") or []:
    lines = (p.get("policy") or {}).get("policy-string") or []
    if isinstance(lines, list) and lines:
        body = "\r\n".join(str(l) for l in lines) + "\r\n"
        name = hashlib.sha1(body.encode()).hexdigest()[:16]
        open(os.path.join(sys.argv[2], name), "w").write(body)
PY
done
# Crash inputs kept by run-short.sh, each back into its own target's corpus.
for dir in "$here"/regressions/*/; do
    [ -d "$dir" ] || continue
    mapfile -t kept < <(find "$dir" -type f)
    seed "$(basename "$dir")" "${kept[@]}"
done
for d in "$corpus"/*/; do echo "$(ls "$d" | wc -l) seeds in $d"; done
