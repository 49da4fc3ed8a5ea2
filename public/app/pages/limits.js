// Spend caps of the account and usage alerts, and the banner of alerts crossed this period.
import { get, put, post, del } from "../api.js";
import { h, field, form, table, when, button, clear, announce } from "../dom.js";
import { capField, capValue, spentOf } from "./caps.js";

const PERIOD = { daily: "today (UTC)", monthly: "this month (UTC)" };
const thresholdText = (a, currency) => (a.threshold !== null ? `${a.threshold} ${currency}` : `${a.percent_of_cap}% of the cap`);

/** The banner of usage alerts crossed in the current period, or null when none. */
export async function usageBanner() {
  const { alerts, notices, currency } = await get("/v1/usage/alerts");
  const crossed = alerts.filter((a) => a.crossed_at);
  if (!crossed.length) return null;
  const lines = crossed.map((a) => {
    const n = notices.find((x) => x.alert_id === a.alert_id && x.crossed_at === a.crossed_at);
    const spent = n ? `${n.spent} ${currency}` : "the threshold";
    return h("li", {}, `Spend ${PERIOD[a.period]} reached ${spent} (alert at ${thresholdText(a, currency)}) on ${when(a.crossed_at)}.`);
  });
  return h("section", { class: "banner", "aria-label": "Usage alerts crossed" }, h("strong", {}, "Usage alert"), h("ul", {}, lines));
}

export async function limitsPage(root) {
  const banner = h("div");
  const caps = h("div");
  const list = h("div");

  async function load() {
    const [limits, usage] = await Promise.all([get("/v1/account/limits"), get("/v1/usage/alerts")]);
    const cur = limits.currency;
    const daily = capField(`Daily spend cap (${cur})`, limits.spend_cap_daily, `Spent today: ${spentOf(limits.spent_today, limits.spend_cap_daily)}. Resets ${when(limits.daily_resets_at)}.`);
    const monthly = capField(`Monthly spend cap (${cur})`, limits.spend_cap_monthly, `Spent this month: ${spentOf(limits.spent_this_month, limits.spend_cap_monthly)}. Resets ${when(limits.monthly_resets_at)}.`);
    clear(caps).append(
      form("Account spend caps", [daily, monthly], "Save caps", async () => {
        await put("/v1/account/limits", { spend_cap_daily: capValue(daily), spend_cap_monthly: capValue(monthly) });
        await load();
        announce("Spend caps saved.");
      }),
    );
    clear(list).append(
      table(
        "Usage alerts",
        [
          ["Period", "period"],
          ["Alert at", (a) => thresholdText(a, usage.currency)],
          ["Crossed this period", (a) => when(a.crossed_at)],
          ["", (a) => button("Delete", async () => {
            await del(`/v1/usage/alerts/${encodeURIComponent(a.alert_id)}`);
            await load();
            announce("Usage alert deleted.");
          }, { "aria-label": `Delete the ${a.period} alert at ${thresholdText(a, usage.currency)}` })],
        ],
        usage.alerts,
        "No usage alerts yet.",
      ),
    );
    clear(banner).append((await usageBanner()) ?? "");
  }

  const kind = field("Alert on", { tag: "select", options: [["threshold", "an amount spent"], ["percent_of_cap", "a percentage of the cap"]] });
  const value = field("Threshold", { inputmode: "decimal", required: true, autocomplete: "off", hint: "An amount (e.g. 5.00), or a percentage from 1 to 100." });
  const period = field("Period", { tag: "select", options: [["daily", "per UTC day"], ["monthly", "per UTC month"]] });
  root.append(
    banner,
    h("h2", {}, "Spend caps"),
    h("p", { class: "note" }, "Every charge counts against the account's caps (and the paying key's own); a charge past a cap is refused before anything is bought or sent."),
    caps,
    h("h2", {}, "Add a usage alert"),
    form("Add a usage alert", [kind, value, period], "Add alert", async () => {
      const v = value.input.value.trim();
      const body = kind.input.value === "percent_of_cap" ? { percent_of_cap: Number(v) } : { threshold: v };
      await post("/v1/usage/alerts", { ...body, period: period.input.value });
      value.input.value = "";
      await load();
      announce("Usage alert added. It is sent to your webhook once per period when crossed.");
    }),
    h("h2", {}, "Usage alerts"),
    list,
  );
  await load();
}
