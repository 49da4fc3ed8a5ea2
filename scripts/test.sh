#!/usr/bin/env bash
# `npm test`: install what is missing, run the native unit tests of the pure modules,
# build the release Worker, then drive it in workerd (Miniflare) with the integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
echo "== cargo test (native unit tests)"
cargo test --quiet
echo "== build the Worker"
bash scripts/build.sh
echo "== integration tests (node --test, Miniflare)"
node --test tests/
