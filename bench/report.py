#!/usr/bin/env python3
"""Turn a bench/run.sh result directory into markdown tables.

    python3 bench/report.py /tmp/s3pod-bench/results/latest > tables.md

Uses raw.tsv (one row per run), stages.tsv (per-process CPU/RSS inside pipelines),
hf-*.json (hyperfine start-up medians), verify.tsv and meta.txt. Warm-up runs (run <= 0),
failed runs (rc != 0) and runs flagged as contaminated by other processes are left out of the
medians; the "n" column says how many runs were kept out of how many were timed.
"""
import csv
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

RES = sys.argv[1] if len(sys.argv) > 1 else "/tmp/s3pod-bench/results/latest"
SERVERS = {"s3rver": "s3rver (realistic local server)", "sink": "fast-s3 sink (client limit)"}


def read_tsv(name):
    path = os.path.join(RES, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


raw = read_tsv("raw.tsv")
stages = read_tsv("stages.tsv")
verify = read_tsv("verify.tsv")

runs = defaultdict(list)   # (server, case, tool, ds) -> kept runs
total = defaultdict(int)   # timed runs (warm-up excluded)
for r in raw:
    if int(r["run"]) <= 0:
        continue
    k = (r["server"], r["case"], r["tool"], r["dataset"])
    total[k] += 1
    if r["rc"] == "0" and r["contaminated"] == "0":
        runs[k].append(r)
flagged = sum(1 for r in raw if int(r["run"]) > 0 and r["contaminated"] != "0")
failed = sum(1 for r in raw if r["rc"] != "0")


def med(k, field="wall_s"):
    v = [float(r[field]) for r in runs.get(k, [])]
    return statistics.median(v) if v else None


def cpu(k):
    v = [float(r["user_s"]) + float(r["sys_s"]) for r in runs.get(k, [])]
    return statistics.median(v) if v else None


def peak_rss_mb(k):
    v = [int(r["maxrss_kb"]) for r in runs.get(k, [])]
    return max(v) / 1024 if v else None


def rng(k):
    v = [float(r["wall_s"]) for r in runs.get(k, [])]
    return (min(v), max(v)) if v else (None, None)


def f(x, d=2, unit=""):
    return "—" if x is None else f"{x:.{d}f}{unit}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def present(server, case, ds):
    return sorted({k[2] for k in total if k[0] == server and k[1] == case and k[3] == ds},
                  key=lambda t: ["s3pod", "s3pod-dir", "s3pod-save", "aws", "rclone", "curl", "local", "harness-true"].index(t)
                  if t in ["s3pod", "s3pod-dir", "s3pod-save", "aws", "rclone", "curl", "local", "harness-true"] else 99)


out = []
p = out.append
meta = open(os.path.join(RES, "meta.txt")).read().strip() if os.path.exists(os.path.join(RES, "meta.txt")) else ""
p("```\n" + meta + "\n```\n")
p(f"Timed runs: {sum(total.values())}; dropped as contaminated by other processes: {flagged}; failed: {failed}.\n")

# ---------------------------------------------------------------- start-up (hyperfine)
def hf(name):
    path = os.path.join(RES, name)
    if not os.path.exists(path):
        return {}
    d = json.load(open(path))
    return {r["command"]: r for r in d["results"]}


hfv = {**hf("hf-version-fast.json"), **hf("hf-version-aws.json")}
p("## 1. Start-up and one small request\n")
p("Wall times are hyperfine medians (`-N`, no shell; 30 runs, aws 10, after 3 warm-ups). "
  "CPU and peak RSS come from the interleaved harness runs.\n")
p("| command | s3pod | aws | rclone | curl | s3pod/aws | s3pod/rclone | s3pod/curl |")
p("|---|---|---|---|---|---|---|---|")
rows = [("`--version`", hfv, "-", "version")]
for srv in SERVERS:
    h = {**hf(f"hf-exists-fast-{srv}.json"), **hf(f"hf-exists-aws-{srv}.json")}
    if h:
        rows.append((f"exists / head-object (hit), {srv}", h, srv, "exists"))
startup = {}
for label, h, srv, case in rows:
    m = {t: (h[t]["median"] * 1000 if t in h else None) for t in ["s3pod", "aws", "rclone", "curl"]}
    startup[(srv, case)] = m
    p(f"| {label} | {f(m['s3pod'], 1, ' ms')} | {f(m['aws'], 0, ' ms')} | {f(m['rclone'], 1, ' ms')} | {f(m['curl'], 1, ' ms')} "
      f"| {f(ratio(m['s3pod'], m['aws']), 3)} | {f(ratio(m['s3pod'], m['rclone']), 2)} | {f(ratio(m['s3pod'], m['curl']), 2)} |")
p("")
p("| case | tool | harness median wall | CPU s | peak RSS MB | n |")
p("|---|---|---|---|---|---|")
for srv_case in sorted({(k[0], k[1]) for k in total if k[1] in ("version", "exists")}):
    for t in present(srv_case[0], srv_case[1], "-"):
        k = (srv_case[0], srv_case[1], t, "-")
        p(f"| {srv_case[1]} ({srv_case[0]}) | {t} | {f(med(k), 3, ' s')} | {f(cpu(k), 2)} | {f(peak_rss_mb(k), 0)} | {len(runs[k])}/{total[k]} |")
p("\n(harness wall includes `/usr/bin/time` + `bash -c`, about 3-4 ms: see `harness-true`.)\n")


# ---------------------------------------------------------------- transfer tables
def transfer_table(server, case, ds, s3pod_tools, refs):
    tools = present(server, case, ds)
    if not tools:
        return
    p(f"| tool | median s | min–max s | MB/s | client CPU s | server CPU s | peak RSS MB | n | " +
      " | ".join(f"s3pod/{r}" if len(s3pod_tools) == 1 else f"÷ {r}" for r in refs) + " |")
    p("|---|---|---|---|---|---|---|---|" + "---|" * len(refs))
    for t in tools:
        k = (server, case, t, ds)
        m = med(k)
        b = float(runs[k][0]["bytes"]) if runs.get(k) else None
        lo, hi = rng(k)
        cells = []
        for r in refs:
            rm = med((server, case, r, ds))
            cells.append(f"**{f(ratio(m, rm), 2)}**" if t in s3pod_tools else "")
        p(f"| {t} | {f(m)} | {f(lo)}–{f(hi)} | {f(b / m / 1e6 if m and b else None, 0)} | {f(cpu(k))} "
          f"| {f(med(k, 'srv_cpu_s'))} | {f(peak_rss_mb(k), 0)} | {len(runs[k])}/{total[k]} | " + " | ".join(cells) + " |")
    p("")


def stage_table(server, case, ds):
    agg = defaultdict(list)
    for s in stages:
        if s["server"] == server and s["case"] == case and s["dataset"] == ds and int(s["run"]) > 0:
            agg[(s["tool"], s["stage"])].append((float(s["user_s"]) + float(s["sys_s"]), int(s["maxrss_kb"])))
    if not agg:
        return
    cells = []
    for (tool, st), v in sorted(agg.items()):
        cells.append(f"{tool}/{st} {statistics.median(x[0] for x in v):.2f} s, {max(x[1] for x in v) / 1024:.0f} MB")
    p("Per-process CPU (median) and peak RSS inside the pipelines: " + "; ".join(cells) + ".\n")


for server in SERVERS:
    if not any(k[0] == server for k in total):
        continue
    p(f"## Server: {SERVERS[server]}\n")
    if any(k[0] == server and k[1].startswith("file") for k in total):
        p("### 2. One 1 GiB file (1,073,741,824 B: tar of the .NET SDK + random tail)\n")
        for case in ["file-up", "file-down"]:
            p(f"**{case}** (downloads land on tmpfs)\n")
            transfer_table(server, case, "big", ["s3pod"], ["aws", "rclone", "curl"])
    dss = [d for d in ["nuget", "npm"] if any(k[0] == server and k[1].startswith("dir") and k[3] == d for k in total)]
    if dss:
        p("### 3. Directory caches (tar + zstd -3; restores into tmpfs)\n")
        p("Ratio columns: s3pod-dir (`dir upload/download`) and s3pod-save (`save/restore`) ÷ each reference.\n")
        for ds in dss:
            for case in ["dir-up", "dir-down"]:
                p(f"**{ds} {case}**\n")
                transfer_table(server, case, ds, ["s3pod-dir", "s3pod-save"], ["aws", "rclone", "local"])
                stage_table(server, case, ds)
    if any(k[0] == server and k[3] == "tree2g" for k in total):
        p("### 4. ~2.1 GiB tree (the 1 GiB file + 7 copies of the NuGet cache, 4,152 files): peak RSS\n")
        for case in ["dir-up", "dir-down"]:
            p(f"**tree2g {case}** (s3pod-save = `save`/`restore`; rclone pipeline for reference)\n")
            transfer_table(server, case, "tree2g", ["s3pod-save"], ["rclone"])
            stage_table(server, case, "tree2g")
    dk = sorted({k[3] for k in total if k[0] == server and k[1].startswith("docker")})
    if dk:
        p("### 5. Docker images (server CPU column = S3 server + dockerd + containerd)\n")
        p("local = `docker save IMG | zstd -3 -T0 > file` / `zstd -d < file | docker load`.\n")
        for ds in dk:
            for case in ["docker-up", "docker-down"]:
                p(f"**{ds} {case}**\n")
                transfer_table(server, case, ds, ["s3pod"], ["local"])

# ---------------------------------------------------------------- verification
bad = [v for v in verify if v["result"] != "identical"]
p(f"## Verification\n\n{len(verify) - len(bad)} of {len(verify)} untimed checks identical "
  "(`diff -r --no-dereference` of restored trees, `cmp` of 1 GiB downloads, image present after load)." +
  ("" if not bad else " Differences: " + "; ".join(f"{v['server']}/{v['case']}/{v['tool']}/{v['dataset']}: {v['result']}" for v in bad)) + "\n")

# ---------------------------------------------------------------- targets
p("## Targets (issues 2 and 3), computed from the medians above\n")
p("| target | server | data | measured | verdict |")
p("|---|---|---|---|---|")


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


def trow(target, server, data, measured, ok):
    p(f"| {target} | {server} | {data} | {measured} | {verdict(ok)} |")


v = startup.get(("-", "version"), {}).get("s3pod")
trow("`s3pod --version` ≤ 20 ms", "—", "—", f(v, 1, " ms"), None if v is None else v <= 20)
for srv in SERVERS:
    e = startup.get((srv, "exists"), {}).get("s3pod")
    if e is not None:
        trow("`exists` hit ≤ 60 ms", srv, "—", f(e, 1, " ms"), e <= 60)
for srv in SERVERS:
    for case in ["file-up", "file-down"]:
        s = med((srv, case, "s3pod", "big"))
        if s is None:
            continue
        c = med((srv, case, "curl", "big"))
        a = med((srv, case, "aws", "big"))
        rc, ra = ratio(s, c), ratio(s, a)
        trow(f"1 GiB {case.split('-')[1]} ≤ 1.2× curl", srv, "big", f"{s:.2f} s vs curl {f(c)} s = {f(rc)}×", None if rc is None else rc <= 1.2)
        trow(f"1 GiB {case.split('-')[1]} ≤ 0.5× aws", srv, "big", f"{s:.2f} s vs aws {f(a)} s = {f(ra)}×", None if ra is None else ra <= 0.5)
        m = peak_rss_mb((srv, case, "s3pod", "big"))
        trow(f"RSS ≤ 100 MB, 1 GiB {case.split('-')[1]}", srv, "big", f(m, 0, " MB"), None if m is None else m <= 100)
for srv in SERVERS:
    for ds in ["nuget", "npm"]:
        for tool in ["s3pod-dir", "s3pod-save"]:
            for case, lim_a, lim_r in [("dir-up", 0.5, 0.8), ("dir-down", 0.5, 1.0)]:
                s = med((srv, case, tool, ds))
                if s is None:
                    continue
                a, r, l = (med((srv, case, t, ds)) for t in ["aws", "rclone", "local"])
                ra, rr, rl = ratio(s, a), ratio(s, r), ratio(s, l)
                what = "upload" if case == "dir-up" else "download"
                trow(f"dir {what} ≤ {lim_a}× aws ({tool})", srv, ds, f"{s:.2f} vs {f(a)} s = {f(ra)}×", None if ra is None else ra <= lim_a)
                trow(f"dir {what} ≤ {lim_r}× rclone ({tool})", srv, ds, f"{s:.2f} vs {f(r)} s = {f(rr)}×", None if rr is None else rr <= lim_r)
                if srv == "sink":
                    trow(f"dir {what} ≤ 1.3× local limit ({tool})", srv, ds, f"{s:.2f} vs {f(l)} s = {f(rl)}×", None if rl is None else rl <= 1.3)
for srv in SERVERS:
    m = [peak_rss_mb((srv, c, "s3pod-save", "tree2g")) for c in ["dir-up", "dir-down"]]
    for c, x in zip(["save", "restore"], m):
        if x is not None:
            trow(f"RSS ≤ 150 MB, 2 GiB tree {c}", srv, "tree2g", f(x, 0, " MB"), x <= 150)
for srv in SERVERS:
    for ds in sorted({k[3] for k in total if k[0] == srv and k[1].startswith("docker")}):
        for case in ["docker-up", "docker-down"]:
            s, l = med((srv, case, "s3pod", ds)), med((srv, case, "local", ds))
            rl = ratio(s, l)
            trow(f"docker {case.split('-')[1]} ≤ 1.2× local", srv, ds, f"{f(s)} vs {f(l)} s = {f(rl)}×", None if rl is None else rl <= 1.2)

# ---------------------------------------------------------------- exact commands
cmds = {}
for c in read_tsv("commands.tsv"):
    cmds.setdefault((c["case"], c["tool"]), c["command"])
if cmds:
    p("\n## Exact commands (templates as run by `bash -c`; `stage LABEL` only records per-process CPU/RSS)\n")
    p("Variables: `$S3POD` the native binary, `$AWS`=/usr/bin/aws, `$EP` the server URL, `$BUCKET`=bench, "
      "`$BIG` the 1 GiB file, `$DIR` the data set, `$PARENT`/`$NAME` its parent and name, `$ARCH` its tar.zst, "
      "`$TMPFS` the tmpfs, `$SAVEKEY` a fresh key per run, `$RKEY` the last saved key, `$IMG`/`$IK` the image and its key.\n")
    p("| case | tool | command |")
    p("|---|---|---|")
    for (case, tool), c in cmds.items():
        p(f"| {case} | {tool} | `{c.strip().replace('|', '&#124;')}` |")

print("\n".join(out))
