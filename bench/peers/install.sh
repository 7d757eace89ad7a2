#!/usr/bin/env bash
# Installs the peer servers for the side-by-side benchmarks from Debian packages:
# nats-server, redis-server, rabbitmq-server (+ the rabbitmq_stream plugin, which ships
# inside rabbitmq-server). Idempotent: does nothing when the binaries are present.
#
# The Debian packages would normally start system services on install. We never want
# those (they bind default ports, maybe not only on 127.0.0.1): while installing, a
# policy-rc.d that answers 101 ("action forbidden") keeps invoke-rc.d from starting
# anything, and afterwards we stop any service that started anyway. bench/peers/servers.sh
# then runs our own instances on 127.0.0.1 with temp data dirs and non-default ports.
set -euo pipefail

need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || [ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)

if [ ${#need[@]} -eq 0 ]; then
  echo "install.sh: nats-server, redis-server, rabbitmq-server already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: need root to apt-get install ${need[*]}" >&2
  exit 1
fi

# Forbid service starts during the install, restoring any existing policy afterwards.
policy=/usr/sbin/policy-rc.d
backup=""
if [ -e "$policy" ]; then
  backup="$(mktemp)"
  cp -p "$policy" "$backup"
fi
restore_policy() {
  if [ -n "$backup" ]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when they are missing (an `apt-get update` once per machine).
if ! apt-cache policy nats-server 2>/dev/null | grep -q Candidate; then
  apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${need[@]}"

# Stop anything the packages may have started regardless (no systemd here, but be sure).
for service in nats-server redis-server rabbitmq-server; do
  if command -v service >/dev/null 2>&1; then service "$service" stop >/dev/null 2>&1 || true; fi
done
# epmd (Erlang port mapper) may be started by the rabbitmq package scripts; ours is
# started per run on 127.0.0.1 by servers.sh.
if command -v epmd >/dev/null 2>&1; then epmd -kill >/dev/null 2>&1 || true; fi

echo "install.sh: installed ${need[*]}"
nats-server --version || true
redis-server --version || true
