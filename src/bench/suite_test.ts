import assert from "node:assert/strict";
import { streamEchoCases } from "../../conformance/echo/echo.ts";
import { formatSuiteTiming, timeSuite } from "./suite.ts";
import { referenceTargets } from "../reference/targets.ts";

Deno.test("timeSuite splits a case's time into start-up, own work and overhead", async () => {
  const targets = referenceTargets().filter((t) => t.name === "reference-echo-tcp");
  const cases = streamEchoCases("tcp").filter((c) =>
    c.id === "echo/tcp/1" || c.id === "echo/tcp/6"
  );
  const timing = await timeSuite(targets, cases);
  assert.deepEqual(timing.cases.map((c) => [c.id, c.verdict]), [
    ["echo/tcp/1", "PASS"],
    ["echo/tcp/6", "PASS"],
  ]);
  for (const c of timing.cases) {
    assert.ok(c.startMs > 0, `${c.id} started a target`);
    assert.ok(c.bodyMs >= 0 && c.overheadMs >= 0, JSON.stringify(c));
    assert.ok(Math.abs(c.startMs + c.bodyMs + c.overheadMs - c.totalMs) < 0.5);
  }
  // echo/tcp/6 sleeps 20 ms after each of its three clients: its own work shows it (less a
  // margin for timer granularity; a timer never fires much before its time).
  assert.ok(timing.cases[1].bodyMs >= 55, `own work ${timing.cases[1].bodyMs} ms`);
  const text = formatSuiteTiming(timing);
  assert.match(text, /^suite: 2 cases in /);
  assert.match(text, /echo\/tcp\s+2\s+\d+/);
  assert.match(text, /reference-echo-tcp echo\/tcp\/\d PASS: \d+ ms \(start \d+, own \d+/);
});
