// Statistics: OTP sends and conversions, spend, activation success (GET /v1/stats/*, the
// last 30 days). Each chart (uPlot, served from /vendor/, loaded when this page opens) has
// its numbers in a table beside it: the table is what assistive technology reads and what
// a user copies; the chart repeats it for the eye and is hidden from screen readers.
import { get } from "../api.js";
import { h, table } from "../dom.js";

const pct = (rate) => `${(rate * 100).toFixed(1)}%`;
const money = (n) => n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1");
const label = (key) => key ?? "unknown";

let uPlotLoaded;
/** uPlot and its stylesheet, once. */
function loadUPlot() {
  if (!document.querySelector('link[href="/vendor/uPlot.min.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/vendor/uPlot.min.css" }));
  }
  uPlotLoaded ??= import("/vendor/uPlot.esm.js").then((m) => m.default);
  return uPlotLoaded;
}

const COLORS = ["#0b5cad", "#176b2c", "#a4161a"];

/** A chart over `labels` (days or categories, one x position each) with one series per
 * [name, values]; bars when `bars`, lines otherwise. The y axis starts at 0. */
function chart(uPlot, el, labels, series, { bars = false, yFormat = String, xName = "" } = {}) {
  const width = Math.max(240, Math.min(el.clientWidth || 480, 560));
  const x = labels.map((_, i) => i);
  const opts = {
    width,
    height: 220,
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: () => [-0.5, labels.length - 0.5] },
      y: { range: (_, min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { splits: () => x, values: (_, ticks) => ticks.map((t) => labels[t] ?? "") },
      { values: (_, ticks) => ticks.map(yFormat), size: 60 },
    ],
    series: [
      { label: xName, value: (_, i) => (i == null ? "" : labels[i] ?? "") },
      ...series.map(([name], i) => ({
        label: name,
        stroke: COLORS[i % COLORS.length],
        fill: bars ? `${COLORS[i % COLORS.length]}99` : undefined,
        width: 2,
        paths: bars ? uPlot.paths.bars({ size: [0.6] }) : undefined,
        points: { show: !bars, size: 7 },
      })),
    ],
  };
  return new uPlot(opts, [x, ...series.map(([, values]) => values)], el);
}

/** A titled section: the table of `rows` (`columns` as in `table`) and their chart (hidden
 * from screen readers), one x position a row, labelled `x(row)`; `series` is
 * [[name, row => number]]. `opts` as in `chart`. */
function section(title, rows, columns, x, series, opts) {
  const plot = h("div", { class: "chart", "aria-hidden": "true" });
  const box = h("section", { class: "stat", "aria-label": title }, h("h2", {}, title));
  if (!rows.length) {
    box.append(h("p", { class: "empty" }, "Nothing in the last 30 days."));
    return { box, draw: () => {} };
  }
  box.append(h("div", { class: "chart-pair" }, plot, table(title, columns, rows)));
  const values = series.map(([name, y]) => [name, rows.map(y)]);
  return { box, draw: (uPlot) => chart(uPlot, plot, rows.map(x), values, opts) };
}

/** A rate by a category (country, service): the rows' counts (`counts`, columns) and the rate
 * (`rateKey`, a fraction, headed `rateName`) in the table, the rate in percent as bars. */
function rateSection(title, rows, category, counts, [rateName, rateKey]) {
  const name = (r) => label(r.key);
  const columns = [[category, name], ...counts, [rateName, (r) => pct(r[rateKey])]];
  const bars = { bars: true, yFormat: (v) => `${v}%`, xName: category };
  return section(title, rows, columns, name, [[rateName, (r) => r[rateKey] * 100]], bars);
}

/** Spend per day: OTP and activations side by side, by day. */
function spendByDay(otpDays, activationDays) {
  const days = new Map();
  for (const r of otpDays) days.set(r.key, { day: r.key, otp: r.spend, activations: 0 });
  for (const r of activationDays) {
    const d = days.get(r.key) ?? { day: r.key, otp: 0, activations: 0 };
    d.activations = r.spend;
    days.set(r.key, d);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

export async function statsPage(root) {
  const [otpDays, otpCountries, actDays, actServices, uPlot] = await Promise.all([
    get("/v1/stats/otp?group_by=day"),
    get("/v1/stats/otp?group_by=country"),
    get("/v1/stats/activations?group_by=day"),
    get("/v1/stats/activations?group_by=service"),
    loadUPlot(),
  ]);
  const spend = spendByDay(otpDays.rows, actDays.rows);
  const sections = [
    section("Sends and verified codes per day", otpDays.rows, [
      ["Day", "key"],
      ["Sends", "sends"],
      ["Verified", "verified"],
      ["Conversion", (r) => pct(r.conversion_rate)],
      ["Blocked", "blocked"],
    ], (r) => r.key, [["Sends", (r) => r.sends], ["Verified", (r) => r.verified]], { xName: "Day" }),
    rateSection("Conversion by country", otpCountries.rows, "Country", [
      ["Sends", "sends"],
      ["Verified", "verified"],
    ], ["Conversion", "conversion_rate"]),
    section("Spend per day", spend, [
      ["Day", "day"],
      ["OTP", (r) => money(r.otp)],
      ["Activations", (r) => money(r.activations)],
      ["Total", (r) => money(r.otp + r.activations)],
    ], (r) => r.day, [["OTP", (r) => r.otp], ["Activations", (r) => r.activations]], { xName: "Day" }),
    rateSection("Activation success rate by service", actServices.rows, "Service", [
      ["Orders", "orders"],
      ["Completed", "completed"],
      ["Cancelled", "cancelled"],
      ["Expired", "expired"],
    ], ["Success rate", "success_rate"]),
  ];
  root.append(
    h("p", { class: "note" }, "The last 30 days (UTC), from GET /v1/stats/otp and /v1/stats/activations."),
    ...sections.map((s) => s.box),
  );
  // Drawn once on the page, so each chart takes its box's width.
  for (const s of sections) s.draw(uPlot);
}
