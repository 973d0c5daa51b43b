import assert from "node:assert/strict";
import { describeDiff, firstDifference } from "../case/diff.ts";
import { readExpected } from "./expect.ts";
import { EvidenceRecorder } from "../case/evidence.ts";
import { Failure } from "../case/verdict.ts";
import { readExactly, writeAll } from "../net/sockets.ts";

const enc = new TextEncoder();

Deno.test("a missing last byte: offset, count and the byte", () => {
  const d = firstDifference(
    enc.encode("This is the message.  It will be repeated."),
    enc.encode("This is the message.  It will be repeated"),
    "echo",
  )!;
  assert.equal(d.kind, "missing");
  assert.equal(d.offset, 41);
  assert.equal(d.missing, 1);
  assert.equal(d.expected.start, 33);
  assert.equal(d.expected.repr, "b'repeated.'");
  assert.equal(d.actual.repr, "b'repeated'");
  assert.equal(describeDiff(d), "42 bytes expected, 41 came: the last byte (b'.') is missing");
});

Deno.test("a differing byte: context on each side as hex and repr", () => {
  const d = firstDifference(enc.encode("0123456789abcdefXYZ"), enc.encode("0123456789abcdefxYZ"))!;
  assert.equal(d.kind, "differ");
  assert.equal(d.offset, 16);
  assert.equal(d.expected.start, 8);
  assert.equal(d.expected.hex, enc.encode("89abcdefXYZ").reduce((s, b) => s + b.toString(16), ""));
  assert.equal(
    describeDiff(d),
    "19 bytes expected, 19 came: the first difference is at offset 16: expected b'XYZ', got b'xYZ'",
  );
});

Deno.test("extra bytes and nothing at all", () => {
  const extra = firstDifference(enc.encode("ab"), enc.encode("abcd"))!;
  assert.equal(extra.kind, "extra");
  assert.equal(extra.extra, 2);
  assert.equal(
    describeDiff(extra),
    "2 bytes expected, 4 came: 2 extra bytes after the expected ones (b'cd'...)",
  );
  const none = firstDifference(enc.encode("ab"), new Uint8Array())!;
  assert.equal(describeDiff(none), "2 bytes expected, 0 came: nothing came back");
  assert.equal(firstDifference(new Uint8Array(), new Uint8Array()), undefined);
});

/** Serves one connection: reads the message, answers with `answer(message)`, then waits or closes. */
async function exchange(answer: (m: Uint8Array) => Uint8Array, close: boolean) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const evidence = new EvidenceRecorder();
  const message = enc.encode("This is the message.  It will be repeated.");
  const served = (async () => {
    const peer = await listener.accept();
    const m = await readExactly(peer, message.length, 2000);
    await writeAll(peer, answer(m), 2000);
    if (!close) await peer.read(new Uint8Array(1)).catch(() => null);
    peer.close();
  })();
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  let error: unknown;
  try {
    await writeAll(conn, message, 2000);
    await readExpected({ evidence, timeoutMs: 300 }, conn, message, "the echo");
  } catch (err) {
    error = err;
  } finally {
    conn.close();
    await served;
    listener.close();
  }
  return { error, evidence: evidence.toJSON() };
}

Deno.test("readExpected: a missing last byte is named in the message and the diff", async () => {
  const { error, evidence } = await exchange((m) => m.subarray(0, 41), false);
  assert.ok(error instanceof Failure);
  assert.equal(
    error.message,
    "reading 42 bytes of the echo: 41 came back, then nothing for 300 ms (the last byte b'.' is missing)",
  );
  assert.equal(evidence.bytes[0].length, 41);
  assert.equal(evidence.diffs[0].kind, "missing");
});

Deno.test("readExpected: an early close and a wrong byte", async () => {
  const closed = await exchange((m) => m.subarray(0, 16), true);
  assert.equal(
    (closed.error as Error).message,
    "reading 42 bytes of the echo: the target closed the connection after 16 (the last 26 bytes (b'age.  It will be'...) are missing)",
  );
  const wrong = await exchange((m) => m.map((b, i) => (i === 16 ? 0x41 : b)), true);
  assert.equal(
    (wrong.error as Error).message,
    "the echo differs: 42 bytes expected, 42 came: the first difference is at offset 16: expected b'age.  It will be', got b'Age.  It will be'",
  );
  const right = await exchange((m) => m, true);
  assert.equal(right.error, undefined);
  assert.deepEqual(right.evidence.diffs, []);
});
