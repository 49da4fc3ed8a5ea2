// Under `npm start`: runs the Worker's Cron Trigger once a minute, as the platform does once
// deployed (`wrangler dev` never runs it by itself). It calls `wrangler dev --test-scheduled`'s
// /__scheduled route (with static assets, wrangler 4.86's /cdn-cgi/handler/scheduled reaches
// the asset router, which has no scheduled handler, and answers 500). It stops when the
// server it once reached is gone.
const base = process.argv[2] ?? "http://127.0.0.1:8787";
const cron = "* * * * *";
const EVERY_MS = 60_000;
let reached = false;
for (;;) {
  await new Promise((r) => setTimeout(r, EVERY_MS));
  try {
    const res = await fetch(`${base}/__scheduled?cron=${encodeURIComponent(cron)}`);
    await res.text();
    if (!res.ok) console.error(`[cron] the scheduled pass answered ${res.status}`);
    reached = true;
  } catch {
    if (reached) process.exit(0);
  }
}
