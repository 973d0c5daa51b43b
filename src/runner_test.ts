import assert from "node:assert/strict";
import { allCases } from "../conformance/mod.ts";
import { parseManifest } from "./manifest.ts";
import { runCase } from "./runner.ts";

const hostile = new URL("../fixtures/hostile/hostile.py", import.meta.url).pathname;
const echo1 = allCases.find((c) => c.id === "echo/unix/1")!;

function hostileTarget(mode: string, extra: Record<string, unknown> = {}) {
  return parseManifest({
    name: `hostile-${mode}`,
    kind: "stream-echo",
    transports: ["unix"],
    command: ["python3", hostile, "--mode", mode, "--unix", "{path}"],
    timeoutMs: 500,
    killGraceMs: 300,
    ...extra,
  }, "/test/hostile.json");
}

function sockspecTempDirs(): string[] {
  return [...Deno.readDirSync(Deno.env.get("TMPDIR") ?? "/tmp")].map((e) => e.name).filter((n) =>
    n.startsWith("sockspec-")
  );
}

function processesRunning(marker: string): string[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,stat=,args="], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes(marker) && !/\sZ/.test(l.slice(0, 16))
  );
}

Deno.test("a target that never becomes ready gets ERROR within its readiness timeout, with its stderr tail", async () => {
  const before = sockspecTempDirs();
  const target = hostileTarget("never-ready", { ready: { timeoutMs: 800 } });
  const t0 = performance.now();
  const r = await runCase(target, echo1);
  const took = performance.now() - t0;
  assert.equal(r.verdict, "ERROR", r.message);
  assert.match(r.message, /did not become ready within 800 ms/);
  assert.match(r.message, /refusing to listen, on purpose/, "the stderr tail is in the message");
  assert.ok(took < 800 + 2000, `took ${took} ms`);
  assert.deepEqual(processesRunning("--mode never-ready"), [], "the target was torn down");
  assert.deepEqual(sockspecTempDirs(), before, "no temp dir is left");
});

Deno.test("a target that accepts and never answers gets FAIL within the case timeout", async () => {
  const target = hostileTarget("silent");
  const t0 = performance.now();
  const r = await runCase(target, echo1);
  const took = performance.now() - t0;
  assert.equal(r.verdict, "FAIL", r.message);
  assert.match(r.message, /no progress within 500 ms/);
  assert.ok(took < 500 + 2000, `took ${took} ms`);
  assert.deepEqual(processesRunning("--mode silent"), []);
});

Deno.test("a grandchild that ignores SIGTERM is killed with its session", async () => {
  const target = hostileTarget("grandchild");
  const r = await runCase(target, echo1);
  assert.equal(r.verdict, "FAIL", r.message);
  assert.deepEqual(processesRunning("signal.SIG_IGN"), [], "the grandchild is gone");
});
