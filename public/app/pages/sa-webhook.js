import { api, put, del } from "../api.js";
import { h, field, form, button, clear, announce } from "../dom.js";

/** The sms-activate webhook URL: every SMS of the account's activations and rents is POSTed
 * there in sms-activate's shape (docs/sms-activate.md, "Webhooks"). */
export async function smsActivateHookSection() {
  const path = "/v1/webhook/sms-activate";
  const url = field("sms-activate webhook URL", { type: "url", required: true, placeholder: "https://example.com/sms", hint: "Each SMS as sms-activate sends it: {activationId, service, text, code, country, receivedAt}." });
  const status = h("div");
  let current = null;
  function show() {
    if (!current) {
      clear(status).append(h("p", { class: "empty" }, "No sms-activate webhook."));
      return;
    }
    clear(status).append(
      h("p", {}, "SMS go to ", h("span", { class: "mono" }, current.url)),
      button("Remove sms-activate webhook", async () => {
        await del(path);
        current = null;
        url.input.value = "";
        show();
        announce("sms-activate webhook removed.");
      }),
    );
  }
  try {
    current = await api("GET", path);
  } catch (err) {
    if (err?.status !== 404) throw err;
  }
  if (current) url.input.value = current.url;
  show();
  return h(
    "section",
    { "aria-label": "sms-activate webhook" },
    h("h2", {}, "sms-activate webhook"),
    form("sms-activate webhook", [url], "Save sms-activate webhook", async () => {
      current = await put(path, { url: url.input.value.trim() });
      show();
      announce("sms-activate webhook saved.");
    }),
    status,
  );
}
