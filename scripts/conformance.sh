#!/usr/bin/env bash
# Conformance check: runs go-redis's own ginkgo suite (package redis_test of
# the go-redis version in go.mod, copied from the module cache) bare and with
# the retry hook installed on every client it builds, and reports the specs
# that pass bare and fail hooked. A hook that changes no behaviour passes
# every spec that passes without it.
#
# usage: scripts/conformance.sh [--policy default|nobreaker|both] [--focus REGEX]
#                               [--reruns N] [--seed N] [--events] [--keep]
#
#   --policy   which policy the hooked run installs (default: both):
#              default = policy.Default(), nobreaker = Default() without breakers
#   --focus    ginkgo focus regex for the full runs (default: every spec)
#   --reruns   focused reruns, bare and hooked, of each candidate difference
#              and of each spec that failed bare (default 2)
#   --seed     ginkgo random seed, the same for every run (default 1)
#   --events   log every policy event of the hooked runs, with its spec, to
#              <run>.events in the results (adds an observer to the policy)
#   --keep     keep the work directory (source copy, binary, server logs)
#
# Exit status: 0 when no policy has a difference, 1 when one has, 2 on error.
# Reports and logs go to scripts/conformance/results/<time>/ (gitignored);
# scripts/conformance/results/latest points at the last one.
#
# Needs root (unshare -n), redis-server 7 and Go. Every suite runs in a
# private network namespace with its own redis-server processes (see
# scripts/conformance/netns-run.sh): nothing listens on, or talks to, the
# host's ports.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts/conformance"

policies=(default nobreaker)
focus=""
reruns=2
seed=1
events=false
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --policy)
      [ $# -ge 2 ] || { echo "conformance: --policy needs a value" >&2; exit 2; }
      case "$2" in
        default | nobreaker) policies=("$2") ;;
        both) policies=(default nobreaker) ;;
        *) echo "conformance: --policy must be default, nobreaker or both" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --focus)
      [ $# -ge 2 ] || { echo "conformance: --focus needs a value" >&2; exit 2; }
      focus=$2; shift 2 ;;
    --reruns)
      [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || { echo "conformance: --reruns needs a number" >&2; exit 2; }
      reruns=$2; shift 2 ;;
    --seed)
      [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || { echo "conformance: --seed needs a number" >&2; exit 2; }
      seed=$2; shift 2 ;;
    --events) events=true; shift ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "conformance: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[conformance %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[conformance] ERROR: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root, for unshare -n (a private network namespace per run)"
command -v redis-server >/dev/null || die "redis-server is missing (Debian: apt-get install redis-server)"
command -v redis-cli >/dev/null || die "redis-cli is missing"
command -v unshare >/dev/null || die "unshare is missing (util-linux)"
command -v ip >/dev/null || die "ip is missing (iproute2)"
unshare -n true 2>/dev/null || die "unshare -n fails here: no private network namespace"

# What this machine cannot run, skipped in every run (bare and hooked):
#  - Redis Stack modules (the 6379 server here is plain Redis 7.0): search,
#    JSON, timeseries, probabilistic (bloom, cuckoo, cms, topk, tdigest),
#    vector sets, and Redis 8 arrays;
#  - TLS (no certificates, no TLS servers: the suite's docker images provide
#    both);
#  - the advanced JSON + RediSearch spec, which carries no label.
# Version-gated specs skip themselves: REDIS_VERSION=7.0 below.
label_filter='!search && !json && !timeseries && !probabilistic && !bloom && !cuckoo && !cms && !topk && !tdigest && !vectorset && !array && !arrays'
skip_regex='Advanced JSON and RediSearch'
skip_files='/(tls_test|tls_cluster_test|tls_standalone_test|tls_cert_auth_test)\.go$'

stamp=$(date +%Y%m%d-%H%M%S)
results="$here/results/$stamp"
mkdir -p "$results"
ln -sfn "$stamp" "$here/results/latest"
work=$(mktemp -d /tmp/conformance.XXXXXX)
cleanup() {
  if $keep; then
    log "work directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

t0=$SECONDS
cd "$root"
ver=$(GOWORK=off go list -m -f '{{.Version}}' github.com/redis/go-redis/v9)
GOWORK=off go mod download github.com/redis/go-redis/v9
moddir=$(GOWORK=off go list -m -f '{{.Dir}}' github.com/redis/go-redis/v9)
[ -d "$moddir" ] || die "go-redis $ver is not in the module cache"
log "go-redis $ver from $moddir"
log "results: $results"

# 1. A writable copy of go-redis, its constructor calls pointed at the
# wrappers, built once: every run uses the same test binary.
src="$work/go-redis"
cp -r "$moddir" "$src"
chmod -R u+w "$src"
GOWORK=off go build -o "$work/rewrite" ./internal/conformance/rewrite
GOWORK=off go build -o "$work/compare" ./internal/conformance/compare
"$work/rewrite" "$src" >"$results/rewrite.txt"
grep 'total\|left alone' "$results/rewrite.txt" | sed 's/^rewrite: /  /'
# Package redis (internal) test files cannot import the hook; their specs
# run unhooked in both runs, and the report counts them apart.
grep -l '^package redis$' "$src"/*_test.go | xargs -n1 basename >"$results/unhooked-files.txt"
cp internal/conformance/testdata/hooked_test.go "$src/zz_conformance_hooked_test.go"
(
  cd "$src"
  export GOWORK=off
  go mod edit -require github.com/go-retryable/retryable@v0.0.0 -replace "github.com/go-retryable/retryable=$root"
  go mod tidy >"$results/build.log" 2>&1
  log "building the test binary"
  go test -c -o "$work/redis.test" . >>"$results/build.log" 2>&1
) || { cat "$results/build.log" >&2; die "building the suite failed (see $results/build.log)"; }

# 2. Runs. Each one gets a fresh namespace and fresh servers.
suite_env=(REDIS_VERSION=7.0 RE_CLUSTER=false RCE_DOCKER=false)
base_args=(-test.run '^TestGinkgoSuite$' -test.timeout 40m
  -ginkgo.timeout 30m -ginkgo.seed "$seed" -ginkgo.no-color
  -ginkgo.label-filter "$label_filter" -ginkgo.skip "$skip_regex" -ginkgo.skip-file "$skip_files")

# run NAME POLICY [extra ginkgo args...]: writes NAME.json and NAME.log.
run() {
  local name=$1 pol=$2 start=$SECONDS rc=0 ev=()
  shift 2
  mkdir -p "$work/$name"
  if $events && [ "$pol" != none ]; then
    ev=(CONFORMANCE_EVENTS="$results/$name.events")
  fi
  (
    cd "$src"
    unshare -n "$here/netns-run.sh" "$work/$name" -- \
      env "${suite_env[@]}" "${ev[@]}" CONFORMANCE_POLICY="$pol" CONFORMANCE_INSTALL_LOG="$results/$name.installs" \
      "$work/redis.test" "${base_args[@]}" -ginkgo.json-report "$results/$name.json" "$@"
  ) >"$results/$name.log" 2>&1 || rc=$?
  [ -f "$results/$name.json" ] || die "$name: no report (exit $rc); see $results/$name.log"
  local tail
  tail=$(grep -E '^Ran [0-9]+ of|Passed \|' "$results/$name.log" | tr '\n' ' ' || true)
  log "$name: $((SECONDS - start))s, ${tail:-no summary line}"
  if grep -q 'INSTALL-ERROR' "$results/$name.installs" 2>/dev/null; then
    log "$name: hooks.Install FAILED for some clients:"
    grep -h 'CONFORMANCE: hooks.Install failed' "$results/$name.log" | sort | uniq -c | sed 's/^/    /'
  fi
  printf '%s\n' "$((SECONDS - start))" >"$results/$name.seconds"
}

installs() { # NAME: one line per constructor
  [ -f "$results/$1.installs" ] || { echo "    (no clients recorded)"; return; }
  awk '{n[$1" "$3]++} END {for (k in n) printf "    %s: %d\n", k, n[k]}' "$results/$1.installs" | sort
}

focus_args=()
[ -n "$focus" ] && focus_args=(-ginkgo.focus "$focus")

log "full run: bare"
run bare none "${focus_args[@]}"
for p in "${policies[@]}"; do
  log "full run: hooked, policy $p"
  run "hooked-$p" "$p" "${focus_args[@]}"
done

# 3. Focused reruns of every candidate (failed hooked after passing bare,
# or failed bare), bare and hooked, to tell reproducible differences from
# flakes.
: >"$work/candidates"
for p in "${policies[@]}"; do
  "$work/compare" candidates -bare "$results/bare.json" -hooked "$results/hooked-$p.json" >>"$work/candidates"
done
sort -u "$work/candidates" -o "$results/candidates.txt"
ncand=$(wc -l <"$results/candidates.txt")
rerun_args=()
if [ "$ncand" -gt 0 ]; then
  # One -ginkgo.focus-file per file: FILE:LINE,LINE,...
  while IFS= read -r spec; do
    rerun_args+=(-ginkgo.focus-file "$spec")
  done < <(awk -F: '{l[$1] = ($1 in l) ? l[$1]","$2 : $2} END {for (f in l) print "/" f ":" l[f]}' "$results/candidates.txt")
fi
if [ "$ncand" -gt 0 ] && [ "$reruns" -gt 0 ]; then
  log "$ncand spec location(s) to rerun $reruns time(s), bare and hooked"
  for i in $(seq "$reruns"); do
    run "rerun$i-bare" none "${focus_args[@]}" "${rerun_args[@]}"
    for p in "${policies[@]}"; do
      run "rerun$i-hooked-$p" "$p" "${focus_args[@]}" "${rerun_args[@]}"
    done
  done
fi

# 4. Summary.
status=0
{
  echo
  echo "== conformance: go-redis $ver suite, bare vs hooked (seed $seed${focus:+, focus $focus})"
  echo "skipped in every run: labels ($label_filter), specs matching /$skip_regex/, files $skip_files"
  echo "bare run: $(cat "$results/bare.seconds")s; clients built:"
  installs bare
} | tee "$results/summary.txt"
for p in "${policies[@]}"; do
  args=(-bare "$results/bare.json" -hooked "$results/hooked-$p.json" -unhooked-files "$results/unhooked-files.txt")
  for i in $(seq "$reruns"); do
    [ -f "$results/rerun$i-bare.json" ] && args+=(-rerun-bare "$results/rerun$i-bare.json")
    [ -f "$results/rerun$i-hooked-$p.json" ] && args+=(-rerun-hooked "$results/rerun$i-hooked-$p.json")
  done
  rc=0
  "$work/compare" report "${args[@]}" >"$results/report-$p.txt" 2>&1 || rc=$?
  {
    echo
    echo "== policy $p: hooked run $(cat "$results/hooked-$p.seconds")s; clients built:"
    installs "hooked-$p"
    cat "$results/report-$p.txt"
  } | tee -a "$results/summary.txt"
  case "$rc" in
    0) ;;
    1) status=1 ;;
    *) die "compare failed for policy $p" ;;
  esac
done
echo | tee -a "$results/summary.txt"
log "done in $((SECONDS - t0))s; summary: $results/summary.txt" | tee -a "$results/summary.txt"
exit "$status"
