// A local HTTP receiver for what the Worker sends out (webhooks, vendor callbacks).
import http from "node:http";

/** A receiver on a free port of this machine. It answers each request with the next status
 * of `plan` (then 200) and records it in `received`: `{headers, raw, body, status, at}` (the
 * body as sent, and parsed when it is JSON); `handled` holds the parsed bodies it answered 200. */
export async function startReceiver({ path = "/hooks" } = {}) {
  const received = [];
  const handled = [];
  const plan = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const status = plan.shift() ?? 200;
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      received.push({ headers: req.headers, raw, body, status, at: Date.now() });
      if (status === 200) handled.push(body);
      res.writeHead(status).end(status === 200 ? "ok" : "try later");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}${path}`;
  return { url, received, handled, plan, close: () => new Promise((r) => server.close(r)) };
}
