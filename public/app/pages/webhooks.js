import { api, put, post, del } from "../api.js";
import { h, field, form, when, button, clear, announce } from "../dom.js";
import { apiTable } from "../lists.js";
import { smsActivateHookSection } from "./sa-webhook.js";

export async function webhooksPage(root) {
  const url = field("Endpoint URL", { type: "url", required: true, placeholder: "https://example.com/hooks", hint: "https:// only (http://localhost too when developing locally)." });
  const endpoint = h("div");
  const deliveries = apiTable(
    "/v1/webhook/deliveries?page=1&limit=20",
    "Deliveries",
    [
      ["When", (d) => when(d.created_at)],
      ["Event", "event_type"],
      ["Object", "object_id"],
      ["Attempt", (d) => String(d.attempt)],
      ["Result", (d) => (d.succeeded ? `delivered (${d.status_code})` : d.error ?? `HTTP ${d.status_code}`)],
      [
        "",
        (d) =>
          button("Redeliver", async () => {
            await post(`/v1/webhook/events/${encodeURIComponent(d.event_id)}/redeliver`);
            announce("Sent again.");
            await deliveries.load();
          }, { "aria-label": `Redeliver event ${d.event_type} ${d.event_id}` }),
      ],
    ],
    "No deliveries yet.",
  );
  let current = null;

  function showEndpoint() {
    if (!current) {
      clear(endpoint).append(h("p", { class: "empty" }, "No endpoint yet: events are not recorded until you add one."));
      return;
    }
    const secret = field("Signing secret", { readonly: true, type: "password", value: current.secret, class: "mono" });
    const reveal = h("button", { type: "button", "aria-pressed": "false" }, "Reveal secret");
    reveal.addEventListener("click", () => {
      const shown = secret.input.type === "password";
      secret.input.type = shown ? "text" : "password";
      reveal.setAttribute("aria-pressed", String(shown));
      reveal.textContent = shown ? "Hide secret" : "Reveal secret";
    });
    clear(endpoint).append(
      h("p", {}, "Sending to ", h("span", { class: "mono" }, current.url), ` (since ${when(current.updated_at)})`),
      secret.el,
      h(
        "div",
        { class: "actions" },
        reveal,
        button("Rotate secret", async () => {
          current = await put("/v1/webhook", { url: current.url, rotate_secret: true });
          showEndpoint();
          announce("Secret rotated. Update your receiver.");
        }),
        button("Remove endpoint", async () => {
          await del("/v1/webhook");
          current = null;
          showEndpoint();
          announce("Endpoint removed.");
        }),
      ),
    );
  }

  try {
    current = await api("GET", "/v1/webhook");
  } catch (err) {
    if (err?.status !== 404) throw err;
  }
  if (current) url.input.value = current.url;
  root.append(
    form("Webhook endpoint", [url], "Save endpoint", async () => {
      current = await put("/v1/webhook", { url: url.input.value.trim() });
      showEndpoint();
      announce("Endpoint saved.");
      await deliveries.load();
    }),
    endpoint,
    await smsActivateHookSection(),
    h("h2", {}, "Deliveries"),
    button("Refresh deliveries", () => deliveries.load()),
    deliveries.el,
  );
  showEndpoint();
  await deliveries.load();
}
