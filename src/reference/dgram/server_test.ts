import assert from "node:assert/strict";
import { match, TUTORIAL_MESSAGE, udpServerTranscript } from "../../transcript/transcript.ts";
import { bindUnixDatagram, serveDgram } from "./server.ts";
import {
  type DatagramAddress,
  openDatagram,
  receiveWithin,
  toDenoAddr,
} from "../../net/datagram.ts";

async function exchange(
  client: Deno.DatagramConn,
  to: Deno.Addr,
  data: Uint8Array,
  waitMs = 2000,
): Promise<Uint8Array | undefined> {
  await client.send(data, to);
  return (await receiveWithin(client, waitMs, 70000))?.[0];
}

Deno.test("UDP: echo exact, truncation to the buffer, empty datagrams ignored, tutorial transcript", async () => {
  const lines: string[] = [];
  const server = await serveDgram({
    listen: { transport: "udp", hostname: "127.0.0.1", port: 0 },
    buffer: 100,
    transcript: true,
    print: (l) => lines.push(l),
  });
  const client = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    assert.deepEqual(await exchange(client, server.addr, TUTORIAL_MESSAGE), TUTORIAL_MESSAGE);
    const long = new Uint8Array(300).map((_, i) => i);
    assert.deepEqual(await exchange(client, server.addr, long), long.subarray(0, 100));
    assert.equal(await exchange(client, server.addr, new Uint8Array(0), 100), undefined);
    assert.deepEqual(await exchange(client, server.addr, TUTORIAL_MESSAGE), TUTORIAL_MESSAGE);
  } finally {
    client.close();
    await server.close();
  }
  const first = lines.slice(0, 8).join("\n") + "\n";
  const result = match(udpServerTranscript(), first);
  assert.ok(result.ok, result.ok ? "" : result.message);
  const empty = lines.findIndex((l) => /^received 0 bytes from \('127\.0\.0\.1', \d+\)$/.test(l));
  assert.ok(empty > 0, lines.join("\n"));
  assert.deepEqual(lines.slice(empty + 1, empty + 4), ["b''", "", "waiting to receive message"]);
});

Deno.test("IPv6 and zero-length echo policy", async () => {
  const server = await serveDgram({
    listen: { transport: "udp", hostname: "::1", port: 0 },
    zeroLength: "echo",
  });
  const client = openDatagram({ transport: "udp", hostname: "::1", port: 0 });
  try {
    assert.deepEqual(await exchange(client, server.addr, new Uint8Array(0)), new Uint8Array(0));
    const big = new Uint8Array(65527).fill(7);
    assert.equal((await exchange(client, server.addr, big))?.length, 4096);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("Unix datagram: answers a bound client, survives an unbound one, cleans up its node", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgsrv-" });
  const path = `${dir}/s`;
  const logs: string[] = [];
  const server = await serveDgram({
    listen: { transport: "unixgram", path },
    log: (l) => logs.push(l),
  });
  const to = toDenoAddr({ transport: "unixgram", path } as DatagramAddress);
  const unbound = openDatagram({ transport: "unixgram" });
  const bound = openDatagram({ transport: "unixgram", path: `${dir}/c` });
  try {
    assert.equal(await exchange(unbound, to, TUTORIAL_MESSAGE, 100), undefined);
    assert.deepEqual(await exchange(bound, to, TUTORIAL_MESSAGE), TUTORIAL_MESSAGE);
    assert.match(logs.join("\n"), /unbound Unix client: it did not bind a path/);
  } finally {
    unbound.close();
    bound.close();
    await server.close();
  }
  assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bindUnixDatagram: removes a stale node, refuses a live socket, a file or a too-long path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgbind-" });
  const path = `${dir}/s`;
  try {
    // stale: bound, then closed (Deno leaves the node)
    const old = openDatagram({ transport: "unixgram", path });
    old.close();
    assert.ok(Deno.lstatSync(path).isSocket);
    const first = await bindUnixDatagram(path);
    await assert.rejects(bindUnixDatagram(path), /a live socket is bound there/);
    first.socket.close();
    // replaced meanwhile: release must not delete the replacement
    Deno.removeSync(path);
    Deno.writeTextFileSync(path, "not mine");
    assert.equal(first.release(), false);
    assert.equal(Deno.readTextFileSync(path), "not mine");
    await assert.rejects(bindUnixDatagram(path), /is a regular file; not touching it/);
    await assert.rejects(bindUnixDatagram(`${dir}/${"x".repeat(120)}`), /over the 107-byte limit/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Unix datagram: a bound client that never reads its answers delays no one else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgstall-" });
  const path = `${dir}/s`;
  const logs: string[] = [];
  const server = await serveDgram({
    listen: { transport: "unixgram", path },
    log: (l) => logs.push(l),
  });
  const to = toDenoAddr({ transport: "unixgram", path } as DatagramAddress);
  const stalled = openDatagram({ transport: "unixgram", path: `${dir}/stalled` });
  const unbound = openDatagram({ transport: "unixgram" });
  const others = Array.from(
    { length: 8 },
    (_, i) => openDatagram({ transport: "unixgram", path: `${dir}/c${i}` }),
  );
  try {
    // far more than its receive queue holds (it fills after about a dozen); never read
    const big = new Uint8Array(2000).fill(0x61);
    // (each send bounded: against a stuck server the test fails, it does not hang)
    const send = (c: Deno.DatagramConn) =>
      Promise.race([c.send(big, to).catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
    for (let i = 0; i < 200; i++) await send(stalled);
    for (let i = 0; i < 200; i++) await send(unbound);
    const t0 = performance.now();
    const answers = await Promise.all(
      others.map((c, i) => exchange(c, to, new TextEncoder().encode(`client ${i}`), 3000)),
    );
    const took = performance.now() - t0;
    answers.forEach((a, i) =>
      assert.equal(a && new TextDecoder().decode(a), `client ${i}`, `client ${i} got its echo`)
    );
    assert.ok(took < 3000, `the others waited ${Math.round(took)} ms`);
    // dropped answers and unbound senders are logged, rate-limited: a few lines, not 400
    assert.match(
      logs.join("\n"),
      /stalled is not reading its answers \(its receive queue is full\): answer dropped/,
    );
    assert.ok(logs.length <= 12, `${logs.length} log lines:\n${logs.join("\n")}`);
  } finally {
    for (const c of [stalled, unbound, ...others]) c.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Unix datagram: close() leaves a node that replaced its own intact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgkeep-" });
  const path = `${dir}/s`;
  const server = await serveDgram({ listen: { transport: "unixgram", path }, log: () => {} });
  // another server takes the path over: removes the node and binds its own
  const other = new Deno.Command("python3", {
    args: [
      "-c",
      "import os,socket,sys\np=sys.argv[1]\nos.unlink(p)\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(p)\nprint('up', flush=True)\nsys.stdin.read()",
      path,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  try {
    const up = other.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await up.read()).value ?? "", /up/);
    up.releaseLock();
    const node = Deno.lstatSync(path);
    await server.close();
    await new Promise((r) => setTimeout(r, 100));
    const now = Deno.lstatSync(path);
    assert.deepEqual([now.dev, now.ino], [node.dev, node.ino], "the replacement's node is intact");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["s"], "nothing else left");
  } finally {
    await other.stdin.close().catch(() => {});
    await other.status;
    await other.stdout.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
