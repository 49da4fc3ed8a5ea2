// Suppliers and the number inventory; the catalog and its prices (a price is set through
// PUT /admin/catalog, which the audit log records).
import { get, post, put } from "/app/api.js";
import { h, clear, table, field, form, when, announce } from "/app/dom.js";

export async function inventoryPage(root) {
  const [s, c] = await Promise.all([get("/admin/suppliers"), get("/admin/catalog")]);
  const secret = h("div", { class: "secret-box", role: "region", "aria-label": "New supplier secret" });
  const name = field("Supplier name", { name: "supplier", required: true, maxlength: 255 });
  root.append(
    table("Suppliers", [
      ["Name", "name"],
      ["Id", (x) => h("span", { class: "mono" }, x.supplier_id)],
      ["Numbers", (x) => String(x.numbers)],
      ["Created", (x) => when(x.created_at)],
    ], s.suppliers ?? [], "No suppliers yet."),
    h("h2", {}, "Add a supplier"),
    form("Add a supplier", [name], "Add supplier", async () => {
      const r = await post("/admin/suppliers", { name: name.input.value.trim() });
      clear(secret).append(h("p", {}, `Signing secret of ${r.name} (shown once): `), h("p", { class: "mono" }, r.secret));
      announce("Supplier added. Copy its secret now.");
    }),
    secret,
    h("h2", {}, "Numbers by operator"),
    table("Numbers in the inventory by operator", [
      ["Country", "country"],
      ["Operator", (o) => `${o.name} (${o.id})`],
      ["Numbers", (o) => String(o.numbers)],
    ], c.operators ?? [], "No operators yet."),
  );
}

export async function catalogPage(root) {
  const c = await get("/admin/catalog");
  const kind = field("Price of", { tag: "select", name: "kind", options: [["activation", "an activation"], ["otp", "an OTP send"]] });
  const country = field("Country code", { name: "country", required: true, maxlength: 2 });
  const what = field("Service, or channel for an OTP", { name: "service", required: true });
  const operator = field("Operator id (activations)", { name: "operator" });
  const cost = field("Cost", { name: "cost", required: true, inputmode: "decimal" });
  root.append(
    table("Prices", [
      ["Kind", "kind"],
      ["Country", "country"],
      ["Service or channel", "service"],
      ["Operator", "operator"],
      ["Hours", (p) => (p.hours === null ? "" : String(p.hours))],
      ["Cost", "cost"],
    ], c.prices ?? [], "No prices yet."),
    h("h2", {}, "Set a price"),
    form("Set a price", [kind, country, what, operator, cost], "Set price", async () => {
      const row = { country: country.input.value.trim(), cost: cost.input.value.trim() };
      const body = kind.input.value === "otp"
        ? { otp_prices: [{ ...row, channel: what.input.value.trim() }] }
        : { prices: [{ ...row, service: what.input.value.trim(), operator: operator.input.value.trim() }] };
      await put("/admin/catalog", body);
      announce("Price set.");
      await catalogPage(clear(root));
    }),
    h("h2", {}, "Countries"),
    table("Countries", [["Code", "code"], ["Name", "name"]], c.countries ?? []),
    h("h2", {}, "Services"),
    table("Services", [["Code", "code"], ["Name", "name"]], c.services ?? []),
  );
}
