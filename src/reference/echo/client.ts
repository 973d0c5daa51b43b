/**
 * The reference stream echo client (SPEC §1 and §2): connects (over TCP trying each
 * resolved address in turn, like Python's `create_connection`), sends the message at once,
 * reads the echo `chunk` bytes at a time until it has it all, and prints the tutorial's
 * client transcript. On failure it prints `[Errno N] message` as Python does and returns 1.
 *
 * @example
 * ```ts
 * import { runEchoClient } from "./client.ts";
 * import { serveEcho } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveEcho({ listen: { transport: "unix", path: `${dir}/uds_socket` } });
 * const code = await runEchoClient({ connectTo: { transport: "unix", path: `${dir}/uds_socket` } });
 * console.log(code); // 0, after the tutorial's client transcript
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { bytesRepr } from "../../python/repr.ts";
import { TUTORIAL_MESSAGE } from "../../transcript/tutorial.ts";
import { readSome, type StreamAddress, writeAll } from "../../net/sockets.ts";
import { talkOver } from "../stream/client.ts";

/** Options of {@linkcode runEchoClient}. */
export interface EchoClientOptions {
  /** Where to connect. */
  connectTo: StreamAddress;
  /** What to send (default {@linkcode TUTORIAL_MESSAGE}). */
  message?: Uint8Array;
  /** Read at most this many bytes at a time (default 16). */
  chunk?: number;
  /** Longest wait for any step, in ms (default 5000). */
  timeoutMs?: number;
  /** Where transcript and error lines go (default `console.log`, as the tutorial prints them). */
  print?: (line: string) => void;
}

/**
 * Runs the client; returns the exit status (0, or 1 after printing the error).
 *
 * @example
 * ```ts
 * import { runEchoClient } from "./client.ts";
 * import { serveEcho } from "./server.ts";
 * const server = await serveEcho({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 } });
 * const { port } = server.addr as Deno.NetAddr;
 * const lines: string[] = [];
 * await runEchoClient({ connectTo: { transport: "tcp", hostname: "127.0.0.1", port }, print: (l) => lines.push(l) }); // 0
 * console.log(lines.at(-1)); // "closing socket"
 * await server.close();
 * ```
 */
export async function runEchoClient(opts: EchoClientOptions): Promise<number> {
  const print = opts.print ?? console.log;
  const message = opts.message ?? TUTORIAL_MESSAGE;
  const chunk = opts.chunk ?? 16;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const to = opts.connectTo;
  print(
    to.transport === "unix"
      ? `connecting to ${to.path}`
      : `connecting to ${to.hostname} port ${to.port}`,
  );
  return await talkOver(to, timeoutMs, print, async (conn) => {
    print(`sending ${bytesRepr(message)}`);
    await writeAll(conn, message, timeoutMs);
    let received = 0;
    while (received < message.length) {
      const data = await readSome(conn, timeoutMs, chunk);
      if (data === null) {
        print(`connection closed after ${received} of ${message.length} bytes`);
        return 1;
      }
      received += data.length;
      print(`received ${bytesRepr(data)}`);
    }
    return 0;
  });
}
