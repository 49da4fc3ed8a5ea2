// The published contract: GET /openapi.json serves openapi/openapi.json (a static asset,
// public/openapi.json, copied by scripts/build.sh), the document is valid
// OpenAPI 3.1, and a short seeded schemathesis run (every operation, all default checks) finds
// nothing. `npm run fuzz:api` is the long run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { spawnApp, ROOT } from "./support/app.mjs";
import { fuzz } from "../scripts/fuzz-api.mjs";

const DOC = path.join(ROOT, "openapi/openapi.json");
const PYTHON = path.join(ROOT, ".venv/bin/python");

test("GET /openapi.json serves the document as a static asset, not through the Worker", async () => {
  const app = await spawnApp();
  try {
    const r = await app.request("GET", "/openapi.json");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(r.body, JSON.parse(readFileSync(DOC, "utf8")));
    // Served from public/ without running the Worker: none of the Worker's rate-limit headers.
    assert.equal(r.headers.get("x-ratelimit-limit"), null);
    assert.equal((await app.request("POST", "/openapi.json")).status, 405);
  } finally {
    await app.close();
  }
});

test("openapi/openapi.json is valid OpenAPI 3.1 (openapi-spec-validator)", () => {
  const doc = JSON.parse(readFileSync(DOC, "utf8"));
  assert.match(doc.openapi, /^3\.1\./);
  const out = execFileSync(PYTHON, ["-c", "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; d, _ = read_from_filename(sys.argv[1]); validate(d); print('valid')", DOC], { encoding: "utf8" });
  assert.equal(out.trim(), "valid");
});

test("schemathesis: every operation, all default checks, seeded short run", { timeout: 900_000 }, async () => {
  let output = "";
  const result = await fuzz({ seed: 20261130, maxExamples: 8, workers: 1, log: (s) => (output += s) });
  const failed = result.runs.filter((r) => r.code !== 0);
  assert.equal(failed.length, 0, failed.map((r) => `--- ${r.name} (exit ${r.code})\n${r.output.slice(-12000)}`).join("\n"));
  assert.match(output, /passed/i);
});
