#!/usr/bin/env bash
# Builds the release Worker into build/: index.js (the entry, one minified ES module) and
# index_bg.wasm; and copies openapi/openapi.json to public/openapi.json, where the Workers
# static assets serve it (openapi/openapi.json is the one source; the copy is git-ignored),
# and the dashboard's chart library (uPlot, pinned in package.json) to public/vendor/.
#
#   cargo build (wasm32, release, std rebuilt for size)  ->  wasm-bindgen (the CLI pinned by
#   Cargo.lock, installed by scripts/setup.sh)  ->  wasm-opt -Oz, no inlining  ->
#   scripts/entry.mjs (the entry module, esbuild)
#
# `--if-stale` (wrangler.toml's [build] command) does nothing when build/ was made from the
# current sources: `wrangler dev` runs its build command once at start and once more when its
# file watcher is ready, and `npm start` must not build the wasm twice.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cp openapi/openapi.json public/openapi.json
mkdir -p public/vendor
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css public/vendor/

# Everything build/ depends on, as one hash (written to build/.inputs after a build).
inputs_hash() {
  {
    rustc --version
    sha256sum Cargo.toml Cargo.lock wrangler.toml scripts/build.sh scripts/entry.mjs \
      scripts/workers.mjs
    find src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}
hash=$(inputs_hash)
if [ "${1:-}" = "--if-stale" ] && [ -f build/index.js ] && [ -f build/index_bg.wasm ] \
  && [ "$(cat build/.inputs 2>/dev/null)" = "$hash" ]; then
  echo "[build] build/ is up to date"
  exit 0
fi

# The wasm-bindgen proc-macro reads WASM_BINDGEN_USE_JS_SYS (js_sys::futures instead of
# wasm_bindgen_futures), as worker-build 0.8 sets it.
#
# The standard library is rebuilt with the Worker (`-Zbuild-std`, the rust-src component that
# scripts/setup.sh adds), size-optimized like it, with the immediate-abort panic strategy: a
# panic traps at once (scripts/entry.mjs then starts a fresh instance), so no panic message,
# location or formatting code is linked, and std's `optimize_for_size` picks its small sort
# and formatting paths: about 50 KB gzipped less. These are unstable flags of the installed
# stable toolchain (RUSTC_BOOTSTRAP); where they are refused, the ordinary build runs instead.
small_std=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
wasm_build() {
  if ! RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    WASM_BINDGEN_USE_JS_SYS=1 \
    cargo build --release --lib --target wasm32-unknown-unknown "${small_std[@]}" "$@"; then
    echo "[build] the size-optimized std build failed (see above): building with the" \
      "prebuilt std instead (a larger wasm)" >&2
    WASM_BINDGEN_USE_JS_SYS=1 cargo build --release --lib --target wasm32-unknown-unknown "$@"
  fi
}

# One Worker per part of the routes (src/http/parts.rs), each its own Cargo feature: the
# front (build/: the product API's hot routes, every Durable Object, the queue consumer and
# the Cron pass) and the two Workers it hands the other routes to.
PARTS=("front:build" "protocols:build/protocols" "accounts:build/accounts")
rm -rf build && mkdir build
for part in "${PARTS[@]}"; do
  feature=${part%%:*} out=${part#*:}
  echo "[build] $feature -> $out/"
  wasm_build --no-default-features --features "$feature"
  mkdir -p "$out"
  # --target module: `import source` of the wasm (scripts/entry.mjs turns it into the plain
  # import workerd expects). The reset-state function and abort handler let the entry
  # reinitialize the instance after a trap (scripts/entry.mjs).
  wasm-bindgen target/wasm32-unknown-unknown/release/otpedge.wasm --out-dir "$out" \
    --out-name index --target module --no-typescript --experimental-reset-state-function \
    --force-enable-abort-handler

  # Size over speed (BENCHMARKS.md). What counts is the gzipped size: binaryen's inlining
  # shrinks the raw bytes a little but copies bodies into their callers, which gzip no
  # longer finds as repeats (+97 KiB gzipped), and it doubles the time wasm-opt takes; so
  # -Oz runs without its two inlining passes (LLVM has inlined at opt-level z already). No
  # --debuginfo: the name section goes (~45 KB gzipped; a panic's stack trace then shows
  # function indices instead of Rust names), and so does the producers section. An explicit
  # feature set, so that no newer encoding is emitted than workerd accepts.
  node_modules/.bin/wasm-opt "$out/index_bg.wasm" -o "$out/index_bg.wasm" -Oz \
    --skip-pass=inlining --skip-pass=inlining-optimizing \
    --strip-debug --strip-producers \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types \
    --enable-exception-handling

  node scripts/entry.mjs "$out"
done
# The other Workers' wrangler configs, from wrangler.toml (scripts/workers.mjs).
node scripts/workers.mjs
echo "$hash" > build/.inputs
