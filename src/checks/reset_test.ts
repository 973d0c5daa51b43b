import assert from "node:assert/strict";
import type { CaseContext } from "../case/case.ts";
import { closeQuietly, freePort, type StreamAddress } from "../net/sockets.ts";
import { abruptClient } from "./reset.ts";

const BROKEN = new URL("../../fixtures/broken/echo_broken.py", import.meta.url).pathname;
const hasPython = (() => {
  try {
    return new Deno.Command("python3", { args: ["-c", ""] }).outputSync().success;
  } catch {
    return false;
  }
})();

/**
 * The verbatim tutorial server (echo_broken.py --break die-on-reset): recv(16), sendall,
 * and any OSError on the connection ends it with `connection error: [Errno N] ...`.
 * Resolves what it printed about the connection's end: that line, or "no data" (EOF).
 */
async function tutorialServer(addr: StreamAddress): Promise<Deno.ChildProcess> {
  const where = addr.transport === "unix"
    ? ["--unix", addr.path]
    : ["--tcp", addr.hostname, String(addr.port)];
  const child = new Deno.Command("python3", {
    args: [BROKEN, "--break", "die-on-reset", ...where],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 300; i++) {
    try {
      closeQuietly(await connectOnce(addr));
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  child.kill("SIGKILL");
  throw new Error("echo_broken.py did not start");
}

function connectOnce(addr: StreamAddress): Promise<Deno.Conn> {
  return addr.transport === "unix"
    ? Deno.connect({ transport: "unix", path: addr.path })
    : Deno.connect({ hostname: addr.hostname, port: addr.port });
}

function fakeContext(resources: { close(): void }[]): CaseContext {
  return {
    timeoutMs: 2000,
    track<T extends { close(): void }>(r: T): T {
      resources.push(r);
      return r;
    },
  } as unknown as CaseContext;
}

for (const transport of ["tcp", "unix"] as const) {
  Deno.test({
    name:
      `abruptClient over ${transport}: a tutorial server's recv/send raises a reset error, never sees end of stream (5 of 5)`,
    ignore: !hasPython,
    async fn() {
      for (let run = 0; run < 5; run++) {
        const dir = await Deno.makeTempDir({ prefix: "sockspec-rst-" });
        const addr: StreamAddress = transport === "unix"
          ? { transport: "unix", path: `${dir}/sock` }
          : { transport: "tcp", hostname: "127.0.0.1", port: freePort() };
        const server = await tutorialServer(addr);
        const resources: { close(): void }[] = [];
        try {
          // The readiness probe above was one connection (it printed "no data from"): this is the next.
          const client = await abruptClient(fakeContext(resources), addr);
          // TCP: a small message the server has read whole before the client leaves, so only
          // a real reset (not a FIN first) makes its next recv fail. Unix: a backlog the
          // server is still echoing (see reset.ts), as the cases send.
          const message = transport === "tcp"
            ? new TextEncoder().encode("LEFTOVER-BYTES-FROM-THE-FIRST-CLIENT")
            : new Uint8Array(1 << 20).fill(76);
          assert.ok(await client.send(message, 200) > 0);
          assert.equal(await client.firstByte(2000), message[0], "the server echoes first");
          client.reset();
          const timer = setTimeout(() => server.kill("SIGKILL"), 5000);
          const out = await server.output();
          clearTimeout(timer);
          const text = new TextDecoder().decode(out.stdout);
          const ending = text.split("\n").filter((l) => /^connection error|^no data from/.test(l));
          assert.match(
            ending.at(-1) ?? "(nothing)",
            /^connection error: \[Errno (104|32)\]/,
            `run ${run + 1}: the server's last connection ended with: ${ending.at(-1)}`,
          );
          assert.equal(out.code, 1);
        } finally {
          for (const r of resources) closeQuietly(r);
          try {
            server.kill("SIGKILL");
          } catch {
            // exited
          }
          await Deno.remove(dir, { recursive: true });
        }
      }
    },
  });
}
