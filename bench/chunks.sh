#!/usr/bin/env bash
# Chunked caches against whole-archive mode, same tree, same run, on the configured S3 server
# (Ceph RGW in bench/RESULTS.md). Public tools only: /usr/bin/time for wall time and peak RSS.
#
#   S3POD=dist/s3pod-linux-x64 S3POD_ENDPOINT=... S3POD_BUCKET=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
#     WORK=/dev/shm/chunk-bench TREE=/usr/share/dotnet/sdk bash bench/chunks.sh
#
# Everything runs on WORK (tmpfs: restores there measure s3pod, not the disk). Each case uses its
# own store prefix, so a "full" save starts from an empty chunk store.
# SECTIONS picks cases (default: all); "docker" needs a Docker engine (DOCKER_HOST as for docker)
# and is skipped without one.
set -euo pipefail
S3POD=${S3POD:-$(pwd)/dist/s3pod-linux-x64}
WORK=${WORK:-/dev/shm/chunk-bench}
TREE=${TREE:-/usr/share/dotnet/sdk}
RUN=bench-$(date +%s)
export S3POD_CACHE_DIR=$WORK/cache S3POD_CHUNK_CACHE=off
rm -rf "$WORK"; mkdir -p "$WORK"
cd "$WORK"

# measure LABEL cmd... : prints "LABEL wall_s peak_rss_MB" and keeps the command's stdout in $WORK/last.json
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/last.json" 2> "$WORK/last.err" || { cat "$WORK/last.err" >&2; return 1; }
  read -r wall rss < "$WORK/time"
  printf '%-44s %8.2f s %7d MB' "$label" "$wall" $((rss / 1024))
  if [[ -s $WORK/last.json ]] && jq -e '.uploadedBytes != null' "$WORK/last.json" > /dev/null 2>&1; then
    jq -r '"  uploaded \(.uploadedBytes/1048576|floor) MiB of \(.size/1048576|floor) MiB stored, \(.chunks) chunks"' "$WORK/last.json"
  elif grep -q downloadedBytes "$WORK/last.json" 2>/dev/null; then
    jq -r '"  downloaded \((.downloadedBytes // 0)/1048576|floor) MiB of \(.size/1048576|floor) MiB"' "$WORK/last.json"
  else echo; fi
}
stored() { aws --endpoint-url "$S3POD_ENDPOINT" s3 ls --recursive --summarize "s3://$S3POD_BUCKET/$1" | awk '/Total Size/ {print $3}'; }
mib() { echo $(( $1 / 1048576 )); }

# change PCT% of the files by one byte and add a 2 MB file (seeded: every mode sees the same change)
change() {
  local dir=$1 n=$2
  python3 - "$dir" "$n" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if not os.path.islink(os.path.join(r, f)))
rnd = random.Random(n)
for p in rnd.sample(files, max(1, len(files) // 100)):
    with open(p, 'r+b') as f:
        size = os.path.getsize(p)
        if size == 0: f.write(b'x'); continue
        f.seek(rnd.randrange(size)); b = f.read(1); f.seek(-1, 1); f.write(bytes([b[0] ^ 1]))
with open(os.path.join(d, f'added-{n}.bin'), 'wb') as f: f.write(rnd.randbytes(2 << 20))
PY
}

mkdir -p ws && cp -a "$TREE" ws/tree
echo "tree: $(du -sm ws/tree | cut -f1) MB, $(find ws/tree -type f | wc -l) files; server $S3POD_ENDPOINT"
cd ws
P="--prefix $RUN"
SECTIONS=${SECTIONS:-full changed warm versions small big docker}
on() { [[ " $SECTIONS " == *" $1 "* ]]; }
if on full || on changed || on warm; then
echo "== full save and cold restore"
measure "whole archive: dir upload" "$S3POD" $P dir upload full.tzst tree
measure "chunked: save (empty store)" "$S3POD" $P --json save --key full --path tree
measure "whole archive: dir download" "$S3POD" $P dir download full.tzst "$WORK/dl"
rm -rf "$WORK/dl"; mv tree tree.orig
measure "chunked: restore (cold, no chunk cache)" "$S3POD" $P --json restore --key full --path tree
diff -r tree tree.orig > /dev/null && echo "  (restored tree identical)"
rm -rf tree.orig

echo "== changed key: restore previous by restore key, change 1% of files by a byte + add 2 MB, save a new key"
change tree 1
measure "whole archive: dir upload (today)" "$S3POD" $P dir upload changed.tzst tree
measure "chunked: save new key" "$S3POD" $P --json save --key changed --path tree

echo "== warm runner: previous version in the chunk cache"
rm -rf tree
S3POD_CHUNK_CACHE=$WORK/chunkcache measure "chunked: restore previous (fills cache)" "$S3POD" $P --json restore --key full --path tree
rm -rf tree
S3POD_CHUNK_CACHE=$WORK/chunkcache measure "chunked: restore new key (warm cache)" "$S3POD" $P --json restore --key changed --path tree

fi
if on versions; then
echo "== 11 successive versions"
P2="--prefix $RUN-v"
one=0
for v in $(seq 0 10); do
  [ "$v" -gt 0 ] && change tree $((v + 10))
  "$S3POD" $P2 --json save --key "$(printf 'ver-%02d' "$v")" --path tree > "$WORK/v.json"
  [ "$v" -eq 0 ] && one=$(jq .size "$WORK/v.json")
  sleep 1
done
all=$(stored "$RUN-v/chunks/")
echo "one version: $(mib "$one") MiB; 11 versions: $(mib "$all") MiB = $(python3 -c "print(round($all/$one,2))")x (whole archive: 11x)"
for v in $(seq 0 9); do "$S3POD" $P2 prune --older-than 0s --key-prefix "$(printf 'ver-%02d' "$v")" --grace 0s > /dev/null 2>&1; done
"$S3POD" $P2 prune --grace 0s > /dev/null 2>&1
left=$(stored "$RUN-v/chunks/")
echo "after pruning to the newest: $(mib "$left") MiB = $(python3 -c "print(round($left/$one,2))")x"

fi
if on small; then
echo "== 52,000 small files (node_modules-like: 0.2-4 KB)"
cd "$WORK" && mkdir -p small && python3 - <<'PY'
import os, random
rnd = random.Random(7)
words = [bytes(rnd.choice(b'abcdefghijklmnopqrstuvwxyz ;{}()=\n') for _ in range(rnd.randrange(3, 12))) for _ in range(5000)]
for i in range(52000):
    d = f"small/nm/pkg{i // 40:04d}/lib"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/m{i % 40}.js", "wb") as f: f.write(b"".join(rnd.choice(words) for _ in range(rnd.randrange(20, 400))))
PY
cd small
measure "whole archive: dir upload" "$S3POD" --prefix $RUN-s dir upload s.tzst nm
measure "chunked: save" "$S3POD" --prefix $RUN-s --json save --key s --path nm
mv nm nm.orig
measure "whole archive: dir download" "$S3POD" --prefix $RUN-s dir download s.tzst nm
rm -rf nm
measure "chunked: restore" "$S3POD" --prefix $RUN-s --json restore --key s --path nm
diff -r nm nm.orig > /dev/null && echo "  (restored tree identical)"

fi
if on big; then
  echo "== peak memory, 1 GB tree"
  cd "$WORK" && mkdir -p big && cp -a "$TREE" big/sdk && head -c 600M /dev/urandom > big/random.bin
  cd big
  measure "chunked: save 1 GB" "$S3POD" --prefix $RUN-b --json save --key b --path sdk --path random.bin
  rm -rf sdk random.bin
  measure "chunked: restore 1 GB" "$S3POD" --prefix $RUN-b --json restore --key b --path sdk --path random.bin
fi
if on docker; then
  echo "== docker: a second image sharing a 40 MB base layer (save --docker-image), against docker upload"
  if ! docker info > /dev/null 2>&1; then echo "  (skipped: no docker engine)"; else
  # Images built locally from scratch (no registry needed): a base with 40 MiB of random bytes,
  # and two images FROM it adding 1 MiB each.
  img=s3pod-bench/$RUN
  mkdir -p "$WORK/img/base" "$WORK/img/a" "$WORK/img/b" && cd "$WORK/img"
  head -c 40M /dev/urandom > base/base.bin && printf 'FROM scratch\nCOPY base.bin /base.bin\n' > base/Dockerfile
  DOCKER_BUILDKIT=0 docker build -q -t "$img-base:1" base > /dev/null 2>&1
  for x in a b; do
    head -c 1M /dev/urandom > $x/$x.bin && printf 'FROM %s\nCOPY %s.bin /%s.bin\n' "$img-base:1" $x $x > $x/Dockerfile
    DOCKER_BUILDKIT=0 docker build -q -t "$img-$x:1" $x > /dev/null 2>&1
  done
  bytes() { echo "  $1: $(jq -r ".$2" "$WORK/last.json") bytes"; }
  measure "whole: docker upload A" "$S3POD" --prefix $RUN-d --json docker upload img-a "$img-a:1"; bytes "stored" size
  measure "whole: docker upload B" "$S3POD" --prefix $RUN-d --json docker upload img-b "$img-b:1"; bytes "stored" size
  measure "chunked: save --docker-image A" "$S3POD" --prefix $RUN-d --json save --key img-a --docker-image "$img-a:1"; bytes "uploaded" uploadedBytes
  measure "chunked: save --docker-image B (A's base)" "$S3POD" --prefix $RUN-d --json save --key img-b --docker-image "$img-b:1"; bytes "uploaded" uploadedBytes
  measure "chunked: save --update B, unchanged" "$S3POD" --prefix $RUN-d --json save --key img-b --docker-image "$img-b:1" --update; jq -r '"  \(.skippedReason)"' "$WORK/last.json"
  docker rmi "$img-b:1" > /dev/null
  measure "whole: docker download B" "$S3POD" --prefix $RUN-d --json docker download img-b
  docker rmi "$img-b:1" > /dev/null
  measure "chunked: restore --docker-image B" "$S3POD" --prefix $RUN-d --json restore --key img-b --docker-image "$img-b:1"
  docker rmi "$img-a:1" "$img-b:1" "$img-base:1" > /dev/null
  fi
fi
rm -rf "$WORK"
