import assert from "node:assert/strict";
import { EvidenceRecorder, MAX_WIRE_EVENTS, RUN_KEPT, WIRE_HEAD, WIRE_TAIL } from "./evidence.ts";
import { readExactly, writeAll } from "../net/sockets.ts";

Deno.test("a wrapped stream connection logs connect, write, read, shutdown, eof and close in order", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const peer = await listener.accept();
    const buf = new Uint8Array(64);
    const n = (await peer.read(buf))!;
    await writeAll(peer, buf.subarray(0, n), 1000);
    peer.close();
  })();
  const evidence = new EvidenceRecorder();
  const { port } = listener.addr as Deno.NetAddr;
  const conn = evidence.stream(
    await Deno.connect({ hostname: "127.0.0.1", port }),
    `127.0.0.1:${port}`,
  );
  await writeAll(conn, new TextEncoder().encode("hello"), 1000);
  assert.equal(new TextDecoder().decode(await readExactly(conn, 5, 1000)), "hello");
  await conn.closeWrite();
  assert.equal(await conn.read(new Uint8Array(8)), null);
  conn.close();
  assert.throws(() => conn.close(), Deno.errors.BadResource); // logged once, throws as before
  await served;
  listener.close();
  const wire = evidence.toJSON().wire;
  assert.deepEqual(wire.map((e) => e.kind), [
    "connect",
    "write",
    "read",
    "shutdown",
    "eof",
    "close",
  ]);
  assert.ok(wire.every((e) => e.conn === 1));
  assert.equal(wire[0].text, `127.0.0.1:${port}`);
  assert.equal(wire[1].bytes, 5);
  assert.equal(wire[1].head, "68656c6c6f");
  assert.equal(wire[1].dir, "out");
  assert.equal(wire[2].dir, "in");
  for (let i = 1; i < wire.length; i++) assert.ok(wire[i].atUs >= wire[i - 1].atUs);
});

Deno.test("an event keeps head and tail of its bytes with the full count", () => {
  const evidence = new EvidenceRecorder();
  const data = new Uint8Array(1000).map((_, i) => i & 0xff);
  evidence.wireEvent({ kind: "write", conn: 1, dir: "out" }, data);
  const [e] = evidence.toJSON().wire;
  assert.equal(e.bytes, 1000);
  assert.equal(e.head!.length, 2 * WIRE_HEAD);
  assert.equal(e.tail!.length, 2 * WIRE_TAIL);
  assert.equal(e.tail!.slice(-2), (999 & 0xff).toString(16));
});

Deno.test("a long run of same-sized reads keeps the first ones and folds the rest into one", () => {
  const evidence = new EvidenceRecorder();
  for (let i = 0; i < 4096; i++) {
    evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, new Uint8Array(16).fill(i & 0xff));
  }
  evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, new Uint8Array(3));
  const wire = evidence.toJSON().wire;
  assert.equal(wire.length, RUN_KEPT + 2);
  const run = wire[RUN_KEPT];
  assert.equal(run.repeat, 4096 - RUN_KEPT - 1);
  assert.equal(run.bytes, 16 * (4096 - RUN_KEPT));
  assert.equal(run.tail, "ff".repeat(16));
  assert.equal(wire.at(-1)!.bytes, 3);
});

Deno.test("the wire log is capped: the first and last events are kept, the middle is counted", () => {
  const evidence = new EvidenceRecorder();
  for (let i = 0; i < 3 * MAX_WIRE_EVENTS; i++) {
    // alternating connections: nothing folds
    evidence.wireEvent(
      { kind: "write", conn: 1 + (i % 2), dir: "out" },
      new Uint8Array(1 + (i % 2)),
    );
  }
  const json = evidence.toJSON();
  assert.equal(json.wire.length, MAX_WIRE_EVENTS);
  assert.equal(json.wireOmitted?.events, 2 * MAX_WIRE_EVENTS);
  assert.equal(json.wireOmitted?.bytes, 3 * MAX_WIRE_EVENTS);
});

Deno.test("a refused connect is logged with its errno line once", async () => {
  const evidence = new EvidenceRecorder();
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  await Deno.connect({ hostname: "127.0.0.1", port }).then(
    (c) => c.close(),
    (err) => evidence.connectFailed(`127.0.0.1:${port}`, err),
  );
  const [e] = evidence.toJSON().wire;
  assert.equal(e.kind, "connect-failed");
  assert.equal(e.text, `127.0.0.1:${port}: [Errno 111] Connection refused`);
});

Deno.test("wrapped datagram sockets log send and recv with the peer", async () => {
  const evidence = new EvidenceRecorder();
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const client = evidence.datagrams(
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  try {
    await client.send(new Uint8Array([1, 2, 3]), server.addr);
    const [data, from] = await server.receive();
    await server.send(data, from);
    const [echo] = await client.receive();
    assert.deepEqual([...echo], [1, 2, 3]);
  } finally {
    client.close();
    server.close();
  }
  evidence.datagram("in", new Uint8Array([9]), { socket: 2, peer: "x" });
  const wire = evidence.toJSON().wire;
  assert.deepEqual(wire.map((e) => `${e.kind}:${e.socket}:${e.bytes ?? ""}`), [
    "send:1:3",
    "recv:1:3",
    "close:1:",
    "recv:2:1",
  ]);
  assert.equal(wire[0].text, `127.0.0.1:${(server.addr as Deno.NetAddr).port}`);
});

Deno.test("diff records the first difference and returns it; equal bytes record nothing", () => {
  const evidence = new EvidenceRecorder();
  const enc = new TextEncoder();
  assert.equal(evidence.diff(enc.encode("same"), enc.encode("same")), undefined);
  const d = evidence.diff(enc.encode("repeated."), enc.encode("repeated"), "echo")!;
  assert.equal(d.kind, "missing");
  assert.deepEqual(evidence.toJSON().diffs, [d]);
});

Deno.test("a long run of reads of varying sizes folds too, without a common size", () => {
  const evidence = new EvidenceRecorder();
  let total = 0;
  for (let i = 0; i < 500; i++) {
    const n = 1000 + (i % 7) * 100;
    total += n;
    evidence.wireEvent({ kind: "read", conn: 2, dir: "in" }, new Uint8Array(n).fill(i & 0xff));
  }
  const wire = evidence.toJSON().wire;
  assert.equal(wire.length, RUN_KEPT + 1);
  const run = wire.at(-1)!;
  assert.equal(run.repeat, 500 - RUN_KEPT - 1);
  assert.equal(run.each, undefined);
  assert.equal(wire.reduce((n, e) => n + (e.bytes ?? 0), 0), total);
  assert.equal(run.tail, "f3".repeat(WIRE_TAIL));
});

Deno.test("an exchange whose writes and reads interleave folds into one aggregate each", () => {
  const evidence = new EvidenceRecorder();
  for (let i = 0; i < 1000; i++) {
    evidence.wireEvent({ kind: "write", conn: 1, dir: "out" }, new Uint8Array(1024));
    evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, new Uint8Array(1000 + (i % 3)));
  }
  evidence.wireEvent({ kind: "close", conn: 1 });
  const wire = evidence.toJSON().wire;
  assert.equal(wire.length, 2 * RUN_KEPT + 3);
  const [writes, reads] = wire.filter((e) => e.repeat !== undefined);
  assert.equal(writes.kind, "write");
  assert.equal(writes.repeat, 1000 - RUN_KEPT - 1);
  assert.equal(writes.each, 1024);
  assert.equal(reads.kind, "read");
  assert.equal(reads.each, undefined);
  assert.equal(wire.reduce((n, e) => n + (e.kind === "write" ? e.bytes! : 0), 0), 1024 * 1000);
  assert.equal(wire.at(-1)!.kind, "close");
});
