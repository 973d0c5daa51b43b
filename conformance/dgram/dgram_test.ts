import assert from "node:assert/strict";
import { loadManifest, parseManifest } from "../../src/harness/manifest.ts";
import { runCase } from "../../src/harness/runner.ts";
import { serveDgram } from "../../src/reference/dgram/server.ts";
import {
  isMessageTooLong,
  maxUdpPayload,
  openDatagram,
  receiveWithin,
  toDenoAddr,
} from "../../src/net/datagram.ts";
import { referenceTargets } from "../../src/reference/targets.ts";
import { counted, quietMs } from "../../src/checks/dgram.ts";
import { dgramCases, dgramCasesAll } from "./dgram.ts";

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

const BROKEN = new URL("../../fixtures/broken/dgram_broken.py", import.meta.url).pathname;

/** A broken client of fixtures/broken/dgram_broken.py for dgram/udp/10. */
function brokenClient(mode: "client-liar" | "client-exit-0"): string[] {
  return ["python3", BROKEN, "--break", mode, "--client", "{host}", "{port}"];
}

Deno.test("every case: a unique id in its transport's family, a title, a hint, a requirement", () => {
  const ids = dgramCasesAll.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, "duplicate ids");
  for (const c of dgramCasesAll) {
    assert.equal(c.kind, "dgram-echo");
    assert.ok(c.id.startsWith(`dgram/${c.transport}/`), c.id);
    assert.match(
      c.familyTitle ?? "",
      /^Datagram echo over (UDP|Unix datagram sockets) \(SPEC §4\)$/,
    );
    assert.ok((c.hint ?? "").length > 10, `${c.id} has no hint`);
    assert.match(c.requirement, /\.$/, `${c.id}: a requirement is one sentence`);
  }
  // A number means one requirement: where both transports have it, the requirement is the same
  // (the size search's ceiling aside), so the two /10 of old are now /udp/10 and /unixgram/12.
  const udp = new Map(dgramCases("udp").map((c) => [c.id.split("/")[2], c.requirement]));
  for (const c of dgramCases("unixgram")) {
    const n = c.id.split("/")[2];
    if (udp.has(n) && n !== "5") assert.equal(c.requirement, udp.get(n), `dgram/*/${n}`);
  }
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
    assert.deepEqual(search.observed, {
      largestWhole: 777,
      above: "truncated to 777 bytes",
      answersOnlyFirstPeer: false,
    });
    assert.match(search.message, /\(3 probes up to 65507 from 127\.0\.0\.1:\d+\)$/);
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
    assert.deepEqual(search.observed, {
      largestWhole: 1234,
      above: "no answer",
      answersOnlyFirstPeer: false,
    });
    const trunc = await runCase(target, byId.get("dgram/udp/6")!);
    assert.equal(trunc.verdict, "FAIL");
    assert.match(
      trunc.message,
      /^the 4097-byte datagram: expected an answer to the 4097-byte datagram from 127\.0\.0\.1:\d+, got no answer within 1000 ms$/,
    );
  } finally {
    sock.close();
    await loop;
  }
});

for (const host of ["127.0.0.1", "::1"]) {
  Deno.test(`the kernel sends ${maxUdpPayload(host)} bytes over UDP on ${host} and refuses one more with EMSGSIZE`, async () => {
    const max = maxUdpPayload(host);
    const sink = openDatagram({ transport: "udp", hostname: host, port: 0 });
    const own = openDatagram({ transport: "udp", hostname: host, port: 0 });
    try {
      const to = toDenoAddr({
        transport: "udp",
        hostname: host,
        port: (sink.addr as Deno.NetAddr).port,
      });
      await own.send(new Uint8Array(max), to);
      const got = await receiveWithin(sink, 2000, 70000);
      assert.equal(got?.[0].length, max);
      await assert.rejects(own.send(new Uint8Array(max + 1), to), (err) => isMessageTooLong(err));
    } finally {
      sink.close();
      own.close();
    }
  });
}

Deno.test("dgram/udp/10 judges the declared client only: SKIP without one, PASS/FAIL by what it does", async () => {
  const c = byId.get("dgram/udp/10")!;
  assert.deepEqual(c.needs?.properties, ["client"]);
  const none = await runCase(attached(9, {}), c);
  assert.equal(none.verdict, "SKIP", none.message);
  assert.match(none.message, /properties\.client/);
  // the reference targets declare the reference client, which behaves
  for (const name of ["reference-udp", "reference-udp6"]) {
    const target = referenceTargets().find((t) => t.name === name)!;
    const r = await runCase(target, c);
    assert.equal(r.verdict, "PASS", `${name}: ${r.message}`);
    assert.match(r.message, /exited 1/);
  }
  // says "Message too long" for a datagram that fits, yet exits 0
  const liar = await runCase(
    attached(9, { client: brokenClient("client-liar") }),
    c,
  );
  assert.equal(liar.verdict, "FAIL", liar.message);
  assert.match(liar.message, /printed "Message too long" for a 65507-byte datagram, which fits/);
  // right for the datagram that fits, but exits 0 after EMSGSIZE
  const code = await runCase(
    attached(9, { client: brokenClient("client-exit-0") }),
    c,
  );
  assert.equal(code.verdict, "FAIL", code.message);
  assert.match(code.message, /exited with code 0, not exit code 1/);
});

Deno.test("dgram/unixgram/11 sends from an unbound socket of its own, then needs an echo to a bound one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgtest-" });
  const path = `${dir}/server`;
  const c = byId.get("dgram/unixgram/11")!;
  const target = parseManifest({
    name: "attached-unixgram",
    kind: "dgram-echo",
    transports: ["unixgram"],
    attach: { path },
    timeoutMs: 1000,
  }, "dgram_test.json");
  // a server that stops answering for good after a datagram from an unbound sender
  const sock = openDatagram({ transport: "unixgram", path });
  let unboundSeen = 0;
  const loop = (async () => {
    try {
      while (true) {
        const [data, from] = await sock.receive();
        const sender = (from as Deno.UnixAddr).path;
        if (!sender) unboundSeen++;
        else if (unboundSeen === 0) await sock.send(data, from);
      }
    } catch {
      // closed
    }
  })();
  try {
    const r = await runCase(target, c);
    assert.equal(r.verdict, "FAIL", r.message);
    assert.match(
      r.message,
      /after 2 datagrams from an unbound socket, the server gave a bound client no echo/,
    );
    assert.equal(unboundSeen, 2, "the case must send from an unbound socket of its own");
  } finally {
    sock.close();
    await loop;
    await Deno.remove(dir, { recursive: true });
  }
  const reference = referenceTargets().find((t) => t.name === "reference-unixgram")!;
  const ok = await runCase(reference, c);
  assert.equal(ok.verdict, "PASS", ok.message);
});

const fixture = (name: string) =>
  loadManifest(new URL(`../../fixtures/broken/${name}`, import.meta.url).pathname);

Deno.test("a server that connect()s to its first peer: the size search measures it from one socket and says so", async () => {
  // Before: every probe came from a fresh socket, so over UDP the search saw "1 bytes: no
  // answer" (largestWhole 0) and over Unix datagrams the INFO case FAILed with EPERM.
  const target = await fixture("dgram-connect-first.json");
  for (const t of ["udp", "unixgram"]) {
    const r = await runCase(target, byId.get(`dgram/${t}/5`)!);
    assert.equal(r.verdict, "PASS", r.message);
    assert.deepEqual(r.observed, {
      largestWhole: 4096,
      above: "truncated to 4096 bytes",
      answersOnlyFirstPeer: true,
    });
    assert.match(r.message, /; the server answers only its first peer \(a second client: /);
    const three = await runCase(target, byId.get(`dgram/${t}/3`)!);
    assert.equal(three.verdict, "FAIL", three.message);
  }
});

Deno.test("Unix datagram size search: up to what the client can send, '1 byte', and 'nothing larger fits' only on a refused send", async () => {
  // Before: capped at 65,507 ("nothing larger fits in one datagram") for a server that echoes
  // 65,536 whole.
  const big = await runCase(
    await fixture("dgram-big-unix-buffer.json"),
    byId.get("dgram/unixgram/5")!,
  );
  assert.equal(big.verdict, "PASS", big.message);
  assert.match(
    big.message,
    /^largest whole datagram 65536 bytes; 65537 bytes: truncated to 65536 bytes /,
  );
  // A server that echoes everything: the search reaches the client's own limit, where the
  // kernel refuses one byte more.
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgtest-" });
  const sock = openDatagram({ transport: "unixgram", path: `${dir}/server` });
  const loop = (async () => {
    try {
      while (true) {
        const [data, from] = await sock.receive(new Uint8Array(1 << 21));
        await sock.send(data, from);
      }
    } catch {
      // closed
    }
  })();
  try {
    const target = parseManifest({
      name: "echo-all",
      kind: "dgram-echo",
      transports: ["unixgram"],
      attach: { path: `${dir}/server` },
      timeoutMs: 1000,
    }, "dgram_test.json");
    const all = await runCase(target, byId.get("dgram/unixgram/5")!);
    assert.equal(all.verdict, "PASS", all.message);
    assert.equal(all.observed.above, "nothing larger fits in one datagram");
    const max = Number(/probes up to (\d+)/.exec(all.message)?.[1]);
    assert.ok(max > 65536, all.message);
    assert.equal(all.observed.largestWhole, max);
  } finally {
    sock.close();
    await loop;
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(counted(1, "byte"), "1 byte");
  assert.equal(counted(2, "byte"), "2 bytes");
});

Deno.test("broken fixtures: each FAIL names the step and what came back, errno text once", async () => {
  const cases: [string, string, RegExp][] = [
    [
      "dgram-corrupt.json",
      "dgram/unixgram/1",
      /^the tutorial message: expected the same 42 bytes back, but the datagram differs at byte 41: sent b'\.', got b'\\x0e'$/,
    ],
    [
      "dgram-truncate-below.json",
      "dgram/udp/4",
      /^the 4096-byte datagram: expected the same 4096 bytes back, but the datagram came back truncated to 4000 of 4096 bytes$/,
    ],
    [
      "dgram-crash-on-unbound.json",
      "dgram/unixgram/11",
      /^after (1 datagram from an unbound socket, the server no longer receives: sending 20 bytes from \(unbound\) to \S+ failed: \[Errno 111\] Connection refused|2 datagrams from an unbound socket, the server gave a bound client no echo: .*) \(the target stopped by itself: pid \d+, exited with code 1[^)]*\)$/,
    ],
  ];
  for (const [manifest, id, want] of cases) {
    const r = await runCase(await fixture(manifest), byId.get(id)!);
    assert.equal(r.verdict, "FAIL", `${manifest} ${id}: ${r.message}`);
    assert.match(r.message, want);
    assert.doesNotMatch(r.message, /os error/);
    assert.equal(r.message.match(/exited with code/g)?.length ?? 0, id.endsWith("/11") ? 1 : 0);
  }
});

Deno.test("an INFO case never FAILs because a probe was refused: it reports what it saw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgtest-" });
  try {
    // a socket node nobody reads any more: every send to it is refused
    openDatagram({ transport: "unixgram", path: `${dir}/server` }).close();
    const target = parseManifest({
      name: "refuses",
      kind: "dgram-echo",
      transports: ["unixgram"],
      attach: { path: `${dir}/server` },
      timeoutMs: 500,
    }, "dgram_test.json");
    const search = await runCase(target, byId.get("dgram/unixgram/5")!);
    assert.equal(search.verdict, "PASS", search.message);
    assert.equal(search.observed.largestWhole, 0);
    assert.equal(search.observed.above, "the send was refused: [Errno 111] Connection refused");
    assert.match(search.message, /^largest whole datagram 0 bytes; 1 byte: the send was refused/);
    const zero = await runCase(target, byId.get("dgram/unixgram/7")!);
    assert.equal(zero.verdict, "PASS", zero.message);
    assert.deepEqual(zero.observed, { zeroLength: null });
    assert.equal(
      zero.message,
      "the zero-length datagram could not be sent: [Errno 111] Connection refused",
    );
    // a MUST case names the refused step
    const after = await runCase(target, byId.get("dgram/unixgram/8")!);
    assert.equal(after.verdict, "FAIL");
    assert.equal(
      after.message,
      "sending the zero-length datagram failed: [Errno 111] Connection refused",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
