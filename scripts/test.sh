#!/usr/bin/env bash
# Runs every check of every module: go vet, staticcheck and go test -race.
# Installs what it needs when it is missing: redis-server (Debian package
# redis-server) and staticcheck (go install).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing redis-server from Debian's packages" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "test.sh: redis-server is missing; install Redis 7 (Debian/Ubuntu: apt-get install redis-server)" >&2
    exit 1
  fi
fi
# The tests start their own redis-server processes; keep the packaged service
# from holding port 6379 only if it was not already running before us.

STATICCHECK="$(go env GOPATH)/bin/staticcheck"
if [ ! -x "$STATICCHECK" ]; then
  echo "test.sh: installing staticcheck" >&2
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

modules=(. bench examples otel)
for m in "${modules[@]}"; do
  echo "== $m"
  (
    cd "$m"
    unformatted=$(gofmt -l .)
    if [ -n "$unformatted" ]; then echo "gofmt: needs formatting:"; echo "$unformatted"; exit 1; fi
    go vet ./...
    "$STATICCHECK" ./...
    go test -race -count=1 -timeout 12m ./...
  )
done
echo "test.sh: all modules passed"
