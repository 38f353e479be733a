"""Totals of SMTP TLS reports as parsedmarc and as tlsrpt see them, for bench/parsedmarc.sh.

  parsedmarc_totals.py api DIR          parse every file under DIR with parsedmarc's Python
                                        API (parse_report_file, offline), timed; then each
                                        parsed report serialised to JSON (json.dumps), timed
                                        apart, for parse-to-JSON; JSON out
  parsedmarc_totals.py cli FILE         totals of the smtp_tls.json written by parsedmarc's CLI
  parsedmarc_totals.py tlsrpt FILE      totals of `tlsrpt stats --json`
  parsedmarc_totals.py compare A B      compare two totals files; exit 1 when they differ

Totals: reports, policies, successful and failed sessions (from the summaries), and failed
sessions by result type (from the failure details).
"""

import json
import os
import resource
import sys
import time
from collections import Counter


def empty():
    return {"reports": 0, "policies": 0, "successful": 0, "failed": 0, "by_result_type": Counter()}


def add_parsedmarc_report(totals, report):
    totals["reports"] += 1
    for policy in report["policies"]:
        totals["policies"] += 1
        totals["successful"] += policy["successful_session_count"]
        totals["failed"] += policy["failed_session_count"]
        for detail in policy.get("failure_details", []):
            totals["by_result_type"][detail["result_type"]] += detail["failed_session_count"]


def files_under(root):
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            yield os.path.join(folder, name)


def api(root):
    from parsedmarc import parse_report_file

    paths = list(files_under(root))
    size = sum(os.path.getsize(p) for p in paths)
    totals, errors = empty(), []
    seconds = to_json_seconds = 0.0
    for path in paths:
        started = time.perf_counter()
        try:
            parsed = parse_report_file(path, offline=True)
        except Exception as error:  # parsedmarc raises ParserError and others
            errors.append(f"{os.path.basename(path)}: {error}")
            continue
        finally:
            seconds += time.perf_counter() - started
        if parsed["report_type"] != "smtp_tls":
            errors.append(f"{os.path.basename(path)}: parsed as {parsed['report_type']}")
            continue
        # Parse-to-JSON: what its CLI does next with each report, without the file writes.
        started = time.perf_counter()
        json.dumps(parsed["report"], ensure_ascii=False)
        to_json_seconds += time.perf_counter() - started
        add_parsedmarc_report(totals, parsed["report"])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return {"files": len(paths), "bytes": size, "seconds": seconds,
            "to_json_seconds": to_json_seconds, "peak_rss_mb": rss_mb, "errors": errors,
            "totals": totals}


def cli(path):
    totals = empty()
    with open(path) as f:
        for report in json.load(f):
            add_parsedmarc_report(totals, report)
    return {"totals": totals}


def tlsrpt(path):
    totals = empty()
    with open(path) as f:
        stats = json.load(f)
    for domain in stats["domains"]:
        totals["policies"] += domain["reports"]
        totals["successful"] += domain["successful_sessions"]
        totals["failed"] += domain["failed_sessions"]
        for result_type, count in domain["failures_by_result_type"].items():
            totals["by_result_type"][result_type] += count
    # tlsrpt stats counts reports per (policy domain, type): that is one per policy.
    totals["reports"] = None
    return {"totals": totals}


def compare(a_path, b_path):
    with open(a_path) as f:
        a = json.load(f)["totals"]
    with open(b_path) as f:
        b = json.load(f)["totals"]
    differences = []
    for key in ("policies", "successful", "failed"):
        if a[key] != b[key]:
            differences.append(f"{key}: {a[key]} vs {b[key]}")
    for result_type in sorted(set(a["by_result_type"]) | set(b["by_result_type"])):
        x, y = a["by_result_type"].get(result_type, 0), b["by_result_type"].get(result_type, 0)
        if x != y:
            differences.append(f"failures {result_type}: {x} vs {y}")
    kinds = len(set(a["by_result_type"]) | set(b["by_result_type"]))
    print(f"policies {a['policies']}, successful {a['successful']}, failed {a['failed']}, "
          f"{kinds} result types")
    for line in differences:
        print(f"  differs: {line}")
    return 1 if differences else 0


def main():
    command, argument = sys.argv[1], sys.argv[2]
    if command == "compare":
        sys.exit(compare(argument, sys.argv[3]))
    result = {"api": api, "cli": cli, "tlsrpt": tlsrpt}[command](argument)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
