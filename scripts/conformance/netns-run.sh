#!/usr/bin/env bash
# Runs a command inside the current (private) network namespace after
# starting the redis-server processes go-redis's test suite expects, and
# stops them afterwards. scripts/conformance.sh calls it as
#   unshare -n scripts/conformance/netns-run.sh WORKDIR -- COMMAND...
# It refuses to run in a namespace where anything listens already, so it can
# never start (or stop) a server next to the host's own Redis.
#
# Servers (Redis 7, --save "" --appendonly no, data under WORKDIR/redis):
#   6379                   standalone, standing in for the suite's "stack"
#                          (no modules). Nothing on 6380/6381: "should
#                          Migrate" expects MIGRATE to 6381 to fail.
#   6390 6391 6392         ring shards
#   9121 9122 9123         sentinel master and its two replicas-to-be
#   26379 26380 26381      sentinels monitoring go-redis-test at 9121
#   16600..16605           cluster-enabled nodes; the suite's BeforeSuite
#                          meets them and assigns slots and replicas itself
set -euo pipefail

if [ $# -lt 3 ] || [ "$2" != "--" ]; then
  echo "usage: netns-run.sh WORKDIR -- COMMAND..." >&2
  exit 2
fi
work=$1
shift 2

# Loopback only, and it must be ours: a namespace with a listener on 6379 is
# the host's.
ip link set lo up
if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htln 2>/dev/null)" ]; then
  echo "netns-run: something already listens in this network namespace; refusing (run me under unshare -n)" >&2
  exit 3
fi
if [ "$(ip -o link show | grep -vc ': lo:')" -ne 0 ]; then
  echo "netns-run: this namespace has interfaces other than lo; refusing (run me under unshare -n)" >&2
  exit 3
fi

data="$work/redis"
rm -rf "$data"
mkdir -p "$data"
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each server has a config file (the suite's "should ConfigRewrite" needs
# one).
start() { # port, extra config lines...
  local port=$1 line
  shift
  mkdir -p "$data/$port"
  {
    echo "port $port"
    echo "dir $data/$port"
    echo "logfile $data/$port.log"
    echo 'save ""'
    echo "appendonly no"
    echo "daemonize no"
    echo "enable-debug-command yes"
    echo "enable-module-command yes"
    for line in "$@"; do echo "$line"; done
  } >"$data/$port/redis.conf"
  redis-server "$data/$port/redis.conf" &
  pids+=($!)
}

for port in 6379 6390 6391 6392 9121 9122 9123; do
  start "$port"
done
for port in 16600 16601 16602 16603 16604 16605; do
  start "$port" "cluster-enabled yes" "cluster-config-file $data/$port/nodes.conf"
done
for port in 26379 26380 26381; do
  mkdir -p "$data/$port"
  # The suite sends SENTINEL MONITOR itself and accepts "Duplicate master
  # name"; the timings are those its own environment uses.
  cat >"$data/$port/sentinel.conf" <<CONF
port $port
dir $data/$port
logfile $data/$port.log
sentinel monitor go-redis-test 127.0.0.1 9121 2
sentinel down-after-milliseconds go-redis-test 5000
sentinel failover-timeout go-redis-test 60000
sentinel parallel-syncs go-redis-test 1
CONF
  redis-server "$data/$port/sentinel.conf" --sentinel &
  pids+=($!)
done

for port in 6379 6390 6391 6392 9121 9122 9123 16600 16601 16602 16603 16604 16605 26379 26380 26381; do
  for _ in $(seq 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
      continue 2
    fi
    sleep 0.1
  done
  echo "netns-run: redis on port $port did not start; see $data/$port.log" >&2
  exit 4
done

rc=0
"$@" || rc=$?
exit "$rc"
