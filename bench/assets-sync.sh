#!/usr/bin/env bash
# `s3pod asset sync` of a manifest of N assets (1 GiB in total by default) into an empty assets
# directory, against `s3pod download` of the same objects (the assets' blobs) run in parallel with
# `xargs -P`, on one S3 server (issue 11: sync within 1.3x of that). Then `asset path` of a present
# pinned asset against `s3pod --version` (issue 11: at most 2x), timed with `hyperfine -N`.
#
#   source /work/devenv/ceph-rgw.env && bash bench/assets-sync.sh
#
# Knobs: S3POD (binary, default dist/s3pod-linux-x64), N (20), TOTAL (bytes, 1 GiB), RUNS (3), JOBS
# (8: sync --jobs and xargs -P alike), SCRATCH (a directory on a RAM disk, default /dev/shm; both
# tools write there). The server comes from S3POD_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
S3POD=${S3POD:-$REPO/dist/s3pod-linux-x64}
N=${N:-20} TOTAL=${TOTAL:-1073741824} RUNS=${RUNS:-3} JOBS=${JOBS:-8}
EP=${S3POD_TEST_S3_ENDPOINT:?source a server env, e.g. /work/devenv/ceph-rgw.env}
WORK=$(mktemp -d "${SCRATCH:-/dev/shm}/s3pod-bench-sync-XXXXXX")
export S3POD_BUCKET=s3pod-bench-sync-$$
export S3POD_ENDPOINT=$EP S3POD_REGION=${S3POD_TEST_S3_REGION:-us-east-1}
export S3POD_S3_KEY_ID=$S3POD_TEST_S3_KEY_ID S3POD_S3_SECRET=$S3POD_TEST_S3_SECRET
export S3POD_CONFIG=$WORK/none.toml S3POD_CACHE_DIR=$WORK/cache S3POD_ASSETS_DIR=$WORK/assets
cleanup() {
  /usr/bin/env AWS_ACCESS_KEY_ID=$S3POD_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$S3POD_S3_SECRET AWS_DEFAULT_REGION=$S3POD_REGION AWS_CONFIG_FILE=/dev/null \
    /usr/bin/aws --endpoint-url "$EP" s3 rb --force "s3://$S3POD_BUCKET" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$S3POD" init --create-bucket --force >/dev/null
mkdir -p "$WORK/src" "$WORK/proj"
head -c "$TOTAL" /dev/urandom > "$WORK/all.bin"
split -n "$N" -d -a 2 "$WORK/all.bin" "$WORK/src/part-"
rm "$WORK/all.bin"
cd "$WORK/proj"
for f in "$WORK"/src/part-*; do "$S3POD" asset add "/bench/$(basename "$f").bin" "$f" >/dev/null 2>&1; done
# The same objects for `s3pod download`: each asset's blob key.
for f in "$WORK"/src/part-*; do
  blob=$("$S3POD" artifact info "bench/$(basename "$f").bin:1.0.0" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["blob"])')
  echo "blobs/$blob $WORK/dl/$(basename "$f")"
done > "$WORK/keys.txt"
rm -rf "$WORK/src"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -A T=()
for run in $(seq 1 "$RUNS"); do
  # Cold both times: no assets directory, no artifact content cache (the record cache may answer
  # pinned versions, as on a CI runner restoring ~/.cache; the object GETs are what is measured).
  rm -rf "$WORK/assets" "$WORK/cache/artifacts/blobs" "$WORK/cache/artifacts/trees" "$WORK/dl"; mkdir -p "$WORK/dl"; sync
  t=$(now); "$S3POD" asset sync --jobs "$JOBS" >/dev/null 2>"$WORK/sync.err" || { cat "$WORK/sync.err" >&2; exit 1; }; T[sync]+="$(echo "$(now) - $t" | bc) "
  rm -rf "$WORK/assets"; sync
  t=$(now); xargs -P "$JOBS" -n 2 "$S3POD" download < "$WORK/keys.txt" 2>/dev/null; T[download]+="$(echo "$(now) - $t" | bc) "
  [[ $(ls "$WORK/dl" | wc -l) == "$N" ]] || { echo "incomplete download" >&2; exit 1; }
done

declare -A M=()
for c in sync download; do M[$c]=$(tr ' ' '\n' <<<"${T[$c]}" | grep . | median); done
printf '%s assets, %s bytes in total, %s (median of %s runs, %s at once)\n' "$N" "$TOTAL" "$EP" "$RUNS" "$JOBS"
printf '  %-28s %8.2f s   runs: %s\n' "asset sync" "${M[sync]}" "${T[sync]}"
printf '  %-28s %8.2f s   runs: %s\n' "xargs -P$JOBS s3pod download" "${M[download]}" "${T[download]}"
awk -v s="${M[sync]}" -v d="${M[download]}" 'BEGIN { printf "  sync takes %.2fx the time of the parallel downloads (target <= 1.3x)\n", s / d }'

# asset path of a present pinned asset: no network (an unreachable endpoint proves it).
"$S3POD" asset sync >/dev/null 2>&1
S3POD_ENDPOINT=http://127.0.0.1:9 hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/path.json" \
  "$S3POD --version" "$S3POD asset path /bench/part-00.bin" >/dev/null
python3 - "$WORK/path.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
v, p = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"  s3pod --version {v:.1f} ms, asset path (present, pinned) {p:.1f} ms: {p / v:.2f}x (target <= 2x)")
EOF
