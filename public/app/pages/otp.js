import { post, del, idempotencyKey } from "../api.js";
import { h, field, form, when, button, clear, announce } from "../dom.js";
import { apiTable } from "../lists.js";

export async function otpPage(root) {
  const phone = field("Phone number", { type: "tel", autocomplete: "off", required: true, placeholder: "+14155550100", hint: "International format, with the country code." });
  const channel = field("Channel", { tag: "select", options: [["sms", "SMS"], ["whatsapp", "WhatsApp"], ["voice", "Voice call"]] });
  const length = field("Code length", { type: "number", min: 4, max: 8, value: 6, required: true });
  const sessionId = field("Session id", { required: true, class: "mono" });
  const code = field("Code", { required: true, inputmode: "numeric", autocomplete: "one-time-code", class: "mono" });
  const result = h("div");
  const sessions = apiTable(
    "/v1/otp/sessions?page=1&limit=20",
    "Recent OTP sessions",
    [
      ["Session", "session_id"],
      ["Phone", "phone"],
      ["Channel", "channel"],
      ["State", "status"],
      ["Attempts", (s) => String(s.attempts ?? 0)],
      ["Sent", (s) => when(s.created_at)],
      ["Expires", (s) => when(s.expires_at)],
    ],
    "No codes sent yet.",
  );

  root.append(
    h("h2", {}, "Send a test code"),
    form("Send a test code", [phone, channel, length], "Send code", async () => {
      const s = await post("/v1/otp/send", { to: phone.input.value.trim(), channel: channel.input.value, length: Number(length.input.value) }, idempotencyKey());
      sessionId.input.value = s.session_id;
      clear(result).append(h("p", {}, `Sent to ${s.to} by ${s.channel}; session `, h("span", { class: "mono" }, s.session_id), `; expires ${when(s.expires_at)}; cost ${s.cost}.`));
      announce("Code sent.");
      await sessions.load();
    }),
    result,
    h("h2", {}, "Check a code"),
    form("Check a code", [sessionId, code], "Check code", async () => {
      const v = await post("/v1/otp/verify", { session_id: sessionId.input.value.trim(), code: code.input.value.trim() });
      const text = v.verified ? "The code is right: verified." : `Not verified (${v.reason ?? v.status}); ${v.attempts_remaining} attempts left.`;
      clear(result).append(h("p", {}, text));
      announce(text);
      await sessions.load();
    }),
    h("h2", {}, "Recent sessions"),
    sessions.el,
  );
  await sessions.load();
}

export async function templatesPage(root) {
  const name = field("Template name", { required: true, maxlength: 255 });
  const channel = field("Channel", { tag: "select", options: [["sms", "SMS"], ["whatsapp", "WhatsApp"], ["voice", "Voice call"]] });
  const body = field("Message", { tag: "textarea", required: true, maxlength: 1000, rows: 3, hint: "Placeholders in braces, e.g. Your code is {code}. Write {{ and }} for literal braces." });
  const list = apiTable(
    "/v1/templates",
    "Templates",
    [
      ["Name", "name"],
      ["Channel", "channel"],
      ["Message", "body"],
      ["Id", (t) => h("span", { class: "mono" }, t.template_id ?? t.id)],
      ["Owner", (t) => (t.shared || t.account_id === null ? "shared" : "yours")],
      [
        "",
        (t) =>
          t.shared || t.account_id === null
            ? ""
            : button("Delete", async () => {
                await del(`/v1/templates/${encodeURIComponent(t.template_id ?? t.id)}`);
                await list.load();
                announce(`Template ${t.name} deleted.`);
              }, { "aria-label": `Delete template ${t.name}` }),
      ],
    ],
    "No templates yet.",
    "templates",
  );

  root.append(
    h("h2", {}, "New template"),
    form("New template", [name, channel, body], "Save template", async () => {
      await post("/v1/templates", { name: name.input.value, channel: channel.input.value, body: body.input.value });
      name.input.value = "";
      body.input.value = "";
      await list.load();
      announce("Template saved.");
    }),
    h("h2", {}, "Your templates"),
    list.el,
  );
  await list.load();
}

export async function outboxPage(root) {
  const list = apiTable(
    "/v1/outbox?limit=50",
    "Sandbox outbox",
    [
      ["Sent", (m) => when(m.created_at)],
      ["To", "to"],
      ["Channel", "channel"],
      ["Text", "text"],
      ["Status", "status"],
    ],
    "Nothing sent yet.",
    "messages",
  );
  root.append(
    h("p", {}, "Locally, texts go to this sandbox outbox instead of phones. Only your account's messages are shown."),
    button("Refresh", async () => {
      await list.load();
      announce("Outbox refreshed.");
    }),
    list.el,
  );
  await list.load();
}
