import assert from "node:assert/strict";
import { closeQuietly, connect, type StreamAddress } from "../../net/sockets.ts";
import { serveEcho } from "./server.ts";

for (const unix of [false, true]) {
  for (const transcript of [false, true]) {
    const t = `${unix ? "unix" : "tcp"}${transcript ? ", transcript" : ""}`;
    Deno.test(`echo server (${t}): a client that reads nothing is dropped with a line that says so`, async () => {
      const dir = unix ? await Deno.makeTempDir({ prefix: "sockspec-echo-" }) : undefined;
      const logs: string[] = [];
      const server = await serveEcho({
        listen: dir
          ? { transport: "unix", path: `${dir}/s` }
          : { transport: "tcp", hostname: "127.0.0.1", port: 0 },
        transcript,
        print: () => {},
        log: (l) => logs.push(l),
        stallMs: 300,
      });
      const addr: StreamAddress = dir
        ? { transport: "unix", path: `${dir}/s` }
        : { transport: "tcp", hostname: "127.0.0.1", port: (server.addr as Deno.NetAddr).port };
      const conn = await connect(addr, 2000);
      try {
        // write far more than both socket buffers hold, and never read
        const block = new Uint8Array(1 << 16);
        const writing = (async () => {
          for (let i = 0; i < 1024; i++) await conn.write(block);
        })().catch(() => {});
        for (let i = 0; i < 300 && logs.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        closeQuietly(conn);
        await writing;
        assert.equal(logs.length, 1, logs.join("\n"));
        assert.match(
          logs[0],
          /^echo: connection from .* ended: the client read nothing for 300 ms; connection dropped$/,
        );
      } finally {
        closeQuietly(conn);
        await server.close();
        if (dir) await Deno.remove(dir, { recursive: true });
      }
    });
  }
}
