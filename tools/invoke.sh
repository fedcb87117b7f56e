#!/usr/bin/env bash
# Runs one function's bootstrap under the Lambda Runtime Interface Emulator
# (what `sam local invoke` runs inside its container) on one event file,
# against a `snapper local up` started for the purpose; stops both after.
set -euo pipefail
rie=$1 bootstrap=$2 snapper=$3 event=$4
[ -f "$event" ] || { echo "no event file $event" >&2; exit 2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

"$snapper" local up >"$tmp/up.out" 2>"$tmp/up.err" &
pids+=($!)
for _ in $(seq 1 300); do
  endpoint=$(sed -n 's/^endpoint=//p' "$tmp/up.out" 2>/dev/null || true)
  [ -n "$endpoint" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$tmp/up.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "${endpoint:-}" ] || { echo "local up did not start" >&2; exit 1; }
topic=$(sed -n 's/^topic=//p' "$tmp/up.out")
bucket=$(sed -n 's/^bucket=//p' "$tmp/up.out")

port=$(free_port)
env -i PATH="$PATH" HOME="$HOME" \
  AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=ak AWS_SECRET_ACCESS_KEY=sk AWS_ENDPOINT_URL="$endpoint" \
  RUN_BUCKET="$bucket" REPORT_TOPIC_ARN="$topic" SNAPPER_S3_PATH_STYLE=true \
  "$rie" --runtime-interface-emulator-address "127.0.0.1:$port" "$bootstrap" >"$tmp/rie.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break || sleep 0.1
done
echo "local endpoint $endpoint; invoking $(basename "$(dirname "$bootstrap")") with $event" >&2
curl -s -XPOST "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" --data-binary "@$event"
echo
if [ -n "${INVOKE_LOG:-}" ]; then cat "$tmp/rie.log" >&2; fi
