#!/usr/bin/env bash
# Artifact benchmark (issue 10), on the servers bench/setup.sh started:
#   - push / pull of the 1 GiB file against upload / download of the same file, interleaved round
#     by round in the same run (target: within 1.3x);
#   - `artifact path` of a cached pinned version against `--version` (target: within 2x), hyperfine;
#   - `artifact versions` and latest (`artifact info NAME`) of an artifact with 2,000 versions:
#     wall time (hyperfine) and the requests each makes, counted by bench/count-requests.py.
#
#   bash bench/setup.sh servers                  # once (and `data` for big1g.bin, or BIG=FILE)
#   bash bench/artifacts.sh                      # sink, then s3rver
#   RUNS=3 bash bench/artifacts.sh sink
#
# Knobs: RUNS (5, 1 GiB rounds after 1 warm-up), BIG (a 1 GiB file; default $DATA/big1g.bin, made
# from /dev/urandom if missing), VERSIONS (2000), PROXY_PORT (4619), RES (output dir).
# Neither s3rver nor the sink enforces conditional writes, so writes run with
# S3POD_ASSUME_SINGLE_WRITER=true: the benchmark is the only writer. s3rver cannot list more than
# 1,000 keys, so the 2,000-version case runs on the sink only.
set -u
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRATCH=${SCRATCH:-/tmp/s3pod-bench}
[ -f "$SCRATCH/env.sh" ] || { echo "no $SCRATCH/env.sh: run bench/setup.sh servers first" >&2; exit 2; }
. "$SCRATCH/env.sh"
SERVERS=${*:-sink s3rver}
RUNS=${RUNS:-5} VERSIONS=${VERSIONS:-2000} PROXY_PORT=${PROXY_PORT:-4619}
RES=${RES:-$SCRATCH/results/artifacts-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RES"
TMP=$(mktemp -d); PROXY_PID=
trap '[ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

export S3POD_S3_KEY_ID=S3RVER S3POD_S3_SECRET=S3RVER S3POD_BUCKET=$BUCKET
export S3POD_CONFIG=$SCRATCH/no-such-config.toml S3POD_CACHE_DIR=$SCRATCH/artifact-cache
export S3POD_ASSUME_SINGLE_WRITER=true
BIG=${BIG:-$DATA/big1g.bin}
if [ ! -f "$BIG" ]; then
  mkdir -p "$(dirname "$BIG")"; echo "making $BIG (1 GiB from /dev/urandom)"
  head -c $((1 << 30)) /dev/urandom > "$BIG"
fi
export S3POD BIG TMPFS
BLOB=blobs/sha256/$(sha256sum "$BIG" | cut -c1-2)/$(sha256sum "$BIG" | cut -c1-64)
echo "small" > "$SCRATCH/small.txt"
flt() { mawk "BEGIN{printf \"%.${2:-3}f\", $1}"; }
median() { sort -n | mawk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

{
  echo "date: $(date -Is)"; echo "host: $(uname -srm), $(nproc) vCPU"
  echo "s3pod: $($S3POD --version) ($S3POD, sha256 $(sha256sum "$S3POD" | cut -c1-16), $(stat -c %s "$S3POD") B, repo $(git -C "$BENCH/.." rev-parse --short HEAD 2>/dev/null))"
  echo "runs: RUNS=$RUNS VERSIONS=$VERSIONS; big file $BIG ($(stat -c %s "$BIG") B)"
} | tee "$RES/meta.txt"
printf 'server\tcase\ttool\trun\twall_s\n' > "$RES/raw.tsv"

# timed SERVER CASE TOOL RUN PREP CMD
timed() {
  bash -c "$5" > /dev/null 2>&1
  local t0=$EPOCHREALTIME
  bash -c "$6" > /dev/null 2> "$TMP/err" || { echo; echo "  FAILED $1/$2/$3: $(head -c 300 "$TMP/err")"; }
  local wall; wall=$(flt "$EPOCHREALTIME - $t0" 4)
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$wall" >> "$RES/raw.tsv"
  printf '%s=%s ' "$3" "$(flt "$wall" 2)"
}

# pair SERVER CASE TOOL-A PREP-A CMD-A TOOL-B PREP-B CMD-B: rounds 0 (warm-up) .. RUNS, order alternating
pair() {
  printf '%-7s %-9s ' "$1" "$2"
  for ((r = 0; r <= RUNS; r++)); do
    if ((r % 2)); then timed "$1" "$2" "$3" "$r" "$4" "$5"; timed "$1" "$2" "$6" "$r" "$7" "$8"
    else timed "$1" "$2" "$6" "$r" "$7" "$8"; timed "$1" "$2" "$3" "$r" "$4" "$5"; fi
    ((r < RUNS)) && printf '| '
  done
  echo
}

summary() { # server case a b -> median of runs >= 1 and the ratio b/a
  local a b
  a=$(mawk -F'\t' -v s="$1" -v c="$2" -v t="$3" '$1==s && $2==c && $3==t && $4>=1 {print $5}' "$RES/raw.tsv" | median)
  b=$(mawk -F'\t' -v s="$1" -v c="$2" -v t="$4" '$1==s && $2==c && $3==t && $4>=1 {print $5}' "$RES/raw.tsv" | median)
  printf '%s\t%s\t%s %.3f s\t%s %.3f s\tratio %.2f\n' "$1" "$2" "$3" "$a" "$4" "$b" "$(flt "$b / $a")" | tee -a "$RES/summary.tsv"
}

for srv in $SERVERS; do
  case $srv in
    s3rver) PORT=$S3RVER_PORT;;
    sink) PORT=$SINK_PORT;;
    *) echo "unknown server $srv"; continue;;
  esac
  export S3POD_ENDPOINT=http://127.0.0.1:$PORT
  echo "=== server $srv $S3POD_ENDPOINT"
  $S3POD upload --force small.txt "$SCRATCH/small.txt" > /dev/null 2>&1 || { echo "cannot write to $S3POD_ENDPOINT"; exit 2; }

  # 1 GiB: push vs upload (the blob is deleted before each push, so every push uploads), pull vs download.
  pair "$srv" file-up upload 'sync' '$S3POD upload --force file-s3pod.bin "$BIG"' \
    push "\$S3POD delete $BLOB; sync" '$S3POD artifact push bench/big "$BIG"'
  summary "$srv" file-up upload push
  pair "$srv" file-down download "rm -f $TMPFS/dl.bin; sync" "\$S3POD download file-s3pod.bin $TMPFS/dl.bin" \
    pull "rm -f $TMPFS/pull.bin; sync" "\$S3POD artifact pull bench/big:1 -o $TMPFS/pull.bin"
  summary "$srv" file-down download pull
  cmp -s "$BIG" "$TMPFS/pull.bin" && echo "  pulled file identical" || echo "  VERIFY: pulled file DIFFERS"
  rm -f "$TMPFS/dl.bin" "$TMPFS/pull.bin"
  $S3POD delete file-s3pod.bin > /dev/null 2>&1; $S3POD delete "$BLOB" > /dev/null 2>&1

  # path of a cached pinned version vs --version (no request is made; the record and content are local).
  $S3POD artifact push bench/small "$SCRATCH/small.txt" > /dev/null 2>&1
  $S3POD artifact path bench/small:1 > /dev/null
  hyperfine -N --style none --warmup 5 --runs 50 --export-json "$RES/hf-path-$srv.json" \
    -n version "$S3POD --version" -n path-pinned "$S3POD artifact path bench/small:1" \
    -n path-latest "$S3POD artifact path bench/small" > /dev/null 2>&1
  python3 - "$RES/hf-path-$srv.json" "$srv" <<'EOF' | tee -a "$RES/summary.tsv"
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
v, p, l = r["version"]["median"], r["path-pinned"]["median"], r["path-latest"]["median"]
print(f"{sys.argv[2]}\tpath\tversion {v*1000:.1f} ms\tpath pinned {p*1000:.1f} ms (ratio {p/v:.2f})\tpath latest {l*1000:.1f} ms")
EOF

  # 2,000 versions: seeded with explicit versions (distinct keys: no race), then timed and counted.
  if [ "$srv" = sink ]; then
    echo "  seeding bench/many with $VERSIONS versions"
    seq 1 "$VERSIONS" | xargs -P 8 -I{} "$S3POD" artifact push bench/many "$SCRATCH/small.txt" --version {} > /dev/null 2>&1
    $S3POD artifact versions bench/many > /dev/null; $S3POD artifact info bench/many > /dev/null   # warm the record cache
    hyperfine -N --style none --warmup 3 --runs 20 --export-json "$RES/hf-many-$srv.json" \
      -n versions "$S3POD artifact versions bench/many" -n latest "$S3POD artifact info bench/many" > /dev/null 2>&1
    python3 "$BENCH/count-requests.py" "$PROXY_PORT" "$PORT" "$TMP/requests.log" & PROXY_PID=$!
    sleep 0.5
    count() { : > "$TMP/requests.log"; S3POD_ENDPOINT=http://127.0.0.1:$PROXY_PORT "$S3POD" "$@" > /dev/null; sleep 0.2; wc -l < "$TMP/requests.log"; }
    S3POD_ENDPOINT=http://127.0.0.1:$PROXY_PORT $S3POD artifact versions bench/many > /dev/null  # the capability probe and records for this endpoint
    S3POD_ENDPOINT=http://127.0.0.1:$PROXY_PORT $S3POD artifact info bench/many > /dev/null
    v=$(count artifact versions bench/many); l=$(count artifact info bench/many)
    $S3POD artifact push bench/many "$SCRATCH/small.txt" > /dev/null 2>&1
    n=$(count artifact info bench/many)
    kill "$PROXY_PID"; PROXY_PID=
    python3 - "$RES/hf-many-$srv.json" "$srv" "$v" "$l" "$n" "$VERSIONS" <<'EOF' | tee -a "$RES/summary.tsv"
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
s, v, l, n, count = sys.argv[2:]
print(f"{s}\tmany\t{count} versions: versions {r['versions']['median']*1000:.1f} ms, {v} requests\tlatest {r['latest']['median']*1000:.1f} ms, {l} requests\tlatest after a new version: {n} requests")
EOF
  fi
done
echo "results in $RES"
