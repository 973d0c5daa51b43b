import assert from "node:assert/strict";
import { fromHex } from "../../python/repr.ts";
import {
  closeQuietly,
  connect,
  readSome,
  readUntilEof,
  sleep,
  type StreamAddress,
  withTimeout,
  writeAll,
} from "../../net/sockets.ts";
import { errnoCode } from "../../python/errno.ts";
import { StructError } from "../../python/struct.ts";
import { readLine } from "../../net/sockets.ts";
import { type RecordServer, type RecordServerOptions, serveRecords } from "./server.ts";

const RECORD = fromHex("0100000061620000cdcc2c40");
const REPR = "(1, b'ab', 2.700000047683716)";

interface Running {
  server: RecordServer;
  addr: StreamAddress;
  out: string[];
  err: string[];
  stop(): Promise<void>;
}

async function start(
  opts: Partial<RecordServerOptions> & { unix?: boolean } = {},
): Promise<Running> {
  const out: string[] = [];
  const err: string[] = [];
  const dir = opts.unix ? await Deno.makeTempDir({ prefix: "sockspec-rec-" }) : undefined;
  const listen: StreamAddress = dir
    ? { transport: "unix", path: `${dir}/sock` }
    : { transport: "tcp", hostname: "127.0.0.1", port: 0 };
  const server = await serveRecords({
    listen,
    transcript: true,
    print: (l) => out.push(l),
    log: (l) => err.push(l),
    ...opts,
  });
  const addr: StreamAddress = dir
    ? listen
    : { transport: "tcp", hostname: "127.0.0.1", port: (server.addr as Deno.NetAddr).port };
  return {
    server,
    addr,
    out,
    err,
    async stop() {
      await server.close();
      if (dir) {
        assert.throws(() => Deno.lstatSync(`${dir}/sock`), Deno.errors.NotFound);
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/** Sends `parts` (pausing between them), reads the reply line, closes. */
async function send(addr: StreamAddress, parts: Uint8Array[], pauseMs = 50): Promise<unknown> {
  const conn = await connect(addr, 2000);
  try {
    for (const [i, part] of parts.entries()) {
      if (i > 0) await sleep(pauseMs);
      await writeAll(conn, part, 2000);
    }
    const line = await readLine(conn, 2000);
    return line === null ? null : JSON.parse(line);
  } finally {
    closeQuietly(conn);
  }
}

/** Waits (bounded) until `lines` has `n` entries. */
async function lines(lines: string[], n: number): Promise<string[]> {
  for (let i = 0; i < 200 && lines.length < n; i++) await sleep(10);
  return lines;
}

for (const unix of [false, true]) {
  const t = unix ? "unix" : "tcp";

  Deno.test(`record server (${t}): one record in one write gives SPEC's transcript and reply`, async () => {
    const r = await start({ unix, reply: true });
    try {
      const reply = await send(r.addr, [RECORD]) as Record<string, unknown>;
      assert.equal(reply.repr, REPR);
      assert.deepEqual(reply.values, [1, { bytes: "6162" }, Math.fround(2.7)]);
      assert.equal(reply.hex, "0100000061620000cdcc2c40");
      await lines(r.out, 7);
      assert.deepEqual(r.out.slice(1), [
        "",
        "waiting for a connection",
        "received b'0100000061620000cdcc2c40'",
        `unpacked: ${REPR}`,
        "",
        "waiting for a connection",
      ]);
      assert.match(
        r.out[0],
        unix ? /^starting up on \/.*\/sock$/ : /^starting up on 127\.0\.0\.1 port \d+$/,
      );
      assert.deepEqual(r.err, []);
    } finally {
      await r.stop();
    }
  });

  Deno.test(`record server (${t}): a record in three writes is reassembled`, async () => {
    const r = await start({ unix, reply: true });
    try {
      const parts = [RECORD.subarray(0, 1), RECORD.subarray(1, 7), RECORD.subarray(7)];
      const reply = await send(r.addr, parts, 100) as Record<string, unknown>;
      assert.equal(reply.repr, REPR);
      assert.ok(r.out.includes(`unpacked: ${REPR}`));
      assert.deepEqual(r.err, []);
    } finally {
      await r.stop();
    }
  });

  Deno.test(`record server (${t}): a short record is one stderr line, and the next client is served`, async () => {
    const r = await start({ unix, reply: true });
    try {
      const conn = await connect(r.addr, 2000);
      await writeAll(conn, RECORD.subarray(0, 4), 2000);
      await conn.closeWrite();
      const answer = JSON.parse(
        new TextDecoder().decode(await readUntilEof(conn, { timeoutMs: 2000 })),
      );
      closeQuietly(conn);
      assert.match(answer.error, /the peer closed after 4 of 12 bytes/);
      assert.equal(answer.hex, "01000000");
      assert.equal(r.err.length, 1);
      assert.match(
        r.err[0],
        /^record: short record from .*: the peer closed after 4 of 12 bytes \(b'\\x01\\x00\\x00\\x00'\); expected a 12-byte 'I 2s f' record$/,
      );
      assert.ok(!r.out.some((l) => l.startsWith("received")), "no transcript for a short record");
      const reply = await send(r.addr, [RECORD]) as Record<string, unknown>;
      assert.equal(reply.repr, REPR);
    } finally {
      await r.stop();
    }
  });

  Deno.test(`record server (${t}): excess bytes after the record are reported`, async () => {
    const r = await start({ unix, reply: true });
    try {
      const extra = new TextEncoder().encode("EXTRA BYTES, MORE THAN SIXTEEN");
      const reply = await send(r.addr, [new Uint8Array([...RECORD, ...extra])]) as Record<
        string,
        unknown
      >;
      assert.equal(reply.repr, REPR);
      await lines(r.err, 1);
      assert.equal(r.err.length, 1);
      assert.match(
        r.err[0],
        /^record: 30 excess bytes after the 12-byte record from .*, ignored: b'EXTRA BYTES, MOR'\.\.\.$/,
      );
    } finally {
      await r.stop();
    }
  });
}

Deno.test("record server: an empty connection and a stalled record get one line each", async () => {
  const r = await start({ timeoutMs: 200 });
  try {
    closeQuietly(await connect(r.addr, 2000));
    await lines(r.err, 1);
    assert.match(
      r.err[0],
      /^record: connection from .* closed before sending a record \(0 of 12 bytes\)$/,
    );
    const stalled = await connect(r.addr, 2000);
    await writeAll(stalled, RECORD.subarray(0, 5), 2000);
    await lines(r.err, 2);
    closeQuietly(stalled);
    assert.match(
      r.err[1],
      /^record: incomplete record from .*: 5 of 12 bytes within 200 ms \(the whole record must arrive within --timeout\); closing the connection$/,
    );
  } finally {
    await r.stop();
  }
});

Deno.test("record server: serves a second client while the first is mid-record", async () => {
  const r = await start({ reply: true });
  try {
    const slow = await connect(r.addr, 2000);
    await writeAll(slow, RECORD.subarray(0, 3), 2000);
    const reply = await send(r.addr, [RECORD]) as Record<string, unknown>;
    assert.equal(reply.repr, REPR);
    await writeAll(slow, RECORD.subarray(3), 2000);
    const second = JSON.parse((await readLine(slow, 2000))!);
    assert.equal(second.repr, REPR);
    closeQuietly(slow);
  } finally {
    await r.stop();
  }
});

Deno.test("record server: a client that leaves without reading the reply does not stop it", async () => {
  const r = await start({ reply: true });
  try {
    for (let i = 0; i < 3; i++) {
      const conn = await connect(r.addr, 2000);
      await writeAll(conn, new Uint8Array([...RECORD, 1, 2, 3]), 2000);
      closeQuietly(conn);
    }
    await sleep(50);
    const reply = await send(r.addr, [RECORD]) as Record<string, unknown>;
    assert.equal(reply.repr, REPR);
  } finally {
    await r.stop();
  }
});

Deno.test("record server: --format selects the record (network order, 10 bytes)", async () => {
  const r = await start({ format: "!I 2s f", reply: true });
  try {
    assert.equal(r.server.struct.size, 10);
    const reply = await send(r.addr, [fromHex("000000016162402ccccd")]) as Record<string, unknown>;
    assert.equal(reply.repr, REPR);
    assert.ok(r.out.includes("received b'000000016162402ccccd'"));
  } finally {
    await r.stop();
  }
  await assert.rejects(
    () =>
      serveRecords({
        listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
        format: "I 2 s",
      }),
    StructError,
  );
});

Deno.test("record server: close() ends open connections and waits for them", async () => {
  const r = await start();
  const conn = await connect(r.addr, 2000);
  await writeAll(conn, RECORD.subarray(0, 2), 2000);
  await sleep(20);
  // close() must end the connection itself (not wait for the client, or for the handler's
  // read timeout): stop() returns within 1 s and the client reads end of stream at once.
  const stopped = await withTimeout(r.stop(), 1000, "close()").then(() => "stopped", (e) => e);
  assert.equal(stopped, "stopped", "close() did not end the open connection within 1000 ms");
  const end = await readSome(conn, 500).catch((err) => err);
  assert.ok(
    end === null || errnoCode(end) === "ECONNRESET",
    `the open connection was not ended: the client's read gave ${end}`,
  );
  closeQuietly(conn);
  assert.deepEqual(r.err, [], "closing is not an error");
});

Deno.test("--timeout limits the whole record: a record trickled a byte at a time is cut off", async () => {
  const r = await start({ timeoutMs: 600 });
  try {
    const conn = await connect(r.addr, 2000);
    const t0 = performance.now();
    // one byte every 150 ms: each wait is far below the limit, the whole record far above
    let sent = 0;
    try {
      for (; sent < RECORD.length && r.err.length === 0; sent++) {
        await writeAll(conn, RECORD.subarray(sent, sent + 1), 2000);
        await sleep(150);
      }
    } catch {
      // the server closed it
    }
    await lines(r.err, 1);
    const took = performance.now() - t0;
    closeQuietly(conn);
    assert.match(
      r.err[0],
      /^record: incomplete record from .*: [1-9]\d* of 12 bytes within 600 ms \(the whole record must arrive within --timeout\); closing the connection$/,
    );
    assert.ok(took < 1500, `cut off after ${Math.round(took)} ms`);
    assert.ok(sent < 12, `${sent} bytes were sent before it was cut off`);
  } finally {
    await r.stop();
  }
});
