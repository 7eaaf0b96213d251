#!/bin/sh
# Installs the s3pod binary from a GitHub release:
#
#   curl -fsSL https://github.com/org/s3pod/releases/latest/download/install.sh | sh
#   sh install.sh [--version v1.2.3] [--dir DIR]
#
# Picks the release asset for this OS and CPU (s3pod-linux-x64, s3pod-osx-arm64, ...), checks it
# against the SHA256SUMS file of the same release and installs it as DIR/s3pod (default
# ~/.local/bin). Nothing is installed when the checksum does not match.
#
# Environment: S3POD_VERSION (a tag, default the latest release), S3POD_INSTALL_DIR,
# S3POD_REPO (owner/name), S3POD_INSTALL_BASE_URL (where releases live, default
# https://github.com/$S3POD_REPO/releases; assets are read from BASE/download/TAG/ASSET, or
# BASE/latest/download/ASSET), S3POD_OS / S3POD_ARCH (override what uname says).
set -eu

repo=${S3POD_REPO:-org/s3pod}
version=${S3POD_VERSION:-}
dir=${S3POD_INSTALL_DIR:-}

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --version) [ $# -ge 2 ] || fail "--version needs a value"; version=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || fail "--dir needs a value"; dir=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument: $1 (use --version TAG and --dir DIR)" ;;
  esac
done

[ -n "$dir" ] || dir=${HOME:?HOME is not set; pass --dir}/.local/bin
base=${S3POD_INSTALL_BASE_URL:-https://github.com/$repo/releases}
base=${base%/}
case $version in
  ''|latest) version= ;;
  v*) ;;
  *) version=v$version ;;
esac

os=${S3POD_OS:-$(uname -s)}
arch=${S3POD_ARCH:-$(uname -m)}
case $os in
  Linux|linux) os=linux ;;
  Darwin|darwin|osx) os=osx ;;
  *) fail "no s3pod build for the OS $os (builds: linux, osx; on Windows use install.ps1)" ;;
esac
case $arch in
  x86_64|amd64|x64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) fail "no s3pod build for the CPU $arch (builds: x64, arm64)" ;;
esac
asset=s3pod-$os-$arch

url_of() {
  if [ -n "$version" ]; then echo "$base/download/$version/$1"; else echo "$base/latest/download/$1"; fi
}

fetch() { # url file; the tool's own complaint goes into the one error line
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1" 2>"$tmp/err" || fail "could not download $1 ($(tail -n 1 "$tmp/err"))"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" 2>"$tmp/err" || fail "could not download $1 ($(tail -n 1 "$tmp/err"))"
  else
    fail "neither curl nor wget is installed"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else fail "neither sha256sum nor shasum is installed"
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/s3pod-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch "$(url_of SHA256SUMS)" "$tmp/SHA256SUMS"
expected=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print tolower($1); exit }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || fail "$(url_of SHA256SUMS) lists no $asset"
fetch "$(url_of "$asset")" "$tmp/$asset"
actual=$(sha256 "$tmp/$asset")
[ "$actual" = "$expected" ] || fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing installed"

mkdir -p "$dir" || fail "cannot create $dir"
chmod 755 "$tmp/$asset"
# Beside the target, then one rename: a running s3pod is never overwritten in place.
cp "$tmp/$asset" "$dir/.s3pod.$$" || fail "cannot write to $dir"
mv -f "$dir/.s3pod.$$" "$dir/s3pod" || fail "cannot write $dir/s3pod"
echo "installed s3pod ${version:-(latest)} ($asset, sha256 $expected) to $dir/s3pod"
case ":$PATH:" in
  *":$dir:"*) ;;
  *) echo "note: $dir is not on PATH; add it, e.g. export PATH=\"$dir:\$PATH\"" ;;
esac
