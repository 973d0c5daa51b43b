/**
 * The reference servers against bad input, many clients at a time: idle and half-closed
 * connections, resets in the middle of a write, short, stalled and over-long records,
 * zero-length and oversize datagrams, clients gone before their answer. Each abuse gets at
 * most one clear stderr line, and the server keeps serving the others.
 *
 * The servers are the built-in reference targets (the real CLI in a child Deno with its
 * reference permissions), started and torn down by the harness (src/harness/target.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseManifest, type Target } from "../harness/manifest.ts";
import { referenceTargets } from "./targets.ts";
import {
  closeQuietly,
  connect,
  readExactly,
  readUntilEof,
  type StreamAddress,
  withTimeout,
  writeAll,
} from "../net/sockets.ts";
import type { Instance } from "../harness/target.ts";
import { withServer } from "../testdata/with_server.ts";
import { openDatagram, toDenoAddr } from "../net/datagram.ts";

const RECORD = new Uint8Array([0x01, 0, 0, 0, 0x61, 0x62, 0, 0, 0xcd, 0xcc, 0x2c, 0x40]);
const encoder = new TextEncoder();

function reference(name: string, extraArgs: string[] = []): Target {
  const target = referenceTargets().find((t) => t.name === name);
  assert.ok(target, `no reference target ${name}`);
  if (extraArgs.length === 0) return target;
  const { source: _s, dir: _d, ready, ...rest } = target;
  return parseManifest(
    {
      ...rest,
      ready: { kind: ready.kind, pattern: ready.pattern },
      command: [...target.command!, ...extraArgs],
    },
    "built-in",
  );
}

/** The server's stderr lines, once `count` of them match `pattern` (or after `ms`). */
async function stderrLines(server: Instance, pattern: RegExp, count: number, ms = 5000) {
  const lines = () => server.stderr.text().split("\n").filter((l) => l !== "");
  const deadline = Date.now() + ms;
  while (lines().filter((l) => pattern.test(l)).length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return lines();
}

/** One client that sends `text` and must get exactly it back. */
async function echoed(addr: StreamAddress, text: string): Promise<void> {
  const conn = await connect(addr, 3000);
  try {
    const data = encoder.encode(text);
    await writeAll(conn, data, 3000);
    assert.deepEqual(await readExactly(conn, data.length, 3000), data, `echo of ${text}`);
  } finally {
    closeQuietly(conn);
  }
}

for (const [t, name] of [["unix", "reference-echo-unix"], ["tcp", "reference-echo-tcp"]] as const) {
  Deno.test(`echo (${t}): idle and half-closed connections that never read do not stop it serving others`, async () => {
    await withServer(reference(name), async (server) => {
      const addr = server.address(t);
      const held: Deno.Conn[] = [];
      try {
        // 100 connect and say nothing; 50 send half a message and stall; 50 send 1 KiB,
        // shut down their write side and never read the echo.
        for (let i = 0; i < 100; i++) held.push(await connect(addr, 3000));
        for (let i = 0; i < 50; i++) {
          const conn = await connect(addr, 3000);
          held.push(conn);
          await writeAll(conn, encoder.encode(`stalled ${i}: half a mess`), 3000);
        }
        for (let i = 0; i < 50; i++) {
          const conn = await connect(addr, 3000);
          held.push(conn);
          await writeAll(conn, new Uint8Array(1024).fill(i), 3000);
          await conn.closeWrite();
        }
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => echoed(addr, `client ${i} is served`)),
        );
        console.log(
          `${t}: 20 clients served in ${
            Math.round(performance.now() - t0)
          } ms beside 200 idle or half-closed`,
        );
      } finally {
        for (const conn of held) closeQuietly(conn);
      }
      await echoed(addr, "and after they all left");
      const lines = await stderrLines(server, /ended: /, 0, 0);
      assert.ok(lines.length <= 200, `at most one line per abusive client:\n${lines.join("\n")}`);
      for (const line of lines) {
        assert.match(line, /^echo: connection from .+ ended: .+\(os error \d+\)$/);
      }
      assert.ok(server.running);
    });
  });

  Deno.test(`echo (${t}): resets in the middle of a write give one line each; others are served`, async () => {
    await withServer(reference(name), async (server) => {
      const addr = server.address(t);
      // 20 clients write 256 KiB each and close without reading: the echo the server is
      // writing back meets a reset (TCP: unread data makes the close an RST).
      await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const conn = await connect(addr, 3000);
        try {
          await writeAll(conn, new Uint8Array(256 << 10).fill(i), 300).catch(() => {});
        } finally {
          closeQuietly(conn);
        }
      }));
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => echoed(addr, `client ${i} after the resets`)),
      );
      const lines = await stderrLines(server, /ended: /, 20, 2000);
      console.log(`${t}: ${lines.length} lines for 20 resets, for example: ${lines[0]}`);
      assert.ok(
        lines.length >= 1 && lines.length <= 20,
        `one line per reset at most:\n${lines.join("\n")}`,
      );
      for (const line of lines) {
        assert.match(
          line,
          /^echo: connection from .+ ended: (Connection reset by peer|Broken pipe) \(os error (104|32)\)$/,
        );
      }
      if (t === "tcp") {
        const peers = new Set(lines.map((l) => /from (\(.*?\)) ended/.exec(l)?.[1]));
        assert.equal(peers.size, lines.length, "each line names its own client");
      }
      assert.ok(server.running);
    });
  });
}

for (
  const [t, name] of [["unix", "reference-record-unix"], ["tcp", "reference-record-tcp"]] as const
) {
  Deno.test(`record (${t}): short, stalled, over-long and reset records get one line each; good ones are served`, async () => {
    await withServer(reference(name, ["--timeout", "500"]), async (server) => {
      const addr = server.address(t);
      const exchange = async (data: Uint8Array, close: "write" | "all" | "never") => {
        const conn = await connect(addr, 3000);
        try {
          await writeAll(conn, data, 3000);
          if (close === "all") return "";
          if (close === "write") await conn.closeWrite();
          return new TextDecoder().decode(
            await readUntilEof(conn, { timeoutMs: 3000, maxBytes: 1 << 16 }),
          );
        } finally {
          closeQuietly(conn);
        }
      };
      const over = new Uint8Array([...RECORD, ...new Uint8Array(100).fill(0x21)]);
      const [shorts, stalled, overlong, resets, good] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => exchange(RECORD.subarray(0, 5), "write"))),
        Promise.all(Array.from({ length: 5 }, () => exchange(RECORD.subarray(0, 7), "never"))),
        Promise.all(Array.from({ length: 10 }, () => exchange(over, "write"))),
        Promise.all(Array.from({ length: 5 }, () => exchange(RECORD.subarray(0, 3), "all"))),
        Promise.all(Array.from({ length: 10 }, () => exchange(RECORD, "write"))),
      ]);
      for (const reply of good) assert.match(reply, /"repr":"\(1, b'ab', 2\.700000047683716\)"/);
      for (const reply of [...shorts, ...stalled]) assert.match(reply, /^\{"error":/);
      for (const reply of overlong) {
        assert.match(reply, /"repr":"\(1, b'ab', 2\.700000047683716\)"/);
      }
      assert.deepEqual(resets, ["", "", "", "", ""]);
      const lines = await stderrLines(server, /^record: /, 30);
      console.log(
        `${t}: ${lines.length} lines for 30 abusive clients, for example:\n${
          [...new Set(lines.map((l) => l.replace(/from .*?:/, "from PEER:")))].join("\n")
        }`,
      );
      const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
      assert.equal(
        count(/^record: short record from .*: the peer closed after 5 of 12 bytes/),
        10,
        lines.join("\n"),
      );
      assert.equal(
        count(/^record: short record from .*: the peer closed after 3 of 12 bytes/),
        5,
        lines.join("\n"),
      );
      assert.equal(
        count(/^record: incomplete record from .*: 7 of 12 bytes within 500 ms/),
        5,
        lines.join("\n"),
      );
      assert.equal(
        count(/^record: 100 excess bytes after the 12-byte record from .*, ignored: b'!!!!/),
        10,
        lines.join("\n"),
      );
      assert.equal(lines.length, 30, `exactly one line per abusive client:\n${lines.join("\n")}`);
      assert.match(await exchange(RECORD, "write"), /"values"/, "still served afterwards");
      assert.ok(server.running);
    });
  });
}

/** Receives one datagram within `ms`, or undefined. */
async function receiveWithin(
  socket: Deno.DatagramConn,
  ms: number,
): Promise<Uint8Array | undefined> {
  try {
    const [data] = await withTimeout(socket.receive(), ms, "receiving");
    return data;
  } catch {
    return undefined;
  }
}

for (const [t, name] of [["udp", "reference-udp"], ["unixgram", "reference-unixgram"]] as const) {
  Deno.test(`datagram (${t}): zero-length and oversize datagrams, clients gone before the answer: it keeps serving`, async () => {
    await withServer(reference(name), async (server) => {
      const to = toDenoAddr(
        t === "udp"
          ? { transport: "udp", hostname: server.target.host, port: server.port! }
          : { transport: "unixgram", path: server.path! },
      );
      const clientDir = await Deno.makeTempDir({ prefix: "sockspec-abuse-" });
      let n = 0;
      const open = () =>
        t === "udp"
          ? openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 })
          : openDatagram({ transport: "unixgram", path: `${clientDir}/c${++n}` });
      try {
        // Clients that leave before their answer: the send back fails (unixgram: the path
        // is gone) or goes nowhere (udp). The server is stopped (SIGSTOP) meanwhile, so that
        // every client really is gone before the server reads its datagram.
        server.kill("SIGSTOP");
        try {
          for (let i = 0; i < 10; i++) {
            const gone = open();
            await gone.send(encoder.encode(`gone ${i}`), to);
            closeQuietly(gone);
            if (t === "unixgram") await Deno.remove(`${clientDir}/c${n}`);
          }
        } finally {
          server.kill("SIGCONT");
        }
        // 20 clients, one after the other (64 KiB datagrams at once would overflow the
        // server's receive buffer, and UDP may drop them): a zero-length datagram (no answer),
        // then an oversize one (answered truncated to the 4096-byte buffer).
        const size = t === "udp" ? 65507 : 100_000;
        const clients = Array.from({ length: 20 }, open);
        try {
          for (const [i, client] of clients.entries()) {
            // The server answers in order: if the first answer is the truncated big one,
            // the zero-length datagram sent before it got none.
            await client.send(new Uint8Array(0), to);
            const big = new Uint8Array(size).map((_, j) => (j * 7 + i) & 0xff);
            await client.send(big, to);
            const first = await receiveWithin(client, 3000);
            assert.equal(
              first?.length,
              4096,
              "no answer to the zero-length datagram; a truncated one to the big one",
            );
            assert.deepEqual(
              first,
              big.subarray(0, 4096),
              `a ${size}-byte datagram comes back as its first 4096`,
            );
          }
          // Then all 20 at once with a normal datagram: each is answered exactly.
          await Promise.all(clients.map(async (client, i) => {
            const hello = encoder.encode(`client ${i} is served`);
            await client.send(hello, to);
            assert.deepEqual(await receiveWithin(client, 3000), hello);
          }));
        } finally {
          for (const client of clients) closeQuietly(client);
        }
      } finally {
        await Deno.remove(clientDir, { recursive: true });
      }
      const lines = await stderrLines(server, /^dgram: /, t === "unixgram" ? 10 : 0, 2000);
      console.log(`${t}: ${lines.length} stderr lines; ${lines[0] ?? ""}`);
      if (t === "unixgram") {
        assert.equal(
          lines.length,
          10,
          `one line per client gone before its answer:\n${lines.join("\n")}`,
        );
        for (const line of lines) {
          assert.match(line, /^dgram: cannot send \d+ bytes back to .+: \[Errno \d+\] /);
        }
      } else {
        assert.deepEqual(lines, [], "nothing to complain about over UDP");
      }
      assert.ok(server.running);
    });
  });
}
