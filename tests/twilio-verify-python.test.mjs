// The Twilio Verify flow through the official Python SDK (`twilio` on PyPI, pinned in
// tests/python/requirements.txt), as a cross-check of the Node SDK's test: same shapes, dates
// the SDK parses into datetimes, TwilioRestException with Twilio's codes. Skipped locally when
// the repo's .venv (scripts/setup.sh) has no `twilio`; in CI (`CI` set) that is a failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./support/app.mjs";
import { spawnOtpApp, seedOtpPrices } from "./otp-support.mjs";

const PYTHON = path.join(ROOT, ".venv/bin/python");
const hasSdk = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import twilio"]).status === 0;
const NO_SDK = "no .venv with twilio (bash scripts/setup.sh)";

test("the official Python SDK: service, start, wrong/right check, replay 20404, cancel, 401, a rate limit and its bucket (20429), delete", { skip: !hasSdk && !process.env.CI && NO_SDK }, async () => {
  assert.ok(hasSdk, `CI runs every test: ${NO_SDK}`);
  const app = await spawnOtpApp({ vars: { OTP_RESEND_INTERVAL_SECS: "0" } });
  try {
    await seedOtpPrices(app);
    const a = await app.createAccount("python-sdk", "5.00");
    const p = await app.request("GET", "/api/user/profile", { key: a.key });
    const config = { url: String(app.url), account_sid: p.body.data.twilio_account_sid, api_key: a.key, admin_token: app.adminToken };
    const script = path.join(ROOT, "tests/python/twilio_verify_flow.py");
    // Async: the Worker runs in this process, so a synchronous child would block it.
    const out = await new Promise((resolve, reject) => {
      const child = spawn(PYTHON, [script, JSON.stringify(config)]);
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.stderr.on("data", (d) => (text += d));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}\n${text}`))));
    });
    assert.equal(out.trim().split("\n").at(-1), "ok");
  } finally {
    await app.close();
  }
});
