#!/usr/bin/env bash
# Installs what the tests need and runs every test of the project:
#
#   deps        jq/curl (apt, only if missing), a Python venv at .venv with tests/python/requirements.txt
#   build       cargo build --locked -p coffer-cli
#   cargo-test  cargo test --workspace --locked (unit, property and end-to-end tests)
#   pytest      tests/python against the freshly built binary (boto3, aws CLI, caching library)
#   acceptance  ../shared/acceptance/clients_check.sh against a dev server, if that file exists
#
# Every stage runs even if an earlier one failed; a summary line per stage and a final
# `N passed, M failed` line (test counts summed over the stages) end the output.
# Exit status: 0 if everything passed, 1 otherwise.
#
# Respects CARGO_TARGET_DIR (default: target/ in the repository).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$REPO/$TARGET_DIR ;; esac
export CARGO_TARGET_DIR=$TARGET_DIR
COFFER_BIN=$TARGET_DIR/debug/coffer
VENV=$REPO/.venv
ACCEPTANCE=$REPO/../shared/acceptance/clients_check.sh
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/coffer-test.XXXXXX")
SERVER_PID=""
SERVER_DIR=""
trap 'rm -rf "$LOGDIR"' EXIT

SUMMARY=()
TOTAL_PASSED=0
TOTAL_FAILED=0
ANY_FAILED=0

# counts_<stage> functions print "PASSED FAILED" parsed from a stage log (or nothing).
counts_cargo() {
  awk '/^test result:/ {
         for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }
         seen = 1 }
       END { if (seen) print p + 0, f + 0 }' "$1"
}
counts_pytest() {
  local line p f e
  line=$(grep -E '[0-9]+ (passed|failed|errors?)' "$1" | tail -n 1 || true)
  [ -n "$line" ] || return 0
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  e=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  echo "$p" $((f + e))
}
counts_acceptance() {
  grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | awk '{ print $1, $3 }'
}

# run_stage NAME COUNTER FUNCTION: runs FUNCTION in a subshell with errexit in force, its
# output shown and logged; records PASS/FAIL, the duration and any parsed test counts.
run_stage() {
  local name=$1 counter=$2 fn=$3 log="$LOGDIR/$1.log" start rc counts p=0 f=0 detail=""
  echo
  echo "==> [$name] $(date '+%H:%M:%S')"
  start=$(date +%s)
  set +e
  ( set -euo pipefail; "$fn" ) 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$counter" != - ]; then
    counts=$("$counter" "$log" || true)
    if [ -n "$counts" ]; then
      read -r p f <<<"$counts"
      detail="$p passed, $f failed"
    fi
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1 # a failure the log does not count (build error, crash, setup problem)
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + p))
  TOTAL_FAILED=$((TOTAL_FAILED + f))
  local verdict=PASS
  if [ "$rc" -ne 0 ]; then
    verdict=FAIL
    ANY_FAILED=1
  fi
  SUMMARY+=("$(printf '%-11s %s  %s(%ss)' "$name" "$verdict" "${detail:+$detail }" $(($(date +%s) - start)))")
  echo "<== [$name] $verdict"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}

# ------------------------------------------------------------------------------------ stages

stage_deps() {
  local missing=()
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV"; then
      # Debian's python3 needs python3-venv for ensurepip.
      rm -rf "$VENV"
      local pyver
      pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$pyver-venv" >/dev/null ||
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$VENV"
    fi
  fi
  # Reinstall only when the requirements changed since the last successful install.
  local want have=""
  want=$(sha256sum tests/python/requirements.txt | cut -d' ' -f1)
  [ -f "$VENV/.requirements.sha256" ] && have=$(cat "$VENV/.requirements.sha256")
  if [ "$want" != "$have" ]; then
    echo "pip install -r tests/python/requirements.txt"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r tests/python/requirements.txt
    echo "$want" >"$VENV/.requirements.sha256"
  fi
  "$VENV/bin/python" -c 'import boto3, botocore, aws_secretsmanager_caching, pytest, cryptography'
  "$VENV/bin/aws" --version
}

stage_build() {
  cargo build --locked -p coffer-cli
  test -x "$COFFER_BIN"
}

stage_cargo_test() {
  cargo test --workspace --locked
}

stage_pytest() {
  test -x "$COFFER_BIN" || { echo "no coffer binary at $COFFER_BIN (build failed?)"; return 1; }
  COFFER_BIN=$COFFER_BIN python3 -m pytest -q -p no:cacheprovider tests/python
}

# Starts `coffer serve --dev` on a free port; sets SERVER_PID, SERVER_URL and AWS_* creds.
start_dev_server() {
  SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/coffer-acceptance.XXXXXX")
  "$COFFER_BIN" serve --dev --data-dir "$SERVER_DIR/data" --listen 127.0.0.1:0 \
    >"$SERVER_DIR/stdout" 2>"$SERVER_DIR/stderr" </dev/null &
  SERVER_PID=$!
  local i
  for i in $(seq 1 600); do
    grep -q 'Coffer listening on' "$SERVER_DIR/stdout" 2>/dev/null && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "coffer exited early:"; cat "$SERVER_DIR/stderr"; return 1
    fi
    sleep 0.1
  done
  SERVER_URL=$(sed -n 's/^Coffer listening on \(http[^ ]*\).*/\1/p' "$SERVER_DIR/stdout" | head -n 1)
  AWS_ACCESS_KEY_ID=$(sed -n 's/^ *AWS_ACCESS_KEY_ID=//p' "$SERVER_DIR/stdout" | head -n 1)
  AWS_SECRET_ACCESS_KEY=$(sed -n 's/^ *AWS_SECRET_ACCESS_KEY=//p' "$SERVER_DIR/stdout" | head -n 1)
  AWS_DEFAULT_REGION=$(sed -n 's/^ *AWS_DEFAULT_REGION=//p' "$SERVER_DIR/stdout" | head -n 1)
  if [ -z "$SERVER_URL" ] || [ -z "$AWS_ACCESS_KEY_ID" ] || [ -z "$AWS_SECRET_ACCESS_KEY" ]; then
    echo "could not parse the dev server's address and credentials:"; cat "$SERVER_DIR/stdout"; return 1
  fi
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
}

stop_dev_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  [ -n "$SERVER_DIR" ] && rm -rf "$SERVER_DIR"
  SERVER_DIR=""
}

stage_acceptance() {
  test -x "$COFFER_BIN" || { echo "no coffer binary at $COFFER_BIN (build failed?)"; return 1; }
  # This runs in run_stage's subshell: stop the server whichever way the subshell ends.
  trap stop_dev_server EXIT
  start_dev_server
  echo "dev server at $SERVER_URL"
  local rc=0
  # The Rust client builds into $CARGO_TARGET_DIR (exported above), so later runs reuse it.
  HC_EXPECT_SIGV4=1 bash "$ACCEPTANCE" "$SERVER_URL" cli boto3 cache rust || rc=$?
  stop_dev_server
  return "$rc"
}

# ------------------------------------------------------------------------------------ main

run_stage deps - stage_deps
# The venv's python3, pytest and aws come first from here on.
export VIRTUAL_ENV=$VENV PATH="$VENV/bin:$PATH"
run_stage build - stage_build
run_stage cargo-test counts_cargo stage_cargo_test
run_stage pytest counts_pytest stage_pytest
if [ -f "$ACCEPTANCE" ]; then
  run_stage acceptance counts_acceptance stage_acceptance
else
  SUMMARY+=("$(printf '%-11s %s' acceptance "SKIPPED (no $ACCEPTANCE)")")
  echo
  echo "acceptance: skipped, $ACCEPTANCE not found"
fi

echo
echo "==================== summary ===================="
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit "$ANY_FAILED"
