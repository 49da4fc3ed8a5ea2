// A real browser for the dashboard and console tests: Debian's Chromium driven by
// playwright-core.
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium stalls on a closed network.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Chromium with one page (1280×900, 15 s per action) whose console errors and page errors
 * are pushed onto `errors`, but for those `expected(message)` says the page handles.
 * `permissions` are granted to `origin` before the page opens. */
export async function openPage({ errors, expected = () => false, permissions, origin } = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (permissions) await context.grantPermissions(permissions, { origin });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("console", (m) => {
    if (m.type() === "error" && !expected(m)) errors.push(`${m.text()} (${m.location()?.url})`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  return { browser, context, page };
}

/** Whether a console message is Chromium logging a failed network answer that `answers` lists,
 * as [does the URL match, status] pairs: answers the page expects and handles. */
export function handledAnswer(message, answers) {
  const url = message.location()?.url ?? "";
  const text = message.text();
  if (!text.startsWith("Failed to load resource")) return false;
  return answers.some(([matches, status]) => matches(url) && text.includes(String(status)));
}
