#!/usr/bin/env bash
# Starts and stops one benchmark server at a time, each as our own child process bound to
# 127.0.0.1 only, on a non-default port, with its data in a temp directory.
#
#   servers.sh start <nats|redis|rabbitmq|spool> <workdir>   prints the client port
#   servers.sh stop  <nats|redis|rabbitmq|spool> <workdir>
#   servers.sh stop-all <workdir>
#
# Each server runs in its own session (setsid), so stop signals that process group and
# nothing else. Data lives in <workdir>/<system>/ and is removed on stop.
set -euo pipefail

HOST=127.0.0.1
NATS_PORT=${NATS_PORT:-34222}
REDIS_PORT=${REDIS_PORT:-36379}
RABBIT_STREAM_PORT=${RABBIT_STREAM_PORT:-35552}
RABBIT_AMQP_PORT=${RABBIT_AMQP_PORT:-35672}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-35673}
RABBIT_EPMD_PORT=${RABBIT_EPMD_PORT:-34369}
SPOOL_FSYNC=${SPOOL_FSYNC:-1000}

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() { echo "servers.sh: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

wait_port() { # port seconds pidfile log
  local port=$1 seconds=$2 pidfile=$3 log=$4 deadline=$((SECONDS + $2))
  while ! port_open "$port"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      tail -n 30 "$log" >&2 || true
      die "server exited before listening on $HOST:$port"
    fi
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$log" >&2 || true; die "nothing listening on $HOST:$port after ${seconds}s"; }
    sleep 0.2
  done
}

ensure_free() {
  if port_open "$1"; then die "port $HOST:$1 is already in use"; fi
}

start() {
  local system=$1 workdir=$2 dir="$2/$1"
  mkdir -p "$dir"
  local pidfile="$dir/pid" log="$dir/server.log"
  case "$system" in
    nats)
      ensure_free "$NATS_PORT"
      setsid nats-server -a "$HOST" -p "$NATS_PORT" -js -sd "$dir/jetstream" -l "$log" \
        </dev/null >>"$log" 2>&1 &
      echo $! >"$pidfile"
      wait_port "$NATS_PORT" 20 "$pidfile" "$log"
      echo "$NATS_PORT"
      ;;
    redis)
      ensure_free "$REDIS_PORT"
      # RDB snapshots off so the AOF (everysec) is the one persistence mechanism measured;
      # AOF rewrite stays at its defaults.
      setsid redis-server --bind "$HOST" --port "$REDIS_PORT" --protected-mode yes --daemonize no \
        --dir "$dir" --appendonly yes --appendfsync everysec --save '' --logfile "$log" \
        </dev/null >>"$log" 2>&1 &
      echo $! >"$pidfile"
      wait_port "$REDIS_PORT" 20 "$pidfile" "$log"
      echo "$REDIS_PORT"
      ;;
    rabbitmq)
      ensure_free "$RABBIT_STREAM_PORT"
      ensure_free "$RABBIT_AMQP_PORT"
      mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
      cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = $HOST:$RABBIT_AMQP_PORT
stream.listeners.tcp.default = $HOST:$RABBIT_STREAM_PORT
stream.advertised_host = $HOST
stream.advertised_port = $RABBIT_STREAM_PORT
loopback_users.guest = true
EOF
      echo '[rabbitmq_stream].' >"$dir/enabled_plugins"
      : >"$dir/rabbitmq-env.conf"
      # epmd and Erlang distribution on 127.0.0.1 and non-default ports as well. (epmd
      # always adds the IPv6 loopback ::1 to the addresses it is given; it has no option to
      # leave it out, and RabbitMQ starts it regardless of -start_epmd. Loopback only.)
      env HOME="$dir/home" \
        RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
        RABBITMQ_NODENAME="spoolbench@localhost" \
        RABBITMQ_NODE_IP_ADDRESS="$HOST" RABBITMQ_NODE_PORT="$RABBIT_AMQP_PORT" \
        RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" \
        ERL_EPMD_ADDRESS="$HOST" ERL_EPMD_PORT="$RABBIT_EPMD_PORT" \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        setsid /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >>"$log" 2>&1 &
      echo $! >"$pidfile"
      wait_port "$RABBIT_STREAM_PORT" 90 "$pidfile" "$log"
      echo "$RABBIT_STREAM_PORT"
      ;;
    spool)
      [ -f "$repo/dist/cli/main.js" ] || die "dist/cli/main.js missing: run npx tsc -p tsconfig.json first"
      # Created before the background start, so the port loop below can read it at once.
      : >"$dir/stdout"
      setsid node "$repo/dist/cli/main.js" serve --host "$HOST" --port 0 --http off --data-dir "$dir/data" --fsync "$SPOOL_FSYNC" \
        </dev/null >"$dir/stdout" 2>>"$log" &
      echo $! >"$pidfile"
      local deadline=$((SECONDS + 20)) port=""
      while [ -z "$port" ]; do
        port="$(sed -n 's/^spool listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/stdout" 2>/dev/null | head -n 1 || true)"
        [ -n "$port" ] && break
        kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$log" >&2; die "spool exited before listening"; }
        [ $SECONDS -lt $deadline ] || die "spool did not print its port in 20s"
        sleep 0.1
      done
      echo "$port"
      ;;
    *) die "unknown system $system (nats, redis, rabbitmq, spool)" ;;
  esac
}

stop() {
  local system=$1 workdir=$2 dir="$2/$1"
  local pidfile="$dir/pid"
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
  if [ "$system" = rabbitmq ]; then
    # The epmd that rabbitmq-server started daemonizes out of our process group.
    ERL_EPMD_PORT="$RABBIT_EPMD_PORT" epmd -kill >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

cmd=${1:-}
case "$cmd" in
  start) [ $# -eq 3 ] || die "usage: servers.sh start <system> <workdir>"; start "$2" "$3" ;;
  stop) [ $# -eq 3 ] || die "usage: servers.sh stop <system> <workdir>"; stop "$2" "$3" ;;
  stop-all)
    [ $# -eq 2 ] || die "usage: servers.sh stop-all <workdir>"
    for system in nats redis rabbitmq spool; do stop "$system" "$2"; done
    ;;
  *) die "usage: servers.sh start|stop|stop-all ..." ;;
esac
