// Twilio Verify v2 on otpedge, driven by the official `twilio` npm SDK (pinned in
// package.json) unchanged but for its host (tests/support/twilio.mjs).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, spawnOtpApp, latestCode, freshPhone, until } from "./otp-support.mjs";
import { startReceiver } from "./support/receiver.mjs";
import { SID, TWILIO_DATE, RestException, sdk, rejectsWith, twilioAccount } from "./support/twilio.mjs";

describe("Twilio Verify v2 through the official SDK", () => {
  let app;
  before(async () => {
    // Resends back to back (the 30 s interval is the engine's rule, tested elsewhere); the
    // 5-sends-per-10-minutes window stays as shipped.
    app = await spawnPricedOtpApp({ vars: { OTP_RESEND_INTERVAL_SECS: "0" } });
  });
  after(() => app.close());

  const account = (name, balance) => twilioAccount(app, name, balance);

  const ledger = (accountId) => app.db.prepare("SELECT kind, amount, object_id, description FROM ledger WHERE account_id = ? AND kind <> 'topup' ORDER BY seq").bind(accountId).all().then((r) => r.results);
  const events = (accountId) => app.db.prepare("SELECT event_type, object_id, data FROM webhook_events WHERE account_id = ? ORDER BY seq").bind(accountId).all().then((r) => r.results.map((e) => ({ ...e, data: JSON.parse(e.data) })));

  test("services: create, fetch, list (paged), update-free delete; Twilio's shapes, dates and links", async () => {
    const a = await account("services");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "My App", codeLength: 8 });
    assert.match(svc.sid, SID("VA"));
    assert.equal(svc.accountSid, a.ac);
    assert.equal(svc.friendlyName, "My App");
    assert.equal(svc.codeLength, 8);
    assert.ok(svc.dateCreated instanceof Date && !isNaN(svc.dateCreated), "the SDK parsed date_created");
    const raw = a.client.httpClient.lastResponse.body;
    const body = typeof raw === "string" ? JSON.parse(raw) : raw;
    assert.match(body.date_created, TWILIO_DATE);
    assert.match(body.date_updated, TWILIO_DATE);
    assert.equal(a.client.httpClient.lastResponse.statusCode, 201);
    assert.ok(svc.url.endsWith(`/v2/Services/${svc.sid}`), svc.url);
    assert.ok(svc.links.verifications.endsWith(`/v2/Services/${svc.sid}/Verifications`));
    assert.ok(svc.links.verification_checks.endsWith(`/v2/Services/${svc.sid}/VerificationCheck`));
    // What the SDK sent: PascalCase form fields, HTTP Basic with the AC sid, to Twilio's host.
    const sent = a.client.httpClient.seen.at(-1);
    assert.equal(sent.host, "verify.twilio.com");
    assert.deepEqual(sent.data, { FriendlyName: "My App", CodeLength: 8 });
    assert.equal(sent.headers["Content-Type"], "application/x-www-form-urlencoded");

    const fetched = await a.client.verify.v2.services(svc.sid).fetch();
    assert.deepEqual(fetched.toJSON(), svc.toJSON());

    const more = [];
    for (const n of [1, 2]) more.push(await a.client.verify.v2.services.create({ friendlyName: `Other ${n}` }));
    assert.equal(more[0].codeLength, 6, "default code length");
    const all = await a.client.verify.v2.services.list({ pageSize: 2 });
    assert.deepEqual(all.map((s) => s.sid).sort(), [svc.sid, ...more.map((s) => s.sid)].sort(), "pages followed through meta.next_page_url");
    const page = await a.client.verify.v2.services.page({ pageSize: 2 });
    assert.equal(page.instances.length, 2);
    assert.ok(page.nextPageUrl);

    // Another account sees none of them.
    const b = await account("services-other");
    assert.deepEqual(await b.client.verify.v2.services.list(), []);
    await rejectsWith(b.client.verify.v2.services(svc.sid).fetch(), 404, 20404);

    assert.equal(await a.client.verify.v2.services(more[1].sid).remove(), true);
    await rejectsWith(a.client.verify.v2.services(more[1].sid).fetch(), 404, 20404);
    await rejectsWith(a.client.verify.v2.services(more[1].sid).remove(), 404, 20404);
    assert.equal((await a.client.verify.v2.services.list()).length, 2);

    await rejectsWith(a.client.verify.v2.services.create({ friendlyName: "x", codeLength: 11 }), 400, 60200);
    await rejectsWith(a.client.verify.v2.services.create({ friendlyName: "x", codeLength: 3 }), 400, 60200);
    await rejectsWith(a.client.verify.v2.services("VA" + "0".repeat(32)).fetch(), 404, 20404);
    await rejectsWith(a.client.verify.v2.services("not-a-sid").fetch(), 404, 20404);
  });

  test("start → code from the outbox → wrong check → right check → replay refused (20404); charged and reported as on /v1/otp", async () => {
    const a = await account("flow");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Flow" });
    const phone = freshPhone();
    const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    assert.match(v.sid, SID("VE"));
    assert.equal(v.serviceSid, svc.sid);
    assert.equal(v.accountSid, a.ac);
    assert.equal(v.to, phone);
    assert.equal(v.channel, "sms");
    assert.equal(v.status, "pending");
    assert.equal(v.valid, false);
    assert.equal(v.sendCodeAttempts.length, 1);
    assert.match(v.sendCodeAttempts[0].attempt_sid, SID("VL"));
    assert.equal(v.sendCodeAttempts[0].channel, "sms");
    assert.ok(v.url.endsWith(`/v2/Services/${svc.sid}/Verifications/${v.sid}`));

    const { code, message } = await latestCode(app, phone);
    assert.equal(code.length, 6);
    assert.equal(message.object_id, v.sendCodeAttempts[0].attempt_sid, "the outbox row belongs to the send");
    const wrong = code === "000000" ? "111111" : "000000";

    const checks = a.client.verify.v2.services(svc.sid).verificationChecks;
    const miss = await checks.create({ to: phone, code: wrong });
    assert.equal(miss.status, "pending");
    assert.equal(miss.valid, false);
    assert.equal(miss.sid, v.sid);
    const hit = await checks.create({ to: phone, code });
    assert.equal(hit.status, "approved");
    assert.equal(hit.valid, true);
    assert.equal(hit.sid, v.sid);
    assert.ok(hit.dateUpdated instanceof Date);
    // The same right code again: by To, and by VerificationSid.
    await rejectsWith(checks.create({ to: phone, code }), 404, 20404);
    await rejectsWith(checks.create({ verificationSid: v.sid, code }), 404, 20404);
    const after = await a.client.verify.v2.services(svc.sid).verifications(v.sid).fetch();
    assert.equal(after.status, "approved");
    assert.equal(after.valid, true);

    // The same flow on /v1/otp, same account: the same charge and the same event.
    const phone2 = freshPhone();
    const sent = await app.request("POST", "/v1/otp/send", { key: a.key, body: { to: phone2, channel: "sms" } });
    assert.equal(sent.status, 200, sent.text);
    const ok = await app.request("POST", "/v1/otp/verify", { key: a.key, body: { session_id: sent.body.session_id, code: (await latestCode(app, phone2)).code } });
    assert.equal(ok.body.verified, true, ok.text);

    const rows = await ledger(a.accountId);
    assert.deepEqual(rows, [
      { kind: "otp_send", amount: -75, object_id: v.sendCodeAttempts[0].attempt_sid, description: "OTP send" },
      { kind: "otp_send", amount: -75, object_id: sent.body.session_id, description: "OTP send" },
    ]);
    const evs = await events(a.accountId);
    assert.deepEqual(evs.map((e) => [e.event_type, e.object_id]), [["otp.verified", v.sendCodeAttempts[0].attempt_sid], ["otp.verified", sent.body.session_id]]);
    assert.deepEqual(Object.keys(evs[0].data).sort(), Object.keys(evs[1].data).sort());
    assert.equal(evs[0].data.phone, phone);
    assert.equal(evs[0].data.channel, "sms");
    assert.equal(evs[0].data.status, "verified");
    const money = await app.money(a.accountId);
    assert.equal(money.balance, 50000 - 150);
    assert.equal(money.balance, money.ledgerSum);
  });

  test("an otp.verified webhook reaches the endpoint for a Twilio verification, signed like every event", async () => {
    const a = await account("hooks");
    const receiver = await startReceiver();
    try {
      const set = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: receiver.url } });
      assert.equal(set.status, 200, set.text);
      const svc = await a.client.verify.v2.services.create({ friendlyName: "Hooks" });
      const phone = freshPhone();
      const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
      const approved = await a.client.verify.v2.services(svc.sid).verificationChecks.create({ verificationSid: v.sid, code: (await latestCode(app, phone)).code });
      assert.equal(approved.status, "approved");
      const event = await until("the otp event", () => receiver.received.map((r) => r.body).find((e) => e.data?.session_id === v.sendCodeAttempts[0].attempt_sid));
      assert.equal(event.type, "otp.verified");
      assert.equal(event.data.phone, phone);
    } finally {
      await receiver.close();
    }
  });

  test("5 wrong checks → max_attempts_reached, then 60202 (429) even with the right code; one otp.failed event", async () => {
    const a = await account("attempts");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Attempts" });
    const phone = freshPhone();
    const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    const { code } = await latestCode(app, phone);
    const wrong = code === "999999" ? "888888" : "999999";
    const checks = a.client.verify.v2.services(svc.sid).verificationChecks;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await checks.create({ verificationSid: v.sid, code: wrong })).status);
    assert.deepEqual(statuses, ["pending", "pending", "pending", "pending", "max_attempts_reached"]);
    await rejectsWith(checks.create({ verificationSid: v.sid, code }), 429, 60202);
    await rejectsWith(checks.create({ to: phone, code }), 429, 60202);
    const fetched = await a.client.verify.v2.services(svc.sid).verifications(v.sid).fetch();
    assert.equal(fetched.status, "max_attempts_reached");
    assert.deepEqual((await events(a.accountId)).map((e) => e.event_type), ["otp.failed"]);
    // A new start for the same number is a new verification (the old one is not pending).
    const next = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    assert.notEqual(next.sid, v.sid);
    assert.equal(next.status, "pending");
  });

  test("a second start while pending is a resend of the same verification; the 6th send in 10 minutes → 60203 (429); cancel → canceled, then 20404", async () => {
    const a = await account("resend");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Resend" });
    const verifications = a.client.verify.v2.services(svc.sid).verifications;
    const phone = freshPhone();
    const first = await verifications.create({ to: phone, channel: "sms" });
    const codes = [(await latestCode(app, phone)).code];
    let last = first;
    for (let i = 2; i <= 5; i++) {
      last = await verifications.create({ to: phone, channel: i === 5 ? "call" : "sms" });
      assert.equal(last.sid, first.sid, "the same verification");
      assert.equal(last.sendCodeAttempts.length, i);
      codes.push((await latestCode(app, phone)).code);
    }
    assert.equal(last.channel, "call", "the latest send's channel");
    assert.deepEqual(last.sendCodeAttempts.map((s) => s.channel), ["sms", "sms", "sms", "sms", "call"]);
    assert.equal(new Set(last.sendCodeAttempts.map((s) => s.attempt_sid)).size, 5);
    await rejectsWith(verifications.create({ to: phone, channel: "sms" }), 429, 60203);
    // Each send was charged once, as five /v1/otp sends would be (sms 0.0075, voice 0.0150).
    const rows = await ledger(a.accountId);
    assert.deepEqual(rows.map((r) => [r.kind, r.amount, r.object_id]), last.sendCodeAttempts.map((s, i) => ["otp_send", i === 4 ? -150 : -75, s.attempt_sid]));

    const canceled = await verifications(first.sid).update({ status: "canceled" });
    assert.equal(canceled.status, "canceled");
    assert.equal(canceled.sid, first.sid);
    assert.equal((await verifications(first.sid).fetch()).status, "canceled");
    const checks = a.client.verify.v2.services(svc.sid).verificationChecks;
    await rejectsWith(checks.create({ verificationSid: first.sid, code: codes.at(-1) }), 404, 20404);
    await rejectsWith(checks.create({ to: phone, code: codes.at(-1) }), 404, 20404);
    await rejectsWith(verifications(first.sid).update({ status: "canceled" }), 404, 20404);
    // The window is per number and account, shared with /v1/otp: still full.
    const v1 = await app.request("POST", "/v1/otp/send", { key: a.key, body: { to: phone, channel: "sms" } });
    assert.equal(v1.status, 429, v1.text);
  });

  test("approve by update; unknown and foreign verifications are 20404", async () => {
    const a = await account("approve");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Approve" });
    const phone = freshPhone();
    const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "whatsapp" });
    assert.equal(v.channel, "whatsapp");
    const approved = await a.client.verify.v2.services(svc.sid).verifications(v.sid).update({ status: "approved" });
    assert.equal(approved.status, "approved");
    await rejectsWith(a.client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code: (await latestCode(app, phone)).code }), 404, 20404);
    await rejectsWith(a.client.verify.v2.services(svc.sid).verifications(v.sid).update({ status: "canceled" }), 404, 20404);
    await rejectsWith(a.client.verify.v2.services(svc.sid).verifications("VE" + "a".repeat(32)).fetch(), 404, 20404);
    const other = await a.client.verify.v2.services.create({ friendlyName: "Other" });
    await rejectsWith(a.client.verify.v2.services(other.sid).verifications(v.sid).fetch(), 404, 20404);
    const b = await account("approve-other");
    await rejectsWith(b.client.verify.v2.services(svc.sid).verifications(v.sid).fetch(), 404, 20404);
    await rejectsWith(a.client.verify.v2.services(svc.sid).verificationChecks.create({ to: freshPhone(), code: "123456" }), 404, 20404);
  });

  test("service code length and CustomCode reach the code sent", async () => {
    const a = await account("lengths");
    for (const len of [4, 10]) {
      const svc = await a.client.verify.v2.services.create({ friendlyName: `Len ${len}`, codeLength: len });
      const phone = freshPhone();
      await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
      const { code } = await latestCode(app, phone);
      assert.equal(code.length, len);
      assert.equal((await a.client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code })).status, "approved");
    }
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Custom" });
    const phone = freshPhone();
    await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms", customCode: "80412573" });
    assert.equal((await latestCode(app, phone)).code, "80412573");
    assert.equal((await a.client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code: "80412573" })).status, "approved");
  });

  test("bad parameters answer Twilio's codes", async () => {
    const a = await account("params");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Params" });
    const verifications = a.client.verify.v2.services(svc.sid).verifications;
    await rejectsWith(verifications.create({ to: "not-a-number", channel: "sms" }), 400, 60200);
    await rejectsWith(verifications.create({ to: freshPhone(), channel: "email" }), 400, 60200);
    await rejectsWith(verifications.create({ to: freshPhone(), channel: "pigeon" }), 400, 60200);
    await rejectsWith(verifications.create({ to: freshPhone(), channel: "sms", customCode: "12ab" }), 400, 60200);
    await rejectsWith(a.client.verify.v2.services("VA" + "1".repeat(32)).verifications.create({ to: freshPhone(), channel: "sms" }), 404, 20404);
    const checks = a.client.verify.v2.services(svc.sid).verificationChecks;
    await rejectsWith(checks.create({ to: freshPhone() }), 400, 20001);
    await rejectsWith(checks.create({ code: "123456" }), 400, 20001);
    // Raw requests: missing To, and the envelope itself.
    const auth = "Basic " + Buffer.from(`${a.ac}:${a.key}`).toString("base64");
    const r = await fetch(new URL(`/v2/Services/${svc.sid}/Verifications`, app.url), { method: "POST", headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" }, body: "Channel=sms" });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.code, 20001);
    assert.equal(body.status, 400);
    assert.equal(body.more_info, "https://www.twilio.com/docs/errors/20001");
    assert.match(body.message, /To/);
    // A wallet that cannot pay: otpedge's own code in Twilio's envelope, nothing sent.
    const poor = await account("params-poor", "0.0001");
    const poorSvc = await poor.client.verify.v2.services.create({ friendlyName: "Poor" });
    const phone = freshPhone();
    await rejectsWith(poor.client.verify.v2.services(poorSvc.sid).verifications.create({ to: phone, channel: "sms" }), 402, 2007);
    const outbox = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
    assert.deepEqual(outbox.body.messages, []);
  });

  test("auth: AC or SK sid + an API key; anything else is Twilio's 401 (20003)", async () => {
    const a = await account("auth");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Auth" });
    // The key's own SK sid as username (the SDK wants the account sid as an option then).
    const bySk = sdk(app, a.sk2, a.key2, { accountSid: a.ac });
    assert.equal((await bySk.verify.v2.services(svc.sid).fetch()).sid, svc.sid);
    // The AC sid works with any live key of the account.
    assert.equal((await sdk(app, a.ac, a.key2).verify.v2.services(svc.sid).fetch()).sid, svc.sid);
    const b = await account("auth-other");
    for (const [user, pass, opts] of [
      [a.ac, "x".repeat(32)],
      [a.ac, b.key],
      [b.ac, a.key],
      [a.sk2, a.key, { accountSid: a.ac }],
      ["AC" + "0".repeat(32), a.key],
    ]) {
      await rejectsWith(sdk(app, user, pass, opts).verify.v2.services(svc.sid).fetch(), 401, 20003);
    }
    const raw = await fetch(new URL(`/v2/Services`, app.url), { headers: { Authorization: `Bearer ${a.key}` } });
    assert.equal(raw.status, 401);
    const body = await raw.json();
    assert.deepEqual([body.code, body.status, body.more_info], [20003, 401, "https://www.twilio.com/docs/errors/20003"]);
    assert.match(raw.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    // A revoked key stops working at once.
    const key2 = await app.db.prepare("SELECT id FROM api_keys WHERE twilio_sid = ?").bind(a.sk2).first();
    const revoked = await app.request("DELETE", `/admin/keys/${key2.id}`, { admin: true });
    assert.equal(revoked.status, 200, revoked.text);
    await rejectsWith(sdk(app, a.ac, a.key2).verify.v2.services(svc.sid).fetch(), 401, 20003);
  });

  test("a cancel goes through the session's object: no door approves the code after it, and a check racing it resolves one way", async () => {
    const a = await account("cancel-races", "10.00");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Cancel races" });
    const verifications = a.client.verify.v2.services(svc.sid).verifications;
    const checks = a.client.verify.v2.services(svc.sid).verificationChecks;
    // After a cancel, the session's object itself refuses the code, whichever door asks.
    const phone = freshPhone();
    const v = await verifications.create({ to: phone, channel: "sms" });
    const { code } = await latestCode(app, phone);
    assert.equal((await verifications(v.sid).update({ status: "canceled" })).status, "canceled");
    const session = v.sendCodeAttempts.at(-1).attempt_sid;
    const other = await app.request("POST", "/v1/otp/verify", { key: a.key, body: { session_id: session, code } });
    assert.notEqual(other.body?.verified, true, other.text);
    assert.equal((await verifications(v.sid).fetch()).status, "canceled");

    // A right check and a cancel at once: exactly one of them wins, and the state says which.
    for (let i = 0; i < 6; i++) {
      const to = freshPhone();
      const race = await verifications.create({ to, channel: "sms" });
      const right = (await latestCode(app, to)).code;
      const [checked, canceled] = await Promise.allSettled([
        checks.create({ verificationSid: race.sid, code: right }),
        verifications(race.sid).update({ status: "canceled" }),
      ]);
      const approved = checked.status === "fulfilled" && checked.value.status === "approved";
      const cancelled = canceled.status === "fulfilled" && canceled.value.status === "canceled";
      assert.ok(approved !== cancelled, `one winner: check ${checked.value?.status ?? checked.reason?.code}, cancel ${canceled.value?.status ?? canceled.reason?.code}`);
      assert.equal((await verifications(race.sid).fetch()).status, approved ? "approved" : "canceled");
    }
  });

  test("20 parallel right checks → exactly one approved; 50 parallel wrong → at most 5 counted", async () => {
    const a = await account("races");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Races" });
    const checks = a.client.verify.v2.services(svc.sid).verificationChecks;

    const phone = freshPhone();
    const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    const { code } = await latestCode(app, phone);
    const right = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => checks.create(i % 2 ? { verificationSid: v.sid, code } : { to: phone, code })));
    const approved = right.filter((r) => r.status === "fulfilled" && r.value.status === "approved");
    assert.equal(approved.length, 1, JSON.stringify(right.map((r) => r.value?.status ?? `${r.reason?.status}/${r.reason?.code}`)));
    for (const r of right.filter((r) => r.status === "rejected")) {
      assert.ok(r.reason instanceof RestException, String(r.reason));
      assert.equal(r.reason.code, 20404);
    }

    const phone2 = freshPhone();
    const v2 = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone2, channel: "sms" });
    const code2 = (await latestCode(app, phone2)).code;
    const wrong = code2 === "123456" ? "654321" : "123456";
    const wrongs = await Promise.allSettled(Array.from({ length: 50 }, () => checks.create({ verificationSid: v2.sid, code: wrong })));
    const counted = wrongs.filter((r) => r.status === "fulfilled");
    assert.ok(counted.length <= 5, `${counted.length} wrong checks counted`);
    for (const r of counted) assert.equal(r.value.valid, false);
    for (const r of wrongs.filter((r) => r.status === "rejected")) assert.equal(r.reason.code, 60202, String(r.reason));
    const row = await app.db.prepare("SELECT attempts, verified_at FROM otp_sessions WHERE id = ?").bind(v2.sendCodeAttempts[0].attempt_sid).first();
    assert.equal(row.attempts, 5);
    assert.equal(row.verified_at, null);
    await rejectsWith(checks.create({ verificationSid: v2.sid, code: code2 }), 429, 60202);
  });

  test("fraud guard: a geo refusal is 60605 (403), RiskCheck=disable skips the guard, nothing charged for the refused", async () => {
    const a = await account("fraud-geo");
    const r = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { allowed_countries: ["GB"] } });
    assert.equal(r.status, 200, r.text);
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Geo" });
    const refused = freshPhone();
    await rejectsWith(a.client.verify.v2.services(svc.sid).verifications.create({ to: refused, channel: "sms" }), 403, 60605);
    const box = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(refused)}`, { admin: true });
    assert.deepEqual(box.body.messages, []);
    assert.deepEqual(await ledger(a.accountId), []);
    const bypass = freshPhone();
    const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: bypass, channel: "sms", riskCheck: "disable" });
    assert.equal(v.status, "pending");
    assert.equal(a.client.httpClient.seen.at(-1).data.RiskCheck, "disable");
    assert.equal((await ledger(a.accountId)).length, 1);
    // A prefix block is 60410.
    const p = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { prefix_rule: { max_sends_per_window: 1 } } });
    assert.equal(p.status, 200, p.text);
    const range = "+1650800";
    await a.client.verify.v2.services(svc.sid).verifications.create({ to: `${range}0001`, channel: "sms" });
    await rejectsWith(a.client.verify.v2.services(svc.sid).verifications.create({ to: `${range}0002`, channel: "sms" }), 403, 60410);
  });

  test("safe list: create, fetch, delete through the SDK (GN… sids); a safe-listed number is never blocked", async () => {
    const a = await account("fraud-safe");
    const phone = freshPhone();
    const created = await a.client.verify.v2.safelist.create({ phoneNumber: phone });
    assert.match(created.sid, SID("GN"));
    assert.equal(created.phoneNumber, phone);
    assert.ok(created.url.endsWith(`/v2/SafeList/Numbers/${phone}`), created.url);
    const fetched = await a.client.verify.v2.safelist(phone).fetch();
    assert.deepEqual(fetched.toJSON(), created.toJSON());
    const r = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { blocked_countries: ["US"] } });
    assert.equal(r.status, 200, r.text);
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Safe" });
    const v = await a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    assert.equal(v.status, "pending");
    assert.equal(await a.client.verify.v2.safelist(phone).remove(), true);
    await rejectsWith(a.client.verify.v2.safelist(phone).fetch(), 404, 20404);
    await rejectsWith(a.client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" }), 403, 60605);
    await rejectsWith(a.client.verify.v2.safelist.create({ phoneNumber: "not a number" }), 400, 60200);
  });
});

describe("Twilio Verify v2 as shipped: the resend interval; Verification Attempts and their Summary", () => {
  let app;
  before(async () => (app = await spawnPricedOtpApp()));
  after(() => app.close());

  test("a resend sooner than OTP_RESEND_INTERVAL_SECS is 60203 (429) with Retry-After; nothing charged for it", async () => {
    const a = await twilioAccount(app, "interval");
    const { ac, client } = a;
    const svc = await client.verify.v2.services.create({ friendlyName: "Interval" });
    const phone = freshPhone();
    const first = await client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    await rejectsWith(client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" }), 429, 60203);
    const auth = "Basic " + Buffer.from(`${ac}:${a.key}`).toString("base64");
    const raw = await fetch(new URL(`/v2/Services/${svc.sid}/Verifications`, app.url), {
      method: "POST",
      headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ To: phone, Channel: "sms" }),
    });
    assert.equal(raw.status, 429);
    assert.ok(Number(raw.headers.get("retry-after")) >= 1);
    assert.equal((await raw.json()).code, 60203);
    const fetched = await client.verify.v2.services(svc.sid).verifications(first.sid).fetch();
    assert.equal(fetched.sendCodeAttempts.length, 1, "the refused resend is not an attempt");
    const sends = await app.db.prepare("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND kind = 'otp_send'").bind(a.accountId).first();
    assert.equal(sends.n, 1);
  });

  test("3 sends, 1 approved: the Summary says 3 / 1 / 2 / \"33.33\"; the list filters and pages; one attempt fetches; another account sees none", async () => {
    const a = await twilioAccount(app, "attempts");
    const { ac, client } = a;
    const svc = await client.verify.v2.services.create({ friendlyName: "Attempts" });
    const phones = [freshPhone(), freshPhone(), freshPhone()];
    const sent = [];
    for (const to of phones) sent.push(await client.verify.v2.services(svc.sid).verifications.create({ to, channel: "sms" }));
    const check = await client.verify.v2.services(svc.sid).verificationChecks.create({ to: phones[1], code: (await latestCode(app, phones[1])).code });
    assert.equal(check.status, "approved");
    const approvedSid = sent[1].sendCodeAttempts[0].attempt_sid;

    const summary = await client.verify.v2.verificationAttemptsSummary().fetch();
    assert.equal(summary.totalAttempts, 3);
    assert.equal(summary.totalConverted, 1);
    assert.equal(summary.totalUnconverted, 2);
    assert.equal(summary.conversionRatePercentage, "33.33");
    assert.ok(summary.url.endsWith("/v2/Attempts/Summary"), summary.url);
    // Bounds inside a day (counted from the sends), a service (not in the rollups), a
    // country, a destination prefix: the same three; another country none.
    const hourAgo = new Date(Date.now() - 3600_000);
    const soon = new Date(Date.now() + 60_000);
    for (const filter of [{ dateCreatedAfter: hourAgo, dateCreatedBefore: soon }, { verifyServiceSid: svc.sid }, { country: "US" }, { destinationPrefix: "+1415" }, { channel: "sms" }]) {
      const s = await client.verify.v2.verificationAttemptsSummary().fetch(filter);
      assert.deepEqual([s.totalAttempts, s.totalConverted], [3, 1], JSON.stringify(filter));
    }
    const none = await client.verify.v2.verificationAttemptsSummary().fetch({ country: "GB" });
    assert.deepEqual([none.totalAttempts, none.conversionRatePercentage], [0, "0.00"]);
    const before = await client.verify.v2.verificationAttemptsSummary().fetch({ dateCreatedBefore: hourAgo });
    assert.equal(before.totalAttempts, 0);

    const all = await client.verify.v2.verificationAttempts.list();
    assert.deepEqual(all.map((x) => x.sid), sent.map((v) => v.sendCodeAttempts[0].attempt_sid).reverse(), "newest first");
    const paged = await client.verify.v2.verificationAttempts.list({ pageSize: 2 });
    assert.deepEqual(paged.map((x) => x.sid), all.map((x) => x.sid), "pages followed through meta.next_page_url");
    const page = await client.verify.v2.verificationAttempts.page({ pageSize: 2, status: "unconverted" });
    assert.equal(page.instances.length, 2);
    assert.equal(page.nextPageUrl, undefined, "two unconverted attempts fit one page");
    const first = await client.verify.v2.verificationAttempts.page({ pageSize: 1, verifyServiceSid: svc.sid });
    assert.match(first.nextPageUrl, /VerifyServiceSid=VA[0-9a-f]{32}&PageSize=1&Page=1&PageToken=PT/);
    const converted = await client.verify.v2.verificationAttempts.list({ status: "converted" });
    assert.deepEqual(converted.map((x) => x.sid), [approvedSid]);
    const toOne = await client.verify.v2.verificationAttempts.list({ "channelData.to": phones[2], verificationSid: sent[2].sid });
    assert.deepEqual(toOne.map((x) => x.verificationSid), [sent[2].sid]);
    assert.deepEqual(await client.verify.v2.verificationAttempts.list({ channel: "call" }), []);

    const one = await client.verify.v2.verificationAttempts(approvedSid).fetch();
    assert.equal(one.sid, approvedSid);
    assert.equal(one.accountSid, ac);
    assert.equal(one.serviceSid, svc.sid);
    assert.equal(one.verificationSid, sent[1].sid);
    assert.equal(one.conversionStatus, "converted");
    assert.equal(one.channel, "sms");
    assert.deepEqual(one.price, { value: "0.0075", currency: "usd" });
    assert.equal(one.channelData.to, phones[1]);
    assert.equal(one.channelData.country, "US");
    assert.ok(one.dateCreated instanceof Date && !isNaN(one.dateCreated));
    assert.ok(one.url.endsWith(`/v2/Attempts/${approvedSid}`));

    await rejectsWith(client.verify.v2.verificationAttempts.list({ status: "maybe" }), 400, 60200);
    const b = await app.createAccount("attempts-other", "1.00");
    const bAc = (await app.request("GET", "/api/user/profile", { key: b.key })).body.data.twilio_account_sid;
    const other = sdk(app, bAc, b.key);
    assert.deepEqual(await other.verify.v2.verificationAttempts.list(), []);
    await rejectsWith(other.verify.v2.verificationAttempts(approvedSid).fetch(), 404, 20404);
    assert.equal((await other.verify.v2.verificationAttemptsSummary().fetch()).totalAttempts, 0);
  });
});

describe("Twilio url fields with PUBLIC_ORIGIN", () => {
  let app;
  before(async () => {
    app = await spawnOtpApp({ vars: { PUBLIC_ORIGIN: "https://otp.example.com/" } });
  });
  after(() => app.close());

  test("every url points at the configured origin, never at the request's Host", async () => {
    const a = await app.createAccount("origin", "1.00");
    const p = await app.request("GET", "/api/user/profile", { key: a.key });
    const auth = `Basic ${Buffer.from(`${p.body.data.twilio_account_sid}:${a.key}`).toString("base64")}`;
    const call = (method, path, form) =>
      app.mf.dispatchFetch(`http://evil.test${path}`, {
        method,
        headers: { Authorization: auth, Host: "evil.test", ...(form ? { "Content-Type": "application/x-www-form-urlencoded" } : {}) },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
    const created = await call("POST", "/v2/Services", { FriendlyName: "Origin" });
    assert.equal(created.status, 201);
    const service = await created.json();
    assert.equal(service.url, `https://otp.example.com/v2/Services/${service.sid}`);
    for (const link of Object.values(service.links)) assert.ok(link.startsWith("https://otp.example.com/v2/"), link);
    const list = await (await call("GET", "/v2/Services?PageSize=1")).json();
    assert.equal(list.meta.url, "https://otp.example.com/v2/Services?PageSize=1&Page=0");
    assert.ok(!JSON.stringify(list).includes("evil.test"));
  });
});
