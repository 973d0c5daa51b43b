import assert from "node:assert/strict";
import { waitUntil } from "./wait.ts";

Deno.test("waitUntil: true once the condition holds, false at the timeout", async () => {
  let n = 0;
  assert.equal(await waitUntil(() => ++n >= 3, { timeoutMs: 2000, intervalMs: 1 }), true);
  assert.equal(n, 3);
  const t0 = performance.now();
  assert.equal(await waitUntil(() => false, { timeoutMs: 50 }), false);
  assert.ok(performance.now() - t0 >= 45);
});

Deno.test("waitUntil: an abort ends the wait at once with the signal's reason", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stopped")), 20);
  const t0 = performance.now();
  await assert.rejects(
    waitUntil(() => false, { timeoutMs: 10_000, signal: controller.signal }),
    /stopped/,
  );
  assert.ok(performance.now() - t0 < 5000);
});

Deno.test("waitUntil: a condition that throws rejects the wait", async () => {
  await assert.rejects(
    waitUntil(() => {
      throw new Error("boom");
    }, { timeoutMs: 100 }),
    /boom/,
  );
});
