import assert from "node:assert/strict";
import { parseManifest } from "../src/manifest.ts";
import { runCase } from "../src/runner.ts";
import { serveDgram } from "../src/reference/dgram_server.ts";
import { openDatagram } from "../src/reference/dgram_socket.ts";
import { dgramCases, dgramCasesAll, quietMs } from "./dgram.ts";

const byId = new Map(dgramCasesAll.map((c) => [c.id, c]));

function attached(port: number, properties: Record<string, unknown>) {
  return parseManifest({
    name: "attached",
    kind: "dgram-echo",
    transports: ["udp"],
    attach: { port },
    properties,
    timeoutMs: 1000,
  }, "dgram_test.json");
}

Deno.test("ids, levels and transports", () => {
  assert.deepEqual(dgramCases("udp").map((c) => c.id.split("/").at(-1)), [
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
  ]);
  assert.equal(dgramCases("unixgram").length, 11);
  for (const c of dgramCasesAll) {
    assert.equal(c.kind, "dgram-echo");
    assert.ok(c.id.startsWith(`dgram/${c.transport}/`), c.id);
  }
  assert.deepEqual(dgramCasesAll.filter((c) => c.level === "INFO").map((c) => c.id), [
    "dgram/udp/5",
    "dgram/udp/7",
    "dgram/unixgram/5",
    "dgram/unixgram/7",
  ]);
  assert.equal(quietMs(100), 100);
  assert.equal(quietMs(5000), 250);
});

Deno.test("a 777-byte buffer is found in few probes; truncation and zero-length echo are seen", async () => {
  const server = await serveDgram({
    listen: { transport: "udp", hostname: "127.0.0.1", port: 0 },
    buffer: 777,
    zeroLength: "echo",
  });
  try {
    const target = attached((server.addr as Deno.NetAddr).port, {
      bufferSize: 777,
      zeroLength: "echo",
    });
    const search = await runCase(target, byId.get("dgram/udp/5")!);
    assert.equal(search.verdict, "PASS", search.message);
    assert.deepEqual(search.observed, { largestWhole: 777, above: "truncated to 777 bytes" });
    assert.match(search.message, /\(3 probes\)/);
    for (
      const id of [
        "dgram/udp/1",
        "dgram/udp/2",
        "dgram/udp/3",
        "dgram/udp/4",
        "dgram/udp/6",
        "dgram/udp/8",
      ]
    ) {
      const r = await runCase(target, byId.get(id)!);
      assert.equal(r.verdict, "PASS", `${id}: ${r.message}`);
    }
    const zero = await runCase(target, byId.get("dgram/udp/7")!);
    assert.equal(zero.verdict, "PASS", zero.message);
    assert.deepEqual(zero.observed, { zeroLength: "echo" });
    // the same server against a declaration it does not keep
    const wrong = attached((server.addr as Deno.NetAddr).port, {
      bufferSize: 1000,
      zeroLength: "ignore",
    });
    const z = await runCase(wrong, byId.get("dgram/udp/7")!);
    assert.equal(z.verdict, "FAIL");
    assert.match(z.message, /declares zeroLength "ignore"/);
    const w = await runCase(wrong, byId.get("dgram/udp/4")!);
    assert.equal(w.verdict, "FAIL");
    assert.match(w.message, /truncated to 777 of 1000 bytes/);
  } finally {
    await server.close();
  }
});

Deno.test("a server that drops long datagrams: the binary search finds its edge", async () => {
  const sock = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const loop = (async () => {
    try {
      while (true) {
        const [data, from] = await sock.receive(new Uint8Array(70000));
        if (data.length <= 1234) await sock.send(data, from);
      }
    } catch {
      // closed
    }
  })();
  try {
    const target = attached((sock.addr as Deno.NetAddr).port, { bufferSize: 4096 });
    const search = await runCase(target, byId.get("dgram/udp/5")!);
    assert.equal(search.verdict, "PASS", search.message);
    assert.deepEqual(search.observed, { largestWhole: 1234, above: "no answer" });
    const trunc = await runCase(target, byId.get("dgram/udp/6")!);
    assert.equal(trunc.verdict, "FAIL");
    assert.match(trunc.message, /no answer to a 4097-byte datagram/);
  } finally {
    sock.close();
    await loop;
  }
});
