// Shared state of the page: who is logged in, navigation, and work to stop on leaving a page.
import { get } from "./api.js";

export const session = { account: null };
export const cleanup = [];
/** A message to announce once the next page is shown. */
export const flash = { message: null };

/** Work a page registers to stop when the user leaves it (timers, event streams). */
export function onLeave(fn) {
  cleanup.push(fn);
}

export function go(page) {
  if (location.hash === `#/${page}`) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = `#/${page}`;
}

export async function loadSession() {
  try {
    const s = await get("/api/v1/auth/session");
    session.account = s?.account ?? s;
  } catch {
    session.account = null;
  }
}

export async function loggedIn() {
  await loadSession();
  go("overview");
}
