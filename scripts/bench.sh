#!/usr/bin/env bash
# Builds release binaries and benchmarks a freshly spawned `coffer serve --dev` on loopback:
# 1000 secrets, GetSecretValue at concurrency 1/4/16/64 (10 s each, every request SigV4-signed),
# then a PutSecretValue level. Extra arguments are passed to coffer-bench, e.g. --json out.json.
set -euo pipefail

cd "$(dirname "$0")/.."
cargo build --release -p coffer-cli -p coffer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/coffer-bench" --spawn "$target_dir/release/coffer" \
    --secrets 1000 --concurrency 1,4,16,64 --duration 10 "$@"
