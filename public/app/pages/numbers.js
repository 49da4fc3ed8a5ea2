import { get, post, listOf, idempotencyKey } from "../api.js";
import { h, field, table, when, countdown, button, clear, announce, showError } from "../dom.js";
import { apiTable } from "../lists.js";
import { onLeave } from "../state.js";
import { followActivation, followRent } from "../live.js";

const TERMINAL = new Set(["complete", "cancelled", "expired"]);

/** Flattens /api/public/prices (or rent-prices) into rows. */
function priceRows(data, names) {
  const rows = [];
  for (const [country, services] of Object.entries(data ?? {})) {
    for (const [service, entry] of Object.entries(services ?? {})) {
      for (const [operator, o] of Object.entries(entry?.services ?? {})) {
        rows.push({ country, countryName: names.get(country) ?? country, service, operator, operatorName: o.name ?? operator, ...o });
      }
    }
  }
  return rows.sort((a, b) => a.countryName.localeCompare(b.countryName) || a.service.localeCompare(b.service));
}

/** The columns that end a table of offers: the price, the stock, and the button (`verb`)
 * that takes one (`take(offer)`), disabled when none is in stock. */
function offerColumns(price, verb, labelOf, take) {
  return [
    ["Price", (o) => String(price(o))],
    ["In stock", (o) => String(o.count)],
    ["", (o) => button(verb, () => take(o), { "aria-label": labelOf(o), disabled: Number(o.count) === 0 })],
  ];
}

/** Shows one live view (activation or rent) at a time in `el`: showing a view stops
 * following the one shown before. */
function viewSlot(el) {
  let stopShown = () => {};
  return (view) => {
    stopShown();
    stopShown = view.stop;
    clear(el).append(view);
  };
}

async function countryNames() {
  try {
    return new Map(listOf(await get("/v1/countries")).map((c) => [c.code, c.name]));
  } catch {
    return new Map();
  }
}

/** The live view of one activation: number, countdowns, SMS as they arrive, actions. */
function activationView(initial, onChange = () => {}) {
  let state = { sms_list: [], ...initial };
  let lastStatus = null;
  const box = h("section", { class: "activation", "aria-labelledby": "act-title" });
  const live = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const expiry = h("span");
  const lock = h("span");
  const smsList = h("ol", { class: "sms", "aria-label": "Messages received" });
  const codeBox = h("p", { class: "code" });
  const statusText = h("strong");
  const complete = button("Complete", () => act("complete"));
  const cancel = button("Cancel and refund", () => act("cancel"));
  const retry = button("Ask for another SMS", () => act("retry"));

  async function act(command) {
    const s = await post(`/v1/activation/${encodeURIComponent(state.activation_id)}/status`, { status: command });
    update(s);
    announce(`Activation ${s.status}.`);
  }

  function tick() {
    const waiting = state.status === "waiting";
    const smsCount = (state.sms_list ?? []).length;
    const ended = TERMINAL.has(state.status);
    expiry.textContent = ended ? "ended" : `${countdown(state.expires_at)} left`;
    const lockLeft = Date.parse(state.cancel_allowed_at) - Date.now();
    lock.textContent =
      ended || smsCount > 0 ? "no cancel once an SMS has arrived" : lockLeft > 0 ? `cancel possible in ${countdown(state.cancel_allowed_at)}` : "cancel possible now";
    complete.disabled = state.status !== "received";
    retry.disabled = state.status !== "received";
    cancel.disabled = !(waiting && smsCount === 0 && lockLeft <= 0);
  }

  function update(s) {
    const before = (state.sms_list ?? []).length;
    state = { ...state, ...s, sms_list: s.sms_list ?? state.sms_list ?? [] };
    statusText.textContent = state.status;
    clear(smsList).append(
      ...state.sms_list.map((m) =>
        h("li", {}, h("span", { class: "from" }, m.from ?? ""), " ", h("span", { class: "text" }, m.text ?? ""), m.code ? h("span", { class: "badge" }, `code ${m.code}`) : null),
      ),
    );
    if (state.code) clear(codeBox).append("Code: ", h("strong", { class: "mono" }, state.code));
    else clear(codeBox).append(TERMINAL.has(state.status) ? "No code." : "Waiting for an SMS…");
    if (state.sms_list.length > before) live.textContent = state.code ? `SMS received. Code ${state.code}.` : "SMS received.";
    else if (TERMINAL.has(state.status)) live.textContent = `Activation ${state.status}.`;
    if (state.status !== lastStatus) {
      if (lastStatus !== null) onChange();
      lastStatus = state.status;
    }
    tick();
  }

  box.append(
    h("h2", { id: "act-title" }, `Number ${state.number}`),
    h("p", {}, `${state.service ?? ""} ${state.country ?? ""} · cost ${state.cost} · status `, statusText),
    h("p", {}, "Expires: ", expiry, " · ", lock),
    codeBox,
    smsList,
    h("div", { class: "actions" }, complete, retry, cancel),
    live,
  );
  update(state);
  const timer = setInterval(tick, 1000);
  const stop = followActivation(state.activation_id, update);
  box.stop = () => {
    clearInterval(timer);
    stop();
  };
  onLeave(box.stop);
  return box;
}

export async function numbersPage(root) {
  const names = await countryNames();
  const prices = await get("/api/public/prices");
  const current = h("div");
  const recent = apiTable(
    "/v1/activations?page=1&limit=10",
    "Recent activations",
    [
      ["Number", "number"],
      ["Service", "service"],
      ["Country", "country"],
      ["Status", "status"],
      ["Bought", (a) => when(a.created_at)],
      ["", (a) => button("Open", () => open(a), { "aria-label": `Open activation ${a.number}` })],
    ],
    "No activations yet.",
  );

  const place = viewSlot(current);
  function show(view) {
    place(view);
    const title = view.querySelector("h2");
    title?.setAttribute("tabindex", "-1");
    title?.focus();
  }
  const refresh = () => recent.load().catch(showError);

  async function open(a) {
    const s = await get(`/v1/activation/${encodeURIComponent(a.activation_id)}/status`);
    show(activationView({ ...a, ...s }, refresh));
  }

  const rows = priceRows(prices.data, names);
  root.append(
    current,
    h("h2", {}, "Buy a number"),
    h("p", {}, "A number receives one service's SMS for 20 minutes. Cancel (after the first minutes) refunds it while no SMS has arrived."),
    table(
      "Numbers for sale",
      [
        ["Country", "countryName"],
        ["Service", "service"],
        ["Operator", "operatorName"],
        ...offerColumns(
          (r) => r.cost,
          "Buy",
          (r) => `Buy a ${r.service} number in ${r.countryName} (${r.operatorName}, ${r.cost})`,
          async (r) => {
            const a = await post("/v1/number", { service: r.service, country: r.country, operator: r.operator }, idempotencyKey());
            show(activationView(a, refresh));
            announce(`Bought ${a.number}. Waiting for the SMS.`);
            refresh();
          },
        ),
      ],
      rows,
      "No numbers are for sale right now.",
    ),
    h("h2", {}, "Recent activations"),
    recent.el,
  );
  await recent.load();
}

/** The live view of one rent: its SMS as they arrive. */
function rentView(rent) {
  const box = h("section", { class: "activation", "aria-labelledby": "rent-title" });
  const smsList = h("ol", { class: "sms", "aria-label": "Messages received" });
  const live = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const status = h("strong");
  let count = 0;
  function update(r) {
    status.textContent = r.status ?? "active";
    const sms = r.sms ?? [];
    clear(smsList).append(
      ...sms.map((m) => h("li", {}, h("span", { class: "from" }, m.from ?? ""), " ", h("span", { class: "text" }, m.text ?? ""), m.code ? h("span", { class: "badge" }, `code ${m.code}`) : null)),
    );
    if (sms.length > count) live.textContent = "SMS received.";
    count = sms.length;
  }
  box.append(
    h("h2", { id: "rent-title" }, `Rented number ${rent.number}`),
    h("p", {}, `${rent.service ?? ""} ${rent.country ?? ""} · until ${when(rent.expiresAt ?? rent.expires_at)} · `, status),
    smsList,
    live,
  );
  update(rent);
  box.stop = followRent(rent.id, update);
  onLeave(box.stop);
  return box;
}

export async function rentsPage(root) {
  const names = await countryNames();
  const services = listOf(await get("/v1/services"));
  const service = field("Service", { tag: "select", options: services.map((s) => [s.code, s.name ?? s.code]) });
  // Start on a service that has rent offers, if any does.
  const offered = await Promise.all(
    services.map((s) => get(`/api/public/rent-prices?service=${encodeURIComponent(s.code)}`).then((r) => Object.keys(r.data ?? {}).length > 0, () => false)),
  );
  const firstOffered = services[offered.indexOf(true)];
  if (firstOffered) service.input.value = firstOffered.code;
  const offers = h("div");
  const current = h("div");
  const mine = apiTable(
    "/api/internal/rents?page=1&limit=20",
    "Your rents",
    [
      ["Number", "number"],
      ["Service", "service"],
      ["Until", (x) => when(x.expiresAt)],
      ["Status", (x) => x.status ?? ""],
      [
        "",
        (x) =>
          button("Open", async () => {
            const d = await get(`/api/internal/rent/${encodeURIComponent(x.id)}`);
            show(rentView(d.data ?? d));
          }, { "aria-label": `Open rent ${x.number}` }),
      ],
    ],
    "No rents yet.",
  );
  const show = viewSlot(current);

  async function loadOffers() {
    const r = await get(`/api/public/rent-prices?service=${encodeURIComponent(service.input.value)}`);
    const rows = priceRows(r.data, names).flatMap((row) => (row.prices ?? []).map((p) => ({ ...row, hours: p.hours, price: p.cost })));
    clear(offers).append(
      table(
        "Rent offers",
        [
          ["Country", "countryName"],
          ["Operator", "operatorName"],
          ["Hours", (o) => String(o.hours)],
          ...offerColumns(
            (o) => o.price,
            "Rent",
            (o) => `Rent a ${o.service} number in ${o.countryName} for ${o.hours} hours (${o.price})`,
            async (o) => {
              const r = await post("/api/internal/rent", { service: o.service, country: o.country, operator: o.operator, hours: o.hours }, idempotencyKey());
              show(rentView({ ...r.data, sms: [] }));
              announce(`Rented ${r.data.number} for ${r.data.hours} hours.`);
              await mine.load();
            },
          ),
        ],
        rows,
        "No rent offers for this service.",
      ),
    );
  }

  service.input.addEventListener("change", () => loadOffers().catch(showError));
  root.append(h("h2", {}, "Rent a number"), service.el, offers, current, h("h2", {}, "Your rents"), mine.el);
  if (services.length) await loadOffers();
  await mine.load();
}
