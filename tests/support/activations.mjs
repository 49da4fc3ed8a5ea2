// Shared fixtures for the activation tests: a catalog, a supplier, a number pool, and a
// supplier-side signer written from the signing rule ("X-Signature: t=<unix>,v1=<hex
// HMAC-SHA256(secret, "<t>.<raw body>")>") with node:crypto.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";

export const CATALOG = {
  countries: [
    { code: "US", name: "United States" },
    { code: "pk", name: "Pakistan", aliases: ["PKR"] },
    { code: "IN", name: "India" },
  ],
  services: [
    { code: "telegram", name: "Telegram" },
    { code: "WhatsApp", name: "WhatsApp" },
    { code: "facebook", name: "Facebook" },
  ],
  operators: [
    { id: "1", country: "US", name: "verizon" },
    { id: "2", country: "US", name: "tmobile" },
    { id: "1", country: "PK", name: "jazz" },
    { id: "1", country: "IN", name: "airtel" },
    { id: "2", country: "IN", name: "vi" },
  ],
  prices: [
    { country: "US", service: "telegram", operator: "1", cost: "0.05" },
    { country: "US", service: "telegram", operator: "2", cost: "0.07" },
    { country: "US", service: "whatsapp", operator: "1", cost: "0.10" },
    { country: "US", service: "facebook", operator: "1", cost: 0.02 },
    { country: "PK", service: "telegram", operator: "1", cost: "0.05" },
    { country: "IN", service: "telegram", operator: "1", cost: "0.03" },
    { country: "IN", service: "telegram", operator: "2", cost: "0.03" },
  ],
  rent_prices: [
    { country: "US", service: "telegram", operator: "1", hours: 4, cost: "0.50" },
    { country: "US", service: "telegram", operator: "1", hours: 24, cost: "1.20" },
  ],
  otp_prices: [{ country: "US", channel: "sms", cost: "0.0075" }],
};

export const usNumber = (i) => `+1415555${String(1000 + i).padStart(4, "0")}`;
export const pkNumber = (i) => `+92300${String(1000000 + i).padStart(7, "0")}`;

/** Catalog, supplier and numbers: `us` US numbers on operator 1, `pk` PK numbers, 3 IN (airtel). */
export async function seed(app, { us = 40, pk = 0, tmobile = 2 } = {}) {
  const c = await app.request("PUT", "/admin/catalog", { admin: true, body: CATALOG });
  if (c.status !== 200) throw new Error(`catalog: ${c.status} ${c.text}`);
  const s = await app.request("POST", "/admin/suppliers", { admin: true, body: { name: "SIM bank" } });
  if (s.status !== 201) throw new Error(`supplier: ${s.status} ${s.text}`);
  const numbers = [
    ...Array.from({ length: us }, (_, i) => ({ number: usNumber(i), country: "US", operator: "1" })),
    ...Array.from({ length: tmobile }, (_, i) => ({ number: usNumber(500 + i), country: "us", operator: "TMobile" })),
    ...Array.from({ length: pk }, (_, i) => ({ number: pkNumber(i), country: "pkr", operator: "jazz" })),
    ...Array.from({ length: 3 }, (_, i) => ({ number: `+9198765${String(43210 + i)}`, country: "IN", operator: "airtel" })),
  ];
  const n = await app.request("POST", "/admin/numbers", { admin: true, body: { numbers, supplier_id: s.body.supplier_id } });
  if (n.status !== 200) throw new Error(`numbers: ${n.status} ${n.text}`);
  return { supplierId: s.body.supplier_id, secret: s.body.secret, imported: n.body.imported };
}

export function signature(secret, rawBody, t = Math.floor(Date.now() / 1000)) {
  const mac = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest("hex");
  return `t=${t},v1=${mac}`;
}

/** Pushes a signed inbound SMS as a supplier would. */
export async function pushSms(app, secret, { number, text, smsId = randomBytes(8).toString("hex"), from = "Telegram", t, sig } = {}) {
  const raw = JSON.stringify({ sms_id: smsId, number, from, text, received_at: new Date().toISOString() });
  return app.request("POST", "/v1/inbound/sms", { raw, headers: { "Content-Type": "application/json", "X-Signature": sig ?? signature(secret, raw, t) } });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The first truthy value of `predicate`, polled every 50 ms for up to `ms`. */
export async function waitFor(predicate, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const v = await predicate();
    if (v) return v;
  }
  throw new Error("timed out waiting");
}

/** Ledger rows of one object (activation or rent). */
export async function ledgerOf(app, objectId) {
  const r = await app.db.prepare("SELECT kind, amount FROM ledger WHERE object_id = ? ORDER BY seq").bind(objectId).all();
  return r.results;
}

/** The account's money, asserted to balance: never negative, and equal to its ledger's sum. */
export async function booksBalance(app, accountId) {
  const m = await app.money(accountId);
  assert.ok(m.balance >= 0);
  assert.equal(m.balance, m.ledgerSum, "balance equals the ledger sum");
  return m;
}
