#!/usr/bin/env bash
# Start and stop the two peer providers on loopback (make peers-up,
# make peers-down). Pid files and logs live in $PEERS_DIR (default .peers/,
# git-ignored). Only the processes recorded in those pid files are stopped.
#
#   peers/peers.sh up [oidc-provider|zitadel-op]...
#   peers/peers.sh down [oidc-provider|zitadel-op]...
#   peers/peers.sh status
#   peers/peers.sh install   (npm ci from the lock file; go build of the OP)
#   peers/peers.sh test [oidc-provider|zitadel-op]...   (make test-peers)
#
# test starts the peers that are not running, runs `idpconform conform`
# (with the peer's known deviations as expected failures) and a short,
# bounded `idpconform load` against each, and stops the peers it started.
# Reports go to $PEERS_DIR/reports/<peer>/{conform,load}.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${PEERS_DIR:-$ROOT/.peers}
OIDC_PROVIDER_ADDR=${OIDC_PROVIDER_ADDR:-127.0.0.1:18081}
ZITADEL_OP_ADDR=${ZITADEL_OP_ADDR:-127.0.0.1:18082}
# Bound on each provider's start, in seconds.
READY_TIMEOUT=${PEERS_READY_TIMEOUT:-30}
ALL=(oidc-provider zitadel-op)

# Values already in the environment win over the published ones.
while IFS='=' read -r k v; do
  [[ $k =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
  if [ -z "${!k:-}" ]; then export "$k=$v"; else export "$k"; fi
done < peers/peers.env

addr_of() { case $1 in oidc-provider) echo "$OIDC_PROVIDER_ADDR" ;; zitadel-op) echo "$ZITADEL_OP_ADDR" ;; esac; }

build() {
  case $1 in
    oidc-provider)
      # npm ci from the lock file, once per lock file change.
      local stamp=peers/oidc-provider/node_modules/.idpconform-lock
      if ! cmp -s peers/oidc-provider/package-lock.json "$stamp" 2>/dev/null; then
        echo "== npm ci (peers/oidc-provider)"
        (cd peers/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
        cp peers/oidc-provider/package-lock.json "$stamp"
      fi ;;
    zitadel-op)
      echo "== go build (peers/zitadel-op)"
      go build -C peers/zitadel-op -o "$DIR/zitadel-op" . ;;
  esac
}

running() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

start() {
  local name=$1 addr; addr=$(addr_of "$name")
  if running "$name"; then echo "$name already running (pid $(cat "$DIR/$name.pid"))"; return; fi
  build "$name"
  case $name in
    oidc-provider) (cd peers/oidc-provider && exec node server.js --addr "$addr") >"$DIR/$name.log" 2>&1 & ;;
    zitadel-op) "$DIR/zitadel-op" --addr "$addr" >"$DIR/$name.log" 2>&1 & ;;
  esac
  echo $! >"$DIR/$name.pid"
  local url="http://$addr/.well-known/openid-configuration" deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! running "$name"; then
      echo "$name exited before it was ready; its log ($DIR/$name.log):" >&2
      tail -n 30 "$DIR/$name.log" >&2; rm -f "$DIR/$name.pid"; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "$name not ready at $url after ${READY_TIMEOUT}s; its log ($DIR/$name.log):" >&2
      tail -n 30 "$DIR/$name.log" >&2; stop "$name"; return 1
    fi
    sleep 0.2
  done
  echo "$name ready: http://$addr (pid $(cat "$DIR/$name.pid"), log $DIR/$name.log)"
}

stop() {
  local name=$1 pid
  [ -f "$DIR/$name.pid" ] || return 0
  pid=$(cat "$DIR/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    echo "$name stopped (pid $pid)"
  fi
  rm -f "$DIR/$name.pid"
}

# run_tests runs conform and load against each peer; the exit status is 1
# when any run failed.
# STARTED lists the peers this run started: only those are stopped at exit
# (a global, so the EXIT trap still sees it after run_tests returned).
STARTED=()
stop_started() { local s; for s in "${STARTED[@]}"; do stop "$s"; done; STARTED=(); }

run_tests() {
  local bin=${IDPCONFORM_BIN:-$ROOT/bin/idpconform} rc=0 n
  [ -x "$bin" ] || { echo "no idpconform binary at $bin (make build)" >&2; return 2; }
  trap stop_started EXIT
  for n in "${names[@]}"; do
    if ! running "$n"; then STARTED+=("$n"); start "$n"; fi
  done
  for n in "${names[@]}"; do
    local out=$DIR/reports/$n
    rm -rf "$out"; mkdir -p "$out"
    echo "== idpconform conform --target fixtures/targets/$n.yaml"
    "$bin" conform --target "fixtures/targets/$n.yaml" --expected-failures "fixtures/expected/$n.yaml" \
      --report-dir "$out/conform" --verbosity succinct --no-color --timeout 10m || rc=1
    echo "== idpconform load --target fixtures/targets/$n.yaml"
    "$bin" load --target "fixtures/targets/$n.yaml" --rate 25/s --duration 4s \
      --slo 'success>=99%' --slo 'p99<=500ms' --out "$out/load" --quiet || rc=1
  done
  if [ ${#names[@]} -eq 2 ]; then
    # The two providers as the old and new side of a migration: the diff
    # must run (exit 0 or 1, never 2) and find the breaking change the
    # peers are known to differ in (zitadel-op types JWT access tokens JWT,
    # not at+jwt: fixtures/targets/zitadel-op.md).
    echo "== idpconform diff fixtures/targets/oidc-provider.yaml fixtures/targets/zitadel-op.yaml"
    local d=$DIR/reports/diff drc=0
    rm -rf "$d"; mkdir -p "$d"
    "$bin" diff fixtures/targets/oidc-provider.yaml fixtures/targets/zitadel-op.yaml --report-dir "$d" --samples 5 >"$d/diff.txt" 2>&1 || drc=$?
    sed -n '1,/^warning/p' "$d/diff.txt"
    if [ $drc -ne 1 ] || ! grep -q 'typ header changed (at+jwt → JWT)' "$d/diff.txt"; then
      echo "diff between the peers: exit $drc, expected 1 with the at+jwt → JWT change (see $d/diff.txt)" >&2
      rc=1
    fi
  fi
  stop_started
  return $rc
}

cmd=${1:-}; shift || true
names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
for n in "${names[@]}"; do
  case $n in oidc-provider|zitadel-op) ;; *) echo "unknown peer $n; expected oidc-provider or zitadel-op" >&2; exit 2 ;; esac
done
mkdir -p "$DIR"
case $cmd in
  up) for n in "${names[@]}"; do start "$n"; done ;;
  down) for n in "${names[@]}"; do stop "$n"; done ;;
  install) for n in "${names[@]}"; do build "$n"; done ;;
  test) run_tests ;;
  status) for n in "${names[@]}"; do if running "$n"; then echo "$n running: http://$(addr_of "$n")"; else echo "$n stopped"; fi; done ;;
  *) echo "usage: peers/peers.sh up|down|status|install|test [oidc-provider|zitadel-op]..." >&2; exit 2 ;;
esac
