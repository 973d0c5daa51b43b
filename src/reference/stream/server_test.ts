import assert from "node:assert/strict";
import { closeQuietly, connect, readUntilEof, writeAll } from "../../net/sockets.ts";
import { peerName, serveStream, startupLine } from "./server.ts";

Deno.test("serveStream: serves clients concurrently; a failing handler is logged, not fatal", async () => {
  const logged: string[] = [];
  let listening: Deno.Addr | undefined;
  const server = await serveStream({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    label: "test",
    log: (l) => logged.push(l),
    onListening: (addr) => (listening = addr),
  }, async (conn) => {
    const buf = new Uint8Array(1);
    const n = await conn.read(buf);
    if (n === null || buf[0] === 0x21) throw new Error("boom");
    await writeAll(conn, new TextEncoder().encode(peerName(conn)), 1000);
  });
  assert.deepEqual(listening, server.addr);
  const addr = {
    transport: "tcp" as const,
    hostname: "127.0.0.1",
    port: (server.addr as Deno.NetAddr).port,
  };
  try {
    const idle = await connect(addr, 1000); // holds a handler open meanwhile
    const bad = await connect(addr, 1000);
    await writeAll(bad, new TextEncoder().encode("!"), 1000);
    assert.equal((await readUntilEof(bad, { timeoutMs: 1000 })).length, 0);
    closeQuietly(bad);
    const good = await connect(addr, 1000);
    await writeAll(good, new TextEncoder().encode("?"), 1000);
    const text = new TextDecoder().decode(await readUntilEof(good, { timeoutMs: 1000 }));
    assert.match(text, /^\('127\.0\.0\.1', \d+\)$/);
    closeQuietly(good);
    assert.equal(logged.length, 1);
    assert.match(logged[0], /^test: connection from \('127\.0\.0\.1', \d+\) ended: boom$/);
    assert.equal(server.closing, false);
    await server.close();
    assert.equal(server.closing, true);
    closeQuietly(idle);
    assert.equal(logged.length, 1, "handlers ended by close() are not errors");
  } finally {
    await server.close();
  }
});

Deno.test("serveStream: a Unix socket node is removed on close", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-ss-" });
  const path = `${dir}/sock`;
  const server = await serveStream(
    { listen: { transport: "unix", path }, label: "t" },
    () => Promise.resolve(),
  );
  assert.ok(Deno.lstatSync(path).isSocket);
  await server.close();
  assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("startupLine: the host as given, or as bound for wildcards and port 0", () => {
  const bound = { transport: "tcp" as const, hostname: "127.0.0.1", port: 10000 };
  assert.equal(
    startupLine({ transport: "tcp", hostname: "localhost", port: 10000 }, bound),
    "starting up on localhost port 10000",
  );
  assert.equal(
    startupLine({ transport: "tcp", hostname: "0.0.0.0", port: 10000 }, bound),
    "starting up on 127.0.0.1 port 10000",
  );
  assert.equal(
    startupLine({ transport: "unix", path: "./uds_socket" }, bound),
    "starting up on ./uds_socket",
  );
});
