import assert from "node:assert/strict";
import { readUntilEof, writeAll } from "../../net/sockets.ts";
import { talkOver } from "./client.ts";

Deno.test("talkOver: nothing listening prints [Errno 2] and returns 1 without 'closing socket'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-scl-" });
  try {
    const lines: string[] = [];
    let talked = false;
    const code = await talkOver({ transport: "unix", path: `${dir}/none` }, 2000, (l) => {
      lines.push(l);
    }, () => {
      talked = true;
      return Promise.resolve(0);
    });
    assert.equal(code, 1);
    assert.equal(talked, false);
    assert.deepEqual(lines, ["[Errno 2] No such file or directory"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("talkOver: the talk's status, or 1 after its error, then 'closing socket' and the close", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const to = { transport: "tcp" as const, hostname: "127.0.0.1", port: listener.addr.port };
  try {
    for (const outcome of [0, 3, "throws"] as const) {
      const lines: string[] = [];
      const accepted = listener.accept();
      const code = await talkOver(to, 2000, (l) => lines.push(l), async (conn) => {
        await writeAll(conn, new TextEncoder().encode("hi"), 2000);
        lines.push("talked");
        if (outcome === "throws") throw new Error("Broken pipe (os error 32)");
        return outcome;
      });
      assert.equal(code, outcome === "throws" ? 1 : outcome);
      assert.deepEqual(
        lines,
        outcome === "throws"
          ? ["talked", "[Errno 32] Broken pipe", "closing socket"]
          : ["talked", "closing socket"],
      );
      const server = await accepted;
      try {
        // the client closed its end: the server reads what was sent, then EOF
        assert.equal(
          new TextDecoder().decode(await readUntilEof(server, { timeoutMs: 2000 })),
          "hi",
        );
      } finally {
        server.close();
      }
    }
  } finally {
    listener.close();
  }
});
