#!/usr/bin/env bash
# `npm test`: install what is missing, check formatting and lints (native and wasm32: the
# Worker's logic is wasm32-only code), run the native unit tests of the pure modules, build
# the release Worker, check that what was built would deploy (`wrangler deploy --dry-run`:
# every binding, within the size limits; offline), then drive it in workerd (Miniflare) with
# the integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy (native, all targets)"
cargo clippy --quiet --all-targets -- -D warnings
echo "== cargo clippy (wasm32: the Worker)"
cargo clippy --quiet --target wasm32-unknown-unknown -- -D warnings
echo "== cargo test (native unit tests)"
cargo test --quiet
echo "== build the Worker"
bash scripts/build.sh
echo "== deploy check (wrangler deploy --dry-run, bindings, size limits)"
node scripts/deploy-check.mjs
echo "== integration tests (node --test, Miniflare)"
node --test tests/
