// Oversight: the audit log (filters, newest first, older pages by cursor), an account's fraud
// guard (policy, blocks, safe list) and the statistics across accounts.
import { get } from "/app/api.js";
import { h, clear, table, field, form, button, when, announce } from "/app/dom.js";

const json = (v) => (v === null || v === undefined ? "" : h("code", { class: "mono" }, JSON.stringify(v)));

/** Audit events as a table (who, what, which resource, why, before and after). */
export function auditTable(caption, events) {
  return table(caption, [
    ["When", (e) => when(e.at)],
    ["Actor", (e) => `${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ""}`],
    ["Action", "action"],
    ["Resource", (e) => `${e.resource_type}${e.resource_id ? ` ${e.resource_id}` : ""}`],
    ["Reason", (e) => e.reason ?? ""],
    ["Before", (e) => json(e.before)],
    ["After", (e) => json(e.after)],
    ["Account", (e) => (e.account_id ? h("a", { href: `#/account/${encodeURIComponent(e.account_id)}` }, e.account_id) : "")],
    ["IP", (e) => e.ip ?? ""],
  ], events, "No audit events match.");
}

const FILTERS = [
  ["account", "Account id"],
  ["actor", "Actor id"],
  ["action", "Action", "e.g. wallet.adjust, key.revoke, auth.login"],
  ["resource_type", "Resource type", "e.g. account, ledger, api_key"],
  ["resource_id", "Resource id"],
  ["from", "From", "RFC 3339, e.g. 2026-12-01T00:00:00Z"],
  ["to", "To"],
];

export async function auditPage(root) {
  const fields = FILTERS.map(([name, label, hint]) => [name, field(label, { name, hint })]);
  const list = h("div");
  const more = h("div", { class: "pager" });
  let query = "";
  async function load(cursor) {
    const sep = query ? "&" : "";
    const r = await get(`/admin/audit?${query}${cursor ? `${sep}cursor=${cursor}` : ""}`);
    list.append(auditTable(cursor ? "Older audit events" : "Audit events, newest first", r.events ?? []));
    clear(more).append(r.next_cursor ? button("Older events", () => load(r.next_cursor)) : "");
  }
  const filter = form("Filter the audit log", fields.map(([, f]) => f), "Show", async () => {
    query = fields
      .map(([name, f]) => [name, f.input.value.trim()])
      .filter(([, v]) => v)
      .map(([n, v]) => `${n}=${encodeURIComponent(v)}`)
      .join("&");
    clear(list);
    await load();
    announce("Audit log updated.");
  });
  root.append(filter, list, more);
  await load();
}

export async function fraudPage(root, accountId) {
  const out = h("div");
  const id = field("Account id", { name: "account", required: true, value: accountId ?? "" });
  async function show(account) {
    const r = await get(`/admin/accounts/${encodeURIComponent(account)}/fraud`);
    clear(out).append(
      h("h2", {}, "Policy"),
      h("pre", { class: "mono" }, JSON.stringify(r.policy, null, 2)),
      h("h2", {}, "Live blocks"),
      table("Live blocks", [
        ["Scope", "scope"],
        ["Value", "value"],
        ["Reason", "reason"],
        ["Sends", (b) => String(b.sends)],
        ["Conversions", (b) => String(b.conversions)],
        ["Until", (b) => when(b.expires_at)],
      ], r.blocks ?? [], "No live blocks."),
      h("h2", {}, "Safe list"),
      table("Safe list", [["Number", "phone"], ["Added", (s) => when(s.created_at)]], r.safe_list ?? [], "No numbers on the safe list."),
    );
  }
  root.append(form("Fraud guard of an account", [id], "Show", () => show(id.input.value.trim())), out);
  if (accountId) await show(accountId);
}

const STATS = {
  otp: ["OTP sends", "day", [["Key", "key"], ["Sends", "sends"], ["Verified", "verified"], ["Conversion", "conversion_rate"], ["Spend", "spend"], ["Blocked", "blocked"]]],
  activations: ["Activations", "service", [["Key", "key"], ["Orders", "orders"], ["SMS received", "sms_received"], ["Completed", "completed"], ["Cancelled", "cancelled"], ["Expired", "expired"], ["Refunded", "refunded"], ["Success rate", "success_rate"], ["Spend", "spend"]]],
};

export async function statsPage(root, accountId) {
  const account = field("Account id", { name: "account", value: accountId ?? "", hint: "Empty: every account." });
  const from = field("From", { name: "from", type: "date" });
  const to = field("To", { name: "to", type: "date" });
  const out = h("div");
  async function show() {
    const params = new URLSearchParams();
    if (account.input.value.trim()) params.set("account", account.input.value.trim());
    if (from.input.value) params.set("from", `${from.input.value}T00:00:00Z`);
    if (to.input.value) params.set("to", `${to.input.value}T23:59:59Z`);
    clear(out);
    for (const [kind, [title, groupBy, columns]] of Object.entries(STATS)) {
      params.set("group_by", groupBy);
      out.append(h("h2", {}, title));
      try {
        const r = await get(`/admin/stats/${kind}?${params}`);
        out.append(table(`${title} by ${groupBy}`, columns.map(([head, k]) => [head, (row) => String(row[k] ?? "")]), r.rows ?? [], "No traffic in this range."));
      } catch (err) {
        if (err?.status !== 404) throw err;
        out.append(h("p", { class: "note" }, "Statistics are not available on this deployment."));
      }
    }
  }
  root.append(form("Statistics across accounts", [account, from, to], "Show", show), out);
  await show();
}
