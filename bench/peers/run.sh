#!/usr/bin/env bash
# `npm run bench:peers`: the four workloads against NATS JetStream, Redis Streams,
# RabbitMQ Streams and spool, then one table.
#
# For each system and each repeat: start a fresh server (servers.sh: 127.0.0.1 only,
# non-default port, temp data dir), run W1, W3 (replay of W1), W2, W4 in one client
# process (main.ts), stop the server and delete its data. One server runs at a time so no
# idle server competes for the CPU.
#
# Environment:
#   SYSTEMS="nats redis rabbitmq spool"   which systems (spool is skipped with a note
#                                         when dist/ has no built SDK and broker)
#   WORKLOADS=W1,W3,W2,W4                 which workloads (W3 needs W1 before it)
#   REPEAT=1                              repeats per system; the table shows the median
#   SCALE=1                               shrink counts/durations for a smoke run (e.g. 0.01)
#   RESULTS=.bench-tmp/peers-<date>.jsonl where the JSON lines go (appended)
#   SPOOL_FSYNC=1000                      spool's --fsync policy
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

SYSTEMS=${SYSTEMS:-"nats redis rabbitmq spool"}
WORKLOADS=${WORKLOADS:-W1,W3,W2,W4}
REPEAT=${REPEAT:-1}
SCALE=${SCALE:-1}
mkdir -p .bench-tmp
RESULTS=${RESULTS:-"$repo/.bench-tmp/peers-$(date -u +%Y%m%dT%H%M%SZ).jsonl"}
export SPOOL_FSYNC=${SPOOL_FSYNC:-1000}

bash "$here/install.sh"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/spool-peers.XXXXXX")"
cleanup() {
  bash "$here/servers.sh" stop-all "$workdir" || true
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tsx="$repo/node_modules/.bin/tsx"
[ -x "$tsx" ] || { echo "run.sh: node_modules missing: run npm install first" >&2; exit 1; }

for system in $SYSTEMS; do
  if [ "$system" = spool ] && { [ ! -f dist/cli/main.js ] || [ ! -f dist/client/index.js ]; }; then
    echo "run.sh: skipping spool: dist/cli/main.js or dist/client/index.js missing (npx tsc -p tsconfig.json)" >&2
    continue
  fi
  for run in $(seq 1 "$REPEAT"); do
    if ! port="$(bash "$here/servers.sh" start "$system" "$workdir")"; then
      echo "run.sh: $system did not start (run $run); skipping it" >&2
      bash "$here/servers.sh" stop "$system" "$workdir" || true
      continue
    fi
    echo "run.sh: $system listening on 127.0.0.1:$port (run $run/$REPEAT)" >&2
    status=0
    # A hard bound on the whole client run, beyond the per-workload timeouts.
    timeout --kill-after=10 1500 "$tsx" "$here/main.ts" run --system "$system" --port "$port" \
      --workloads "$WORKLOADS" --run "$run" --scale "$SCALE" --json "$RESULTS" >/dev/null || status=$?
    bash "$here/servers.sh" stop "$system" "$workdir"
    [ "$status" -eq 0 ] || echo "run.sh: $system run $run failed with status $status" >&2
  done
done

echo
echo "results: $RESULTS"
echo
"$tsx" "$here/main.ts" table "$RESULTS"
