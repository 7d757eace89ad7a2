#!/usr/bin/env bash
# The share (work-queue) workload against NATS JetStream, Redis Streams and spool in one run:
# for each system and repeat, a fresh server (servers.sh: 127.0.0.1, temp dir), then
# share.ts (fill MESSAGES x 100 B, drain with CONSUMERS workers, each message to one worker,
# acknowledged), then stop the server. Prints one JSON line per run and where they went.
#
# Environment:
#   SYSTEMS="nats redis spool"   which systems
#   MESSAGES=1000000             messages per run
#   CONSUMERS=4                  workers sharing the stream
#   REPEAT=1                     runs per system
#   RESULTS=.bench-tmp/share-<date>.jsonl
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

SYSTEMS=${SYSTEMS:-"nats redis spool"}
MESSAGES=${MESSAGES:-1000000}
CONSUMERS=${CONSUMERS:-4}
REPEAT=${REPEAT:-1}
mkdir -p .bench-tmp
RESULTS=${RESULTS:-"$repo/.bench-tmp/share-$(date -u +%Y%m%dT%H%M%SZ).jsonl"}
export SPOOL_FSYNC=${SPOOL_FSYNC:-1000}

bash "$here/install.sh"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/spool-share.XXXXXX")"
cleanup() {
  bash "$here/servers.sh" stop-all "$workdir" || true
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tsx="$repo/node_modules/.bin/tsx"
for system in $SYSTEMS; do
  for run in $(seq 1 "$REPEAT"); do
    if ! port="$(bash "$here/servers.sh" start "$system" "$workdir")"; then
      echo "share.sh: $system did not start; skipping it" >&2
      bash "$here/servers.sh" stop "$system" "$workdir" || true
      continue
    fi
    timeout --kill-after=10 600 "$tsx" "$here/share.ts" --system "$system" --port "$port" \
      --messages "$MESSAGES" --consumers "$CONSUMERS" --json "$RESULTS" || echo "share.sh: $system run $run failed" >&2
    bash "$here/servers.sh" stop "$system" "$workdir"
  done
done
echo "results: $RESULTS"
