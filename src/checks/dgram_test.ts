// Tests for the datagram verifiers (src/checks/dgram.ts), through small cases run by the
// runner against in-process servers attached by address.
//
// Run with: deno test --allow-run --allow-read --allow-write --allow-net --allow-env

import assert from "node:assert/strict";
import { type Case, pass } from "../case/case.ts";
import { parseManifest } from "../harness/manifest.ts";
import { runCase } from "../harness/runner.ts";
import { openDatagram } from "../net/datagram.ts";
import {
  counted,
  datagramDifference,
  describeProbe,
  expectDatagramEcho,
  expectNoAnswer,
  openClient,
  Prober,
  startDgram,
} from "./dgram.ts";

/** A Unix datagram server in this process: `answer` maps each datagram to the replies. */
async function withUnixServer(
  answer: (data: Uint8Array) => Uint8Array[],
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-checks-" });
  const path = `${dir}/server`;
  const sock = openDatagram({ transport: "unixgram", path });
  const loop = (async () => {
    try {
      while (true) {
        const [data, from] = await sock.receive(new Uint8Array(1 << 17));
        for (const reply of answer(data)) await sock.send(reply, from);
      }
    } catch {
      // closed
    }
  })();
  try {
    await body(path);
  } finally {
    sock.close();
    await loop;
    await Deno.remove(dir, { recursive: true });
  }
}

function target(path: string) {
  return parseManifest({
    name: "in-process",
    kind: "dgram-echo",
    transports: ["unixgram"],
    attach: { path },
    timeoutMs: 500,
  }, "dgram_test.json");
}

function unixCase(run: Case["run"]): Case {
  return { id: "test/dgram/1", requirement: "x.", level: "MUST", kind: "dgram-echo", run };
}

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("a Unix client sends again after a receive timed out, and keeps what came meanwhile", async () => {
  // Deno refuses to send on a Unix datagram socket with a receive pending ("Busy"); the
  // client wakes its own receive first.
  await withUnixServer((d) => [d], async (path) => {
    const r = await runCase(
      target(path),
      unixCase(async (ctx) => {
        const rig = await startDgram(ctx, "unixgram");
        const client = openClient(rig);
        assert.equal(await client.receive(30), undefined); // a receive is left pending
        await expectDatagramEcho(rig, client, enc("after a timeout"), "the send after a timeout");
        await expectNoAnswer(client, 30, "then");
        await expectDatagramEcho(rig, client, enc("and again"), "a second send after a timeout");
        return pass("ok");
      }),
    );
    assert.equal(r.verdict, "PASS", r.message);
  });
});

Deno.test("the verifiers' failure sentences name the step, what was expected and what came", async () => {
  const flip = (d: Uint8Array) => [d.map((b, i) => (i === d.length - 1 ? b ^ 0x20 : b))];
  await withUnixServer(flip, async (path) => {
    const r = await runCase(
      target(path),
      unixCase(async (ctx) => {
        const rig = await startDgram(ctx, "unixgram");
        await expectDatagramEcho(rig, openClient(rig), enc("hello"), "the greeting");
        return pass("unreachable");
      }),
    );
    assert.equal(r.verdict, "FAIL");
    assert.equal(
      r.message,
      "the greeting: expected the same 5 bytes back, but the datagram differs at byte 4: sent b'o', got b'O'",
    );
    assert.doesNotMatch(r.message, /os error/);
  });
  await withUnixServer(() => [], async (path) => {
    const r = await runCase(
      target(path),
      unixCase(async (ctx) => {
        const rig = await startDgram(ctx, "unixgram");
        await expectDatagramEcho(rig, openClient(rig), enc("x"), "the only datagram");
        return pass("unreachable");
      }),
    );
    assert.match(
      r.message,
      /^the only datagram: expected an answer to the 1-byte datagram from \/.+\/c1, got no answer within 500 ms$/,
    );
  });
});

Deno.test("probes from one client skip late answers to earlier probes", async () => {
  // The server answers each probe twice: the second copy arrives while the next probe waits.
  await withUnixServer((d) => [d, d], async (path) => {
    const r = await runCase(
      target(path),
      unixCase(async (ctx) => {
        const rig = await startDgram(ctx, "unixgram");
        const prober = new Prober(rig, openClient(rig));
        const seen = [];
        for (const n of [10, 20, 30]) seen.push(describeProbe(await prober.probe(n, 200)));
        return pass(seen.join(", "));
      }),
    );
    assert.equal(r.message, "whole, whole, whole");
  });
});

Deno.test("difference, counted and describeProbe say it once, in words", () => {
  assert.equal(datagramDifference(enc("abc"), enc("ab")), "came back truncated to 2 of 3 bytes");
  assert.equal(datagramDifference(enc("abc"), enc("abc")), "came back whole");
  assert.match(
    datagramDifference(enc("abc"), enc("abcd")),
    /^came back as 4 bytes \(b'abcd'\.\.\.\) instead of 3$/,
  );
  assert.equal(counted(1, "byte"), "1 byte");
  assert.equal(describeProbe({ kind: "truncated", length: 1 }), "truncated to 1 byte");
  assert.equal(
    describeProbe({ kind: "refused", errno: "[Errno 1] Operation not permitted" }),
    "the send was refused: [Errno 1] Operation not permitted",
  );
});
