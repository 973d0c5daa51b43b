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

/** Runs `fn` with TMPDIR set to a fresh private dir; returns what is left in it afterwards. */
async function leftInPrivateTmp(fn: () => Promise<void>): Promise<string[]> {
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  const old = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", tmp);
  try {
    await fn();
  } finally {
    if (old === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", old);
  }
  const left = [...Deno.readDirSync(tmp)].map((e) => e.name);
  await Deno.remove(tmp, { recursive: true });
  return left;
}

function processesRunning(marker: string): string[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,stat=,args="], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes(marker) && !/\sZ/.test(l.slice(0, 16))
  );
}

Deno.test("a target that never becomes ready gets ERROR within its readiness timeout, with its stderr tail", async () => {
  const target = hostileTarget("never-ready", { ready: { timeoutMs: 800 } });
  const t0 = performance.now();
  let r!: Awaited<ReturnType<typeof runCase>>;
  const left = await leftInPrivateTmp(async () => {
    r = await runCase(target, echo1);
  });
  const took = performance.now() - t0;
  assert.equal(r.verdict, "ERROR", r.message);
  assert.match(r.message, /did not become ready within 800 ms/);
  assert.match(r.message, /refusing to listen, on purpose/, "the stderr tail is in the message");
  assert.ok(took < 800 + 2000, `took ${took} ms`);
  assert.deepEqual(processesRunning("--mode never-ready"), [], "the target was torn down");
  assert.deepEqual(left, [], "no temp dir is left");
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
