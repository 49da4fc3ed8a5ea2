#!/usr/bin/env bash
# `npm start`: install what is missing, create .dev.vars, apply the D1 migrations locally,
# then serve on http://127.0.0.1:8787 with `wrangler dev` (local D1/KV/DO state in
# .wrangler/state, kept between runs) while scripts/demo.mjs loads the demo data and
# prints the demo API key and the admin token.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh

if [ ! -f .dev.vars ]; then
  echo "[start] creating .dev.vars with a random ADMIN_TOKEN and server secrets"
  node -e '
    const r = () => require("crypto").randomBytes(32).toString("hex");
    require("fs").writeFileSync(".dev.vars", `ADMIN_TOKEN="${r()}"\nOTP_HMAC_SECRET="${r()}"\n`, { mode: 0o600 });
  '
fi

echo "[start] applying D1 migrations locally"
# Non-interactive: wrangler would otherwise ask for confirmation in a terminal.
CI=true npx wrangler d1 migrations apply otpedge --local < /dev/null

PORT="${PORT:-8787}"
node scripts/demo.mjs "http://127.0.0.1:$PORT" &
exec npx wrangler dev --ip 127.0.0.1 --port "$PORT"
