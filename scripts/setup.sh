#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already at the right
# version: the wasm32 target, the wasm-bindgen CLI matching Cargo.lock,
# and the npm packages (wrangler, miniflare, binaryen's wasm-opt, esbuild, playwright-core),
# and Debian's chromium for the dashboard's browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)

say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# `npm test` checks formatting and lints (cargo fmt --check, cargo clippy -D warnings).
# ... and scripts/build.sh rebuilds the standard library for size (rust-src).
for component in rustfmt clippy rust-src; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    say "adding the $component component"
    rustup component add "$component"
  fi
done

# scripts/build.sh runs wasm-bindgen itself; its CLI must be the version Cargo.lock pins.
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
fi

# The Python packages the tests use (schemathesis and openapi-spec-validator for the contract,
# the sms-activate and Twilio client libraries), pinned in tests/python/requirements.txt, in one
# virtualenv at .venv/ in the repo (git-ignored). Reinstalled whenever a pin is not installed.
python_tools_ok() {
  [ -x .venv/bin/python ] || return 1
  local installed
  installed=$(.venv/bin/python -m pip freeze 2>/dev/null | tr 'A-Z_' 'a-z-')
  while read -r req; do
    req=$(printf '%s' "${req%%#*}" | tr -d ' ' | tr 'A-Z_' 'a-z-')
    [ -z "$req" ] || grep -qxF "$req" <<<"$installed" || return 1
  done < tests/python/requirements.txt
}
if [ -f tests/python/requirements.txt ] && ! python_tools_ok; then
  say "installing the Python test packages into .venv/ (tests/python/requirements.txt)"
  if [ ! -x .venv/bin/python ] && ! python3 -m venv .venv; then
    # No ensurepip (Debian without python3-venv): a bare venv, filled by the system pip.
    rm -rf .venv && python3 -m venv --without-pip .venv
  fi
  if .venv/bin/python -m pip --version >/dev/null 2>&1; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
  else
    python3 -m pip --python .venv/bin/python install --quiet --disable-pip-version-check -r tests/python/requirements.txt
  fi
fi

# The dashboard test drives Debian's Chromium through playwright-core (no browser download).
if [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium (for tests/dashboard.test.mjs)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
