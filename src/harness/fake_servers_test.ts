import assert from "node:assert/strict";
import {
  closedPort,
  type FakeStreamServer,
  joined,
  MAX_CONNECTIONS,
  staleUnixNode,
  startDgramServer,
  startStreamServer,
  type StreamBehaviour,
  type StreamServerOptions,
} from "./fake_servers.ts";
import { closeQuietly, connect, readExactly, readSome, writeAll } from "../net/sockets.ts";
import { openDatagram, receiveWithin, toDenoAddr } from "../net/datagram.ts";
import { TUTORIAL_MESSAGE } from "../transcript/transcript.ts";
import { errnoCode } from "../python/errno.ts";
import { commandExists } from "./manifest.ts";

const LOCAL = { transport: "tcp" as const, hostname: "127.0.0.1", port: 0 };

async function withServer(
  behaviour: StreamBehaviour,
  fn: (server: FakeStreamServer, conn: Deno.Conn) => Promise<void>,
  extra: Partial<StreamServerOptions> = {},
) {
  const server = startStreamServer({ listen: LOCAL, behaviour, ...extra });
  const conn = await connect(server.address, 2000);
  try {
    await fn(server, conn);
  } finally {
    closeQuietly(conn);
    await server.close();
  }
}

Deno.test("fake stream echo: echoes, records both sides, sees the client's orderly close, never closes first", async () => {
  await withServer("echo", async (server, conn) => {
    await writeAll(conn, TUTORIAL_MESSAGE, 2000);
    assert.deepEqual(await readExactly(conn, TUTORIAL_MESSAGE.length, 2000), TUTORIAL_MESSAGE);
    await assert.rejects(
      readSome(conn, 100),
      /no progress within/,
      "the echo server must not close",
    );
    assert.equal(server.connections[0].end, undefined);
    conn.close();
    assert.ok(await server.waitFor((s) => s.connections[0].end !== undefined, 2000));
    const log = server.connections[0];
    assert.equal(log.end!.how, "eof");
    assert.deepEqual(joined(log.received), TUTORIAL_MESSAGE);
    assert.deepEqual(joined(log.sent), TUTORIAL_MESSAGE);
    assert.match(log.peer, /^127\.0\.0\.1:\d+$/);
  });
});

Deno.test("fake stream drip: one write per byte, the pauses between them", async () => {
  await withServer("drip", async (server, conn) => {
    await writeAll(conn, TUTORIAL_MESSAGE, 2000);
    assert.deepEqual(await readExactly(conn, TUTORIAL_MESSAGE.length, 2000), TUTORIAL_MESSAGE);
    const sent = server.connections[0].sent;
    assert.equal(sent.length, TUTORIAL_MESSAGE.length);
    assert.ok(sent.every((s) => s.data.length === 1));
    assert.ok(sent.at(-1)!.at - sent[0].at >= (TUTORIAL_MESSAGE.length - 1) * 2 * 0.9);
  }, { dripMs: 2 });
});

Deno.test("fake stream burst: what arrives in pieces goes back in one write once the client pauses", async () => {
  await withServer("burst", async (server, conn) => {
    for (const part of [TUTORIAL_MESSAGE.subarray(0, 10), TUTORIAL_MESSAGE.subarray(10)]) {
      await writeAll(conn, part, 2000);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(await readExactly(conn, TUTORIAL_MESSAGE.length, 2000), TUTORIAL_MESSAGE);
    assert.equal(server.connections[0].sent.length, 1);
  });
});

Deno.test("fake stream close-early: echoes the first 16 bytes, then an orderly close", async () => {
  await withServer("close-early", async (server, conn) => {
    await writeAll(conn, TUTORIAL_MESSAGE, 2000);
    assert.deepEqual(await readExactly(conn, 16, 2000), TUTORIAL_MESSAGE.subarray(0, 16));
    assert.equal(await readSome(conn, 2000), null);
    assert.equal(server.connections[0].end!.how, "server");
  }, { closeAfter: 16 });
});

Deno.test("fake stream silent and record: nothing comes back; record keeps arrival times", async () => {
  for (const behaviour of ["silent", "record"] as const) {
    await withServer(behaviour, async (server, conn) => {
      await writeAll(conn, TUTORIAL_MESSAGE.subarray(0, 5), 2000);
      await new Promise((r) => setTimeout(r, 20));
      await writeAll(conn, TUTORIAL_MESSAGE.subarray(5), 2000);
      await assert.rejects(readSome(conn, 100), /no progress within/);
      assert.ok(await server.waitFor((s) => joined(s.connections[0].received).length === 42, 2000));
      const received = server.connections[0].received;
      assert.ok(received.length >= 2, `${behaviour}: two arrivals, ${received.length} seen`);
      assert.ok(received[1].at - received[0].at >= 15);
      assert.deepEqual(server.connections[0].sent, []);
    });
  }
});

Deno.test({
  name: "fake stream server: a client that closes with SO_LINGER 0 is recorded as a reset",
  ignore: !commandExists("python3"),
  async fn() {
    const server = startStreamServer({ listen: LOCAL, behaviour: "echo" });
    try {
      const port = (server.address as { port: number }).port;
      const script = `import socket, struct
c = socket.create_connection(('127.0.0.1', ${port}))
c.sendall(b'x' * 42)
got = b''
while len(got) < 42:
    got += c.recv(42)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()`;
      const out = await new Deno.Command("python3", {
        args: ["-c", script],
        signal: AbortSignal.timeout(5000),
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.ok(await server.waitFor((s) => s.connections[0]?.end !== undefined, 2000));
      assert.equal(server.connections[0].end!.how, "reset");
    } finally {
      await server.close();
    }
  },
});

Deno.test("fake stream server: at most MAX_CONNECTIONS are served; close() ends them all", async () => {
  const server = startStreamServer({ listen: LOCAL, behaviour: "silent" });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < MAX_CONNECTIONS + 2; i++) conns.push(await connect(server.address, 2000));
    assert.ok(await server.waitFor(() => false, 50) === false);
    assert.equal(server.connections.length, MAX_CONNECTIONS);
    // the extra ones were closed at once
    assert.equal(await readSome(conns.at(-1)!, 2000), null);
    const t0 = performance.now();
    await server.close();
    assert.ok(performance.now() - t0 < 1500);
    assert.equal(await readSome(conns[0], 2000), null);
    assert.ok(server.connections.every((c) => c.end?.how === "server"));
  } finally {
    conns.forEach(closeQuietly);
    await server.close();
  }
});

Deno.test("fake stream server over a Unix socket: the node gets the mode; nothing listening is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-fake-" });
  try {
    const path = `${dir}/s.sock`;
    const server = startStreamServer({
      listen: { transport: "unix", path },
      behaviour: "echo",
      mode: 0o500,
    });
    assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o500);
    await server.close();

    const stale = `${dir}/stale.sock`;
    staleUnixNode(stale);
    assert.ok(Deno.lstatSync(stale).isSocket);
    const refused = await connect({ transport: "unix", path: stale }, 2000).catch((e) => e);
    assert.equal(errnoCode(refused), "ECONNREFUSED");

    const port = closedPort("127.0.0.1");
    const tcp = await connect({ transport: "tcp", hostname: "127.0.0.1", port }, 2000).catch((
      e,
    ) => e);
    assert.equal(errnoCode(tcp), "ECONNREFUSED");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fake datagram servers: echo, silent, truncate, other-port; an unbound Unix sender is recorded, not answered", async () => {
  const bind = { transport: "udp" as const, hostname: "127.0.0.1", port: 0 };
  const ask = async (behaviour: "echo" | "silent" | "truncate" | "other-port") => {
    const server = startDgramServer({ bind, behaviour, truncateTo: 4 });
    const sock = openDatagram(bind);
    try {
      await sock.send(TUTORIAL_MESSAGE, toDenoAddr(server.address));
      const got = await receiveWithin(sock, behaviour === "silent" ? 100 : 2000);
      assert.equal(server.datagrams.length, 1);
      assert.deepEqual(server.datagrams[0].data, TUTORIAL_MESSAGE);
      return got;
    } finally {
      sock.close();
      await server.close();
    }
  };
  assert.deepEqual((await ask("echo"))![0], TUTORIAL_MESSAGE);
  assert.equal(await ask("silent"), undefined);
  assert.deepEqual((await ask("truncate"))![0], TUTORIAL_MESSAGE.subarray(0, 4));
  const server = startDgramServer({ bind, behaviour: "other-port" });
  const other = await ask("other-port");
  assert.deepEqual(other![0], TUTORIAL_MESSAGE);
  assert.notEqual((other![1] as Deno.NetAddr).port, (server.address as { port: number }).port);
  await server.close();

  const dir = await Deno.makeTempDir({ prefix: "sockspec-fake-" });
  try {
    const unix = startDgramServer({
      bind: { transport: "unixgram", path: `${dir}/srv` },
      behaviour: "echo",
    });
    const unbound = openDatagram({ transport: "unixgram" });
    const bound = openDatagram({ transport: "unixgram", path: `${dir}/client` });
    try {
      await unbound.send(TUTORIAL_MESSAGE, toDenoAddr(unix.address));
      await bound.send(TUTORIAL_MESSAGE, toDenoAddr(unix.address));
      assert.deepEqual((await receiveWithin(bound, 2000))![0], TUTORIAL_MESSAGE);
      assert.deepEqual(
        unix.datagrams.map((d) => [d.from, d.fromPath, d.answer?.length]),
        [["''", undefined, undefined], [`${dir}/client`, `${dir}/client`, 42]],
      );
    } finally {
      unbound.close();
      bound.close();
      await unix.close();
    }
    // its own node is removed on close
    assert.throws(() => Deno.lstatSync(`${dir}/srv`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
