import { get } from "../api.js";
import { h, table, when, button, clear, announce } from "../dom.js";

const txColumns = [
  ["When", (t) => when(t.createdAt)],
  ["Type", "type"],
  ["Amount", (t) => String(t.amount)],
  ["Balance after", (t) => String(t.balanceAfter)],
  ["Object", (t) => t.objectId ?? t.reference ?? ""],
  ["Description", (t) => t.description ?? ""],
];

export async function overviewPage(root) {
  const [bal, tx] = await Promise.all([
    get("/api/internal/balance"),
    get("/api/internal/transactions?page=1&limit=5"),
  ]);
  root.append(
    h(
      "dl",
      { class: "cards" },
      h("div", {}, h("dt", {}, "Balance"), h("dd", {}, `${bal.balance} ${bal.currency ?? ""}`.trim())),
      h("div", {}, h("dt", {}, "Credits"), h("dd", {}, String(bal.credits))),
      h("div", {}, h("dt", {}, "Account"), h("dd", {}, bal.isApproved === false ? "Awaiting approval" : "Approved")),
    ),
    bal.isApproved === false
      ? h("p", { class: "note" }, "Until the operator approves this account, buying numbers and sending codes is refused.")
      : "",
    h("h2", {}, "Recent transactions"),
    table("Recent transactions", txColumns, tx.data ?? [], "No transactions yet."),
    h("p", {}, h("a", { href: "#/transactions" }, "All transactions")),
  );
}

export async function transactionsPage(root) {
  const list = h("div");
  const pager = h("div", { class: "pager" });
  let page = 1;
  const limit = 20;
  async function load() {
    const r = await get(`/api/internal/transactions?page=${page}&limit=${limit}`);
    const p = r.pagination ?? { page, totalPages: 1, total: (r.data ?? []).length };
    clear(list).append(table(`Transactions, page ${p.page} of ${Math.max(1, p.totalPages)}`, txColumns, r.data ?? [], "No transactions yet."));
    clear(pager).append(
      button("Previous page", async () => {
        page -= 1;
        await load();
        announce(`Page ${page}`);
      }, { disabled: page <= 1 }),
      h("span", {}, `Page ${p.page} of ${Math.max(1, p.totalPages)} (${p.total} in all)`),
      button("Next page", async () => {
        page += 1;
        await load();
        announce(`Page ${page}`);
      }, { disabled: page >= p.totalPages }),
    );
  }
  root.append(list, pager);
  await load();
}
