#!/usr/bin/env bash
# A 3-broker spool cluster on this machine, for trying cluster mode by hand: one etcd
# (Debian's etcd-server: apt-get install etcd-server) on 127.0.0.1:2379 with its data in
# data/cluster/etcd, and brokers 1..3 on 127.0.0.1:9401..9403 (Kafka 9093..9095, admin HTTP
# 9645..9647), data in data/cluster/broker-N. Prints `spool cluster describe` once all three
# are registered; Ctrl-C stops everything (the brokers first, so their leases are revoked).
#
#   npm run build && bash scripts/cluster-local.sh
#   node dist/cli/main.js cluster describe --cluster etcd://127.0.0.1:2379      # in another terminal
set -euo pipefail
cd "$(dirname "$0")/.."
ETCD=${SPOOL_ETCD_BINARY:-/usr/bin/etcd}
[ -x "$ETCD" ] || { echo "cluster-local: $ETCD not found (apt-get install etcd-server)" >&2; exit 1; }
[ -f dist/cli/main.js ] || { echo "cluster-local: run npm run build first" >&2; exit 1; }
if curl -sf http://127.0.0.1:2379/health >/dev/null 2>&1; then
  echo "cluster-local: an etcd already answers on 127.0.0.1:2379 (another cluster-local running?)" >&2
  exit 1
fi
mkdir -p data/cluster
pids=()
stop() {
  trap - INT TERM EXIT
  # Brokers first (SIGTERM revokes their leases), etcd last.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; done
}
trap stop INT TERM EXIT

# etcd and the brokers each in their own session, so Ctrl-C (SIGINT to the whole foreground
# process group) reaches only this script and stop() ends them in order, one signal each:
# brokers first (a broker that got Ctrl-C and then stop()'s SIGTERM takes the second signal as
# "exit now" and leaves its lease behind), etcd last (with etcd gone the brokers cannot revoke
# their leases, and the next start waits a lease TTL for the old registrations to expire).
setsid "$ETCD" --name local --data-dir data/cluster/etcd \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster local=http://127.0.0.1:2380 --log-level warn >data/cluster/etcd.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:2379/health >/dev/null 2>&1 && break
  sleep 0.1
done

for n in 1 2 3; do
  setsid node dist/cli/main.js serve --data-dir "data/cluster/broker-$n" --port "940$n" \
    --kafka-listener "127.0.0.1:$((9092 + n))" --http "127.0.0.1:$((9644 + n))" \
    --cluster etcd://127.0.0.1:2379 --node-id "$n" >"data/cluster/broker-$n.out" 2>"data/cluster/broker-$n.log" &
  pids+=($!)
done
for n in 1 2 3; do
  for _ in $(seq 1 300); do
    grep -q '^spool listening on' "data/cluster/broker-$n.out" 2>/dev/null && break
    kill -0 "${pids[$n]}" 2>/dev/null || { echo "cluster-local: broker $n exited; data/cluster/broker-$n.log:" >&2; tail -5 "data/cluster/broker-$n.log" >&2; exit 1; }
    sleep 0.1
  done
done
# On a restart the followers catch up first: give them a few seconds to rejoin the ISRs.
for _ in $(seq 1 50); do
  node dist/cli/main.js cluster describe --cluster etcd://127.0.0.1:2379 | grep -q 'under-replicated: 0,' && break
  sleep 0.2
done
node dist/cli/main.js cluster describe --cluster etcd://127.0.0.1:2379
echo "cluster-local: running (logs in data/cluster/); Ctrl-C stops it"
wait
