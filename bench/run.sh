#!/usr/bin/env bash
# s3pod benchmark: s3pod vs AWS CLI v2 vs rclone vs curl vs the local tar|zstd limit, on the
# same local S3 server, tools interleaved round by round within each case.
#
#   bench/setup.sh                      # once: tools, data sets, tmpfs, servers (+ dockerd)
#   bench/run.sh                        # both servers: s3rver, then the fast-s3 sink
#   bench/run.sh sink                   # one server
#   CASES='startup file' RUNS=3 bench/run.sh s3rver
#   python3 bench/report.py $SCRATCH/results/latest > /tmp/tables.md
#
# Knobs: CASES (startup file dir rss docker), DATASETS (nuget npm), RUNS (5: dir cases),
#   FILE_RUNS (3: 1 GiB cases), STARTUP_RUNS (10), RSS_RUNS (1) + RSS_WARMUP (0): the 2 GiB tree,
#   DOCKER_RUNS (2), WARMUP (1),
#   EXTRA (2: extra rounds for a tool whose runs were contaminated), HYPERFINE (1), RES (output dir).
#
# Each timed run is `bash -c "set -o pipefail; CMD"` under /usr/bin/time; wall time comes from
# $EPOCHREALTIME around it. Per run raw.tsv records wall, client user+sys (all processes of the
# pipeline), peak RSS of the largest process, the server's CPU (utime+stime delta of its PID),
# `others_cpu_s` = CPU used meanwhile by user-space processes that are neither this benchmark
# nor its servers (other engineers' builds/tests) and `busy_other_s` = machine-wide busy CPU
# minus client minus server (includes kernel threads: writeback, reclaim). A run is flagged
# contaminated when others_cpu_s > 0.03 + 0.25 * wall; report.py drops flagged runs.
set -u
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRATCH=${SCRATCH:-/tmp/s3pod-bench}
[ -f "$SCRATCH/env.sh" ] || { echo "no $SCRATCH/env.sh: run bench/setup.sh first" >&2; exit 2; }
. "$SCRATCH/env.sh"
SERVERS=${*:-s3rver sink}
CASES=${CASES:-startup file dir rss docker}
DATASETS=${DATASETS:-nuget npm}
RUNS=${RUNS:-5} FILE_RUNS=${FILE_RUNS:-3} STARTUP_RUNS=${STARTUP_RUNS:-10}
RSS_RUNS=${RSS_RUNS:-1} RSS_WARMUP=${RSS_WARMUP:-0} DOCKER_RUNS=${DOCKER_RUNS:-2} WARMUP=${WARMUP:-1} EXTRA=${EXTRA:-2}
HYPERFINE=${HYPERFINE:-1}
RES=${RES:-$SCRATCH/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RES"; ln -sfn "$RES" "$SCRATCH/results/latest"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
export PATH="$BENCH:$PATH"

# ------------------------------------------------------------------ client configuration
export S3POD BUCKET DATA TMPFS SCRATCH AWS=/usr/bin/aws        # Debian's AWS CLI v2, not pip's v1
export S3POD_S3_KEY_ID=S3RVER S3POD_S3_SECRET=S3RVER S3POD_BUCKET=$BUCKET
export S3POD_CONFIG=$SCRATCH/no-such-config.toml                # never read ~/.config/s3pod
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$SCRATCH/aws/config AWS_SHARED_CREDENTIALS_FILE=$SCRATCH/aws/credentials
export AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
mkdir -p "$SCRATCH/aws"; printf '[default]\ns3 =\n    addressing_style = path\n' > "$AWS_CONFIG_FILE"
unset AWS_CA_BUNDLE                  # rclone 1.60 fails with LoadCustomCABundleError when it is set
export RCLONE_CONFIG=$SCRATCH/rclone.conf; : > "$RCLONE_CONFIG"
export RCLONE_CONFIG_S3R_TYPE=s3 RCLONE_CONFIG_S3R_PROVIDER=Other RCLONE_CONFIG_S3R_REGION=us-east-1
export RCLONE_CONFIG_S3R_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_S3R_SECRET_ACCESS_KEY=S3RVER
export RCLONE_CONFIG_S3R_FORCE_PATH_STYLE=true
CURLS='curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
[ -n "${DOCKER_HOST:-}" ] && export DOCKER_HOST DOCKER_API_VERSION

# ------------------------------------------------------------------ accounting
CLK=$(getconf CLK_TCK)
MYSID=$(ps -o sid= -p $$ | tr -d ' ')
busy_ticks() { mawk '/^cpu /{print $2+$3+$4+$7+$8; exit}' /proc/stat; }
pid_ticks() {   # utime+stime of the given PIDs
  local p t=0 v
  for p in "$@"; do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | mawk '{print $12+$13}') && t=$((t + ${v:-0}))
  done
  echo $t
}
snap_others() { # pid -> cumulative CPU ticks of user processes outside this session and the servers
  cat /proc/[0-9]*/stat 2>/dev/null | mawk -v me="$MYSID" -v ex=" $EXCL " \
    '{pid=$1; sub(/^.*\) /,""); if (pid==2 || $2==2 || $4==me || index(ex, " " pid " ")) next;
      print pid, $12+$13+$14+$15}' > "$1"
}
others_delta() { mawk -v c="$CLK" 'NR==FNR{a[$1]=$2; next} {d=$2-a[$1]; if (d>0) s+=d} END{printf "%.2f", s/c}' "$1" "$2"; }
flt() { mawk "BEGIN{printf \"%.${2:-3}f\", $1}"; }

printf 'server\tcase\ttool\tdataset\trun\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrv_cpu_s\tothers_cpu_s\tbusy_other_s\tbytes\trc\tcontaminated\n' > "$RES/raw.tsv"
printf 'server\tcase\ttool\tdataset\trun\tstage\tuser_s\tsys_s\tmaxrss_kb\n' > "$RES/stages.tsv"
printf 'server\tcase\ttool\tdataset\tcommand\n' > "$RES/commands.tsv"
printf 'server\tcase\ttool\tdataset\tresult\n' > "$RES/verify.tsv"

RUN_N=0
# one_run SERVER CASE TOOL DS RUN BYTES PREP CMD  -> appends to raw.tsv; sets LAST_RC, LAST_FLAG
one_run() {
  local srv=$1 cs=$2 tool=$3 ds=$4 run=$5 bytes=$6 prep=$7 cmd=$8 t0 t1 b0 b1 s0 s1 rc u s m wall oth bo flag
  RUN_N=$((RUN_N + 1)); export SAVEKEY="save-$srv-$ds-$RUN_N"
  [ -n "$prep" ] && { bash -c "$prep" > /dev/null 2>&1 || echo -n "(prep rc=$?) "; }
  export STAGEFILE=$TMP/stage; : > "$STAGEFILE"
  snap_others "$TMP/o0"; s0=$(pid_ticks $SRVPIDS); b0=$(busy_ticks)
  t0=$EPOCHREALTIME
  /usr/bin/time -q -o "$TMP/time" -f '%U %S %M' bash -c "set -o pipefail; $cmd" > "$TMP/out" 2> "$TMP/err"
  rc=$?
  t1=$EPOCHREALTIME
  b1=$(busy_ticks); s1=$(pid_ticks $SRVPIDS); snap_others "$TMP/o1"
  unset STAGEFILE
  read -r u s m < <(tail -n1 "$TMP/time")
  wall=$(flt "$t1 - $t0" 4)
  oth=$(others_delta "$TMP/o0" "$TMP/o1")
  local srvc; srvc=$(flt "($s1 - $s0) / $CLK" 2)
  bo=$(flt "($b1 - $b0) / $CLK - $u - $s - $srvc" 2)
  flag=$(mawk -v o="$oth" -v w="$wall" 'BEGIN{print (o > 0.03 + 0.25 * w) ? 1 : 0}')
  [ "$rc" != 0 ] && { echo; echo "  FAILED rc=$rc $srv/$cs/$tool/$ds: $(head -c 400 "$TMP/err" | tr '\n' ' ')"; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$cs" "$tool" "$ds" "$run" \
    "$wall" "$u" "$s" "$m" "$srvc" "$oth" "$bo" "$bytes" "$rc" "$flag" >> "$RES/raw.tsv"
  while read -r lab su ss sm; do
    [ -n "$lab" ] && [ "$lab" != Command ] && printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
      "$srv" "$cs" "$tool" "$ds" "$run" "$lab" "$su" "$ss" "$sm" >> "$RES/stages.tsv"
  done < "$TMP/stage"
  printf '%s=%s%s ' "$tool" "$(flt "$wall" 2)" "$([ "$flag" = 1 ] && echo '!')"
  LAST_RC=$rc LAST_FLAG=$flag
}

# run_case SERVER CASE DS BYTES NRUNS TOOL...  (commands in the CMD[tool] / PREP[tool] arrays)
# Rounds 1-WARMUP..NRUNS; in each round every tool runs once, in an order rotated per round.
# Tools with contaminated runs get up to EXTRA more rounds.
declare -A CMD PREP CLEAN LASTKEY
run_case() {
  local srv=$1 cs=$2 ds=$3 bytes=$4 n=$5; shift 5
  local tools=("$@") k=${#tools[@]} i j t extra=0 need
  for t in "${tools[@]}"; do
    CLEAN[$t]=0
    printf '%s\t%s\t%s\t%s\t%s\n' "$srv" "$cs" "$t" "$ds" "$(echo "${CMD[$t]}" | tr '\n\t' '  ')" >> "$RES/commands.tsv"
  done
  printf '%-7s %-9s %-7s ' "$srv" "$cs" "$ds"
  for ((i = 1 - WARMUP; i <= n + EXTRA; i++)); do
    if ((i > n)); then   # extra rounds only for tools short of clean runs
      need=(); for t in "${tools[@]}"; do ((CLEAN[$t] < n)) && need+=("$t"); done
      ((${#need[@]} == 0)) && break
      printf '| extra: '
    else need=("${tools[@]}"); fi
    for ((j = 0; j < ${#need[@]}; j++)); do
      t=${need[$(((j + i + k) % ${#need[@]}))]}
      one_run "$srv" "$cs" "$t" "$ds" "$i" "$bytes" "${PREP[$t]:-}" "${CMD[$t]}"
      ((i >= 1 && LAST_RC == 0 && LAST_FLAG == 0)) && CLEAN[$t]=$((CLEAN[$t] + 1))
      ((LAST_RC == 0)) && LASTKEY[$t]=$SAVEKEY
    done
    ((i < n)) && printf '| '
  done
  echo
  CMD=() PREP=()
}
verify() { # verify SERVER CASE TOOL DS OK?   (records the result of an untimed check)
  local r=$5
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$r" >> "$RES/verify.tsv"
  [ "$r" = identical ] || echo "  VERIFY $1/$2/$3/$4: $r"
}
vdir() { if diff -r --no-dereference -q "$1" "$2" > "$TMP/diff" 2>&1; then echo identical; else echo "DIFFERS($(wc -l < "$TMP/diff") lines)"; fi; }
vfile() { if cmp -s "$1" "$2"; then echo identical; else echo DIFFERS; fi; }
dsdir() { case $1 in nuget) echo "$DATA/nuget";; npm) echo "$DATA/npmproj/node_modules";; tree2g) echo "$DATA/tree2g";; esac; }
dsbytes() { find "$1" -type f -printf '%s\n' | mawk '{s+=$1} END{printf "%.0f", s}'; }

# ------------------------------------------------------------------ metadata
{
  echo "date: $(date -Is)"; echo "host: $(uname -srm), $(nproc) vCPU, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "s3pod: $($S3POD --version) ($S3POD, sha256 $(sha256sum "$S3POD" | cut -c1-16), $(stat -c %s "$S3POD") B, repo $(git -C "$BENCH/.." rev-parse --short HEAD 2>/dev/null))"
  echo "aws: $($AWS --version 2>&1)"; echo "rclone: $(rclone version 2>/dev/null | head -1)"
  echo "curl: $(curl --version | head -1 | cut -d' ' -f1-2)"; echo "zstd: $(zstd -V)"; echo "tar: $(tar --version | head -1)"
  echo "node: $(node --version)  hyperfine: $(hyperfine --version 2>/dev/null)"
  echo "servers: s3rver :$S3RVER_PORT (pid $S3RVER_PID), fast-s3 sink :$SINK_PORT (pid $SINK_PID)"
  echo "runs: RUNS=$RUNS FILE_RUNS=$FILE_RUNS STARTUP_RUNS=$STARTUP_RUNS RSS_RUNS=$RSS_RUNS RSS_WARMUP=$RSS_WARMUP DOCKER_RUNS=$DOCKER_RUNS WARMUP=$WARMUP"
  echo "restore targets: $TMPFS (tmpfs); server data: $SCRATCH/disk (loop ext4, journaled)"
} > "$RES/meta.txt"
cat "$RES/meta.txt"
for ds in $DATASETS; do  # local-limit archives (made once, untimed)
  mkdir -p "$SCRATCH/arch"
  [ -s "$SCRATCH/arch/$ds.tar.zst" ] || tar -C "$(dsdir "$ds")" -cf - . | zstd -3 -T0 -q > "$SCRATCH/arch/$ds.tar.zst"
done
echo hello > "$SCRATCH/small.txt"
BIG=$DATA/big1g.bin; export BIG; BIGBYTES=$(stat -c %s "$BIG")
T_START=$EPOCHREALTIME

# ------------------------------------------------------------------ the matrix
first=1
for srv in $SERVERS; do
  case $srv in
    s3rver) PORT=$S3RVER_PORT SRVPID=$S3RVER_PID;;
    sink) PORT=$SINK_PORT SRVPID=$SINK_PID;;
    *) echo "unknown server $srv"; continue;;
  esac
  [ -r "/proc/$SRVPID/stat" ] || { echo "server $srv (pid $SRVPID) is not running: rerun bench/setup.sh servers"; exit 2; }
  export EP=http://127.0.0.1:$PORT SRV=$srv
  export S3POD_ENDPOINT=$EP RCLONE_CONFIG_S3R_ENDPOINT=$EP
  SRVPIDS=$SRVPID
  DOCKPIDS=$(cat "$SCRATCH/disk/docker/dockerd.pid" 2>/dev/null)
  [ -n "$DOCKPIDS" ] && DOCKPIDS="$DOCKPIDS $(pgrep -P "$DOCKPIDS" | tr '\n' ' ')"
  EXCL="$S3RVER_PID $SINK_PID $DOCKPIDS"
  echo "=== server $srv $EP (pid $SRVPID)"
  $S3POD upload --force small.txt "$SCRATCH/small.txt" > /dev/null 2>&1 || { echo "cannot upload to $EP"; exit 2; }

  for cs in $CASES; do case $cs in
  # -------------------------------------------------------------- 1. start-up and one small request
  startup)
    if ((first)); then   # server-independent
      CMD[harness-true]='true'; CMD[s3pod]='$S3POD --version'; CMD[aws]='$AWS --version'
      CMD[rclone]='rclone version'; CMD[curl]='curl --version'
      run_case "$srv" version - 0 "$STARTUP_RUNS" harness-true s3pod aws rclone curl
    fi
    CMD[s3pod]='$S3POD exists small.txt'
    CMD[aws]='$AWS --endpoint-url $EP s3api head-object --bucket $BUCKET --key small.txt'
    CMD[rclone]='rclone lsjson s3r:$BUCKET/small.txt'
    CMD[curl]="$CURLS -o /dev/null -I \$EP/\$BUCKET/small.txt"
    run_case "$srv" exists - 0 "$STARTUP_RUNS" s3pod aws rclone curl
    if ((HYPERFINE)) && command -v hyperfine > /dev/null; then   # precise wall times, no shell
      hf=(hyperfine -N --style none --warmup 3)
      if ((first)); then
        "${hf[@]}" --runs 30 --export-json "$RES/hf-version-fast.json" -n s3pod "$S3POD --version" \
          -n rclone "rclone version" -n curl "curl --version" > /dev/null 2>&1
        "${hf[@]}" --runs 10 --export-json "$RES/hf-version-aws.json" -n aws "$AWS --version" > /dev/null 2>&1
      fi
      "${hf[@]}" --runs 30 --export-json "$RES/hf-exists-fast-$srv.json" -n s3pod "$S3POD exists small.txt" \
        -n rclone "rclone lsjson s3r:$BUCKET/small.txt" \
        -n curl "curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER -H x-amz-content-sha256:UNSIGNED-PAYLOAD -o /dev/null -I $EP/$BUCKET/small.txt" > /dev/null 2>&1
      "${hf[@]}" --runs 10 --export-json "$RES/hf-exists-aws-$srv.json" \
        -n aws "$AWS --endpoint-url $EP s3api head-object --bucket $BUCKET --key small.txt" > /dev/null 2>&1
      echo "  hyperfine: $(ls "$RES"/hf-*.json | wc -l) json files"
    fi;;
  # -------------------------------------------------------------- 2. one 1 GiB file up / down
  file)
    for t in s3pod aws rclone curl; do PREP[$t]='sync'; done
    CMD[s3pod]='$S3POD upload --force file-s3pod.bin "$BIG"'
    CMD[aws]='stage aws $AWS --endpoint-url $EP s3 cp --only-show-errors "$BIG" s3://$BUCKET/file-aws.bin'
    CMD[rclone]='stage rclone rclone copyto -I "$BIG" s3r:$BUCKET/file-rclone.bin'
    CMD[curl]="stage curl $CURLS -o /dev/null -T \"\$BIG\" \$EP/\$BUCKET/file-curl.bin"
    run_case "$srv" file-up big "$BIGBYTES" "$FILE_RUNS" s3pod aws rclone curl
    for t in s3pod aws rclone curl; do PREP[$t]="rm -f \$TMPFS/file-$t.bin; sync"; done
    CMD[s3pod]='$S3POD download file-s3pod.bin "$TMPFS/file-s3pod.bin"'
    CMD[aws]='stage aws $AWS --endpoint-url $EP s3 cp --only-show-errors s3://$BUCKET/file-aws.bin "$TMPFS/file-aws.bin"'
    CMD[rclone]='stage rclone rclone copyto -I s3r:$BUCKET/file-rclone.bin "$TMPFS/file-rclone.bin"'
    CMD[curl]="stage curl $CURLS -o \"\$TMPFS/file-curl.bin\" \$EP/\$BUCKET/file-curl.bin"
    run_case "$srv" file-down big "$BIGBYTES" "$FILE_RUNS" s3pod aws rclone curl
    for t in s3pod aws rclone curl; do
      verify "$srv" file-down "$t" big "$(vfile "$BIG" "$TMPFS/file-$t.bin")"; rm -f "$TMPFS/file-$t.bin"
    done;;
  # -------------------------------------------------------------- 3. directory caches
  dir)
    for ds in $DATASETS; do
      export DIR; DIR=$(dsdir "$ds"); export PARENT=${DIR%/*} NAME=${DIR##*/} ARCH=$SCRATCH/arch/$ds.tar.zst DS=$ds
      b=$(dsbytes "$DIR")
      for t in s3pod-dir s3pod-save aws rclone local; do PREP[$t]='sync'; done
      CMD[s3pod-dir]='$S3POD dir upload --force dir-$DS-s3pod "$DIR"'
      CMD[s3pod-save]='cd "$PARENT" && $S3POD save --key "$SAVEKEY" --path "$NAME"'
      CMD[aws]='stage tar tar -C "$DIR" -cf - . | stage zstd zstd -3 -T0 -q | stage aws $AWS --endpoint-url $EP s3 cp --only-show-errors - s3://$BUCKET/dir-$DS-aws.tar.zst'
      CMD[rclone]='stage tar tar -C "$DIR" -cf - . | stage zstd zstd -3 -T0 -q | stage rclone rclone rcat s3r:$BUCKET/dir-$DS-rclone.tar.zst'
      CMD[local]='stage tar tar -C "$DIR" -cf - . | stage zstd zstd -3 -T0 -q > /dev/null'
      run_case "$srv" dir-up "$ds" "$b" "$RUNS" s3pod-dir s3pod-save aws rclone local
      export RKEY=${LASTKEY[s3pod-save]}
      for t in s3pod-save aws rclone local; do PREP[$t]="rm -rf \$TMPFS/out-$t; mkdir -p \$TMPFS/out-$t; sync"; done
      PREP[s3pod-dir]='rm -rf $TMPFS/out-s3pod-dir; sync'
      CMD[s3pod-dir]='$S3POD dir download dir-$DS-s3pod "$TMPFS/out-s3pod-dir"'
      CMD[s3pod-save]='cd "$TMPFS/out-s3pod-save" && $S3POD restore --key "$RKEY" --path "$NAME"'
      CMD[aws]='stage aws $AWS --endpoint-url $EP s3 cp --only-show-errors s3://$BUCKET/dir-$DS-aws.tar.zst - | stage zstd zstd -d -q | stage tar tar -x -C "$TMPFS/out-aws"'
      CMD[rclone]='stage rclone rclone cat s3r:$BUCKET/dir-$DS-rclone.tar.zst | stage zstd zstd -d -q | stage tar tar -x -C "$TMPFS/out-rclone"'
      CMD[local]='stage zstd zstd -d -q < "$ARCH" | stage tar tar -x -C "$TMPFS/out-local"'
      run_case "$srv" dir-down "$ds" "$b" "$RUNS" s3pod-dir s3pod-save aws rclone local
      for t in s3pod-dir aws rclone local; do verify "$srv" dir-down "$t" "$ds" "$(vdir "$DIR" "$TMPFS/out-$t")"; done
      verify "$srv" dir-down s3pod-save "$ds" "$(vdir "$DIR" "$TMPFS/out-s3pod-save/$NAME")"
      rm -rf "$TMPFS"/out-*
    done;;
  # -------------------------------------------------------------- 4. s3pod peak RSS on a ~2 GiB tree
  rss)
    export DIR=$DATA/tree2g PARENT=$DATA NAME=tree2g DS=tree2g; b=$(dsbytes "$DIR")
    PREP[s3pod-save]='sync'; CMD[s3pod-save]='cd "$PARENT" && $S3POD save --key "rss-$SAVEKEY" --path "$NAME"'
    PREP[rclone]='sync'
    CMD[rclone]='stage tar tar -C "$DIR" -cf - . | stage zstd zstd -3 -T0 -q | stage rclone rclone rcat s3r:$BUCKET/dir-tree2g-rclone.tar.zst'
    WARMUP=$RSS_WARMUP run_case "$srv" dir-up tree2g "$b" "$RSS_RUNS" s3pod-save rclone
    export RKEY=rss-${LASTKEY[s3pod-save]}
    PREP[s3pod-save]='rm -rf $TMPFS/out-s3pod-save; mkdir -p $TMPFS/out-s3pod-save; sync'
    CMD[s3pod-save]='cd "$TMPFS/out-s3pod-save" && $S3POD restore --key "$RKEY" --path "$NAME"'
    PREP[rclone]='rm -rf $TMPFS/out-rclone; mkdir -p $TMPFS/out-rclone; sync'
    CMD[rclone]='stage rclone rclone cat s3r:$BUCKET/dir-tree2g-rclone.tar.zst | stage zstd zstd -d -q | stage tar tar -x -C "$TMPFS/out-rclone"'
    WARMUP=$RSS_WARMUP run_case "$srv" dir-down tree2g "$b" "$RSS_RUNS" s3pod-save rclone
    verify "$srv" dir-down s3pod-save tree2g "$(vdir "$DIR" "$TMPFS/out-s3pod-save/tree2g")"
    rm -rf "$TMPFS"/out-*
    # free the server's disk: the saved 2 GiB entries are no longer needed
    $S3POD prune --key-prefix rss- --max-total 0 > /dev/null 2>&1 || true
    rclone deletefile "s3r:$BUCKET/dir-tree2g-rclone.tar.zst" > /dev/null 2>&1 || true;;
  # -------------------------------------------------------------- 5. docker save/load streams
  docker)
    if [ -z "${DOCKER_HOST:-}" ] || ! docker version > /dev/null 2>&1; then echo "docker: no private dockerd (bench/setup.sh docker); skipped"; continue; fi
    SRVPIDS="$SRVPID $DOCKPIDS"   # server CPU here = S3 server + dockerd + containerd
    for img in s3pod-bench/dotnet:1 s3pod-test/busybox:1; do
      export IMG=$img IK=${img//[:\/]/-}
      docker image inspect "$img" > /dev/null 2>&1 || { echo "docker: no image $img; skipped"; continue; }
      b=$(docker image inspect -f '{{.Size}}' "$img")
      PREP[s3pod]='sync'; PREP[local]='sync'
      CMD[s3pod]='$S3POD docker upload --force docker-$IK "$IMG"'
      CMD[local]='stage docker docker save "$IMG" | stage zstd zstd -3 -T0 -q > "$SCRATCH/disk/docker-$IK.zst"'
      run_case "$srv" docker-up "$IK" "$b" "$DOCKER_RUNS" s3pod local
      PREP[s3pod]='docker rmi -f "$IMG"; sync'; PREP[local]=${PREP[s3pod]}
      CMD[s3pod]='$S3POD docker download docker-$IK'
      CMD[local]='stage zstd zstd -d -q < "$SCRATCH/disk/docker-$IK.zst" | stage docker docker load'
      run_case "$srv" docker-down "$IK" "$b" "$DOCKER_RUNS" s3pod local
      if docker image inspect "$img" > /dev/null 2>&1; then verify "$srv" docker-down any "$IK" identical
      else verify "$srv" docker-down any "$IK" "IMAGE MISSING"
        zstd -d -q < "$SCRATCH/disk/docker-$IK.zst" | docker load > /dev/null; fi
    done
    SRVPIDS=$SRVPID;;
  *) echo "unknown case $cs";;
  esac; done
  # free the server's disk between servers
  for k in file-s3pod.bin file-aws.bin file-rclone.bin file-curl.bin; do $S3POD delete "$k" > /dev/null 2>&1; done
  first=0
done
echo "total $(flt "$EPOCHREALTIME - $T_START" 0) s; results in $RES"
