import assert from "node:assert/strict";
import { match, structClientTranscript } from "../../transcript/transcript.ts";
import { closeQuietly, connect, freePort, writeAll } from "../../net/sockets.ts";
import { runRecordClient } from "./client.ts";
import { readLine } from "../../net/sockets.ts";
import { serveRecords } from "./server.ts";

async function withServer(
  fn: (port: number, printed: string[]) => Promise<void>,
  format?: string,
): Promise<void> {
  const printed: string[] = [];
  const server = await serveRecords({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    format,
    transcript: true,
    reply: true,
    print: (l) => printed.push(l),
    log: () => {},
  });
  try {
    await fn((server.addr as Deno.NetAddr).port, printed);
  } finally {
    await server.close();
  }
}

Deno.test("record client: SPEC's client transcript, and the server decodes the record", async () => {
  await withServer(async (port, printed) => {
    const lines: string[] = [];
    const code = await runRecordClient({
      connectTo: { transport: "tcp", hostname: "127.0.0.1", port },
      print: (l) => lines.push(l),
    });
    assert.equal(code, 0);
    assert.deepEqual(lines, [
      "values = (1, b'ab', 2.7)",
      "sending b'0100000061620000cdcc2c40'",
      "closing socket",
    ]);
    assert.ok(match(structClientTranscript(), lines.join("\n") + "\n").ok);
    for (let i = 0; i < 100 && printed.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(printed.includes("unpacked: (1, b'ab', 2.700000047683716)"), printed.join("\n"));
  });
});

Deno.test("record client: --reply prints the server's JSON line; --format packs accordingly", async () => {
  await withServer(async (port) => {
    const lines: string[] = [];
    const code = await runRecordClient({
      connectTo: { transport: "tcp", hostname: "localhost", port },
      format: "!I 2s f",
      reply: true,
      print: (l) => lines.push(l),
    });
    assert.equal(code, 0);
    assert.equal(lines[1], "sending b'000000016162402ccccd'");
    assert.match(lines[2], /^reply = \{.*"repr":"\(1, b'ab', 2\.700000047683716\)"/);
    assert.equal(lines[3], "closing socket");
  }, "!I 2s f");
});

Deno.test("record client: errors print as Python prints them and exit 1", async () => {
  const lines: string[] = [];
  const port = freePort();
  assert.equal(
    await runRecordClient({
      connectTo: { transport: "tcp", hostname: "127.0.0.1", port },
      print: (l) => lines.push(l),
      timeoutMs: 2000,
    }),
    1,
  );
  assert.deepEqual(lines, ["[Errno 111] Connection refused"]);
  lines.length = 0;
  assert.equal(
    await runRecordClient({
      connectTo: { transport: "unix", path: "/nonexistent-sockspec/sock" },
      print: (l) => lines.push(l),
    }),
    1,
  );
  assert.deepEqual(lines, ["[Errno 2] No such file or directory"]);
  lines.length = 0;
  assert.equal(
    await runRecordClient({
      connectTo: { transport: "tcp", hostname: "127.0.0.1", port },
      format: "B 2s",
      print: (l) => lines.push(l),
    }),
    1,
  );
  assert.deepEqual(lines, ["struct.error: pack expected 2 items for packing (got 3)"]);
});

Deno.test("readLine: a line, a line split over writes, end of stream, too long", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port: listener.addr.port };
  const serve = (async () => {
    const enc = new TextEncoder();
    const a = await listener.accept();
    await writeAll(a, enc.encode('{"x":'), 1000);
    await new Promise((r) => setTimeout(r, 30));
    await writeAll(a, enc.encode("1}\n"), 1000);
    a.close();
    const b = await listener.accept();
    b.close();
    const c = await listener.accept();
    await writeAll(c, new Uint8Array(100).fill(0x61), 1000);
    c.close();
  })();
  const a = await connect(addr, 1000);
  assert.equal(await readLine(a, 1000), '{"x":1}');
  closeQuietly(a);
  const b = await connect(addr, 1000);
  assert.equal(await readLine(b, 1000), null);
  closeQuietly(b);
  const c = await connect(addr, 1000);
  await assert.rejects(() => readLine(c, 1000, 10), /longer than 10 bytes/);
  closeQuietly(c);
  await serve;
  listener.close();
});
