// DOM helpers. Everything that comes from the API is put on the page as text (text nodes and
// textContent), never parsed as HTML: an SMS holding <script> or <img onerror> stays inert.

/** h("button", {type: "button", onclick}, "Label", child…): an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "value") el.value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let ids = 0;
/** A labelled form control: {el, input}. `tag` is input (default), select or textarea;
 * `options` ([value, text] pairs) fill a select; `hint` is tied with aria-describedby. */
export function field(label, { tag = "input", options, hint, ...attrs } = {}) {
  const id = `f${++ids}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const input = h(tag, { id, name: attrs.name ?? id, "aria-describedby": hintId, ...attrs });
  if (options) for (const [value, text] of options) input.append(h("option", { value }, text));
  const el = h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", { id: hintId }, hint) : null);
  return { el, input };
}

/** A table of rows. columns: [[header, row => text | Node]], or [header, "name"] for a cell
 * that is the row's property `name` as it is. Wrapped in a scrollable, keyboard-focusable
 * region so it stays usable at 375 px. */
export function table(caption, columns, rows, empty = "Nothing yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  // Explicit roles: narrow screens lay rows out as cards (CSS display: block), which would
  // otherwise drop the table semantics in some browsers.
  const t = h(
    "table",
    { role: "table" },
    h("caption", {}, caption),
    h(
      "thead",
      { role: "rowgroup" },
      h("tr", { role: "row" }, columns.map(([head]) => h("th", { scope: "col", role: "columnheader" }, head))),
    ),
    h(
      "tbody",
      { role: "rowgroup" },
      rows.map((row) =>
        h(
          "tr",
          { role: "row" },
          columns.map(([head, cell]) => h("td", { role: "cell", "data-label": head || undefined }, cellOf(cell, row))),
        ),
      ),
    ),
  );
  return h("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" }, t);
}

const cellOf = (cell, row) => (typeof cell === "function" ? cell(row) : row[cell]) ?? "";

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Polite announcement (status region). */
export function announce(message) {
  const s = document.getElementById("status");
  s.textContent = "";
  // A new text node each time so screen readers announce a repeated message too.
  setTimeout(() => (s.textContent = message), 20);
  document.getElementById("alert").textContent = "";
}

/** An error, announced assertively (role="alert") and shown. */
export function showError(err) {
  const a = document.getElementById("alert");
  a.textContent = err?.message ? String(err.message) : String(err);
}

export function clearMessages() {
  document.getElementById("status").textContent = "";
  document.getElementById("alert").textContent = "";
}

/** "2026-11-22T03:04:48Z" → a short local date-time; anything unparsable as given. */
export function when(value) {
  if (value === null || value === undefined || value === "") return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

/** Seconds until an instant, as "m:ss" (or "0:00"). */
export function countdown(until) {
  const s = Math.max(0, Math.round((Date.parse(until) - Date.now()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Runs `action` with `control` disabled meanwhile (enabled again after, while `keep()`
 * says so); errors are announced. */
async function whileDisabled(control, action, keep = () => true) {
  control.disabled = true;
  try {
    await action();
  } catch (err) {
    showError(err);
  } finally {
    if (keep()) control.disabled = false;
  }
}

/** A form whose submit runs `action` with the submit button disabled meanwhile; errors are
 * announced. */
export function form(label, fields, submitText, action) {
  const button = h("button", { type: "submit" }, submitText);
  const f = h("form", { "aria-label": label, novalidate: false }, fields.map((x) => x.el ?? x), button);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    return whileDisabled(button, action);
  });
  return f;
}

/** A button that runs `action`, disabled while it runs; errors are announced. */
export function button(text, action, attrs = {}) {
  const b = h("button", { type: "button", ...attrs }, text);
  b.addEventListener("click", () => whileDisabled(b, action, () => b.isConnected));
  return b;
}
