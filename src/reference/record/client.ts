/**
 * The reference record client (SPEC §6): packs the tutorial's values `(1, b'ab', 2.7)` with
 * the record format (`I 2s f` by default), sends the record in one write and prints the
 * tutorial's client transcript:
 *
 * ```
 * values = (1, b'ab', 2.7)
 * sending b'0100000061620000cdcc2c40'
 * closing socket
 * ```
 *
 * With `reply` it then waits for the server's JSON reply line and prints it as
 * `reply = {...}` before `closing socket`. On a connection error it prints
 * `[Errno N] message` as Python does; on a format that cannot hold the values it prints
 * `struct.error: ...`; both return 1.
 *
 * @example
 * ```ts
 * import { runRecordClient } from "./client.ts";
 * import { serveRecords } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveRecords({ listen: { transport: "unix", path: `${dir}/uds_socket` } });
 * const code = await runRecordClient({ connectTo: { transport: "unix", path: `${dir}/uds_socket` } });
 * console.log(code); // 0, after the transcript above
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { PyFloat, pyRepr, toHex } from "../../python/repr.ts";
import { readLine, type StreamAddress, writeAll } from "../../net/sockets.ts";
import { Struct, StructError } from "../../python/struct.ts";
import { TUTORIAL_FORMAT, TUTORIAL_VALUES } from "../../transcript/tutorial.ts";
import { talkOver } from "../stream/client.ts";

export { TUTORIAL_VALUES };

/** Options of {@linkcode runRecordClient}. */
export interface RecordClientOptions {
  /** Where to connect. */
  connectTo: StreamAddress;
  /** The struct format (default {@linkcode TUTORIAL_FORMAT}). */
  format?: string;
  /** Wait for the server's JSON reply line and print it. */
  reply?: boolean;
  /** Longest wait for any step, in ms (default 5000). */
  timeoutMs?: number;
  /** Where transcript and error lines go (default `console.log`, as the tutorial prints them). */
  print?: (line: string) => void;
}

export { readLine };

/**
 * Runs the client; returns the exit status (0, or 1 after printing the error).
 *
 * @example
 * ```ts
 * import { runRecordClient } from "./client.ts";
 * import { serveRecords } from "./server.ts";
 * const server = await serveRecords({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 }, reply: true });
 * const { port } = server.addr as Deno.NetAddr;
 * await runRecordClient({ connectTo: { transport: "tcp", hostname: "127.0.0.1", port }, reply: true }); // 0
 * await server.close();
 * ```
 */
export async function runRecordClient(opts: RecordClientOptions): Promise<number> {
  const print = opts.print ?? console.log;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const to = opts.connectTo;
  let packed: Uint8Array;
  try {
    packed = new Struct(opts.format ?? TUTORIAL_FORMAT).pack(...TUTORIAL_VALUES);
  } catch (err) {
    // Python names the codec's error struct.error; an out-of-range float is an OverflowError.
    const name = err instanceof StructError
      ? "struct.error"
      : err instanceof RangeError
      ? "OverflowError"
      : "TypeError";
    print(`${name}: ${(err as Error).message}`);
    return 1;
  }
  return await talkOver(to, timeoutMs, print, async (conn) => {
    print(`values = ${pyRepr([1, TUTORIAL_VALUES[1] as Uint8Array, new PyFloat(2.7)])}`);
    print(`sending b'${toHex(packed)}'`);
    await writeAll(conn, packed, timeoutMs);
    if (opts.reply) {
      const line = await readLine(conn, timeoutMs);
      if (line === null) {
        print("the server closed the connection without a reply");
        return 1;
      }
      print(`reply = ${line}`);
    }
    return 0;
  });
}
