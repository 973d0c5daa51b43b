import assert from "node:assert/strict";
import {
  closeQuietly,
  connect,
  EofError,
  equalBytes,
  readExactly,
  readSome,
  readUntilEof,
  TimeoutError,
  writeAll,
} from "./sockets.ts";

async function pair(): Promise<[Deno.Conn, Deno.Conn, Deno.Listener]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await connect({
    transport: "tcp",
    hostname: "127.0.0.1",
    port: listener.addr.port,
  }, 1000);
  const server = await listener.accept();
  return [client, server, listener];
}

Deno.test("a read that times out loses no bytes: the next read returns them", async () => {
  const [a, b, l] = await pair();
  try {
    await assert.rejects(readSome(a, 50), TimeoutError);
    await b.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await readExactly(a, 3, 1000), new Uint8Array([1, 2, 3]));
  } finally {
    [a, b, l].forEach(closeQuietly);
  }
});

Deno.test("readExactly reports partial data on EOF and on timeout", async () => {
  const [a, b, l] = await pair();
  try {
    await b.write(new Uint8Array([9, 9]));
    const err = await readExactly(a, 4, 100).catch((e) => e);
    assert.ok(err instanceof TimeoutError);
    assert.deepEqual(err.partial, new Uint8Array([9, 9]));
    await b.write(new Uint8Array([7]));
    b.close();
    const eof = await readExactly(a, 4, 1000).catch((e) => e);
    assert.ok(eof instanceof EofError);
    assert.equal(eof.message, "peer closed the connection after 1 of 4 bytes");
  } finally {
    [a, l].forEach(closeQuietly);
  }
});

Deno.test("readUntilEof returns everything, and refuses a peer that sends too much", async () => {
  const [a, b, l] = await pair();
  try {
    await writeAll(b, new Uint8Array(3000), 1000);
    b.close();
    assert.equal((await readUntilEof(a, { timeoutMs: 1000 })).length, 3000);
  } finally {
    [a, l].forEach(closeQuietly);
  }
  const [c, d, l2] = await pair();
  try {
    await writeAll(d, new Uint8Array(5000), 1000);
    await assert.rejects(
      readUntilEof(c, { timeoutMs: 1000, maxBytes: 1000 }),
      /the peer sent more than 1000 bytes without closing/,
    );
  } finally {
    [c, d, l2].forEach(closeQuietly);
  }
});

Deno.test("writeAll times out against a peer that never reads, saying how much went out", async () => {
  const [a, b, l] = await pair();
  try {
    const err = await writeAll(a, new Uint8Array(64 << 20), 200).catch((e) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.match(
      err.message,
      /writing 67108864 bytes: no progress within 200 ms \(\d+ bytes so far\)/,
    );
    assert.ok(err.transferred > 0 && err.transferred < 64 << 20);
  } finally {
    [a, b, l].forEach(closeQuietly);
  }
});

Deno.test("connect to a refused port fails fast with ECONNREFUSED", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  await assert.rejects(
    connect({ transport: "tcp", hostname: "127.0.0.1", port }, 1000),
    (e: Error) => (e as { code?: string }).code === "ECONNREFUSED",
  );
});

Deno.test("equalBytes compares length and every byte", () => {
  const b = (...xs: number[]) => new Uint8Array(xs);
  assert.equal(equalBytes(b(), b()), true);
  assert.equal(equalBytes(b(1, 2, 3), b(1, 2, 3)), true);
  assert.equal(equalBytes(b(1, 2, 3), b(1, 2)), false, "a prefix is not equal");
  assert.equal(equalBytes(b(1, 2), b(1, 2, 3)), false);
  assert.equal(equalBytes(b(1, 2, 3), b(1, 9, 3)), false, "a middle byte differs");
  assert.equal(equalBytes(b(0), b(255)), false);
  const big = new Uint8Array(4096).fill(7);
  assert.equal(equalBytes(big, big.slice()), true, "a copy is equal");
  assert.equal(equalBytes(big.subarray(1), big.subarray(0, 4095)), true, "views compare bytes");
});
