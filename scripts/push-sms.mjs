#!/usr/bin/env node
// Pushes a signed test SMS to the local server as the demo supplier would:
//   node scripts/push-sms.mjs <number> "Your code is 123456" [base-url]
// base-url defaults to http://127.0.0.1:$PORT when PORT is set (as for `PORT=… npm start`),
// else http://127.0.0.1:8787. Reads the supplier secret that `npm start` stored in
// .wrangler/state/otpedge-demo.json and signs as every supplier push is signed:
// X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>.
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [number, text, base = `http://127.0.0.1:${process.env.PORT || 8787}`] = process.argv.slice(2);
if (!number || !text) {
  console.error('usage: node scripts/push-sms.mjs <number> "<text>" [base-url]');
  process.exit(2);
}
let state;
try {
  state = JSON.parse(readFileSync(path.join(ROOT, ".wrangler/state/otpedge-demo.json"), "utf8"));
} catch {
  console.error("no demo state: run `npm start` first");
  process.exit(1);
}
if (!state.supplierSecret) {
  console.error("the demo state has no supplier secret: run `npm start` first");
  process.exit(1);
}
const body = JSON.stringify({ sms_id: `cli-${randomBytes(6).toString("hex")}`, number, from: "demo", text, received_at: new Date().toISOString() });
const t = Math.floor(Date.now() / 1000);
const mac = createHmac("sha256", state.supplierSecret).update(`${t}.${body}`).digest("hex");
const res = await fetch(`${base}/v1/inbound/sms`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature": `t=${t},v1=${mac}` }, body });
console.log(res.status, await res.text());
process.exitCode = res.ok ? 0 : 1;
