// The dashboard: a hash router over plain ES modules, no build step, nothing from a CDN.
import { post } from "./api.js";
import { session, cleanup, flash, go, loadSession } from "./state.js";
import { h, clear, clearMessages, showError, announce } from "./dom.js";
import { signupPage, loginPage } from "./pages/auth.js";
import { overviewPage, transactionsPage } from "./pages/account.js";
import { keysPage } from "./pages/keys.js";
import { limitsPage, usageBanner } from "./pages/limits.js";
import { numbersPage, rentsPage } from "./pages/numbers.js";
import { otpPage, templatesPage, outboxPage } from "./pages/otp.js";
import { webhooksPage } from "./pages/webhooks.js";

const PAGES = {
  overview: ["Overview", overviewPage],
  keys: ["API keys", keysPage],
  limits: ["Limits", limitsPage],
  numbers: ["Numbers", numbersPage],
  rents: ["Rents", rentsPage],
  otp: ["OTP", otpPage],
  templates: ["Templates", templatesPage],
  webhooks: ["Webhooks", webhooksPage],
  transactions: ["Transactions", transactionsPage],
  outbox: ["Sandbox outbox", outboxPage],
};
const PUBLIC = { login: ["Log in", loginPage], signup: ["Sign up", signupPage] };

function renderChrome(current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!session.account) {
    nav.hidden = true;
    who.hidden = true;
    clear(nav);
    return;
  }
  nav.hidden = false;
  who.hidden = false;
  document.getElementById("who-email").textContent = session.account.email ?? session.account.name ?? "";
  clear(nav).append(
    h(
      "ul",
      {},
      Object.entries(PAGES).map(([id, [title]]) =>
        h("li", {}, h("a", { href: `#/${id}`, "aria-current": id === current ? "page" : undefined }, title)),
      ),
    ),
  );
}

async function render() {
  for (const fn of cleanup.splice(0)) fn();
  clearMessages();
  if (flash.message) {
    announce(flash.message);
    flash.message = null;
  }
  const name = location.hash.replace(/^#\/?/, "") || (session.account ? "overview" : "login");
  const table = session.account ? PAGES : PUBLIC;
  const entry = table[name];
  if (!entry) return go(session.account ? "overview" : "login");
  const [title, page] = entry;
  renderChrome(name);
  document.title = `${title} · otpedge`;
  const main = clear(document.getElementById("main"));
  main.setAttribute("aria-busy", "true");
  const heading = h("h1", { tabindex: "-1" }, title);
  const body = h("div", { class: "page" });
  main.append(heading, body);
  try {
    await page(body);
    // Usage alerts crossed this period, above every page (the limits page shows its own).
    if (session.account && name !== "limits") {
      usageBanner().then((b) => b && main.contains(heading) && heading.after(b), () => {});
    }
  } catch (err) {
    if (err?.status === 401) {
      session.account = null;
      return go("login");
    }
    showError(err);
  } finally {
    // Only the render that is still current marks the page as loaded.
    if (main.contains(heading)) main.setAttribute("aria-busy", "false");
  }
}

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await post("/api/v1/auth/logout");
  } catch (err) {
    if (err?.status !== 401) return showError(err);
  }
  session.account = null;
  flash.message = "You are logged out.";
  go("login");
});

window.addEventListener("hashchange", render);
await loadSession();
render();
