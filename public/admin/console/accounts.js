// Accounts: search by email, name or id; one account's standing, balance, ledger, keys and
// audit trail, with the operator's actions on it (each change needs a reason where money or
// access is at stake, and lands in the audit log with it).
import { get, post, del, idempotencyKey } from "/app/api.js";
import { h, clear, table, field, form, button, when, announce } from "/app/dom.js";
import { auditTable } from "./oversight.js";

const accountLink = (a) => h("a", { href: `#/account/${encodeURIComponent(a.account_id)}` }, a.name || a.account_id);
const accountColumns = [
  ["Name", accountLink],
  ["Email", (a) => a.email ?? "—"],
  ["Balance", (a) => `${a.balance} ${a.currency}`],
  ["Status", "status"],
  ["Approved", (a) => (a.approved ? "yes" : "no")],
  ["Created", (a) => when(a.created_at)],
];

export async function accountsPage(root) {
  const results = h("div");
  const q = field("Search", { type: "search", name: "q", hint: "An account id, or the start of an email or name." });
  async function show(query) {
    const r = query ? await get(`/admin/accounts?q=${encodeURIComponent(query)}`) : await get("/admin/accounts?page=1&limit=50");
    const caption = query ? `Accounts matching “${query}”` : "Newest accounts";
    clear(results).append(table(caption, accountColumns, r.accounts ?? [], "No account matches."));
    if (query) announce(`${(r.accounts ?? []).length} account(s) found.`);
  }
  root.append(form("Find an account", [q], "Search", () => show(q.input.value.trim())), results);
  await show("");
}

const ledgerColumns = [
  ["When", (t) => when(t.created_at)],
  ["Kind", "kind"],
  ["Amount", "amount"],
  ["Balance after", "balance_after"],
  ["Reference", (t) => t.reference ?? t.object_id ?? ""],
  ["Description", "description"],
];

/** A form whose fields are all required; `run` gets their trimmed values. */
function requiredForm(label, specs, submit, run) {
  const fields = specs.map(([text, attrs]) => field(text, { required: true, ...attrs }));
  return form(label, fields, submit, () => run(...fields.map((f) => f.input.value.trim())));
}

export async function accountPage(root, accountId, heading) {
  const id = encodeURIComponent(accountId);
  const a = await get(`/admin/accounts/${id}`);
  heading.textContent = `Account ${a.name}`;
  const reload = async (message) => {
    announce(message);
    await accountPage(clear(root), accountId, heading);
  };
  const [ledger, keys, audit] = await Promise.all([
    get(`/admin/accounts/${id}/ledger?page=1&limit=20`),
    get(`/admin/accounts/${id}/keys`),
    get(`/admin/audit?account=${id}`),
  ]);
  const standing = a.status === "suspended"
    ? requiredForm("Reinstate the account", [["Reason for reinstating", { name: "reason", maxlength: 500 }]], "Reinstate", async (reason) => {
        await post(`/admin/accounts/${id}/reinstate`, { reason });
        await reload("The account is active again.");
      })
    : requiredForm("Suspend the account", [["Reason for suspending", { name: "reason", maxlength: 500 }]], "Suspend", async (reason) => {
        await post(`/admin/accounts/${id}/suspend`, { reason });
        await reload("The account is suspended: its keys, sessions and logins are refused.");
      });
  root.append(
    h(
      "dl",
      { class: "cards" },
      h("div", {}, h("dt", {}, "Balance"), h("dd", { id: "balance" }, `${a.balance} ${a.currency}`)),
      h("div", {}, h("dt", {}, "Status"), h("dd", {}, a.status)),
      h("div", {}, h("dt", {}, "Approved"), h("dd", {}, a.approved ? "yes" : "no")),
    ),
    h("p", { class: "mono" }, `${a.account_id} · ${a.email ?? "no login"} · created ${when(a.created_at)}`),
    h(
      "div",
      { class: "actions" },
      a.approved ? "" : button("Approve", async () => {
        await post(`/admin/accounts/${id}/approve`);
        await reload("The account is approved.");
      }),
      h("a", { href: `#/fraud/${id}` }, "Fraud guard"),
      h("a", { href: `#/stats/${id}` }, "Statistics"),
    ),
    h("h2", {}, "Money"),
    requiredForm("Adjust the balance", [["Amount", { name: "amount", inputmode: "decimal", pattern: "-?[0-9]+(\\.[0-9]{1,4})?", hint: "A credit (2.50) or a debit (-2.50)." }], ["Reason", { name: "reason", maxlength: 500 }]], "Adjust", async (amount, reason) => {
      const r = await post(`/admin/accounts/${id}/adjust`, { amount, reason }, idempotencyKey());
      await reload(`Adjusted by ${r.amount}; the balance is ${r.balance} ${r.currency}.`);
    }),
    requiredForm("Top up", [["Top-up amount", { name: "topup", inputmode: "decimal" }], ["Payment reference", { name: "reference", maxlength: 255 }], ["Reason for the top-up", { name: "topup-reason", maxlength: 500 }]], "Top up", async (amount, reference, reason) => {
      const r = await post(`/admin/accounts/${id}/topup`, { amount, reference, reason }, idempotencyKey());
      await reload(`Topped up ${r.amount}; the balance is ${r.balance} ${r.currency}.`);
    }),
    h("h2", {}, "Access"),
    standing,
    h("h2", {}, "Ledger"),
    table("Ledger, newest first", ledgerColumns, ledger.entries ?? [], "No transactions yet."),
    h("h2", {}, "API keys"),
    table("API keys", [
      ["Name", (k) => k.name ?? "(unnamed)"],
      ["Prefix", (k) => h("span", { class: "mono" }, k.prefix)],
      ["Scopes", (k) => (k.scopes ?? []).join(" ")],
      ["Created", (k) => when(k.created_at)],
      ["Revoked", (k) => (k.revoked_at ? when(k.revoked_at) : "")],
      ["", (k) => (k.revoked_at ? "" : button("Revoke", async () => {
        await del(`/admin/keys/${encodeURIComponent(k.key_id)}`);
        await reload(`Key ${k.prefix}… revoked.`);
      }, { "aria-label": `Revoke key ${k.prefix}` }))],
    ], keys.keys ?? [], "No keys."),
    h("h2", {}, "Audit trail"),
    auditTable("Audit trail of this account", audit.events ?? []),
  );
}
