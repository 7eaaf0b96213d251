#!/usr/bin/env bash
# @20minutes/s3rver 5.0.0 (a strict fake S3 in Node: rejects aws-chunked trailers, no conditional
# writes) on http://127.0.0.1:4600, credentials S3RVER / S3RVER.
#
#   tests/servers/s3rver.sh install   npm install into ${S3POD_TOOLS_DIR:-/tmp/s3pod-tools}/s3rver
#   eval "$(tests/servers/s3rver.sh start)"
#                                     installs if needed, wipes the data dir, starts, prints exports
#   tests/servers/s3rver.sh status    exit 0 when running and answering
#   tests/servers/s3rver.sh stop      TERM the recorded PID
#
# Data: ${S3POD_S3RVER_DIR:-/tmp/s3pod-s3rver} (data/, s3rver.log, pid). The package lives
# outside the repository so that node_modules is never committed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=${S3POD_TOOLS_DIR:-/tmp/s3pod-tools}/s3rver
DIR=${S3POD_S3RVER_DIR:-/tmp/s3pod-s3rver}
PORT=${S3POD_S3RVER_PORT:-4600}
VERSION=5.0.0
MODULE=$TOOLS/node_modules/@20minutes/s3rver
PIDFILE=$DIR/pid

say() { printf 's3rver [%(%T)T] %s\n' -1 "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
running() {
  local state
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

installed_version() {
  node -p "require('$MODULE/package.json').version" 2>/dev/null || true
}

cmd_install() {
  command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are required"
  [[ $(installed_version) == "$VERSION" ]] && return 0
  local t0=$EPOCHREALTIME
  mkdir -p "$TOOLS"
  [[ -f $TOOLS/package.json ]] || printf '{ "name": "s3pod-test-s3rver", "private": true }\n' >"$TOOLS/package.json"
  say "npm install @20minutes/s3rver@$VERSION into $TOOLS"
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error "@20minutes/s3rver@$VERSION") >&2 \
    || die "npm install failed"
  say "installed in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
}

cmd_stop() {
  [[ -f $PIDFILE ]] || { say "not running (no $PIDFILE)"; return 0; }
  local pid i; pid=$(<"$PIDFILE")
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qa 's3rver-start.mjs' "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    running "$pid" && kill -KILL "$pid" 2>/dev/null || true
    say "stopped ($pid)"
  fi
  rm -f "$PIDFILE"
}

cmd_start() {
  local t0=$EPOCHREALTIME
  cmd_install
  [[ -f $PIDFILE ]] && cmd_stop
  port_open "$PORT" && die "127.0.0.1:$PORT is already in use"
  rm -rf "$DIR"
  mkdir -p "$DIR/data"
  S3RVER_MODULE=$MODULE S3RVER_PORT=$PORT S3RVER_DIR=$DIR/data \
    setsid node "$HERE/s3rver-start.mjs" >"$DIR/s3rver.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local i
  for i in $(seq 1 100); do
    grep -q '^s3rver ready' "$DIR/s3rver.log" 2>/dev/null && break
    running "$pid" || { cat "$DIR/s3rver.log" >&2; rm -f "$PIDFILE"; die "s3rver exited"; }
    sleep 0.1
  done
  grep -q '^s3rver ready' "$DIR/s3rver.log" || { cmd_stop; die "s3rver did not start in 10 s"; }
  say "ready on http://127.0.0.1:$PORT (pid $pid) in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
  cat <<EOF
export S3POD_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
export S3POD_TEST_S3_REGION=us-east-1
export S3POD_TEST_S3_KEY_ID=S3RVER
export S3POD_TEST_S3_SECRET=S3RVER
export S3POD_TEST_S3_FLAVOR=s3rver
# s3rver accepts the conditional headers and ignores them all (as Garage does).
export S3POD_TEST_S3_ENFORCES=
EOF
}

cmd_status() {
  [[ -f $PIDFILE ]] && running "$(<"$PIDFILE")" && port_open "$PORT" \
    && { echo "s3rver $(<"$PIDFILE") running on 127.0.0.1:$PORT"; return 0; }
  echo "s3rver: not running"; return 1
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
