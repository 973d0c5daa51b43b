/**
 * The reference stream echo server under load: 1,000 concurrent clients on a Unix socket and
 * on TCP each get their own payload back exactly, in bounded time and memory; a client that
 * writes without reading meets backpressure (the server does not buffer without bound); and
 * with a low `ulimit -n` accept errors do not kill the server, it says so on one line, and
 * it recovers when descriptors free up.
 *
 * The servers are the built-in reference targets, started and torn down by the harness
 * (src/harness/target.ts). Memory is the server process's RSS from /proc (VmRSS now, VmHWM peak),
 * printed in the test output.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseManifest, type Target } from "../harness/manifest.ts";
import { readProcSync } from "../net/proc.ts";
import { referenceTargets } from "./targets.ts";
import {
  closeQuietly,
  connect,
  readExactly,
  type StreamAddress,
  TimeoutError,
  withTimeout,
  writeAll,
} from "../net/sockets.ts";
import type { Instance } from "../harness/target.ts";
import { withServer } from "../testdata/with_server.ts";

const CLIENTS = 1000;
const MiB = 1 << 20;

function reference(name: string): Target {
  const target = referenceTargets().find((t) => t.name === name);
  assert.ok(target, `no reference target ${name}`);
  return target;
}

/** The server's resident memory now and at its peak, in MiB (from /proc/PID/status). */
function memory(server: Instance): { rss: number; peak: number } {
  const status = readProcSync(`/proc/${server.pid}/status`);
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  const rss = kib("VmRSS");
  const peak = kib("VmHWM");
  assert.ok(rss > 0 && peak > 0, `cannot read the memory of pid ${server.pid}: ${status}`);
  return { rss: Math.round(rss / 1024), peak: Math.round(peak / 1024) };
}

/** This process's open-file limit (Deno raises the soft limit to the hard one). */
function fileLimit(): number {
  const line = readProcSync("/proc/self/limits").split("\n").find((l) =>
    l.startsWith("Max open files")
  );
  return Number(line?.trim().split(/\s+/)[3] ?? 0);
}

function payloadFor(i: number): Uint8Array {
  const head = new TextEncoder().encode(`client ${i} of ${CLIENTS}: `);
  const out = new Uint8Array(head.length + 64 + (i % 193));
  out.set(head);
  crypto.getRandomValues(out.subarray(head.length));
  return out;
}

/**
 * Connects `CLIENTS` clients at once; once all are connected each sends its own payload and
 * reads it back, and only when all are done do they close: the server holds every one of
 * them at the same time.
 */
async function concurrentEchoes(
  addr: StreamAddress,
  timeoutMs: number,
): Promise<{ exact: number; problems: Map<string, number>; ms: number }> {
  const t0 = performance.now();
  const problems = new Map<string, number>();
  const problem = (what: string) => problems.set(what, (problems.get(what) ?? 0) + 1);
  const conns = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        connect(addr, timeoutMs).catch((err) => {
          problem(`connect: ${(err as Error).message}`);
          return undefined;
        }),
    ),
  );
  let exact = 0;
  try {
    await Promise.all(conns.map(async (conn, i) => {
      if (!conn) return;
      const payload = payloadFor(i);
      try {
        await writeAll(conn, payload, timeoutMs);
        const echo = await readExactly(conn, payload.length, timeoutMs);
        if (echo.every((b, j) => b === payload[j])) exact++;
        else problem("an echo differed from its client's payload");
      } catch (err) {
        problem((err as Error).message);
      }
    }));
  } finally {
    for (const conn of conns) closeQuietly(conn);
  }
  return { exact, problems, ms: Math.round(performance.now() - t0) };
}

for (
  const [transport, name] of [["unix", "reference-echo-unix"], [
    "tcp",
    "reference-echo-tcp",
  ]] as const
) {
  Deno.test(`${CLIENTS} concurrent clients on ${transport} each get their own payload back exactly`, async () => {
    assert.ok(
      fileLimit() > CLIENTS + 100,
      `this test opens ${CLIENTS} sockets at once; raise the open-file limit (ulimit -n) above ${
        CLIENTS + 100
      }`,
    );
    await withServer(reference(name), async (server) => {
      const before = memory(server);
      const run = await withTimeout(
        concurrentEchoes(server.address(transport), 10_000),
        30_000,
        `${CLIENTS} clients`,
      );
      const after = memory(server);
      console.log(
        `${transport}: ${run.exact}/${CLIENTS} exact echoes in ${run.ms} ms; server RSS ` +
          `${before.rss} MiB before, peak ${after.peak} MiB, ${after.rss} MiB after`,
      );
      assert.deepEqual([...run.problems], [], "every client succeeded");
      assert.equal(run.exact, CLIENTS);
      assert.ok(run.ms < 20_000, `${CLIENTS} clients took ${run.ms} ms`);
      assert.ok(after.peak < 384, `server peak RSS ${after.peak} MiB`);
      assert.ok(after.peak - before.rss < 192, `server RSS grew by ${after.peak - before.rss} MiB`);
      assert.ok(server.running, "the server is still running");
    });
  });

  Deno.test(`a ${transport} client that writes and never reads meets backpressure, not an unbounded buffer`, async () => {
    await withServer(reference(name), async (server) => {
      const before = memory(server);
      const hog = await connect(server.address(transport), 5000);
      const chunk = new Uint8Array(64 << 10).fill(0x5a);
      let written = 0;
      let stalled = false;
      const t0 = performance.now();
      try {
        // At most 256 MiB or 10 s: an unbounded server would take it all in a second or two.
        while (written < 256 * MiB && performance.now() - t0 < 10_000) {
          try {
            await writeAll(hog, chunk, 1000);
            written += chunk.length;
          } catch (err) {
            if (!(err instanceof TimeoutError)) throw err;
            written += err.transferred;
            stalled = true;
            break;
          }
        }
        const ms = Math.round(performance.now() - t0);
        // Meanwhile, another client is served.
        const other = await connect(server.address(transport), 5000);
        try {
          const hello = new TextEncoder().encode("served while another client hogs");
          await writeAll(other, hello, 5000);
          assert.deepEqual(await readExactly(other, hello.length, 5000), hello);
        } finally {
          closeQuietly(other);
        }
        const after = memory(server);
        console.log(
          `${transport}: a client that never reads wrote ${(written / MiB).toFixed(1)} MiB ` +
            `before its writes stalled (${ms} ms); server RSS ${before.rss} MiB before, ` +
            `peak ${after.peak} MiB`,
        );
        assert.ok(stalled, `the writes never stalled: ${written} bytes in ${ms} ms`);
        assert.ok(
          written < 64 * MiB,
          `the server took ${written} bytes from a client that never reads`,
        );
        assert.ok(
          after.peak - before.rss < 128,
          `server RSS grew by ${after.peak - before.rss} MiB`,
        );
      } finally {
        closeQuietly(hog);
      }
      // Its connection breaks in the middle of the server's write: one line, and it goes on.
      const deadline = Date.now() + 5000;
      while (!/ended: /.test(server.stderr.text()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const lines = server.stderr.text().trim().split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, `one line about the broken connection:\n${lines.join("\n")}`);
      assert.match(lines[0], /^echo: connection from .+ ended: (Connection reset|Broken pipe)/);
      assert.ok(server.running, "the server is still running");
    });
  });
}

Deno.test("with ulimit -n 64, accept errors do not kill the server: one line, then it recovers", async () => {
  const unix = reference("reference-echo-unix");
  const limited = parseManifest({
    name: "reference-echo-unix-ulimit-64",
    kind: "stream-echo",
    transports: ["unix"],
    command: [
      "sh",
      "-c",
      'ulimit -n 64 && exec "$0" "$@"',
      ...unix.command!.filter((a) => a !== "--transcript"),
    ],
    timeoutMs: 1000,
  }, "built-in");
  await withServer(limited, async (server) => {
    const addr = server.address("unix");
    const limit = /Max open files\s+(\d+)/.exec(readProcSync(`/proc/${server.pid}/limits`))?.[1];
    assert.equal(limit, "64", "the server runs with at most 64 descriptors");
    // More clients than fit: those beyond the limit wait in the listen backlog.
    const clients: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 100; i++) clients.push(await connect(addr, 2000));
      const answered = await Promise.all(clients.map(async (conn, i) => {
        const hello = new TextEncoder().encode(`client ${i}`);
        try {
          await writeAll(conn, hello, 1000);
          await readExactly(conn, hello.length, 1500);
          return true;
        } catch {
          return false;
        }
      }));
      const served = answered.filter(Boolean).length;
      console.log(`ulimit -n 64: ${served} of 100 clients served while all were connected`);
      assert.ok(served > 10 && served < 64, `${served} of 100 clients were served`);
      assert.ok(server.running, `the server died: ${server.describe()}\n${server.stderr.text()}`);
    } finally {
      for (const conn of clients) closeQuietly(conn);
    }
    // Descriptors free up: a new client is served.
    const t0 = performance.now();
    const conn = await connect(addr, 2000);
    try {
      const hello = new TextEncoder().encode("served again");
      await writeAll(conn, hello, 3000);
      assert.deepEqual(await readExactly(conn, hello.length, 3000), hello);
    } finally {
      closeQuietly(conn);
    }
    console.log(
      `recovered: a new client was served ${
        Math.round(performance.now() - t0)
      } ms after the others left`,
    );
    const log = server.stderr.text();
    // (Clients that left without reading their echo get an `ended: Broken pipe` line each.)
    console.log(log.split("\n").filter((l) => /accept/.test(l)).join("\n"));
    const failing = log.match(/^echo: cannot accept connections: Too many open files.*$/gm) ?? [];
    assert.ok(failing.length >= 1, `the server said it cannot accept:\n${log}`);
    assert.ok(failing.length <= 3, `one line per episode, not one per retry:\n${log}`);
    assert.match(failing[0] ?? "", /raise the limit with ulimit -n/);
    assert.match(log, /^echo: accepting connections again after \d+ ms/m);
    assert.ok(server.running, "the server is still running");
  });
});
