// Demo data for activations (run by scripts/demo.mjs at `npm start`): a catalog of
// US/PK/IN × telegram/whatsapp/facebook, OTP prices, a supplier and a pool of numbers.
// Idempotent: the catalog is an upsert, numbers already imported are skipped, and the
// supplier (with its secret) is remembered in demo.state.
const COUNTRIES = [
  { code: "US", name: "United States", smsActivateId: 187, fivesimName: "usa", operator: { id: "1", name: "verizon" }, prefix: "+1415555", digits: 4, base: 100 },
  { code: "PK", name: "Pakistan", aliases: ["pkr"], smsActivateId: 66, fivesimName: "pakistan", operator: { id: "1", name: "jazz" }, prefix: "+92300555", digits: 4, base: 100 },
  { code: "IN", name: "India", smsActivateId: 22, fivesimName: "india", operator: { id: "1", name: "airtel" }, prefix: "+9198765", digits: 5, base: 43100 },
];
const SERVICES = [
  { code: "telegram", name: "Telegram", smsActivateCode: "tg", cost: "0.05" },
  { code: "whatsapp", name: "WhatsApp", smsActivateCode: "wa", cost: "0.10" },
  { code: "facebook", name: "Facebook", smsActivateCode: "fb", cost: "0.03" },
];
const NUMBERS_PER_COUNTRY = 10;

export async function seed(demo) {
  await demo.call("PUT", "/admin/catalog", {
    body: {
      // sms_activate_id / sms_activate_code: sms-activate's public numbers and codes, for
      // clients of its protocol (/stubs/handler_api.php); fivesim_name / fivesim_product:
      // 5sim's names, for clients of its protocol (/v1/user/*, /v1/guest/*).
      countries: COUNTRIES.map((c) => ({ code: c.code, name: c.name, aliases: c.aliases ?? [], sms_activate_id: c.smsActivateId, fivesim_name: c.fivesimName })),
      services: SERVICES.map(({ code, name, smsActivateCode }) => ({ code, name, sms_activate_code: smsActivateCode, fivesim_product: code })),
      operators: COUNTRIES.map((c) => ({ id: c.operator.id, country: c.code, name: c.operator.name })),
      prices: COUNTRIES.flatMap((c) => SERVICES.map((s) => ({ country: c.code, service: s.code, operator: c.operator.id, cost: s.cost }))),
      rent_prices: COUNTRIES.flatMap((c) =>
        SERVICES.flatMap((s) => [
          { country: c.code, service: s.code, operator: c.operator.id, hours: 4, cost: "0.50" },
          { country: c.code, service: s.code, operator: c.operator.id, hours: 24, cost: "1.20" },
        ]),
      ),
      otp_prices: COUNTRIES.flatMap((c) => ["sms", "whatsapp", "voice"].map((channel) => ({ country: c.code, channel, cost: channel === "voice" ? "0.0150" : "0.0075" }))),
    },
  });

  if (!demo.state.supplierId || !demo.state.supplierSecret) {
    const s = await demo.call("POST", "/admin/suppliers", { body: { name: "Demo SIM bank" } });
    Object.assign(demo.state, { supplierId: s.supplier_id, supplierSecret: s.secret });
  }
  const numbers = COUNTRIES.flatMap((c) =>
    Array.from({ length: NUMBERS_PER_COUNTRY }, (_, i) => ({ number: `${c.prefix}${String(c.base + i).padStart(c.digits, "0")}`, country: c.code, operator: c.operator.id })),
  );
  try {
    await demo.call("POST", "/admin/numbers", { body: { numbers, supplier_id: demo.state.supplierId } });
  } catch (e) {
    // The local state was wiped but demo.state survived: make a new supplier and retry.
    if (!String(e.message).includes("supplier not found")) throw e;
    const s = await demo.call("POST", "/admin/suppliers", { body: { name: "Demo SIM bank" } });
    Object.assign(demo.state, { supplierId: s.supplier_id, supplierSecret: s.secret });
    await demo.call("POST", "/admin/numbers", { body: { numbers, supplier_id: demo.state.supplierId } });
  }
  demo.state.demoNumbers = numbers.length;

  const codes = (xs) => xs.map((x) => x.code).join("/");
  demo.print(`Numbers:      ${codes(COUNTRIES)} × ${codes(SERVICES)}, ${numbers.length} numbers`);
  demo.print(`Supplier:     ${demo.state.supplierId}  secret ${demo.state.supplierSecret}`);
  const json = (field) => `node -pe 'JSON.parse(require("fs").readFileSync(0)).${field}'`;
  demo.print("Buy a number, then push it a signed SMS (paste the lines in one shell):");
  demo.print(`  BUY=$(curl -s -X POST ${demo.base}/v1/number -H "Authorization: Bearer ${demo.state.apiKey}" -H "Content-Type: application/json" -d '{"service":"telegram","country":"pkr"}'); echo "$BUY"`);
  demo.print(`  N=$(echo "$BUY" | ${json("number")}); A=$(echo "$BUY" | ${json("activation_id")})`);
  demo.print(`  node scripts/push-sms.mjs "$N" "Your code is 123456" ${demo.base}`);
  demo.print(`  curl -H "Authorization: Bearer ${demo.state.apiKey}" ${demo.base}/v1/activation/$A/status`);
  demo.print(
    `  (raw curl, what a supplier does)  T=$(date +%s); B='{"sms_id":"demo-'$T'","number":"'$N'","from":"Telegram","text":"Your code is 123456"}'; ` +
      `curl -X POST ${demo.base}/v1/inbound/sms -H "Content-Type: application/json" ` +
      `-H "X-Signature: t=$T,v1=$(printf '%s' "$T.$B" | openssl dgst -sha256 -hmac '${demo.state.supplierSecret}' | sed 's/^.* //')" -d "$B"`,
  );
  demo.print(`5sim:         curl -H "Authorization: Bearer ${demo.state.apiKey}" ${demo.base}/v1/user/buy/activation/pakistan/any/telegram  (client base URL ${demo.base}/v1)`);
  demo.print(`sms-activate: curl '${demo.base}/stubs/handler_api.php?api_key=${demo.state.apiKey}&action=getNumber&service=tg&country=66'  (client base URL ${demo.base}/stubs/handler_api.php)`);
}
