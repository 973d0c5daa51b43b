/**
 * The part the reference stream clients share (echo, SPEC §1-2; record, SPEC §6): connect
 * (over TCP trying each address the host resolves to, like Python's `create_connection`),
 * talk, and print the tutorial's `closing socket` before closing; an error prints as
 * Python's `[Errno N] message` and makes the exit status 1.
 *
 * @example
 * ```ts
 * import { writeAll } from "../../net/sockets.ts";
 * import { talkOver } from "./client.ts";
 * const dir = await Deno.makeTempDir();
 * const listener = Deno.listen({ transport: "unix", path: `${dir}/uds_socket` });
 * const code = await talkOver({ transport: "unix", path: `${dir}/uds_socket` }, 5000, console.log, async (conn) => {
 *   await writeAll(conn, new TextEncoder().encode("hello"), 5000);
 *   return 0;
 * });
 * console.log(code); // 0, after "closing socket"
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { createConnection } from "../../python/addrinfo.ts";
import { errnoLine } from "../../python/errno.ts";
import { closeQuietly, connect, type StreamAddress } from "../../net/sockets.ts";

/**
 * Connects to `to` within `timeoutMs` and resolves with what `talk` resolves with (the
 * exit status). When the connection or `talk` fails, prints the error as
 * `[Errno N] message` (via `print`) and resolves with 1. Once connected, it prints
 * `closing socket` and closes the connection last, whatever happened.
 *
 * @example
 * ```ts
 * import { freePort } from "../../net/sockets.ts";
 * import { talkOver } from "./client.ts";
 * const to = { transport: "tcp" as const, hostname: "127.0.0.1", port: freePort() }; // nothing listens
 * await talkOver(to, 5000, console.log, () => Promise.resolve(0)); // 1, after [Errno 111] Connection refused
 * ```
 */
export async function talkOver(
  to: StreamAddress,
  timeoutMs: number,
  print: (line: string) => void,
  talk: (conn: Deno.Conn) => Promise<number>,
): Promise<number> {
  let conn: Deno.Conn | undefined;
  try {
    conn = to.transport === "unix"
      ? await connect(to, timeoutMs)
      : await createConnection(to.hostname, to.port, { timeoutMs });
    return await talk(conn);
  } catch (err) {
    print(errnoLine(err));
    return 1;
  } finally {
    if (conn) {
      print("closing socket");
      closeQuietly(conn);
    }
  }
}
