#!/usr/bin/env bash
# Fuzzes the Delivery Service's HTTP API from the OpenAPI document it serves, with schemathesis
# (from PyPI, pinned, in a virtualenv under target/): every check, a fixed seed, requests
# signed as a registered device where they are meant to be valid (.ci/schemathesis/hooks.py).
# Fails if any check fails. Runs `canopy serve` on loopback with a fresh SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==4.32.5" "cryptography==50.0.2"
fi

# CANOPY_BIN: a `canopy` binary already built (.ci/run passes the one `cargo test
# --workspace` built for the CLI's tests); otherwise it is built here.
canopy=${CANOPY_BIN:-}
if [ -z "$canopy" ]; then
  cargo build --quiet -p canopy-cli --locked
  canopy=target/debug/canopy
fi
dir=$(mktemp -d)
"$canopy" serve --db "$dir/ds.db" --listen 127.0.0.1:0 >"$dir/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$dir/serve.log" | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "canopy serve did not start:" >&2
  cat "$dir/serve.log" >&2
  exit 1
fi

cd .ci/schemathesis
CANOPY_DS_URL="$url" SCHEMATHESIS_HOOKS=hooks PYTHONPATH=. \
  "../../$venv/bin/schemathesis" --config-file schemathesis.toml \
  run "$url/v1/openapi.json" --checks all --no-color
