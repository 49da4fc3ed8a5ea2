// The operator console: a hash router over plain ES modules beside the dashboard's (whose
// DOM and API helpers it shares), no build step, nothing from a CDN. The operator signs in
// with the admin token once; from then on the otpedge_admin cookie (HttpOnly, SameSite=Strict,
// Path=/admin) authenticates every /admin call, and the browser's same-origin Origin header
// lets its changes through.
import { get, post } from "/app/api.js";
import { h, clear, clearMessages, announce, field, form } from "/app/dom.js";
import { navList, showPage, signOut } from "/app/shell.js";
import { accountsPage, accountPage } from "./accounts.js";
import { inventoryPage, catalogPage } from "./inventory.js";
import { fraudPage, statsPage, auditPage } from "./oversight.js";

const PAGES = {
  accounts: ["Accounts", accountsPage],
  inventory: ["Suppliers and inventory", inventoryPage],
  catalog: ["Catalog and prices", catalogPage],
  fraud: ["Fraud guard", fraudPage],
  stats: ["Statistics", statsPage],
  audit: ["Audit log", auditPage],
};
const state = { signedIn: false };
let flash = null;

export function go(route) {
  if (location.hash === `#/${route}`) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = `#/${route}`;
}

function renderChrome(current) {
  const nav = document.getElementById("nav");
  nav.hidden = !state.signedIn;
  document.getElementById("who").hidden = !state.signedIn;
  clear(nav);
  if (state.signedIn) nav.append(navList(PAGES, current));
}

function signInPage(root) {
  const token = field("Admin token", { type: "password", autocomplete: "current-password", required: true, hint: "The ADMIN_TOKEN secret; it is exchanged once for a session cookie." });
  root.append(
    form("Sign in", [token], "Sign in", async () => {
      await post("/admin/session", { token: token.input.value });
      state.signedIn = true;
      flash = "You are signed in.";
      go("accounts");
    }),
  );
}

/** The page a hash names: [title, page, argument] (`#/account/<id>` takes an id). */
function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : undefined;
  if (!state.signedIn) return ["signin", ["Sign in", signInPage]];
  if (name === "account" && arg) return ["accounts", ["Account", accountPage], arg];
  if (PAGES[name]) return [name, PAGES[name], arg];
  return null;
}

async function render() {
  clearMessages();
  if (flash) {
    announce(flash);
    flash = null;
  }
  const found = route();
  if (!found) return go(state.signedIn ? "accounts" : "signin");
  const [name, [title, page], arg] = found;
  renderChrome(name);
  document.title = `${title} · otpedge console`;
  await showPage(title, (body, heading) => page(body, arg, heading), () => {
    state.signedIn = false;
    go("signin");
  });
}

document.getElementById("logout").addEventListener("click", () =>
  signOut("DELETE", "/admin/session", () => {
    state.signedIn = false;
    flash = "You are signed out.";
    go("signin");
  }),
);

try {
  state.signedIn = Boolean((await get("/admin/session"))?.signed_in);
} catch {
  state.signedIn = false;
}
window.addEventListener("hashchange", render);
render();
