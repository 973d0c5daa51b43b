import assert from "node:assert/strict";
import {
  describeDatagram,
  isMessageTooLong,
  isUnbound,
  maxUdpPayload,
  openDatagram,
  patterned,
  pyAddress,
  receiveWithin,
  toDenoAddr,
} from "./dgram_socket.ts";

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
