#!/usr/bin/env bash
# `npm start`: install what is missing, create .dev.vars, apply the D1 migrations locally,
# then serve on http://127.0.0.1:8787 with `wrangler dev` (local D1/KV/DO state in
# .wrangler/state, kept between runs) while scripts/demo.mjs loads the demo data and
# prints the demo API key and the admin token.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh

# Local secrets: each one that .dev.vars lacks is added with a random value.
touch .dev.vars && chmod 600 .dev.vars
for name in ADMIN_TOKEN OTP_HMAC_SECRET SERVER_KEY; do
  if ! grep -q "^$name=" .dev.vars; then
    echo "[start] adding a random $name to .dev.vars"
    printf '%s="%s"\n' "$name" "$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')" >> .dev.vars
  fi
done

# Local development only: a webhook receiver on http://localhost:<port> or
# http://127.0.0.1:<port> may be registered (a deployment keeps wrangler.toml's "false",
# https only). .dev.vars is read by `wrangler dev` alone, never deployed.
if ! grep -q "^WEBHOOK_ALLOW_LOCAL_HTTP=" .dev.vars; then
  echo "[start] allowing http://localhost webhook receivers locally (WEBHOOK_ALLOW_LOCAL_HTTP in .dev.vars)"
  printf 'WEBHOOK_ALLOW_LOCAL_HTTP="true"\n' >> .dev.vars
fi

# Built once here; `wrangler dev` runs wrangler.toml's build command again at start and when
# its watcher is ready, and finds build/ fresh (scripts/build.sh --if-stale).
echo "[start] building the Worker"
bash scripts/build.sh --if-stale
# The other two Workers' configs, with .dev.vars beside each (a build made before .dev.vars
# existed has none there).
node scripts/workers.mjs

echo "[start] applying D1 migrations locally"
# Non-interactive: wrangler would otherwise ask for confirmation in a terminal.
CI=true npx wrangler d1 migrations apply otpedge --local < /dev/null

PORT="${PORT:-8787}"
node scripts/demo.mjs "http://127.0.0.1:$PORT" &
# The Cron Trigger, once a minute (wrangler dev never runs it by itself): /__scheduled.
node scripts/cron-local.mjs "http://127.0.0.1:$PORT" &
# The three Workers in one `wrangler dev` (src/http/parts.rs): the front (wrangler.toml) takes
# every request; the other two get theirs from it through its service bindings.
exec npx wrangler dev -c wrangler.toml -c build/protocols/wrangler.toml \
  -c build/accounts/wrangler.toml --ip 127.0.0.1 --port "$PORT" --test-scheduled
