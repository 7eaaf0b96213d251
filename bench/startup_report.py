#!/usr/bin/env python3
"""Start-up table from bench/startup.sh: pools the wall times of every round (hyperfine JSON) per
command, reports the median and spread, CPU, the ratio to the hello-world AOT binary, and the
verdict against issue 8's targets (--version <= 2x hello, exists on a hit <= 3x hello).

    python3 bench/startup_report.py RESULT_DIR
"""
import glob
import json
import os
import statistics
import sys

res = sys.argv[1]
times, user, system = {}, {}, {}
for path in sorted(glob.glob(os.path.join(res, "round-*.json"))):
    for r in json.load(open(path))["results"]:
        n = r["command"]
        times.setdefault(n, []).extend(r["times"])
        # hyperfine gives CPU as a mean per round; weight it by the round's run count
        user.setdefault(n, []).extend([r["user"]] * len(r["times"]))
        system.setdefault(n, []).extend([r["system"]] * len(r["times"]))
# Other work on the machine per round: busy CPU minus this benchmark's own (warm-up runs included).
others = []
for path in sorted(glob.glob(os.path.join(res, "round-*.busy"))):
    ticks, clk, t0, t1, warmup = open(path).read().split()
    rounds = json.load(open(path[:-len(".busy")] + ".json"))["results"]
    own = sum((r["user"] + r["system"]) * (len(r["times"]) + int(warmup)) for r in rounds)
    others.append((int(ticks) / int(clk) - own) / (float(t1) - float(t0)))
if "hello" not in times:
    sys.exit(f"no hello runs under {res}")

ms = lambda s: s * 1000
med = {n: statistics.median(t) for n, t in times.items()}
floor = med["hello"]
labels = {
    "hello": "hello world (native AOT, s3pod's settings)",
    "sha256": "floor: hello + SHA-256 of FILE (OpenSSL)",
    "head": "floor: HttpClient HEAD to the sink",
    "signed-head": "floor: HttpClient HEAD + one HMAC-SHA256",
    "version": "`s3pod --version`",
    "help": "`s3pod --help`",
    "key": "`s3pod key x --hash-from FILE` (10 KiB)",
    "exists-local": "`s3pod exists K` hit, local store",
    "exists-sink": "`s3pod exists K` hit, fast-s3 sink",
    "exists-ceph": "`s3pod exists K` hit, Ceph RGW",
}
print("| command | median ms | p10–p90 ms | user+sys ms | ÷ hello | n |")
print("|---|---|---|---|---|---|")
def label(n):
    base, _, build = n.partition("@")
    return labels.get(base, base) + (f" [{build}]" if build else "")


order = [k for k in labels if k in times]
order = [x for k in order for x in (k, k + "@B") if x in times] + [k for k in times if k not in order and "@" not in k]
for n in order:
    t = sorted(times[n])
    p10, p90 = t[len(t) // 10], t[(len(t) * 9) // 10]
    cpu = statistics.mean(user[n]) + statistics.mean(system[n])
    print(f"| {label(n)} | {ms(med[n]):.1f} | {ms(p10):.1f}–{ms(p90):.1f} | {ms(cpu):.1f} | "
          f"{med[n] / floor:.2f} | {len(t)} |")

if others:
    print()
    print("Other work on the 2 vCPUs during the rounds, in cores (busy CPU minus the timed commands' own; the servers and hyperfine count as other work): "
          + ", ".join(f"{o:.2f}" for o in others)
          + ("" if max(others) < 0.25 else " — a loaded machine: compare ratios within this run, not wall times across runs"))
print()
print("| target (issue 8) | measured | verdict |")
print("|---|---|---|")
targets = [("version", "`--version` ≤ 2× hello", 2.0)] + [
    (n, f"`exists` hit ≤ 3× hello, {n.split('-', 1)[1]}", 3.0) for n in ("exists-local", "exists-sink", "exists-ceph")]
for n, text, limit in targets:
    for build in ("", "@B"):
        if n + build in med:
            ratio = med[n + build] / floor
            print(f"| {text}{' [B]' if build else ''} | {ms(med[n + build]):.1f} ms = {ratio:.2f}× | {'met' if ratio <= limit else '**missed**'} |")
