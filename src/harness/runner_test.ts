import assert from "node:assert/strict";
import { allCases } from "../../conformance/mod.ts";
import { type Case, pass, TargetError } from "../case/case.ts";
import type { WireEvent } from "../case/evidence.ts";
import { loadManifest, parseManifest } from "./manifest.ts";
import { runAll, runCase } from "./runner.ts";
import { connect, readExactly, sleep, withTimeout, writeAll } from "../net/sockets.ts";
import { messageFaults } from "../reports/report.ts";
import { toHex } from "../python/repr.ts";

const hostile = new URL("../../fixtures/hostile/hostile.py", import.meta.url).pathname;
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
  assert.match(r.message, /reading 42 bytes: nothing came back for 500 ms/);
  assert.ok(took < 500 + 2000, `took ${took} ms`);
  assert.deepEqual(processesRunning("--mode silent"), []);
});

Deno.test("a grandchild that ignores SIGTERM is killed with its session", async () => {
  const target = hostileTarget("grandchild");
  const r = await runCase(target, echo1);
  assert.equal(r.verdict, "FAIL", r.message);
  assert.deepEqual(processesRunning("signal.SIG_IGN"), [], "the grandchild is gone");
});

Deno.test("a case that keeps working after its hard limit: what it tracks or defers late is cleaned up at once", async () => {
  const target = parseManifest({
    name: "late",
    kind: "stream-echo",
    transports: ["tcp"],
    command: ["true"],
    timeoutMs: 100,
    ready: { timeoutMs: 50 },
  }, "/test/late.json");
  let port = 0;
  let deferredRan = false;
  let startError: unknown;
  let lateDone!: () => void;
  const late = new Promise<void>((resolve) => (lateDone = resolve));
  const slow: Case = {
    id: "test/late/1",
    requirement: "Keeps working after its hard limit.",
    level: "MUST",
    kind: "stream-echo",
    timeoutMs: 50,
    async run(ctx) {
      try {
        await sleep(300); // far past 50 + 50 ms
        const listener = ctx.track(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
        port = listener.addr.port;
        ctx.defer(() => {
          deferredRan = true;
        });
        startError = await ctx.start().then(() => undefined, (err) => err);
        return pass("finished late");
      } finally {
        lateDone();
      }
    },
  };
  const r = await runCase(target, slow);
  assert.equal(r.verdict, "FAIL", r.message);
  assert.match(r.message, /did not finish within 100 ms/);
  await late;
  await sleep(20);
  assert.ok(port > 0, "the case tracked its listener");
  await assert.rejects(
    connect({ transport: "tcp", hostname: "127.0.0.1", port }, 500),
    (e: Error) => (e as { code?: string }).code === "ECONNREFUSED",
    "a listener tracked after the teardown is closed at once",
  );
  assert.ok(deferredRan, "a step deferred after the teardown runs at once");
  assert.ok(startError instanceof TargetError, `start after the teardown: ${startError}`);
});

Deno.test("a case leaves no listener on the run's abort signal", async () => {
  const target = parseManifest({
    name: "quick",
    kind: "stream-echo",
    transports: ["tcp"],
    command: ["true"],
  }, "/test/quick.json");
  const quick: Case = {
    id: "test/quick/1",
    requirement: "Passes at once.",
    level: "MUST",
    kind: "stream-echo",
    run: () => Promise.resolve(pass("done")),
  };
  const signal = new AbortController().signal;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: EventListener) => {
    live.add(fn);
    add(type, fn);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, fn: EventListener) => {
    live.delete(fn);
    remove(type, fn);
  }) as typeof signal.removeEventListener;
  for (let i = 0; i < 3; i++) {
    const r = await runCase(target, quick, { signal });
    assert.equal(r.verdict, "PASS", r.message);
  }
  assert.equal(live.size, 0, `${live.size} listeners left on the run's signal after 3 cases`);
});

Deno.test("the wire log of the tutorial echo (16-byte reads) has its events in order, with the server's lines", async () => {
  const target = await loadManifest(
    new URL("../../fixtures/targets/python-echo-tcp.json", import.meta.url).pathname,
  );
  const message = new TextEncoder().encode("This is the message.  It will be repeated.");
  const tutorialClient: Case = {
    id: "test/wire/1",
    requirement: "The tutorial client's exchange.",
    level: "MUST",
    kind: "stream-echo",
    transport: "tcp",
    async run(ctx) {
      const server = await ctx.start();
      const conn = await ctx.connect(server.address("tcp"));
      await writeAll(conn, message, ctx.timeoutMs);
      let got = 0;
      while (got < message.length) {
        const n = await withTimeout(conn.read(new Uint8Array(16)), ctx.timeoutMs, "reading");
        if (n === null) break;
        got += n;
      }
      conn.close();
      // the server prints its last lines once it sees the end of stream
      await server.stdout.waitFor(/no data from/, ctx.timeoutMs);
      return pass(`${got} bytes came back`);
    },
  };
  const result = await runCase(target, tutorialClient);
  assert.equal(result.verdict, "PASS", result.message);
  const wire = result.evidence.wire!;
  const step = (e: WireEvent) =>
    e.kind === "stdout" || e.kind === "stderr"
      ? `${e.kind}: ${e.text}`
      : `${e.kind}${e.conn ? ` #${e.conn}` : ""}${e.bytes !== undefined ? ` ${e.bytes} B` : ""}`;
  // the client's side, in order
  assert.deepEqual(wire.filter((e) => e.conn === 1).map(step), [
    "connect #1",
    "write #1 42 B",
    "read #1 16 B",
    "read #1 16 B",
    "read #1 10 B",
    "close #1",
  ]);
  const read = wire.filter((e) => e.kind === "read");
  assert.equal(read.map((e) => e.head).join(""), toHex(message));
  // the server's side: the tutorial transcript, in order, on the same clock
  const lines = wire.filter((e) => e.kind === "stdout").map((e) => e.text!);
  assert.match(lines[0], /^starting up on 127\.0\.0\.1 port \d+$/);
  assert.match(lines[2], /^connection from \('127\.0\.0\.1', \d+\)$/);
  assert.deepEqual(lines, [
    lines[0],
    "waiting for a connection",
    lines[2],
    "received b'This is the mess'",
    "sending data back to the client",
    "received b'age.  It will be'",
    "sending data back to the client",
    "received b' repeated.'",
    "sending data back to the client",
    "received b''",
    `no data from ${lines[2].slice("connection from ".length)}`,
    "waiting for a connection",
  ]);
  const at = (pred: (e: WireEvent) => boolean) => wire.findIndex(pred);
  assert.ok(at((e) => e.kind === "start") < at((e) => e.kind === "connect"));
  assert.ok(
    at((e) => e.text === "waiting for a connection") < at((e) => e.kind === "connect"),
    "the server waits before the client connects",
  );
  assert.ok(at((e) => e.kind === "write") < at((e) => e.text === "received b'This is the mess'"));
  assert.ok(at((e) => e.kind === "close") < at((e) => e.text === "received b''"));
  assert.equal(wire.at(-1)!.kind, "exit");
  for (let i = 1; i < wire.length; i++) assert.ok(wire[i].atUs >= wire[i - 1].atUs);
});

Deno.test("a refused connect names the step, the errno once, and how the server had stopped", async () => {
  const target = await loadManifest(
    new URL("../../fixtures/broken/echo-one-client.json", import.meta.url).pathname,
  );
  const message = new TextEncoder().encode("This is the message.  It will be repeated.");
  const twoClients: Case = {
    id: "test/steps/1",
    requirement: "Two clients in turn.",
    level: "MUST",
    kind: "stream-echo",
    transport: "tcp",
    async run(ctx) {
      const server = await ctx.start();
      for (let i = 0; i < 2; i++) {
        const conn = await ctx.connect(server.address("tcp"));
        await writeAll(conn, message, ctx.timeoutMs);
        await readExactly(conn, message.length, ctx.timeoutMs);
        conn.close();
        // the one-client server exits once its client has gone
        if (i === 0) await server.waitExit(ctx.timeoutMs);
      }
      return pass("both served");
    },
  };
  const result = await runCase(target, twoClients);
  assert.equal(result.verdict, "FAIL");
  assert.match(
    result.message,
    /^the 2nd connect to 127\.0\.0\.1:\d+ failed: \[Errno 111\] Connection refused \(the target stopped by itself: pid \d+, exited with code 0 at \+[\d.]+ ms, after the case's 1st connection\)$/,
  );
  assert.deepEqual(messageFaults(result.message), []);
  const kinds = result.evidence.wire!.filter((e) => e.conn).map((e) => `${e.kind} #${e.conn}`);
  assert.deepEqual(kinds.slice(0, 1), ["connect #1"]);
  assert.equal(kinds.at(-1), "connect-failed #2");
  assert.ok(
    result.evidence.wire!.some((e) => e.kind === "exit" && /exited with code 0/.test(e.text!)),
  );
  assert.match(
    result.rerun!,
    /^deno task sockspec check --target .*echo-one-client\.json test\/steps\/1 --seed \d+$/,
  );
});

Deno.test("runAll: cases run at once across and within targets, results stay in case order; an attached target's cases run one at a time", async () => {
  const started = (tcp: string) =>
    parseManifest({
      name: `started-${tcp}`,
      kind: "stream-echo",
      transports: ["tcp"],
      command: ["true"],
    }, "/test/started.json");
  const attached = parseManifest({
    name: "attached",
    kind: "stream-echo",
    transports: ["tcp"],
    attach: { port: 9 },
  }, "/test/attached.json");
  let running = 0;
  let most = 0;
  const inAttached: boolean[] = [];
  const sleepy = (n: number): Case => ({
    id: `test/sleepy/${n}`,
    requirement: "sleeps",
    level: "MUST",
    kind: "stream-echo",
    transport: "tcp",
    async run(ctx) {
      running++;
      most = Math.max(most, running);
      if (ctx.target.name === "attached") inAttached.push(true);
      await sleep(30 - n * 5);
      if (ctx.target.name === "attached") inAttached.pop();
      running--;
      return pass(`case ${n}`);
    },
  });
  const cases = [1, 2, 3, 4].map(sleepy);
  let attachedOverlap = 0;
  const report = await runAll([started("a"), attached, started("b")], cases, {
    jobs: 4,
    onCaseStart: (t) => {
      if (t.name === "attached" && inAttached.length > 0) attachedOverlap++;
    },
  });
  assert.ok(most > 1, `cases never ran at once (most ${most})`);
  assert.equal(attachedOverlap, 0, "an attached target's cases overlapped");
  for (const t of report.targets) {
    assert.deepEqual(t.results.map((r) => r.id), cases.map((c) => c.id), t.name);
  }
  assert.equal(typeof report.seed, "number");
});

Deno.test("the wire log shows a flooding target's first and really last lines, and counts those between", async () => {
  const target = parseManifest({
    name: "flood",
    kind: "stream-echo",
    transports: ["tcp"],
    // 3000 numbered lines, the last one without its newline, then it waits to be stopped
    command: ["sh", "-c", "seq 1 2999; printf 3000; exec sleep 30", "{port}"],
    ready: { kind: "none" },
  }, "flood.json");
  const flood: Case = {
    id: "test/flood/1",
    requirement: "The target's output is read to its end.",
    level: "MUST",
    kind: "stream-echo",
    transport: "tcp",
    async run(ctx) {
      const server = await ctx.start();
      await server.stdout.waitFor(/^3000$/m, ctx.timeoutMs);
      return pass("all of it came");
    },
  };
  const result = await runCase(target, flood);
  assert.equal(result.verdict, "PASS", result.message);
  const lines = result.evidence.wire!.filter((e) => e.kind === "stdout").map((e) => e.text!);
  assert.deepEqual(lines.slice(0, 3), ["1", "2", "3"]);
  assert.equal(lines[25], "… 2950 more stdout lines …");
  assert.deepEqual(lines.slice(-3), ["2998", "2999", "3000"]);
  assert.equal(lines.length, 51);
});
