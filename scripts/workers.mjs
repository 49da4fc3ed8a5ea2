// The wrangler configs of the Workers the front hands routes to (src/http/parts.rs), made
// from wrangler.toml by scripts/build.sh, so that every Worker has the same vars, D1
// database, KV namespaces and queue producer: build/<part>/wrangler.toml for each part
// below. Each binds the front's Durable Objects (`script_name`), and hosts no object, queue
// consumer, Cron Trigger or static asset. The front's `[[services]]` must name them; a
// local `.dev.vars` (the secrets of `npm start`) is copied beside each, where `wrangler dev`
// reads it. Also build/first/wrangler.toml: the front without its service bindings, for a
// first deployment (a binding needs its Worker to exist, and these Workers bind the front's
// objects: docs/deployment.md).
//
//   node scripts/workers.mjs     (after the wasm builds; scripts/build.sh runs it)
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { PARTS, ROOT, wranglerBindings } from "../tests/support/app.mjs";

/** Each `[section]` / `[[section]]` of a TOML text with its lines (comments dropped). */
function sections(toml) {
  const out = [];
  for (const line of toml.split("\n")) {
    const header = line.match(/^(\[\[?[\w.]+\]\]?)\s*$/);
    if (header) out.push({ header: header[1], lines: [] });
    else if (out.length && !line.startsWith("#")) out.at(-1).lines.push(line);
  }
  return out;
}

const text = (section) => [section.header, ...section.lines].join("\n").trim();

/** The config of the Worker of `part`. */
function partConfig(toml, front, part) {
  const KEPT = new Set(["[vars]", "[[d1_databases]]", "[[kv_namespaces]]", "[[queues.producers]]"]);
  const kept = sections(toml)
    .filter((s) => KEPT.has(s.header))
    .map((s) => text({ ...s, lines: s.lines.filter((l) => !/^migrations_dir\s*=/.test(l)) }));
  const objects = Object.entries(wranglerBindings().durableObjects).map(
    ([name, { className }]) =>
      `  { name = "${name}", class_name = "${className}", script_name = "${front}" },`,
  );
  return [
    "# Made by scripts/workers.mjs from wrangler.toml at build time: edit wrangler.toml.",
    `name = "${front}-${part}"`,
    'main = "index.js"',
    `compatibility_date = "${toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1]}"`,
    "# Reachable only through the front's service binding: no workers.dev address, no route.",
    "workers_dev = false",
    "",
    ...kept.flatMap((s) => [s, ""]),
    "[durable_objects]",
    "bindings = [",
    ...objects,
    "]",
    "",
  ].join("\n");
}

/** The front's config without its service bindings (and its build step), from build/first/. */
function firstConfig(toml) {
  const top = toml.split(/^\[/m)[0].replace(/^main\s*=.*$/m, 'main = "../index.js"');
  const rest = sections(toml)
    .filter((s) => s.header !== "[[services]]" && s.header !== "[build]")
    .map((s) => text(s).replace(/^directory\s*=\s*"public"/m, 'directory = "../../public"'));
  return [
    "# Made by scripts/workers.mjs: wrangler.toml without its [[services]], for a first deploy.",
    top.trim(),
    "",
    ...rest.flatMap((s) => [s, ""]),
  ].join("\n");
}

function write() {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const front = toml.match(/^name\s*=\s*"([^"]+)"/m)?.[1];
  const problems = front ? [] : ["wrangler.toml has no name"];
  for (const { part, binding } of PARTS) {
    const bound = new RegExp(`binding\\s*=\\s*"${binding}"\\s*\\nservice\\s*=\\s*"${front}-${part}"`);
    if (!bound.test(toml)) problems.push(`wrangler.toml binds no ${binding} to ${front}-${part}`);
  }
  if (problems.length) {
    console.error(`scripts/workers.mjs: ${problems.join("; ")}`);
    process.exit(1);
  }
  const devVars = path.join(ROOT, ".dev.vars");
  for (const { part } of PARTS) {
    const dir = path.join(ROOT, "build", part);
    writeFileSync(path.join(dir, "wrangler.toml"), partConfig(toml, front, part));
    if (existsSync(devVars)) copyFileSync(devVars, path.join(dir, ".dev.vars"));
  }
  mkdirSync(path.join(ROOT, "build", "first"), { recursive: true });
  writeFileSync(path.join(ROOT, "build", "first", "wrangler.toml"), firstConfig(toml));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) write();
