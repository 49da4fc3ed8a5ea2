// Spend caps and scopes as form controls, shared by the key and limits pages.
import { h, field } from "../dom.js";

export const SCOPES = ["wallet:read", "activations:read", "activations:write", "rent:write", "otp:send", "otp:verify", "messages:send", "webhooks:manage", "fraud:read", "fraud:manage"];

/** A cap field ("Daily cap (USD)"): empty means no cap. */
export function capField(label, value, hint = "Empty: no cap.") {
  return field(label, { inputmode: "decimal", value: value ?? "", hint, autocomplete: "off" });
}

/** A cap as the API takes it: null when empty. */
export const capValue = (f) => (f.input.value.trim() === "" ? null : f.input.value.trim());

/** "0.15 of 1.00" / "0.15 (no cap)". */
export const spentOf = (spent, cap) => (cap === null || cap === undefined ? `${spent} (no cap)` : `${spent} of ${cap}`);

/** The scopes as checkboxes in a fieldset; `held` checked (all when null). */
export function scopeBoxes(legend, held) {
  const boxes = SCOPES.map((s) => {
    const input = h("input", { type: "checkbox", value: s, checked: held === null || held.includes(s) });
    return { s, input, el: h("label", { class: "check" }, input, ` ${s}`) };
  });
  const el = h("fieldset", { class: "scopes" }, h("legend", {}, legend), boxes.map((b) => b.el));
  // Every box checked: every scope (null), which also covers scopes added later.
  const value = () => (boxes.every((b) => b.input.checked) ? null : boxes.filter((b) => b.input.checked).map((b) => b.s));
  return { el, value };
}
