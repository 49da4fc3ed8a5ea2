// Every SQL statement the store can prepare, read from its source (src/store/*.rs): the Rust
// string literals that start with SELECT/INSERT/UPDATE/DELETE/WITH, with `{NAME}` format
// placeholders resolved from the store's `const NAME: &str` literals, from the literal
// arguments of `free_for_service(..)`, from the `Listing`s that `account_page` expands, and
// from the few run-time fragments listed in DYNAMIC (each a value the code really passes).
// A placeholder it cannot resolve is reported, never skipped, so a new statement shape
// makes the test that uses this fail until it is taught here.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./app.mjs";

/** Run-time SQL fragments, by placeholder name: a value the code passes, or (a list) every
 * value it passes when they differ in shape. */
export const DYNAMIC = {
  // A balance change's amount: bound, or a charge read inside the batch (a session's, a step's).
  delta: ["?4", "-(SELECT cost FROM otp_sessions WHERE id = ?2)", "-(SELECT cost FROM otp_steps WHERE id = ?2)"],
  cost_sql: "(SELECT cost FROM otp_prices WHERE country = ?9 AND channel = ?4)",
  value: "b",
  table: "countries",
  column: "sms_activate_id",
  key_col: "code",
  value_col: "name",
  filter: [
    "v.sid = ?1 ORDER BY s.created_at DESC, vs.rowid DESC",
    "v.to_phone = ?1 ORDER BY v.created_at DESC, v.rowid DESC, s.created_at DESC, vs.rowid DESC",
  ],
  and_also: " AND (SELECT version FROM activations WHERE id = ?4) = ?5",
  // The statistics: one account's rollup rows, or every account's; the column grouped by.
  scope: ["account_id = ?1 AND ", ""],
  otp_key: ["day", "country", "channel", "prefix", "api_key"],
  activation_key: ["day", "service", "country", "operator"],
};

/** Statements built from a struct of fragments rather than one literal: every value the
 * code passes, read from the source next to the statement (the fragment structs, the
 * verify `Definitions` tables, and the
 * `let hours = if list.by_hours { … }` and `fn due` tables). `undefined`: not such a shape. */
function shapeVariants(file, src, s, free) {
  const structs = (type) =>
    [...src.matchAll(new RegExp(`const \\w+: ${type} = ${type} \\{([\\s\\S]*?)\\};`, "g"))].map((m) => {
      const fields = {};
      for (const f of m[1].matchAll(/(\w+):\s*(?:"([^"]*)"|(true|false))/g)) fields[f[1]] = f[2] ?? f[3] === "true";
      return fields;
    });
  if (file.endsWith("store/activations.rs") && /\{table\}/.test(s.value)) {
    const hm = [...src.slice(0, s.start).matchAll(/let hours = if list\.by_hours \{ "([^"]*)" \}/g)].pop();
    return structs("PriceList").map((l) => ({
      table: l.table, columns: l.columns, order: l.order, free, hours: l.by_hours ? hm?.[1] ?? "" : "",
    }));
  }
  if (file.endsWith("store/smsactivate.rs") && /\{alias\}/.test(s.value)) {
    const names = [...src.matchAll(/const \w+: SaNames = SaNames::new\("(\w+)", "(\w+)", "(\w+)"\);/g)]
      .map((m) => ({ table: m[1], column: m[2], alias: m[3] }));
    return names.flatMap((n) =>
      [`IS NOT NULL ORDER BY ${n.column}`, "= ?1"].map((filter) => ({ ...n, filter })));
  }
  if (file.endsWith("store/verify_limits.rs") && /\{parent\}/.test(s.value)) {
    // The `Definitions` tables: one statement per table (a field's `\` line breaks folded).
    return [...src.matchAll(/const \w+: Definitions<\w+> = Definitions \{([\s\S]*?)\};/g)].map((m) => {
      const field = (name) => m[1].match(new RegExp(`\\b${name}: "([^"]*)"`))?.[1].replace(/\\\n\s*/g, "");
      return { table: field("table"), columns: field("columns"), parent: field("parent") };
    });
  }
  if (file.endsWith("store/upkeep.rs") && /\{due\}/.test(s.value)) {
    const due = src.slice(src.indexOf("fn due("), src.indexOf("fn due(") + 2000);
    const body = due.slice(0, due.indexOf("\n    }\n"));
    return [...body.matchAll(/\(\s*"(\w+)",\s*"([^"]+)",?\s*\)/g)].map((m) => ({ table: m[1], due: m[2] }));
  }
  return undefined;
}

/** The string literals of a Rust source: `{ value, start, end }` (escapes decoded). */
export function rustStrings(src) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "/") i = src.indexOf("\n", i) === -1 ? src.length : src.indexOf("\n", i);
    else if (c === "/" && src[i + 1] === "*") i = src.indexOf("*/", i + 2) + 2;
    else if (c === "'") {
      // A char literal ('x', '\n', '\'') or a lifetime ('a, 'static).
      if (src[i + 1] === "\\") i = src.indexOf("'", i + 3) + 1;
      else if (src[i + 2] === "'") i += 3;
      else i += 1;
    } else if (c === "r" && /^r#*"/.test(src.slice(i, i + 8)) && !/\w/.test(src[i - 1] ?? "")) {
      const hashes = src.slice(i + 1).match(/^#*/)[0];
      const open = i + 2 + hashes.length;
      const close = src.indexOf(`"${hashes}`, open);
      out.push({ value: src.slice(open, close), start: i, end: close + 1 + hashes.length });
      i = close + 1 + hashes.length;
    } else if (c === '"') {
      let value = "";
      let j = i + 1;
      for (; src[j] !== '"'; j++) {
        if (src[j] !== "\\") {
          value += src[j];
          continue;
        }
        const e = src[++j];
        if (e === "\n") {
          while (/\s/.test(src[j + 1])) j++;
        } else value += { n: "\n", t: "\t", r: "\r", 0: "\0" }[e] ?? e;
      }
      out.push({ value, start: i, end: j + 1 });
      i = j + 1;
    } else i += 1;
  }
  return out;
}

const SQL_START = /^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE)\b/i;

function storeSources() {
  const dir = path.join(ROOT, "src/store");
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith(".rs"))
    .sort()
    .map((f) => ({ file: `src/store/${f}`, src: readFileSync(path.join(dir, f), "utf8") }));
}

/** `{ file, sql, unresolved }` for every statement the store prepares. */
export function storeStatements() {
  const sources = storeSources().map((s) => ({ ...s, strings: rustStrings(s.src) }));
  const consts = {};
  const constLiterals = new Map();
  let freeTemplate;
  for (const { src, strings } of sources) {
    for (const s of strings) {
      const before = src.slice(Math.max(0, s.start - 120), s.start);
      const m = before.match(/const\s+(\w+)\s*:\s*&(?:'static\s+)?str\s*=\s*$/);
      if (m) {
        consts[m[1]] = s.value;
        constLiterals.set(s, m[1]);
      }
      if (/fn free_for_service\([^)]*\)[^{]*\{\s*format!\(\s*$/.test(before)) freeTemplate = s.value;
    }
  }
  const listings = [];
  for (const { src, strings } of sources) {
    const field = (name, from) => {
      const m = src.slice(from).match(new RegExp(`\\b${name}\\s*(?::\\s*)?([A-Z_]+|")`));
      if (!m) return undefined;
      if (m[1] !== '"') return consts[m[1]];
      const at = from + m.index + m[0].length - 1;
      return strings.find((s) => s.start === at)?.value;
    };
    // A keyset list's `key: Some("…")` (`None`: walked by page number only).
    const key = (from) => src.slice(from).match(/\bkey:\s*(?:Some\("([^"]*)"\)|None)/)?.[1];
    for (const m of src.matchAll(/const fn (\w+)\(from: &'static str, columns: &'static str\)[\s\S]*?Listing \{([\s\S]*?)\}/g)) {
      const mine = field("mine", m.index + m[0].indexOf("Listing {"));
      const order = field("order", m.index + m[0].indexOf("Listing {"));
      const keyed = key(m.index + m[0].indexOf("Listing {"));
      for (const call of src.matchAll(new RegExp(`\\b${m[1]}\\(\\s*"`, "g"))) {
        const first = strings.find((s) => s.start === call.index + call[0].length - 1);
        const second = strings.find((s) => s.start > first.end);
        listings.push({ from: first.value, columns: second.value, mine, order, key: keyed });
      }
    }
    for (const m of src.matchAll(/Listing(?:<'\w+>)? = Listing \{|let listing = super::Listing \{/g)) {
      const at = m.index + m[0].length;
      listings.push({ columns: field("columns", at), from: field("from", at), mine: field("mine", at), order: field("order", at), key: key(at) });
    }
  }
  // A constant spliced into other literals is a fragment, not a statement of its own.
  const spliced = new Set();
  for (const { strings } of sources) {
    for (const s of strings) for (const m of s.value.matchAll(/\{(\w+)\}/g)) spliced.add(m[1]);
  }
  const out = [];
  for (const { file, src, strings } of sources) {
    for (const s of strings) {
      if (s.value === freeTemplate || spliced.has(constLiterals.get(s))) continue;
      const head = s.value.replace(/^\{(\w+)\}/, (all, name) => consts[name] ?? all);
      if (!SQL_START.test(head)) continue;
      const after = src.slice(s.end, s.end + 200);
      const free = after.match(/^[^;]*?\bfree\s*=\s*free_for_service\(\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\)/);
      const expand = (sql, extra = {}) => {
        const unresolved = [];
        const done = sql.replace(/\{(\w+)\}/g, (all, name) => {
          if (name in extra) return extra[name];
          if (name === "free" && free && freeTemplate) {
            return freeTemplate.replace("{svc}", free[1]).replace("{now}", free[2]);
          }
          if (name in consts) return consts[name];
          if (name in DYNAMIC) return DYNAMIC[name];
          unresolved.push(name);
          return all;
        });
        // A subquery fragment is planned as the expression it is.
        const text = done.trim();
        return { file, sql: text.startsWith("(") ? `SELECT ${text}` : text, unresolved };
      };
      const shaped = shapeVariants(file, src, s, free && freeTemplate
        ? freeTemplate.replace("{svc}", free[1]).replace("{now}", free[2]) : undefined);
      if (shaped) {
        for (const v of shaped) out.push(expand(s.value, v));
        continue;
      }
      // Every combination of the statement's placeholders that take several values.
      const variants = [...new Set([...s.value.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))]
        .filter((name) => Array.isArray(DYNAMIC[name]))
        .reduce((combos, name) => combos.flatMap((c) => DYNAMIC[name].map((v) => ({ ...c, [name]: v }))), [{}]);
      if (/\{(columns|from|mine|order|key)\}/.test(s.value)) {
        // A keyset statement is prepared only for the lists that have a key.
        const keyset = /\{key\}/.test(s.value);
        for (const l of listings) {
          if (keyset && l.key === undefined) continue;
          const { key: k, ...fragments } = l;
          out.push(expand(s.value, keyset ? { ...fragments, key: k } : fragments));
        }
      } else {
        for (const v of variants) out.push(expand(s.value, v));
      }
    }
  }
  return out;
}
