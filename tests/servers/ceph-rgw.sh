#!/usr/bin/env bash
# One-node Ceph cluster (1 mon, 1 bluestore OSD on a sparse file, no mgr, cephx off) plus a
# radosgw (beast) on http://127.0.0.1:4880: the real S3 server of the integration tests.
#
#   tests/servers/ceph-rgw.sh install   apt-get the Debian packages if missing
#   eval "$(tests/servers/ceph-rgw.sh start)"
#                                       fresh cluster (wipes the data dir); prints `export K=V` lines
#   tests/servers/ceph-rgw.sh status    exit 0 when every daemon is alive and the gateway answers
#   tests/servers/ceph-rgw.sh stop      TERM rgw, osd, mon by the PIDs recorded at start
#
# Ports: mon 4810 (msgr2 only), osd 4820-4849, gateway 4880, all on 127.0.0.1.
# Data: ${S3POD_CEPH_DIR:-/tmp/s3pod-ceph} (logs in log/, PIDs in pids). Logs go to stderr,
# only the export lines go to stdout.
set -euo pipefail

DIR=${S3POD_CEPH_DIR:-/tmp/s3pod-ceph}
# Ports can be moved (S3POD_CEPH_PORT_BASE=5810 gives mon 5810, osds 5820-5849, gateway 5880) so a
# second cluster can run beside a developer's.
PORT_BASE=${S3POD_CEPH_PORT_BASE:-4810}
MON_PORT=$PORT_BASE
OSD_PORTS=($((PORT_BASE + 10)) $((PORT_BASE + 39)))
RGW_PORT=$((PORT_BASE + 70))
KEY_ID=S3PODTESTKEY00000001
SECRET=s3pod-test-secret-0000000000000000000001
REGION=us-east-1
CONF=$DIR/ceph.conf
PIDFILE=$DIR/pids
PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl)

say() { printf 'ceph-rgw [%(%T)T] %s\n' -1 "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# A PID counts as running unless it is gone or a zombie (PID 1 here reaps orphans late).
running() {
  local state
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_install() { # apt_install PKG... : install what dpkg does not know yet, waiting for other apt runs
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local try
  for try in $(seq 1 60); do
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 && break
    say "apt-get update failed (lock held?), retry $try"; sleep 5
  done
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >&2
}

cmd_install() { apt_install "${PACKAGES[@]}"; }

write_conf() {
  local fsid=$1
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
ms bind port min = ${OSD_PORTS[0]}
ms bind port max = ${OSD_PORTS[1]}
auth supported = none
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
# with auth none, radosgw's default 'secure' mon client mode loops on EACCES (-13)
ms mon client mode = crc secure
ms client mode = crc secure
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
keyring = $DIR/keyring
# one OSD: single replicas, few PGs, no autoscaler (there is no mgr)
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 1
# rgw issues ~8 mon commands at first start; each waits a paxos round (1 s by default)
paxos propose interval = 0.05
paxos min wait = 0.01

[mon]
mon data = $DIR/\$name
mon cluster log file = $DIR/log/cluster.log

[osd]
osd data = $DIR/\$name
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 20G
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
osd memory target = 1073741824
osd op num shards = 2
osd op num threads per shard = 1

[client.rgw.s3pod]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $DIR/rgw
rgw dns name = 127.0.0.1
rgw thread pool size = 64
EOF
}

pid_of() { # pid_of NAME : wait for the daemon's own pid file (it daemonizes itself)
  local f=$DIR/run/$1.pid i
  for i in $(seq 1 150); do
    [[ -s $f ]] && { cat "$f"; return 0; }
    sleep 0.1
  done
  die "$1 wrote no pid file (see $DIR/log)"
}

record() { echo "$1 $2" >>"$PIDFILE"; }

cmd_start() {
  local t0=$EPOCHREALTIME b
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool curl; do
    command -v "$b" >/dev/null || die "$b not found: run '$0 install'"
  done
  [[ -f $PIDFILE ]] && cmd_stop
  local p
  for p in "$MON_PORT" "$RGW_PORT"; do
    port_open "$p" && die "127.0.0.1:$p is already in use (a stale cluster?)"
  done
  rm -rf "$DIR"
  mkdir -p "$DIR"/{run,log,crash,rgw,mon.a,osd.0}
  : >"$PIDFILE"
  trap 'say "start failed, stopping what was started"; cmd_stop' EXIT   # cleared on success

  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null

  # monitor
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring" 2>>"$DIR/log/setup.log"
  ceph-mon -c "$CONF" -i a 2>>"$DIR/log/setup.log"
  record mon.a "$(pid_of mon.a)"
  local ceph=(ceph -c "$CONF" --connect-timeout 30)
  "${ceph[@]}" mon stat >/dev/null 2>>"$DIR/log/setup.log" || die "mon does not answer"
  say "mon.a up"

  # OSD on a sparse bluestore file
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$("${ceph[@]}" osd new "$uuid" 2>>"$DIR/log/setup.log")
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >>"$DIR/log/setup.log" 2>&1 \
    || { tail -20 "$DIR/log/setup.log" >&2; die "ceph-osd --mkfs failed"; }
  ceph-osd -c "$CONF" -i "$id" >>"$DIR/log/setup.log" 2>&1
  record "osd.$id" "$(pid_of "osd.$id")"
  local i up=
  for i in $(seq 1 120); do
    if "${ceph[@]}" osd dump 2>/dev/null | grep -q "^osd.$id up"; then up=1; break; fi
    sleep 0.25
  done
  [[ -n $up ]] || die "osd.$id did not come up (see $DIR/log)"
  say "osd.$id up"

  # gateway
  radosgw -c "$CONF" -n client.rgw.s3pod >>"$DIR/log/setup.log" 2>&1
  record rgw "$(pid_of client.rgw.s3pod)"
  up=
  for i in $(seq 1 240); do
    if curl -fs -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then up=1; break; fi
    sleep 0.25
  done
  [[ -n $up ]] || die "radosgw does not answer on $RGW_PORT (see $DIR/log)"
  radosgw-admin -c "$CONF" -n client.admin user create --uid=s3pod-test --display-name="s3pod tests" \
    --access-key="$KEY_ID" --secret-key="$SECRET" >"$DIR/user.json" 2>>"$DIR/log/setup.log" \
    || die "radosgw-admin user create failed"
  trap - EXIT
  say "gateway ready on http://127.0.0.1:$RGW_PORT in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"

  cat <<EOF
export S3POD_TEST_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
export S3POD_TEST_S3_REGION=$REGION
export S3POD_TEST_S3_KEY_ID=$KEY_ID
export S3POD_TEST_S3_SECRET=$SECRET
export S3POD_TEST_S3_FLAVOR=ceph
# What this server enforces (probed by the contract tests, never assumed by s3pod): RGW 16 enforces
# If-None-Match / If-Match on single PUTs only, not on CompleteMultipartUpload or DELETE.
export S3POD_TEST_S3_ENFORCES=create-only,compare-and-swap
EOF
}

cmd_stop() { # reverse start order; only PIDs that still are a ceph daemon; KILL after 10 s
  [[ -f $PIDFILE ]] || { say "not running (no $PIDFILE)"; return 0; }
  local lines name pid i
  mapfile -t lines < <(tac "$PIDFILE")
  for line in "${lines[@]}"; do
    read -r name pid <<<"$line"
    [[ $pid =~ ^[0-9]+$ ]] || continue
    grep -qaE 'ceph-mon|ceph-osd|radosgw' "/proc/$pid/cmdline" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then say "$name ($pid) ignored TERM, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name ($pid)"
  done
  rm -f "$PIDFILE"
}

cmd_status() {
  [[ -f $PIDFILE ]] || { echo "ceph-rgw: not started"; return 1; }
  local ok=0 name pid
  while read -r name pid; do
    if running "$pid"; then echo "$name $pid running"; else echo "$name $pid DEAD"; ok=1; fi
  done <"$PIDFILE"
  if curl -fs -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then echo "gateway http://127.0.0.1:$RGW_PORT answers"
  else echo "gateway http://127.0.0.1:$RGW_PORT does not answer"; ok=1; fi
  return $ok
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
