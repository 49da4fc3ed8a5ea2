import { get, post, del, listOf } from "../api.js";
import { h, field, form, table, when, button, clear, announce } from "../dom.js";

export async function keysPage(root) {
  const created = h("div", { class: "secret-box" });
  const list = h("div");
  const name = field("Key name", { required: true, maxlength: 100, hint: "For you to tell keys apart, e.g. production." });

  async function load() {
    const keys = listOf(await get("/v1/keys"), "keys");
    clear(list).append(
      table(
        "Your API keys",
        [
          ["Name", (k) => k.name ?? ""],
          ["Key", (k) => (k.prefix ? `${k.prefix}…` : "")],
          ["Created", (k) => when(k.created_at)],
          ["Last used", (k) => when(k.last_used_at)],
          ["State", (k) => (k.revoked_at ? `Revoked ${when(k.revoked_at)}` : "Live")],
          [
            "",
            (k) =>
              k.revoked_at
                ? ""
                : button("Revoke", async () => {
                    await del(`/v1/keys/${encodeURIComponent(k.key_id)}`);
                    await load();
                    announce(`Key ${k.name ?? k.key_id} revoked.`);
                  }, { "aria-label": `Revoke key ${k.name ?? k.key_id}` }),
          ],
        ],
        keys,
        "No keys yet.",
      ),
    );
  }

  root.append(
    h("h2", {}, "Create a key"),
    form("Create a key", [name], "Create key", async () => {
      const k = await post("/v1/keys", { name: name.input.value });
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
      await load();
      announce("Key created. It is shown only once: copy it now.");
      shown.input.focus();
    }),
    created,
    h("h2", {}, "Keys"),
    list,
  );
  await load();
}
