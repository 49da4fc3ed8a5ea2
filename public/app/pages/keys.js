import { get, post, del, api, listOf } from "../api.js";
import { h, field, form, table, when, button, clear, announce } from "../dom.js";
import { SCOPES, capField, capValue, spentOf, scopeBoxes } from "./caps.js";

/** A key's scopes as shown: "all" for a key holding every scope. */
const scopesText = (k) => (k.scopes.length === SCOPES.length ? "all" : k.scopes.join(", ") || "none");

export async function keysPage(root) {
  const created = h("div", { class: "secret-box" });
  const editor = h("div");
  const list = h("div");
  const name = field("Key name", { required: true, maxlength: 100, hint: "For you to tell keys apart, e.g. production." });
  const scopes = scopeBoxes("Scopes (what the key may do)", null);
  const daily = capField("Daily spend cap", null, "Empty: no cap of its own (the account's still holds). Days are UTC.");
  const monthly = capField("Monthly spend cap", null);

  function edit(k) {
    const boxes = scopeBoxes(`Scopes of ${k.name ?? k.key_id}`, k.scopes);
    const d = capField(`Daily spend cap of ${k.name ?? k.key_id}`, k.spend_cap_daily);
    const m = capField(`Monthly spend cap of ${k.name ?? k.key_id}`, k.spend_cap_monthly);
    clear(editor).append(
      h("h2", {}, `Change key “${k.name ?? k.key_id}”`),
      form(`Change key ${k.name ?? k.key_id}`, [boxes, d, m], "Save changes", async () => {
        const body = { scopes: boxes.value(), spend_cap_daily: capValue(d), spend_cap_monthly: capValue(m) };
        await api("PATCH", `/v1/keys/${encodeURIComponent(k.key_id)}`, body);
        clear(editor);
        await load();
        announce(`Key ${k.name ?? k.key_id} changed.`);
      }),
    );
    editor.querySelector("input")?.focus();
  }

  async function load() {
    const keys = listOf(await get("/v1/keys"), "keys");
    clear(list).append(
      table(
        "Your API keys",
        [
          ["Name", (k) => k.name ?? ""],
          ["Key", (k) => (k.prefix ? `${k.prefix}…` : "")],
          ["Scopes", scopesText],
          ["Spent today", (k) => spentOf(k.spent_today, k.spend_cap_daily)],
          ["Spent this month", (k) => spentOf(k.spent_this_month, k.spend_cap_monthly)],
          ["Created", (k) => when(k.created_at)],
          ["Last used", (k) => when(k.last_used_at)],
          ["State", (k) => (k.revoked_at ? `Revoked ${when(k.revoked_at)}` : "Live")],
          [
            "",
            (k) =>
              k.revoked_at
                ? ""
                : h(
                    "span",
                    { class: "actions" },
                    button("Change", async () => edit(k), { "aria-label": `Change key ${k.name ?? k.key_id}` }),
                    button("Revoke", async () => {
                      await del(`/v1/keys/${encodeURIComponent(k.key_id)}`);
                      await load();
                      announce(`Key ${k.name ?? k.key_id} revoked.`);
                    }, { "aria-label": `Revoke key ${k.name ?? k.key_id}` }),
                  ),
          ],
        ],
        keys,
        "No keys yet.",
      ),
    );
  }

  root.append(
    h("h2", {}, "Create a key"),
    form("Create a key", [name, scopes, daily, monthly], "Create key", async () => {
      const body = { name: name.input.value, scopes: scopes.value(), spend_cap_daily: capValue(daily), spend_cap_monthly: capValue(monthly) };
      const k = await post("/v1/keys", body);
      const secret = k.api_key ?? k.key;
      const shown = field("New API key", { readonly: true, value: secret, class: "mono", hint: "Shown only now: copy it and keep it secret." });
      const status = h("span", { "aria-live": "polite" });
      clear(created).append(
        h("h3", {}, `Key “${k.name ?? name.input.value}” created`),
        shown.el,
        button("Copy key", async () => {
          shown.input.select();
          try {
            await navigator.clipboard.writeText(secret);
            status.textContent = "Copied.";
          } catch {
            status.textContent = "Select the key and copy it by hand.";
          }
        }),
        status,
      );
      name.input.value = "";
      daily.input.value = "";
      monthly.input.value = "";
      await load();
      announce("Key created. It is shown only once: copy it now.");
      shown.input.focus();
    }),
    created,
    h("h2", {}, "Keys"),
    list,
    editor,
  );
  await load();
}
