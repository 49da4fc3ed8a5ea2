// The routes `npm run bench` drives, with the data each needs. Each result may name the
// JS peer's result it is compared with (`peer`).
export async function scenarios({ app, peerUrl, drive }) {
  const out = [];
  const base = app.url.href.replace(/\/$/, "");
  const acct = await app.createAccount("bench", "100000");
  const json = { "content-type": "application/json" };
  const auth = { authorization: `Bearer ${acct.key}`, ...json };

  out.push(await drive("GET /healthz", { url: `${base}/healthz` }));
  out.push(await drive("GET /v1/balance", { url: `${base}/v1/balance`, headers: auth }));
  out.push(await drive("JS peer GET /healthz", { url: new URL("/healthz", peerUrl).href }));
  return out;
}
