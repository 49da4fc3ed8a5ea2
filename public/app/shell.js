// The page shell shared by the dashboard and the operator console: the navigation list and
// the rendering of one page into <main> (its heading, busy meanwhile, errors announced).
import { api } from "./api.js";
import { h, clear, showError } from "./dom.js";

/** The navigation list of `pages` ({id: [title, …]}), the `current` one marked. */
export function navList(pages, current) {
  return h(
    "ul",
    {},
    Object.entries(pages).map(([id, [title]]) =>
      h("li", {}, h("a", { href: `#/${id}`, "aria-current": id === current ? "page" : undefined }, title)),
    ),
  );
}

/** Renders a page into <main>: its <h1> `title` and a body that `run(body, heading)` fills,
 * marked busy until it is done. A 401 calls `unauthorized`; any other error is announced. */
export async function showPage(title, run, unauthorized) {
  const main = clear(document.getElementById("main"));
  main.setAttribute("aria-busy", "true");
  const heading = h("h1", { tabindex: "-1" }, title);
  const body = h("div", { class: "page" });
  main.append(heading, body);
  try {
    await run(body, heading);
  } catch (err) {
    if (err?.status === 401) return unauthorized();
    showError(err);
  } finally {
    // Only the render that is still current marks the page as loaded.
    if (main.contains(heading)) main.setAttribute("aria-busy", "false");
  }
}

/** Signs out by `method path` (a 401: already out), then `done()`; other errors are
 * announced. */
export async function signOut(method, path, done) {
  try {
    await api(method, path);
  } catch (err) {
    if (err?.status !== 401) return showError(err);
  }
  done();
}
