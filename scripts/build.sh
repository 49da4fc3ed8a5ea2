#!/usr/bin/env bash
# Builds the release Worker into build/ (wrangler.toml's [build] command runs this too).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# Local tools instead of worker-build's downloads (this network reaches only the registries).
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_BINDGEN_BIN
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
# Unminified, so that scripts/entry.mjs can specialize the entry (it minifies afterwards).
NO_MINIFY=1 worker-build --release
node scripts/entry.mjs
# worker-build keeps the wasm name section (it passes --debuginfo to wasm-opt). Dropping it
# and the producers section takes ~45 KB off the gzipped Worker (BENCHMARKS.md); a panic's
# stack trace then shows function indices instead of Rust names. Same feature set as
# worker-build's own wasm-opt run, so no newer encoding is emitted than workerd accepts.
"$WASM_OPT_BIN" build/index_bg.wasm -o build/index_bg.wasm --strip-debug --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling
