// The seeded chaos soak (`scripts/soak.mjs --faults`) for 60 s against the built Worker: every
// money and OTP route under load while faults are injected, then every invariant in D1. The
// seed fixes each loop's choices (operation, account, fault, keys); timing still varies, so
// this asserts invariants and that each fault kind met the Worker, never exact counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SEED = 20261204;
const FAULT_KINDS = [
  "after_commit",
  "complete_record",
  "release_fails",
  "db_lost_after_commit",
  "activation_unarmed",
  "object_restarted",
  "kv_write_fails",
  "object_answer_lost",
  "refund_fails",
  "refund_unqueued",
  "provider_refuses",
  "provider_5xx",
  "provider_hangs",
  "queue_duplicate",
];

/** Runs the soak as `npm run soak` would, minus the setup and build `npm test` already did. */
function soak(args) {
  const dir = mkdtempSync(join(tmpdir(), "otpedge-soak-"));
  const file = join(dir, "report.json");
  return new Promise((resolve, reject) => {
    let output = "";
    const child = spawn(process.execPath, ["scripts/soak.mjs", ...args, "--report", file], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve({ code, output, report: JSON.parse(readFileSync(file, "utf8")) });
      } catch (e) {
        reject(new Error(`soak exited ${code} without a report: ${e}\n${output.slice(-4000)}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

test("seeded 60-second chaos soak: every invariant holds, no 5xx but injected ones", { timeout: 240_000 }, async () => {
  const { code, output, report } = await soak(["--faults", "--seconds", "60", "--seed", String(SEED), "--concurrency", "16"]);
  const context = `seed ${SEED}; repeat with: node scripts/soak.mjs --faults --seconds 60 --seed ${SEED} --concurrency 16\n${output.slice(-3000)}`;
  assert.equal(report.seed, SEED);
  assert.deepEqual(report.violations, [], context);
  assert.equal(report.serverErrorsOurs, 0, context);
  assert.deepEqual(report.serverErrorSamples, [], context);
  assert.equal(report.harnessErrorCount, 0, context);
  assert.match(report.errorRate, /network 0\)$/, context);
  assert.deepEqual(report.workerLog, [], context);
  assert.equal(code, 0, context);

  // The run cannot pass by injecting nothing: each kind met the Worker at least once.
  for (const kind of FAULT_KINDS) assert.ok(report.faultsInjected[kind] > 0, `fault ${kind} never injected: ${JSON.stringify(report.faultsInjected)}`);
  for (const [kind, calls] of Object.entries(report.voiceProviderCalls)) assert.ok(calls > 0, `the voice stub never saw ${kind}`);
  assert.ok(report.serverErrorsInjected > 0, "no injected fault answered 5xx");
  assert.ok(report.cronPasses > 0, "the Cron pass never ran");

  // Money moved: charges, refunds and the rest of the ledger's kinds.
  const ledger = Object.fromEntries(report.counts.ledgerRows.split(" ").map((kv) => kv.split("=")).map(([k, n]) => [k, Number(n)]));
  for (const kind of ["purchase", "refund", "rent", "otp_send", "otp_refund", "message_send", "message_refund"]) {
    assert.ok(ledger[kind] > 0, `no ${kind} ledger row: ${report.counts.ledgerRows}`);
  }
  console.log(`[soak test] ${report.requests} requests in ${report.seconds} s; 5xx injected ${report.serverErrorsInjected}, ours 0; faults ${JSON.stringify(report.faultsInjected)}; ledger ${report.counts.ledgerRows}`);
});
