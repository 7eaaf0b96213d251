#!/usr/bin/env bash
# Build the native-AOT s3pod binary for one or more runtime identifiers.
#
#   ./publish-aot.sh                  host RID (e.g. linux-x64)
#   ./publish-aot.sh linux-x64 linux-arm64
#
# Each RID gives dist/s3pod-<RID> (dist/s3pod-<RID>.exe for win-*); a binary over 20 MiB is an
# error. dist/SHA256SUMS then lists every binary in dist/ (sha256sum format, `sha256sum -c` works).
# AOT cannot cross OSes: win-* must be built on Windows, osx-* on macOS. On an x64 Linux host,
# linux-arm64 is cross-compiled with Debian's gcc-aarch64-linux-gnu (installed here when missing and
# running as root; the arm64 ILCompiler/runtime packs come from NuGet like any package).
# Override the project with S3POD_PUBLISH_PROJECT (used to test this script).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
PROJECT=${S3POD_PUBLISH_PROJECT:-native/S3Pod/S3Pod.csproj}
MAX_BYTES=$((20 * 1024 * 1024))
DIST=$PWD/dist

say() { printf 'publish-aot: %s\n' "$*" >&2; }

host_rid() {
  local rid
  rid=$(dotnet --info 2>/dev/null | awk '$1 == "RID:" {print $2; exit}')
  if [[ -z $rid ]]; then
    case $(uname -m) in
      x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; *) rid=linux-$(uname -m) ;;
    esac
  fi
  echo "$rid"
}

[[ -f $PROJECT ]] || { say "project $PROJECT not found"; exit 1; }
command -v dotnet >/dev/null || { say "dotnet SDK not found"; exit 1; }
RIDS=("$@")
((${#RIDS[@]})) || RIDS=("$(host_rid)")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/s3pod-publish.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DIST"

# Extra `dotnet publish` arguments for cross-compiling linux-arm64 on an x64 Linux host, printed one
# per line. The ILCompiler targets pass clang's --target=aarch64-linux-gnu to the linker; the Debian
# cross gcc knows its target by name and rejects that flag, so a two-line wrapper drops it.
cross_linux_arm64_args() {
  if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      say "installing the arm64 cross toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross)"
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        gcc-aarch64-linux-gnu libc6-dev-arm64-cross >&2 \
        || { apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 && DEBIAN_FRONTEND=noninteractive \
             apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross >&2; } \
        || { say "could not install gcc-aarch64-linux-gnu"; return 1; }
    else
      say "linux-arm64 on $(uname -m) needs aarch64-linux-gnu-gcc: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
      return 1
    fi
  fi
  local wrapper=$WORK/aarch64-linux-gnu-gcc-notarget
  printf '%s\n' '#!/bin/sh' \
    'for a; do shift; case $a in --target=*) ;; *) set -- "$@" "$a" ;; esac; done' \
    'exec aarch64-linux-gnu-gcc "$@"' >"$wrapper"
  chmod +x "$wrapper"
  printf '%s\n' "-p:CppCompilerAndLinker=$wrapper" "-p:ObjCopyName=aarch64-linux-gnu-objcopy"
}

for rid in "${RIDS[@]}"; do
  exe=; [[ $rid == win-* ]] && exe=.exe
  name=$(sed -n 's:.*<AssemblyName>\(.*\)</AssemblyName>.*:\1:p' "$PROJECT" | head -1)
  name=${name:-$(basename "$PROJECT" .csproj)}
  out=$WORK/$rid
  extra=()
  if [[ $rid == linux-arm64 && $(uname -s) == Linux && $(uname -m) == x86_64 ]]; then
    mapfile -t extra < <(cross_linux_arm64_args) && ((${#extra[@]})) || exit 1
  fi
  say "dotnet publish $PROJECT -c Release -r $rid ${extra[*]}"
  t0=$(date +%s)
  dotnet publish "$PROJECT" -c Release -r "$rid" -o "$out" -nologo -clp:NoSummary "${extra[@]}" >&2
  built=$out/$name$exe
  [[ -f $built ]] || { say "no binary $built after publish"; exit 1; }
  size=$(wc -c <"$built" | tr -d ' ')   # portable: GNU and BSD (macOS) alike
  if ((size > MAX_BYTES)); then
    say "$built is $size bytes, over the 20 MiB limit ($MAX_BYTES)"
    exit 1
  fi
  dest=$DIST/s3pod-$rid$exe
  cp "$built" "$dest.tmp" && mv -f "$dest.tmp" "$dest"
  chmod 755 "$dest"
  say "$dest: $size bytes ($(($(date +%s) - t0)) s)"
done

(
  cd "$DIST"
  shopt -s nullglob
  bins=(s3pod-*)
  # sha256sum on Linux/Windows runners, shasum on macOS: same output format.
  if command -v sha256sum >/dev/null; then sum=(sha256sum --); else sum=(shasum -a 256); fi
  ((${#bins[@]})) && "${sum[@]}" "${bins[@]}" >SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS
)
say "wrote $DIST/SHA256SUMS"
