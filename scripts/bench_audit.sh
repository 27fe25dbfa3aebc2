#!/usr/bin/env bash
# GetSecretValue throughput with the audit trail on (default, fail-closed, group commit)
# and off (`--audit-mode off`, the baseline), on freshly spawned release servers.
# Prints both runs' figures; extra arguments go to coffer-bench (e.g. --duration 20).
set -euo pipefail

cd "$(dirname "$0")/.."
cargo build --release -p coffer-cli -p coffer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
bench() {
    "$target_dir/release/coffer-bench" --spawn "$target_dir/release/coffer" \
        --secrets 1000 --concurrency 16,64 --duration 10 --write-concurrency 4 "$@"
}
echo "=== audit off (baseline)"
bench --server-arg=--audit-mode --server-arg=off "$@"
echo "=== audit on (fail-closed)"
bench "$@"
