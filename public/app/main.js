// The dashboard: a hash router over plain ES modules, no build step, nothing from a CDN.
import { navList, showPage, signOut } from "./shell.js";
import { session, cleanup, flash, go, loadSession } from "./state.js";
import { clear, clearMessages, announce } from "./dom.js";
import { signupPage, loginPage } from "./pages/auth.js";
import { overviewPage, transactionsPage } from "./pages/account.js";
import { keysPage } from "./pages/keys.js";
import { limitsPage, usageBanner } from "./pages/limits.js";
import { numbersPage, rentsPage } from "./pages/numbers.js";
import { otpPage, templatesPage, outboxPage } from "./pages/otp.js";
import { webhooksPage } from "./pages/webhooks.js";
import { statsPage } from "./pages/stats.js";

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
  stats: ["Statistics", statsPage],
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
  clear(nav).append(navList(PAGES, current));
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
  await showPage(title, async (body, heading) => {
    await page(body);
    // Usage alerts crossed this period, above every page (the limits page shows its own).
    if (session.account && name !== "limits") {
      const main = document.getElementById("main");
      usageBanner().then((b) => b && main.contains(heading) && heading.after(b), () => {});
    }
  }, () => {
    session.account = null;
    go("login");
  });
}

document.getElementById("logout").addEventListener("click", () =>
  signOut("POST", "/api/v1/auth/logout", () => {
    session.account = null;
    flash.message = "You are logged out.";
    go("login");
  }),
);

window.addEventListener("hashchange", render);
await loadSession();
render();
