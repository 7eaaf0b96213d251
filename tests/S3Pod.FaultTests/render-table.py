#!/usr/bin/env python3
"""Turns the fault suite's result rows into the markdown table of issue 9.

    S3POD_FAULT_RESULTS=/tmp/rows.jsonl dotnet test tests/S3Pod.FaultTests ...
    python3 tests/S3Pod.FaultTests/render-table.py /tmp/rows.jsonl "Before the fixes" > tests/S3Pod.FaultTests/BEFORE.md

Each row (one JSON object per line) is written by a test: group (matrix / regression), case,
expected, exit, seconds, verdict, headline (first error line, else first stderr line), violations.
"""
import collections
import json
import re
import sys

OPERATIONS = ["upload", "download", "dir upload", "dir download", "save", "restore", "docker upload", "docker download"]
VERDICTS = ["ok", "proxy", "hang", "corrupt", "half-written", "leak", "internal", "integrity", "failed", "slow", "unclear"]


def clean(text):
    """Drops what differs between runs (bucket names, temp paths, ports) and keeps markdown intact."""
    text = re.sub(r"s3pod-ft-[0-9a-f]{6,}", "BUCKET", text or "")
    text = re.sub(r"/dev/shm/[^ ]*?/s3pod-ft-\w+/", ".../", text)
    text = re.sub(r"/tmp/[^ ]*?/s3pod-ft-\w+/", ".../", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return text.replace("|", "\\|").replace("\n", " ")


def main():
    path, title = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "Fault suite results"
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    matrix = [r for r in rows if r["group"] == "matrix"]
    regressions = [r for r in rows if r["group"] != "matrix"]

    out = [f"# {title}", ""]
    out.append("Produced by `tests/S3Pod.FaultTests` (see its README.md) and `render-table.py`. "
               "Verdicts: " + ", ".join(f"`{v}`" for v in VERDICTS) + " (most severe violation of the case; "
               "definitions in `Harness/Outcome.cs`).")
    out.append("")
    for name, group in (("Matrix", matrix), ("Regression tests", regressions)):
        counts = collections.Counter(r["verdict"] for r in group)
        summary = ", ".join(f"{v} {counts[v]}" for v in VERDICTS if counts[v])
        out.append(f"- **{name}**: {len(group)} cases: {summary}")
    out.append("")

    # Grid: fault (and size) down, operation across, verdict in each cell.
    out.append("## Fault × operation (verdicts)")
    out.append("")
    cells = {}
    faults = []
    for r in matrix:
        op, size, fault = [p.strip() for p in r["case"].split("·")]
        key = (fault, size)
        if key not in faults:
            faults.append(key)
        cells[(fault, size, op)] = r["verdict"]
    expected_of = {tuple(p.strip() for p in r["case"].split("·"))[2]: r["expected"] for r in matrix}
    # Transient faults (expected success) first, then persistent ones (expected exit 2).
    faults.sort(key=lambda k: (expected_of[k[0]] != "success", k[0], k[1] != "small"))
    out.append("| fault | size | expected | " + " | ".join(OPERATIONS) + " |")
    out.append("|---|---|---|" + "---|" * len(OPERATIONS))
    for fault, size in faults:
        line = [fault, size, expected_of[fault]] + [cells.get((fault, size, op), "") for op in OPERATIONS]
        out.append("| " + " | ".join(line) + " |")
    out.append("")

    out.append("## Every matrix case")
    out.append("")
    out.append("| operation · size · fault | expected | exit | s | verdict | stderr (first error line) |")
    out.append("|---|---|---|---|---|---|")
    order = {op: i for i, op in enumerate(OPERATIONS)}
    for r in sorted(matrix, key=lambda r: (order.get(r["case"].split("·")[0].strip(), 99), r["case"])):
        out.append(f"| {r['case']} | {r['expected']} | {r['exit']} | {r['seconds']} | {r['verdict']} | {clean(r['headline'])} |")
    out.append("")

    out.append("## Regression tests")
    out.append("")
    out.append("| defect · case | expected | exit | s | verdict | detail |")
    out.append("|---|---|---|---|---|---|")
    for r in sorted(regressions, key=lambda r: r["case"]):
        detail = r["headline"] or r.get("note") or ""
        if r["verdict"] != "ok" and r["violations"] and not r["headline"]:
            detail = r.get("note") or "; ".join(r["violations"][:2])
        elif r["verdict"] != "ok" and r["violations"]:
            detail = f"{r['violations'][0]} — {r['headline']}" if not r["violations"][0].endswith(r["headline"]) else r["violations"][0]
        out.append(f"| {r['case']} | {r['expected']} | {r['exit'] if r['exit'] is not None else '—'} | "
                   f"{r['seconds'] if r['seconds'] is not None else '—'} | {r['verdict']} | {clean(detail)[:300]} |")
    out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
