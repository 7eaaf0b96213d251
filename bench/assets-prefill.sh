#!/usr/bin/env bash
# Prefill of N small objects (issue 11): `s3pod asset prefill` into an empty object cache against
# 200 sequential `aws s3 cp` (Debian's AWS CLI v2) and one `rclone copy --files-from` of the same
# keys (rclone's defaults: 4 transfers, 8 checkers), on one S3 server.
#
#   source /work/devenv/ceph-rgw.env && bash bench/assets-prefill.sh
#
# Knobs: S3POD (binary, default dist/s3pod-linux-x64), N (200), SIZE (1024 bytes), RUNS (5; the AWS
# CLI loop runs AWS_RUNS=1 time, it takes minutes), JOBS (s3pod --jobs, default 16). The server comes
# from S3POD_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION. Prints one line per tool (median wall
# seconds) and the ratios.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
S3POD=${S3POD:-$REPO/dist/s3pod-linux-x64}
N=${N:-200} SIZE=${SIZE:-1024} RUNS=${RUNS:-5} AWS_RUNS=${AWS_RUNS:-1} JOBS=${JOBS:-16}
EP=${S3POD_TEST_S3_ENDPOINT:?source a server env, e.g. /work/devenv/ceph-rgw.env}
REGION=${S3POD_TEST_S3_REGION:-us-east-1}
BUCKET=s3pod-bench-prefill-$$
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT

export AWS_ACCESS_KEY_ID=$S3POD_TEST_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$S3POD_TEST_S3_SECRET AWS_DEFAULT_REGION=$REGION
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required AWS_PAGER=""
export AWS_CONFIG_FILE=$WORK/aws.config; printf '[default]\ns3 =\n    addressing_style = path\n' > "$AWS_CONFIG_FILE"
unset AWS_CA_BUNDLE
export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_T_TYPE=s3 RCLONE_CONFIG_T_PROVIDER=Other RCLONE_CONFIG_T_ENDPOINT=$EP
export RCLONE_CONFIG_T_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_T_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_T_FORCE_PATH_STYLE=true RCLONE_CONFIG_T_REGION=$REGION
export S3POD_ENDPOINT=$EP S3POD_REGION=$REGION S3POD_S3_KEY_ID=$AWS_ACCESS_KEY_ID S3POD_S3_SECRET=$AWS_SECRET_ACCESS_KEY
export S3POD_CONFIG=$WORK/none.toml
AWS="/usr/bin/aws --endpoint-url $EP"

mkdir -p "$WORK/src"
for i in $(seq -w 1 "$N"); do head -c "$SIZE" /dev/urandom > "$WORK/src/$i.bin"; done
$AWS s3 mb "s3://$BUCKET" >/dev/null
$AWS s3 cp --recursive --quiet "$WORK/src" "s3://$BUCKET/small/"
ls "$WORK/src" > "$WORK/keys.txt"
sed "s#^#s3://$BUCKET/small/#" "$WORK/keys.txt" > "$WORK/list.txt"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -A T=()
for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/cache" "$WORK/rclone"
  t=$(now); S3POD_CACHE_DIR=$WORK/cache "$S3POD" asset prefill "$WORK/list.txt" --jobs "$JOBS" 2>/dev/null; T[s3pod]+="$(echo "$(now) - $t" | bc) "
  t=$(now); rclone copy "t:$BUCKET/small" "$WORK/rclone" --files-from "$WORK/keys.txt" 2>/dev/null; T[rclone]+="$(echo "$(now) - $t" | bc) "
  [[ $(ls "$WORK/cache/objects/$BUCKET/small" | wc -l) == "$N" && $(ls "$WORK/rclone" | wc -l) == "$N" ]] || { echo "incomplete copy" >&2; exit 1; }
done
for run in $(seq 1 "$AWS_RUNS"); do
  rm -rf "$WORK/aws"; mkdir -p "$WORK/aws"
  t=$(now); while read -r k; do $AWS s3 cp --quiet "s3://$BUCKET/small/$k" "$WORK/aws/$k"; done < "$WORK/keys.txt"; T[aws]+="$(echo "$(now) - $t" | bc) "
done
$AWS s3 rb --force "s3://$BUCKET" >/dev/null

declare -A M=()
for tool in s3pod rclone aws; do M[$tool]=$(tr ' ' '\n' <<<"${T[$tool]}" | grep . | median); done
printf '%s objects of %s bytes, %s (median of %s runs; aws: %s)\n' "$N" "$SIZE" "$EP" "$RUNS" "$AWS_RUNS"
for tool in s3pod rclone aws; do printf '  %-7s %8.2f s   runs: %s\n' "$tool" "${M[$tool]}" "${T[$tool]}"; done
awk -v s="${M[s3pod]}" -v r="${M[rclone]}" -v a="${M[aws]}" 'BEGIN { printf "  s3pod is %.1fx faster than sequential aws s3 cp, %.2fx the time of rclone copy\n", a / s, s / r }'
