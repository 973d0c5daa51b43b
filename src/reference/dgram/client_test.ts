import assert from "node:assert/strict";
import { match, udpClientTranscript } from "../../transcript/transcript.ts";
import { runDgramClient, UNBOUND_ERROR } from "./client.ts";
import { serveDgram } from "./server.ts";
import { patterned } from "../../net/datagram.ts";

function printer() {
  const lines: string[] = [];
  return { lines, print: (l: string) => lines.push(l), text: () => lines.join("\n") + "\n" };
}

Deno.test("UDP client: the tutorial transcript against the reference server, IPv4 and IPv6", async () => {
  for (const hostname of ["127.0.0.1", "::1"]) {
    const server = await serveDgram({ listen: { transport: "udp", hostname, port: 0 } });
    const out = printer();
    try {
      const port = (server.addr as Deno.NetAddr).port;
      const code = await runDgramClient({
        to: { transport: "udp", hostname, port },
        print: out.print,
      });
      assert.equal(code, 0, out.text());
      const result = match(udpClientTranscript(), out.text());
      assert.ok(result.ok, result.ok ? "" : result.message);
    } finally {
      await server.close();
    }
  }
});

Deno.test("UDP client: one byte over the limit prints [Errno 90] Message too long and returns 1", async () => {
  for (const [hostname, max] of [["127.0.0.1", 65507], ["::1", 65527]] as const) {
    const server = await serveDgram({ listen: { transport: "udp", hostname, port: 0 } });
    try {
      const port = (server.addr as Deno.NetAddr).port;
      const to = { transport: "udp" as const, hostname, port };
      const fits = printer();
      assert.equal(await runDgramClient({ to, message: patterned(max), print: fits.print }), 0);
      assert.ok(!fits.text().includes("Message too long"));
      const over = printer();
      assert.equal(await runDgramClient({ to, message: patterned(max + 1), print: over.print }), 1);
      assert.deepEqual(over.lines.slice(1), ["[Errno 90] Message too long", "closing socket"]);
    } finally {
      await server.close();
    }
  }
});

Deno.test("UDP client: no answer is a timeout, exit 1", async () => {
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const out = printer();
    const code = await runDgramClient({
      to: { transport: "udp", hostname: "127.0.0.1", port: (silent.addr as Deno.NetAddr).port },
      timeoutMs: 50,
      print: out.print,
    });
    assert.equal(code, 1);
    assert.match(out.text(), /timed out: no answer within 50 ms\nclosing socket\n$/);
  } finally {
    silent.close();
  }
});

Deno.test("Unix datagram client: binds its own path (and removes it), or says why unbound cannot work", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgcl-" });
  const server = await serveDgram({
    listen: { transport: "unixgram", path: `${dir}/s` },
    log: () => {},
  });
  try {
    const to = { transport: "unixgram" as const, path: `${dir}/s` };
    const bound = printer();
    assert.equal(await runDgramClient({ to, bind: `${dir}/c`, print: bound.print }), 0);
    assert.ok(match(udpClientTranscript(), bound.text()).ok, bound.text());
    assert.throws(() => Deno.lstatSync(`${dir}/c`), Deno.errors.NotFound);
    const fresh = printer();
    assert.equal(await runDgramClient({ to, print: fresh.print }), 0, fresh.text());
    const unbound = printer();
    assert.equal(await runDgramClient({ to, unbound: true, print: unbound.print }), 1);
    assert.deepEqual(unbound.lines.slice(1), [UNBOUND_ERROR, "closing socket"]);
    const missing = printer();
    const code = await runDgramClient({
      to: { transport: "unixgram", path: `${dir}/nothing` },
      print: missing.print,
    });
    assert.equal(code, 1);
    assert.ok(missing.lines.includes("[Errno 2] No such file or directory"), missing.text());
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
