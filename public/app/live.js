// Live updates of one activation or rent without reloading: Server-Sent Events when the
// route offers them, else long-polling (`?wait=25&since=<seq>`): the server answers as soon
// as something changes. Either way `onState` gets the object's whole state each time.
import { get } from "./api.js";

const TERMINAL = new Set(["complete", "cancelled", "expired"]);

/** Follows activation `id`; returns a function that stops following. */
export function followActivation(id, onState) {
  const base = `/v1/activation/${encodeURIComponent(id)}`;
  let stopped = false;
  let es = null;
  let opened = false;

  const stop = () => {
    stopped = true;
    es?.close();
  };

  async function longPoll(since) {
    while (!stopped) {
      const started = Date.now();
      try {
        const s = await get(`${base}/status?wait=25&since=${since}`);
        if (stopped) return;
        if (typeof s.seq === "number") since = s.seq;
        onState(s);
        if (TERMINAL.has(s.status)) return;
      } catch (err) {
        if (err?.status && err.status < 500 && err.status !== 429) return;
      }
      // Never spin: at least a second between polls, however fast the answers.
      const spent = Date.now() - started;
      if (spent < 1000) await new Promise((r) => setTimeout(r, 1000 - spent));
    }
  }

  if (typeof EventSource === "function") {
    es = new EventSource(`${base}/events`);
    es.onopen = () => (opened = true);
    const handle = (e) => {
      let d;
      try {
        d = JSON.parse(e.data);
      } catch {
        return;
      }
      const state = d.activation ?? d;
      onState(state);
      if (TERMINAL.has(state.status)) stop();
    };
    for (const type of ["snapshot", "sms", "status", "expiry"]) es.addEventListener(type, handle);
    es.onerror = () => {
      // Reconnection (with Last-Event-ID) is the browser's job; only a stream that could not
      // be opened at all falls back to long-polling.
      if (!opened && es.readyState === EventSource.CLOSED && !stopped) {
        es = null;
        longPoll(0);
      }
    };
  } else {
    longPoll(0);
  }
  return stop;
}

/** Follows rent `id` by long-polling `/api/internal/rent/{id}?wait=25&since=<seq>`. */
export function followRent(id, onState) {
  let stopped = false;
  (async () => {
    let since = 0;
    while (!stopped) {
      const started = Date.now();
      try {
        const r = await get(`/api/internal/rent/${encodeURIComponent(id)}?wait=25&since=${since}`);
        if (stopped) return;
        const data = r.data ?? r;
        if (typeof data.seq === "number") since = data.seq;
        onState(data);
        if (data.status && data.status !== "active") return;
      } catch (err) {
        if (err?.status && err.status < 500 && err.status !== 429) return;
      }
      const spent = Date.now() - started;
      if (spent < 1000) await new Promise((r) => setTimeout(r, 1000 - spent));
    }
  })();
  return () => (stopped = true);
}
