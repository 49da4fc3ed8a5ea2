// `npm test`'s deploy check, on what scripts/build.sh built: `wrangler deploy --dry-run`
// bundles each of the three Workers (the front from wrangler.toml, the others from the
// configs scripts/workers.mjs made) with every binding of its config (D1, KV, Durable
// Objects, queues, services, vars, and the front's static assets) without an account or the
// network; each Durable Object class is exported by the front's bundle and created by a
// migration, and each upload fits the Workers size limits.
//
//   node scripts/deploy-check.mjs [outdir]     (default: a fresh temporary directory)
//
// Size limits: since 2026-09 a Worker may be up to 64 MiB uncompressed on every plan; before,
// 3 MiB gzipped on the free plan and 10 MiB on the paid one, which wrangler 4.86 still reports
// against. Both are checked (the uncompressed limit and the free plan's former one), so the
// bundle deploys on any account, under either rule.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { PARTS, ROOT, wranglerBindings, wranglerVars } from "../tests/support/app.mjs";

const MIB = 1024 * 1024;
const LIMITS = { uncompressed: 64 * MIB, gzip: 3 * MIB };

const outroot = path.resolve(process.argv[2] ?? mkdtempSync(path.join(tmpdir(), "otpedge-deploy-")));
const wrangler = path.join(ROOT, "node_modules/.bin/wrangler");
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const { durableObjects } = wranglerBindings();
const problems = [];

/** `wrangler deploy --dry-run` of one config into `outdir`: its output, or the exit. */
function dryRun(config, outdir) {
  try {
    return execFileSync(wrangler, ["deploy", "--dry-run", "--config", config, "--outdir", outdir], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    console.error(`${e.stdout ?? ""}${e.stderr ?? ""}`);
    console.error(`deploy check: \`wrangler deploy --dry-run --config ${config}\` failed`);
    process.exit(1);
  }
}

/** Checks one Worker's dry run: its bindings in the bundle, its upload within the limits. */
function check(name, config, outdir, { front }) {
  const output = dryRun(config, outdir);
  const fail = (what) => problems.push(`${name}: ${what}`);
  if (!output.includes("--dry-run: exiting now.")) fail("wrangler did not finish its dry run");
  const toml = readFileSync(path.join(ROOT, config), "utf8");
  const bindings = [
    ...[...toml.matchAll(/^binding\s*=\s*"(\w+)"/gm)].map((m) => m[1]),
    ...Object.keys(durableObjects),
    ...Object.keys(wranglerVars()),
  ];
  for (const b of bindings) {
    if (!new RegExp(`env\\.${b}\\s`).test(output)) fail(`binding ${b} is not in the bundle`);
  }
  const files = readdirSync(outdir).filter((f) => f.endsWith(".js") || f.endsWith(".wasm"));
  if (front) {
    const assets = output.match(/Read (\d+) files? from the assets directory/);
    if (!assets || Number(assets[1]) === 0) fail("no static assets were read");
    // Each Durable Object class: exported by the bundle, and created by exactly one migration.
    const entry = readFileSync(path.join(outdir, "index.js"), "utf8");
    const exported = new Set(
      [...entry.matchAll(/export\s*\{([^}]*)\}/g)].flatMap((m) =>
        m[1].split(",").map((s) => s.trim().split(/\s+as\s+/).pop()),
      ),
    );
    const migrated = [...toml.matchAll(/^new_(?:sqlite_)?classes\s*=\s*\[([^\]]*)\]/gm)].flatMap(
      (m) => [...m[1].matchAll(/"(\w+)"/g)].map((c) => c[1]),
    );
    for (const { className } of Object.values(durableObjects)) {
      if (!exported.has(className)) fail(`Durable Object class ${className} is not exported`);
      const n = migrated.filter((c) => c === className).length;
      if (n !== 1) fail(`Durable Object class ${className} is created by ${n} migrations`);
    }
  }
  // The upload as wrangler measures it: every module, one after the other, gzipped at once.
  const upload = Buffer.concat(files.map((f) => readFileSync(path.join(outdir, f))));
  const size = { uncompressed: upload.length, gzip: gzipSync(upload).length };
  for (const [kind, limit] of Object.entries(LIMITS)) {
    if (size[kind] > limit) fail(`the upload is ${kib(size[kind])} ${kind}, over ${kib(limit)}`);
  }
  console.log(
    `deploy check: ${name}: ${files.join(", ")} in ${outdir}: ${kib(size.uncompressed)} ` +
      `(limit ${kib(LIMITS.uncompressed)}), gzip ${kib(size.gzip)} (limit ${kib(LIMITS.gzip)}); ` +
      `${bindings.length} bindings`,
  );
}

check("otpedge", "wrangler.toml", path.join(outroot, "otpedge"), { front: true });
// A first deployment's front: the same, without its service bindings (docs/deployment.md).
check("otpedge (first deploy)", "build/first/wrangler.toml", path.join(outroot, "first"), {
  front: true,
});
for (const { part } of PARTS) {
  const config = path.join("build", part, "wrangler.toml");
  check(`otpedge-${part}`, config, path.join(outroot, part), { front: false });
}
if (problems.length) {
  console.error(`deploy check failed:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
