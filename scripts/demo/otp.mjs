// OTP demo data: a sample OTP template and OTP prices, then the curl lines for
// send → outbox → verify in both dialects (WhatOTP and GetOTP).
const DEMO_PHONE = "+14155550100";
// GetOTP takes digits without "+"; another number, so the 30 s resend rule does not meet the first.
const GETOTP_PHONE = "14155550101";

const OTP_PRICES = [
  { country: "US", channel: "sms", cost: "0.0075" },
  { country: "US", channel: "whatsapp", cost: "0.0050" },
  { country: "US", channel: "voice", cost: "0.0150" },
  { country: "MY", channel: "sms", cost: "0.0100" },
];

export async function seed(demo) {
  // Prices come from the catalog (PUT /admin/catalog, an upsert).
  try {
    await demo.call("PUT", "/admin/catalog", {
      body: { countries: [{ code: "US", name: "United States" }, { code: "MY", name: "Malaysia" }], otp_prices: OTP_PRICES },
    });
  } catch (e) {
    demo.print(`OTP:          could not load OTP prices (${e.message.split("\n")[0]}); sends will answer 2200`);
  }
  if (!demo.state.otpTemplateId) {
    const t = await demo.call("POST", "/admin/templates", {
      body: { name: "Demo OTP", channel: "sms", body: "Your otpedge demo code is {code}. It expires in 5 minutes." },
    });
    demo.state.otpTemplateId = t.template_id;
  }
  const { base, state } = demo;
  const key = state.apiKey;
  const admin = demo.adminToken;
  demo.print(`OTP template: ${state.otpTemplateId}`);
  demo.print("OTP, WhatOTP dialect (send → read the code in the outbox → verify):");
  demo.print(`  curl -X POST ${base}/v1/otp/send -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"to":"${DEMO_PHONE}","channel":"sms","length":6}'`);
  demo.print(`  curl "${base}/admin/outbox?to=%2B${DEMO_PHONE.slice(1)}" -H "Authorization: Bearer ${admin}"`);
  demo.print(`  curl -X POST ${base}/v1/otp/verify -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"session_id":"<session_id>","code":"<code>"}'`);
  demo.print("OTP, GetOTP dialect:");
  demo.print(`  curl -X POST ${base}/api/verify/ -H "X-OTP-Key: ${key}" -H "Content-Type: application/json" -d '{"data":{"channel":"sms","sender":"otpedge","phone":"${GETOTP_PHONE}","template":"${state.otpTemplateId}","code_length":4}}'`);
  demo.print(`  curl "${base}/admin/outbox?to=${GETOTP_PHONE}" -H "Authorization: Bearer ${admin}"`);
  demo.print(`  curl -X POST ${base}/api/verify/check -H "X-OTP-Key: ${key}" -H "Content-Type: application/json" -d '{"data":{"message_id":"<message_id>","code":"<code>"}}'`);
}
