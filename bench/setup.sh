#!/usr/bin/env bash
# s3pod benchmark: one-time setup (Debian 12, root). Idempotent: reruns skip what exists.
#
#   bench/setup.sh              tools, data sets, disks, servers (everything)
#   bench/setup.sh data         tools + data sets only
#   bench/setup.sh servers      (re)start the benchmark's own servers only
#   bench/setup.sh docker       start a private dockerd via tests/servers/docker.sh (optional case 5)
#   bench/setup.sh stop         stop every server this script started (by recorded PID), keep data
#   bench/setup.sh clean        stop + unmount + delete $SCRATCH
#
# Environment:
#   SCRATCH       scratch dir (default /tmp/s3pod-bench); everything lives below it
#   S3RVER_PORT   s3rver port (default 4602, a private instance of the project's
#                 tests/servers/s3rver-start.mjs; 4600 = `tests/servers/s3rver.sh start` itself,
#                 only when 4600 is free: other engineers' test runs use 4600 on this shared box)
#   SINK_PORT     fast-s3 sink port (default 4601)
#
# Writes $SCRATCH/env.sh, which bench/run.sh sources (endpoints, PIDs, data paths).
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
SCRATCH=${SCRATCH:-/tmp/s3pod-bench}
S3RVER_PORT=${S3RVER_PORT:-4602}
SINK_PORT=${SINK_PORT:-4601}
SINK_JS=${SINK_JS:-/work/shared/reference/test-servers/fast-s3-sink.mjs}
S3POD=${S3POD:-$REPO/dist/s3pod-linux-x64}
BUCKET=bench
mkdir -p "$SCRATCH"
say() { printf '[setup %(%T)T] %s\n' -1 "$*" >&2; }
alive() { [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && ! grep -q ') Z ' "/proc/$1/stat"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------ tools
install_tools() {
  local need=()
  [ -x /usr/bin/aws ] || need+=(awscli)
  command -v rclone >/dev/null || need+=(rclone)
  command -v zstd >/dev/null || need+=(zstd)
  [ -x /usr/bin/time ] || need+=(time)
  command -v hyperfine >/dev/null || need+=(hyperfine)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    say "apt-get install ${need[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  fi
  command -v node >/dev/null || { say "node is required (s3rver, fast-s3 sink)"; exit 1; }
  bash "$REPO/tests/servers/s3rver.sh" install
  [ -x "$S3POD" ] || { say "no s3pod binary at $S3POD (run ./publish-aot.sh)"; exit 1; }
}

# ------------------------------------------------------------------ data sets
make_data() {
  local D=$SCRATCH/data; mkdir -p "$D"
  # (a) a real NuGet dependency cache
  if ! [ -f "$D/nuget.done" ]; then
    say "data: dotnet restore --packages $D/nuget"
    rm -rf "$D/nugetproj" "$D/nuget"; mkdir -p "$D/nugetproj"
    cat > "$D/nugetproj/nugetproj.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="AWSSDK.S3" Version="4.1.0" />
    <PackageReference Include="System.CommandLine" Version="3.0.0" />
    <PackageReference Include="ZstdSharp.Port" Version="0.8.8" />
    <PackageReference Include="xunit" Version="2.9.3" />
    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
    <PackageReference Include="Tomlyn" Version="2.10.2" />
    <PackageReference Include="Newtonsoft.Json" Version="13.0.4" />
    <PackageReference Include="YamlDotNet" Version="16.3.0" />
    <PackageReference Include="Polly" Version="8.6.4" />
  </ItemGroup>
</Project>
EOF
    echo 'System.Console.WriteLine(1);' > "$D/nugetproj/Program.cs"
    (cd "$D/nugetproj" && DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet restore --packages "$D/nuget" -v q) >&2
    touch "$D/nuget.done"
  fi
  # (b) a real node_modules
  if ! [ -f "$D/npm.done" ]; then
    say "data: npm install (node_modules)"
    rm -rf "$D/npmproj"; mkdir -p "$D/npmproj"
    (cd "$D/npmproj" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error \
       typescript eslint webpack jest @babel/core react react-dom lodash @aws-sdk/client-s3) >&2
    touch "$D/npm.done"
  fi
  # (c) 1 GiB mixed file: tar of /usr/share/dotnet (compressible), then random bytes up to 1 GiB
  if ! [ -f "$D/big.done" ]; then
    say "data: big1g.bin"
    tar -C /usr/share -cf - dotnet 2>/dev/null | head -c 1073741824 > "$D/big1g.bin"
    local s; s=$(stat -c %s "$D/big1g.bin")
    [ "$s" -lt 1073741824 ] && head -c $((1073741824 - s)) /dev/urandom >> "$D/big1g.bin"
    touch "$D/big.done"
  fi
  # (d) ~2 GiB tree for the save-RSS case: the 1 GiB file + 7 copies of the NuGet cache
  if ! [ -f "$D/tree2g.done" ]; then
    say "data: tree2g (1 GiB file + 7 x nuget)"
    rm -rf "$D/tree2g"; mkdir -p "$D/tree2g"
    cp "$D/big1g.bin" "$D/tree2g/big1g.bin"
    for i in 1 2 3 4 5 6 7; do cp -r "$D/nuget" "$D/tree2g/nuget$i"; done
    touch "$D/tree2g.done"
  fi
  for s in nuget npmproj/node_modules tree2g; do
    printf '  %-22s %6d files  %6.1f MB\n' "$s" "$(find "$D/$s" -type f | wc -l)" \
      "$(find "$D/$s" -type f -printf '%s\n' | awk '{s+=$1} END{print s/1e6}')" >&2
  done
}

# ------------------------------------------------------------------ disks
mount_disks() {
  # Restore targets / downloads: tmpfs (the VM's root ext4 has no journal, which makes
  # re-creating a tree after rm -rf pathological). Server data: a journaled loop ext4.
  mkdir -p "$SCRATCH/tmpfs" "$SCRATCH/disk"
  mountpoint -q "$SCRATCH/tmpfs" || mount -t tmpfs -o size=8g,mode=0755 s3pod-bench "$SCRATCH/tmpfs"
  if ! mountpoint -q "$SCRATCH/disk"; then
    [ -f "$SCRATCH/ext4.img" ] || { truncate -s 24G "$SCRATCH/ext4.img"; mkfs.ext4 -q -F "$SCRATCH/ext4.img"; }
    local loop; loop=$(losetup -f --show --direct-io=on "$SCRATCH/ext4.img"); echo "$loop" > "$SCRATCH/loopdev"
    mount "$loop" "$SCRATCH/disk"
  fi
}
unmount_disks() {
  mountpoint -q "$SCRATCH/tmpfs" && umount "$SCRATCH/tmpfs"
  if mountpoint -q "$SCRATCH/disk"; then umount "$SCRATCH/disk"; losetup -d "$(cat "$SCRATCH/loopdev")"; fi
  true
}

# ------------------------------------------------------------------ servers
stop_servers() {
  local f pid
  if [ -f "$SCRATCH/s3rver-via-script" ]; then
    S3POD_S3RVER_DIR=$SCRATCH/disk/s3rver bash "$REPO/tests/servers/s3rver.sh" stop || true
    rm -f "$SCRATCH/s3rver-via-script"
  fi
  for f in s3rver sink; do
    [ -f "$SCRATCH/$f.pid" ] || continue
    pid=$(cat "$SCRATCH/$f.pid")
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; say "stopped $f ($pid)"; fi
    rm -f "$SCRATCH/$f.pid"
  done
  rm -rf "$SCRATCH/disk/s3rver" "$SCRATCH/disk/sink"   # server data is wiped on every start anyway
  if [ -f "$SCRATCH/docker-by-bench" ]; then
    S3POD_DOCKER_DIR=$SCRATCH/disk/docker bash "$REPO/tests/servers/docker.sh" stop || true
    rm -f "$SCRATCH/docker-by-bench"
  fi
}

wait_port() { local i; for i in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done; return 1; }

start_servers() {
  stop_servers
  local module=${S3POD_TOOLS_DIR:-/tmp/s3pod-tools}/s3rver/node_modules/@20minutes/s3rver
  # s3rver (realistic local server)
  if [ "$S3RVER_PORT" = 4600 ]; then
    S3POD_S3RVER_DIR=$SCRATCH/disk/s3rver bash "$REPO/tests/servers/s3rver.sh" start > /dev/null
    cp "$SCRATCH/disk/s3rver/pid" "$SCRATCH/s3rver.pid"; touch "$SCRATCH/s3rver-via-script"
  else
    port_open "$S3RVER_PORT" && { say "port $S3RVER_PORT in use"; exit 1; }
    rm -rf "$SCRATCH/disk/s3rver"; mkdir -p "$SCRATCH/disk/s3rver/data"
    S3RVER_MODULE=$module S3RVER_PORT=$S3RVER_PORT S3RVER_DIR=$SCRATCH/disk/s3rver/data \
      setsid node "$REPO/tests/servers/s3rver-start.mjs" > "$SCRATCH/s3rver.log" 2>&1 < /dev/null &
    echo $! > "$SCRATCH/s3rver.pid"
    wait_port "$S3RVER_PORT" || { cat "$SCRATCH/s3rver.log"; exit 1; }
  fi
  say "s3rver on :$S3RVER_PORT (pid $(cat "$SCRATCH/s3rver.pid"))"
  # fast-s3 sink (no auth, no MD5: the client's own limit). Run from its own location.
  port_open "$SINK_PORT" && { say "port $SINK_PORT in use"; exit 1; }
  rm -rf "$SCRATCH/disk/sink"; mkdir -p "$SCRATCH/disk/sink"
  (cd "$(dirname "$SINK_JS")" && DIR=$SCRATCH/disk/sink PORT=$SINK_PORT BUCKETS=$BUCKET \
     exec setsid node "$(basename "$SINK_JS")") > "$SCRATCH/sink.log" 2>&1 < /dev/null &
  echo $! > "$SCRATCH/sink.pid"
  wait_port "$SINK_PORT" || { cat "$SCRATCH/sink.log"; exit 1; }
  say "fast-s3 sink on :$SINK_PORT (pid $(cat "$SCRATCH/sink.pid"))"
  # bucket on s3rver, created by s3pod itself (config written into the scratch dir, never ~/.config)
  S3POD_CONFIG=$SCRATCH/s3pod-init.toml S3POD_S3_KEY_ID=S3RVER S3POD_S3_SECRET=S3RVER \
    "$S3POD" init --create-bucket --endpoint "http://127.0.0.1:$S3RVER_PORT" --bucket "$BUCKET" >&2 \
    || AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 /usr/bin/aws --endpoint-url "http://127.0.0.1:$S3RVER_PORT" s3 mb "s3://$BUCKET" >&2
  write_env
}

write_env() {
  cat > "$SCRATCH/env.sh" <<EOF
# written by bench/setup.sh $(date -Is)
SCRATCH=$SCRATCH
S3POD=$S3POD
BUCKET=$BUCKET
S3RVER_PORT=$S3RVER_PORT
S3RVER_PID=$(cat "$SCRATCH/s3rver.pid" 2>/dev/null)
SINK_PORT=$SINK_PORT
SINK_PID=$(cat "$SCRATCH/sink.pid" 2>/dev/null)
DATA=$SCRATCH/data
TMPFS=$SCRATCH/tmpfs
EOF
  [ -f "$SCRATCH/docker-by-bench" ] && cat "$SCRATCH/docker.env" >> "$SCRATCH/env.sh"
  true
}

start_docker() {
  command -v dockerd >/dev/null || { say "no dockerd: docker case skipped"; return 0; }
  if S3POD_DOCKER_DIR=$SCRATCH/disk/docker bash "$REPO/tests/servers/docker.sh" start > "$SCRATCH/docker.env"; then
    touch "$SCRATCH/docker-by-bench"; write_env
    # a second, realistic-size image: a 640 MB rootfs (the .NET SDK tree) imported as one layer
    say "docker import s3pod-bench/dotnet:1 (tar of /usr/share/dotnet)"
    (eval "$(cat "$SCRATCH/docker.env")"
     tar -C /usr/share -cf - dotnet | docker import -c 'CMD ["/bin/sh"]' - s3pod-bench/dotnet:1 > /dev/null)
  else say "docker.sh start failed: docker case will be skipped"; rm -f "$SCRATCH/docker.env"; fi
}

case "${1:-all}" in
  all) install_tools; make_data; mount_disks; start_servers; start_docker ;;
  data) install_tools; make_data ;;
  servers) mount_disks; start_servers ;;
  docker) start_docker ;;
  stop) stop_servers; rm -f "$SCRATCH/env.sh" ;;
  clean) stop_servers; unmount_disks; rm -rf "$SCRATCH" ;;
  *) echo "usage: $0 [all|data|servers|docker|stop|clean]" >&2; exit 2 ;;
esac
say "done"
