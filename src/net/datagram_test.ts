import assert from "node:assert/strict";
import {
  describeDatagram,
  isMessageTooLong,
  isUnbound,
  maxUdpPayload,
  openDatagram,
  patterned,
  pyAddress,
  receiveLoop,
  receiveWithin,
  toDenoAddr,
} from "./datagram.ts";

Deno.test("UDP limits: 65,507 over IPv4, 65,527 over IPv6, and the kernel agrees", async () => {
  assert.equal(maxUdpPayload("127.0.0.1"), 65507);
  assert.equal(maxUdpPayload("::1"), 65527);
  for (const host of ["127.0.0.1", "::1"]) {
    const max = maxUdpPayload(host);
    const a = openDatagram({ transport: "udp", hostname: host, port: 0 });
    const b = openDatagram({ transport: "udp", hostname: host, port: 0 });
    try {
      assert.equal(await a.send(patterned(max), b.addr), max);
      const got = await receiveWithin(b, 2000, 70000);
      assert.equal(got?.[0].length, max);
      await assert.rejects(a.send(patterned(max + 1), b.addr), (err) => isMessageTooLong(err));
    } finally {
      a.close();
      b.close();
    }
  }
});

Deno.test("receiveWithin: undefined on timeout, and the datagram is not lost", async () => {
  const a = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const b = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    assert.equal(await receiveWithin(b, 20), undefined);
    await a.send(new TextEncoder().encode("late"), b.addr);
    const got = await receiveWithin(b, 2000);
    assert.equal(new TextDecoder().decode(got![0]), "late");
    assert.equal((got![1] as Deno.NetAddr).port, (a.addr as Deno.NetAddr).port);
    // a short buffer truncates, as recvfrom(n) does
    await a.send(new Uint8Array(100), b.addr);
    assert.equal((await receiveWithin(b, 2000, 10))?.[0].length, 10);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("Unix datagram sockets: bound and unbound senders, Python-style addresses", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgs-" });
  const server = openDatagram({ transport: "unixgram", path: `${dir}/s` });
  const unbound = openDatagram({ transport: "unixgram" });
  try {
    await unbound.send(
      new TextEncoder().encode("x"),
      toDenoAddr({ transport: "unixgram", path: `${dir}/s` }),
    );
    const [, from] = (await receiveWithin(server, 2000))!;
    assert.ok(isUnbound(from));
    assert.equal(pyAddress(from), "None");
    assert.equal(describeDatagram(from), "(unbound)");
    assert.equal(pyAddress({ transport: "unixpacket", path: `${dir}/c` }), `${dir}/c`);
    assert.equal(pyAddress({ transport: "udp", hostname: "::1", port: 5 }), "('::1', 5, 0, 0)");
    assert.equal(describeDatagram({ transport: "udp", hostname: "::1", port: 5 }), "[::1]:5");
    assert.ok(!isUnbound({ transport: "udp", hostname: "127.0.0.1", port: 1 }));
  } finally {
    server.close();
    unbound.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("patterned bytes repeat the tag", () => {
  assert.equal(new TextDecoder().decode(patterned(7, "ab")), "abababa");
  assert.equal(patterned(0).length, 0);
});

Deno.test("receiveLoop: waits once per datagram, retries a failed receive, stops when closing", async () => {
  const from: Deno.Addr = { transport: "udp", hostname: "127.0.0.1", port: 57870 };
  let calls = 0;
  let closing = false;
  const fake = {
    receive(buf?: Uint8Array): Promise<[Uint8Array, Deno.Addr]> {
      calls++;
      if (calls === 1) return Promise.reject(new Error("Connection reset by peer (os error 104)"));
      if (calls === 2) {
        assert.equal(buf?.length, 8);
        buf!.set(new TextEncoder().encode("ping"));
        return Promise.resolve([buf!.subarray(0, 4), from]);
      }
      closing = true;
      return Promise.reject(new Error("closed"));
    },
  } as unknown as Deno.DatagramConn;
  const lines: string[] = [];
  const logged: string[] = [];
  const answered: string[] = [];
  await receiveLoop(fake, {
    buffer: 8,
    print: (l) => lines.push(l),
    log: (l) => logged.push(l),
    name: "test",
    closing: () => closing,
    answer: (data, sender, who) => {
      answered.push(`${new TextDecoder().decode(data)} ${describeDatagram(sender)} ${who}`);
      return Promise.resolve();
    },
  });
  assert.equal(calls, 3);
  assert.deepEqual(lines, [
    "",
    "waiting to receive message",
    "received 4 bytes from ('127.0.0.1', 57870)",
    "b'ping'",
    "",
    "waiting to receive message",
  ]);
  assert.deepEqual(logged, [
    "test: receive failed: [Errno 104] Connection reset by peer; retrying",
  ]);
  assert.deepEqual(answered, ["ping 127.0.0.1:57870 ('127.0.0.1', 57870)"]);
});

Deno.test("receiveLoop: Unix senders print as Python's str.format shows them (path, None)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgl-" });
  const server = openDatagram({ transport: "unixgram", path: `${dir}/s` });
  const bound = openDatagram({ transport: "unixgram", path: `${dir}/c` });
  const unbound = openDatagram({ transport: "unixgram" });
  const lines: string[] = [];
  let closing = false;
  let answers = 0;
  const done = Promise.withResolvers<void>();
  const finished = receiveLoop(server, {
    buffer: 4096,
    print: (l) => lines.push(l),
    log: (l) => lines.push(`log: ${l}`),
    name: "test",
    closing: () => closing,
    answer: () => {
      if (++answers === 2) done.resolve();
      return Promise.resolve();
    },
  });
  try {
    const to = toDenoAddr({ transport: "unixgram", path: `${dir}/s` });
    await bound.send(new TextEncoder().encode("a"), to);
    await unbound.send(new TextEncoder().encode("bc"), to);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      done.promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no 2 datagrams in 5 s: ${lines}`)), 5000);
      }),
    ]);
    clearTimeout(timer);
    assert.deepEqual(lines.filter((l) => l.startsWith("received")), [
      `received 1 bytes from ${dir}/c`,
      "received 2 bytes from None",
    ]);
  } finally {
    closing = true;
    server.close();
    await finished;
    bound.close();
    unbound.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.ok(!lines.some((l) => l.startsWith("log: ")), "closing is not logged as a failure");
});
