#!/usr/bin/env bash
# s3pod start-up against the floor of a .NET process on this machine: a hello-world native-AOT
# binary that this script builds with s3pod's own AOT settings (same SDK, the PropertyGroups of
# Directory.Build.props and native/S3Pod/S3Pod.csproj copied verbatim). Public tools only: the
# .NET SDK, hyperfine (Debian), node (the fast-s3 sink), strace for `trace`.
#
#   bash bench/startup.sh              # build hello once, time every command, print the table
#   bash bench/startup.sh trace        # also strace each command once (-f -tt -T) and count syscalls (-c)
#   ROUNDS=5 RUNS=20 bash bench/startup.sh
#
# Timed (hyperfine -N: no shell; each round runs every command RUNS times, rounds alternate the
# order; medians pool all rounds):
#   hello                                   the floor (bench/floors/hello.cs)
#   s3pod --version | --help | key x --hash-from FILE (10 KiB)
#   s3pod exists K  on a hit: local store (--store), fast-s3 sink (no auth, started here),
#                   Ceph RGW (credentials from $CEPH_ENV; skipped when the file is absent)
#
# Floors (bench/floors/*.cs, same settings): sha256 = hello + SHA-256 of the file (OpenSSL);
#   head = an unsigned HEAD to the sink through HttpClient; signed-head = head + one HMAC-SHA256.
#
# Knobs: S3POD (dist/s3pod-linux-x64), COMPARE (a second s3pod binary, timed as NAME@B in the same
#   rounds), ROUNDS (3), RUNS (20), WARMUP (5), SCRATCH (/tmp/s3pod-bench), RES
#   ($SCRATCH/results/startup-<stamp>), CEPH_ENV (/work/devenv/ceph-rgw.env), SINK_JS, SINK_PORT (4611).
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
SCRATCH=${SCRATCH:-/tmp/s3pod-bench}
S3POD=${S3POD:-$REPO/dist/s3pod-linux-x64}
ROUNDS=${ROUNDS:-3} RUNS=${RUNS:-20} WARMUP=${WARMUP:-5}
CEPH_ENV=${CEPH_ENV:-/work/devenv/ceph-rgw.env}
SINK_JS=${SINK_JS:-/work/shared/reference/test-servers/fast-s3-sink.mjs}
SINK_PORT=${SINK_PORT:-4611}
RES=${RES:-$SCRATCH/results/startup-$(date +%Y%m%d-%H%M%S)}
MODE=${1:-time}
say() { printf '[startup %(%T)T] %s\n' -1 "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8; exit}' /proc/stat; }

[ -x "$S3POD" ] || { say "no s3pod binary at $S3POD (run ./publish-aot.sh)"; exit 2; }
command -v hyperfine > /dev/null || { say "hyperfine is missing: apt-get install hyperfine"; exit 2; }
mkdir -p "$RES"
T=$(mktemp -d "${TMPDIR:-/tmp}/s3pod-startup.XXXXXX")
SINK_PID=
cleanup() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2> /dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# ------------------------------------------------------------------ the floors: tiny AOT programs
# bench/floors/NAME.cs, each built as its own project from s3pod's own settings (regenerated on every
# run, rebuilt when the settings, the source or the SDK changed): hello is the floor the targets are
# measured against; sha256, head and signed-head show what OpenSSL and .NET's HTTP stack cost alone.
first_property_group() { sed -n '0,/<\/PropertyGroup>/{/<PropertyGroup>/,/<\/PropertyGroup>/p}' "$1"; }
build_floor() { # build_floor NAME -> $SCRATCH/floors/NAME/out/NAME
  local name=$1 dir=$SCRATCH/floors/$1 new=$T/floor-$1
  mkdir -p "$dir" "$new"
  {
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    first_property_group "$REPO/Directory.Build.props"
    first_property_group "$REPO/native/S3Pod/S3Pod.csproj" | grep -v -e '<AssemblyName>' -e '<RootNamespace>'
    echo "  <PropertyGroup><AssemblyName>$name</AssemblyName></PropertyGroup>"
    echo '</Project>'
  } > "$new/$name.csproj"
  cp "$BENCH/floors/$name.cs" "$new/Program.cs"
  dotnet --version > "$new/sdk"
  if diff -rq "$new" "$dir" -x out -x obj -x bin > /dev/null 2>&1 && [ -x "$dir/out/$name" ]; then return 0; fi
  say "building the floor '$name' (native AOT, SDK $(cat "$new/sdk"), s3pod's settings)"
  rm -rf "$dir" && mv "$new" "$dir"
  (cd "$dir" && DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet publish -c Release -r linux-x64 -o out -nologo -v q) >&2
}
for f in hello sha256 head signed-head; do build_floor "$f"; done
FLOOR=$SCRATCH/floors

# ------------------------------------------------------------------ fixtures
export S3POD_CONFIG=$T/no-such-config.toml        # never read ~/.config/s3pod
unset S3POD_BUCKET S3POD_ENDPOINT S3POD_PREFIX S3POD_STORE S3POD_ARCH_SUFFIX
head -c 10240 /dev/urandom | base64 > "$T/go.sum"
echo hello > "$T/small.txt"
KEY=startup/small.txt
"$S3POD" --store "$T/store" upload "$KEY" "$T/small.txt" > /dev/null 2>&1

names=(hello sha256 version help key exists-local)
declare -A CMDS=(
  [hello]="$FLOOR/hello/out/hello"
  [sha256]="$FLOOR/sha256/out/sha256 $T/go.sum"
  [version]="$S3POD --version"
  [help]="$S3POD --help"
  [key]="$S3POD key x --hash-from $T/go.sum"
  [exists-local]="$S3POD --store $T/store exists $KEY"
)

# The sink accepts any signature, so Ceph's credentials (or dummies) serve both remote stores.
CEPH_EP= CEPH_BUCKET=
if [ -r "$CEPH_ENV" ]; then
  CEPH_EP=$(bash -c ". '$CEPH_ENV'; echo \$S3POD_TEST_S3_ENDPOINT")
  S3POD_S3_KEY_ID=$(bash -c ". '$CEPH_ENV'; echo \$S3POD_TEST_S3_KEY_ID")
  S3POD_S3_SECRET=$(bash -c ". '$CEPH_ENV'; echo \$S3POD_TEST_S3_SECRET")
else
  S3POD_S3_KEY_ID=startup S3POD_S3_SECRET=startup-secret
fi
export S3POD_S3_KEY_ID S3POD_S3_SECRET

if [ -f "$SINK_JS" ] && command -v node > /dev/null; then
  port_open "$SINK_PORT" && { say "port $SINK_PORT in use (set SINK_PORT)"; exit 2; }
  (cd "$(dirname "$SINK_JS")" && DIR=$T/sink PORT=$SINK_PORT BUCKETS=bench exec node "$(basename "$SINK_JS")") > "$T/sink.log" 2>&1 < /dev/null &
  SINK_PID=$!
  for _ in $(seq 1 100); do port_open "$SINK_PORT" && break; sleep 0.1; done
  SINK=(--endpoint "http://127.0.0.1:$SINK_PORT" --bucket bench)
  "$S3POD" "${SINK[@]}" upload "$KEY" "$T/small.txt" > /dev/null
  names+=(head signed-head exists-sink)
  CMDS[head]="$FLOOR/head/out/head http://127.0.0.1:$SINK_PORT/bench/$KEY"
  CMDS[signed-head]="$FLOOR/signed-head/out/signed-head http://127.0.0.1:$SINK_PORT/bench/$KEY"
  CMDS[exists-sink]="$S3POD ${SINK[*]} exists $KEY"
else
  say "no fast-s3 sink ($SINK_JS or node missing): skipped"
fi

if [ -n "$CEPH_EP" ] && curl -s -o /dev/null "$CEPH_EP"; then
  CEPH_BUCKET=s3pod-startup-$(date +%s)-$$
  CEPH=(--endpoint "$CEPH_EP" --bucket "$CEPH_BUCKET")
  S3POD_CONFIG=$T/ceph-init.toml "$S3POD" "${CEPH[@]}" init --create-bucket > /dev/null 2>&1
  "$S3POD" "${CEPH[@]}" upload "$KEY" "$T/small.txt" > /dev/null
  names+=(exists-ceph); CMDS[exists-ceph]="$S3POD ${CEPH[*]} exists $KEY"
else
  say "no Ceph RGW ($CEPH_ENV absent or its endpoint not answering): skipped"
fi

# A second build, timed in the same rounds (before/after a change): every s3pod command again as NAME@B.
if [ -n "${COMPARE:-}" ]; then
  [ -x "$COMPARE" ] || { say "COMPARE=$COMPARE is not an executable"; exit 2; }
  for n in "${names[@]}"; do
    [[ ${CMDS[$n]} == "$S3POD "* ]] && { names+=("$n@B"); CMDS[$n@B]="$COMPARE ${CMDS[$n]#"$S3POD "}"; }
  done
fi

# ------------------------------------------------------------------ meta
{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) vCPU, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "sdk: $(dotnet --version)  hyperfine: $(hyperfine --version | cut -d' ' -f2)"
  echo "s3pod: $("$S3POD" --version) ($S3POD, $(stat -c %s "$S3POD") B, sha256 $(sha256sum "$S3POD" | cut -c1-16), repo $(git -C "$REPO" rev-parse --short HEAD 2> /dev/null))"
  [ -n "${COMPARE:-}" ] && echo "B: $COMPARE ($(stat -c %s "$COMPARE") B, sha256 $(sha256sum "$COMPARE" | cut -c1-16))"
  echo "floors: $(for f in hello sha256 head signed-head; do printf '%s %s B, ' "$f" "$(stat -c %s "$FLOOR/$f/out/$f")"; done)"
  echo "rounds: $ROUNDS x $RUNS runs (+$WARMUP warm-up) per command; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for n in "${names[@]}"; do echo "cmd $n: ${CMDS[$n]//$T/\$T}"; done
} > "$RES/meta.txt"
cat "$RES/meta.txt" >&2

# ------------------------------------------------------------------ timing
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${names[@]}")
  ((r % 2 == 0)) && order=($(printf '%s\n' "${names[@]}" | tac))
  args=()
  for n in "${order[@]}"; do args+=(-n "$n" "${CMDS[$n]}"); done
  say "round $r/$ROUNDS: ${order[*]}"
  # Machine-wide busy CPU during the round: the report subtracts this benchmark's own CPU to show
  # how much other work shared the 2 cores (a loaded machine inflates every wall time).
  b0=$(busy_ticks); t0=$EPOCHREALTIME
  hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" --export-json "$RES/round-$r.json" "${args[@]}" > /dev/null
  echo "$(($(busy_ticks) - b0)) $(getconf CLK_TCK) $t0 $EPOCHREALTIME $WARMUP" > "$RES/round-$r.busy"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES/meta.txt"

# ------------------------------------------------------------------ trace (optional)
if [ "$MODE" = trace ]; then
  command -v strace > /dev/null || { say "strace is missing: apt-get install strace"; exit 2; }
  mkdir -p "$RES/trace"
  for n in "${names[@]}"; do
    # shellcheck disable=SC2086  # the command line is split on purpose, as hyperfine -N does
    strace -f -tt -T -o "$RES/trace/$n.strace" ${CMDS[$n]} > /dev/null 2>&1 || true
    strace -f -c -o "$RES/trace/$n.count" ${CMDS[$n]} > /dev/null 2>&1 || true
  done
  say "strace output in $RES/trace/"
fi

if [ -n "$CEPH_BUCKET" ]; then
  "$S3POD" "${CEPH[@]}" delete "$KEY" > /dev/null 2>&1 || true
  AWS_ACCESS_KEY_ID=$S3POD_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$S3POD_S3_SECRET AWS_DEFAULT_REGION=us-east-1 \
    /usr/bin/aws --endpoint-url "$CEPH_EP" s3api delete-bucket --bucket "$CEPH_BUCKET" > /dev/null 2>&1 ||
    say "left the empty bucket $CEPH_BUCKET on $CEPH_EP (no AWS CLI to delete it)"
fi

python3 "$BENCH/startup_report.py" "$RES" | tee "$RES/startup.md"
