#!/usr/bin/env bash
# A private Docker daemon (Debian's docker.io) for the native-binary tests: no bridge, no
# iptables, its own socket, data under ${S3POD_DOCKER_DIR:-/tmp/s3pod-docker}. No registry is
# reachable here, so `start` also imports a busybox rootfs (from busybox-static) as the image
# s3pod-test/busybox:1. Containers get --network none or --network host.
#
#   eval "$(tests/servers/docker.sh start)"   prints DOCKER_HOST, DOCKER_API_VERSION, ... exports
#   tests/servers/docker.sh status
#   tests/servers/docker.sh stop              TERM the recorded dockerd PID (it stops its containerd)
set -euo pipefail

DIR=${S3POD_DOCKER_DIR:-/tmp/s3pod-docker}
SOCK=$DIR/docker.sock
HOST=unix://$SOCK
PIDFILE=$DIR/dockerd.pid     # written by us ($! of dockerd)
IMAGE=s3pod-test/busybox:1
API=1.41                     # dockerd 20.10's maximum; newer clients and Testcontainers need it pinned

say() { printf 'docker [%(%T)T] %s\n' -1 "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
running() {
  local state
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

client() { # the first docker CLI that talks to our daemon
  local c
  for c in /usr/bin/docker /usr/local/bin/docker "$(command -v docker 2>/dev/null || true)"; do
    [[ -x $c ]] || continue
    DOCKER_HOST=$HOST DOCKER_API_VERSION=$API "$c" version --format '{{.Server.Version}}' >/dev/null 2>&1 \
      && { echo "$c"; return 0; }
  done
  return 1
}

unmount_below() { # leftovers of a daemon that died without cleaning up
  local m
  [[ -d $DIR ]] || return 0
  awk -v d="$DIR" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

cmd_stop() {
  [[ -f $PIDFILE ]] || { say "not running (no $PIDFILE)"; return 0; }
  local pid i; pid=$(<"$PIDFILE")
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qa dockerd "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then say "dockerd ($pid) ignored TERM, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped dockerd ($pid)"
  fi
  rm -f "$PIDFILE"
}

build_image() { # $1 = docker CLI
  local root=$DIR/rootfs applet
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,var/tmp}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | DOCKER_HOST=$HOST DOCKER_API_VERSION=$API "$1" import \
    -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' - "$IMAGE" >/dev/null
  rm -rf "$root"
}

cmd_start() {
  local t0=$EPOCHREALTIME
  command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io iptables)"
  [[ -x /bin/busybox ]] || die "/bin/busybox not found (apt-get install busybox-static)"
  [[ -f $PIDFILE ]] && cmd_stop
  unmount_below
  rm -rf "$DIR"
  mkdir -p "$DIR/data" "$DIR/exec"
  trap 'say "start failed, stopping"; tail -20 "$DIR/dockerd.log" >&2 || true; cmd_stop' EXIT
  setsid dockerd \
    --host "$HOST" \
    --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/dockerd.self.pid" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    >"$DIR/dockerd.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local pid=$! cli= i
  for i in $(seq 1 300); do
    running "$pid" || die "dockerd exited (see $DIR/dockerd.log)"
    if [[ -S $SOCK ]] && cli=$(client); then break; fi
    sleep 0.1
  done
  [[ -n $cli ]] || die "dockerd does not answer on $HOST after 30 s"
  say "dockerd up (pid $pid, client $cli) in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
  build_image "$cli"
  trap - EXIT
  say "image $IMAGE imported; ready in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
  cat <<EOF
export DOCKER_HOST=$HOST
export DOCKER_API_VERSION=$API
export S3POD_TEST_DOCKER=1
export S3POD_TEST_DOCKER_IMAGE=$IMAGE
export TESTCONTAINERS_RYUK_DISABLED=true
EOF
}

cmd_status() {
  local cli
  if [[ -f $PIDFILE ]] && running "$(<"$PIDFILE")" && cli=$(client); then
    echo "dockerd $(<"$PIDFILE") answering on $HOST (client $cli)"; return 0
  fi
  echo "dockerd: not running"; return 1
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
