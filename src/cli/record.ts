/**
 * `sockspec serve record` and `sockspec client record`: the command lines of the reference
 * record server and client (SPEC §6).
 *
 * @example
 * ```ts
 * import { recordClientMain } from "./record.ts";
 * import { serveRecords } from "../reference/record/server.ts";
 * const server = await serveRecords({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 } });
 * const { port } = server.addr as Deno.NetAddr;
 * const code = await recordClientMain(["--tcp", `127.0.0.1:${port}`]);
 * console.log(code); // 0
 * await server.close();
 * ```
 * @module
 */

import {
  modeOption,
  parseCommand,
  serveUntilSignal,
  STREAM_OPTIONS,
  streamAddress,
  timeoutOption,
  UsageError,
} from "./_args.ts";
import { calcsize } from "../python/struct.ts";
import { serveRecords, TUTORIAL_FORMAT } from "../reference/record/server.ts";

/** Help for `sockspec serve record`. */
export const SERVE_RECORD_HELP =
  `Usage: sockspec serve record (--tcp HOST:PORT | --unix PATH) [options]

The reference record server (SPEC §6). Reads exactly one packed record per connection,
however many reads it arrives in, and with --transcript prints the tutorial's lines:
  received b'0100000061620000cdcc2c40'
  unpacked: (1, b'ab', 2.700000047683716)
A short record (the peer closes early) or a stalled one gets one line on stderr and the
server keeps serving; bytes after the record are reported on stderr. Serves clients
concurrently; stops cleanly on SIGINT or SIGTERM (exit 0).

Options:
  --tcp HOST:PORT   listen on TCP (IPv6 as [::1]:10000; port 0 picks a free one)
  --unix PATH       listen on a Unix socket path (a stale socket there is removed;
                    a live one, a file or a directory makes it refuse to start)
  --format FMT      the struct format of a record (default '${TUTORIAL_FORMAT}', 12 bytes)
  --reply           answer each record with one JSON line:
                    {"format": ..., "hex": ..., "repr": ..., "values": [...]}, where
                    bytes are {"bytes": HEX}, integers beyond 2^53 {"int": DIGITS},
                    NaN and infinities {"float": "nan"|"inf"|"-inf"}; a short record
                    gets {"error": ..., "hex": ...}
  --transcript      print the tutorial's server transcript
  --timeout MS      the whole record must arrive within MS of the connection (a record
                    trickled or stalled past it is cut off), and the peer must close
                    within MS after it (default 5000)
  --mode OCTAL      give the Unix socket node this mode
  --help            show this help

Exit: 0 after SIGINT/SIGTERM, 1 when it cannot listen (the message names the path),
2 on a usage error (a bad --format included).`;

/** Help for `sockspec client record`. */
export const CLIENT_RECORD_HELP =
  `Usage: sockspec client record (--tcp HOST:PORT | --unix PATH) [options]

The reference record client (SPEC §6): packs (1, b'ab', 2.7), sends the record in one
write and prints the tutorial's lines:
  values = (1, b'ab', 2.7)
  sending b'0100000061620000cdcc2c40'
  closing socket
On failure prints [Errno N] message and exits 1.

Options:
  --tcp HOST:PORT   connect over TCP, trying each address HOST resolves to
  --unix PATH       connect to a Unix socket path
  --format FMT      the struct format (default '${TUTORIAL_FORMAT}')
  --reply           wait for the server's JSON reply line and print it (reply = ...)
  --timeout MS      longest wait for any step (default 5000)
  --help            show this help`;

function format(text: string | undefined): string {
  if (text === undefined) return TUTORIAL_FORMAT;
  try {
    if (calcsize(text) === 0) throw new Error("a record of 0 bytes carries nothing");
  } catch (err) {
    throw new UsageError(
      `--format '${text}' is not a usable struct format: ${(err as Error).message}`,
    );
  }
  return text;
}

/**
 * Runs `sockspec serve record ARGS`; resolves with the exit status after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { recordServeMain } from "./record.ts";
 * await recordServeMain(["--help"]); // 0
 * ```
 */
export async function recordServeMain(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SERVE_RECORD_HELP, {
    ...STREAM_OPTIONS,
    format: { type: "string" },
    reply: { type: "boolean" },
    transcript: { type: "boolean" },
    timeout: { type: "string" },
    mode: { type: "string" },
  });
  if (!parsed) return 0; // --help
  const { values } = parsed;
  const listen = streamAddress(values);
  const mode = modeOption(values.mode, listen.transport);
  const options = {
    listen,
    format: format(values.format),
    reply: values.reply,
    transcript: values.transcript,
    timeoutMs: timeoutOption(values.timeout),
    mode,
  };
  return await serveUntilSignal("sockspec serve record", () => serveRecords(options));
}

/**
 * Runs `sockspec client record ARGS`; resolves with the exit status.
 *
 * @example
 * ```ts
 * import { recordClientMain } from "./record.ts";
 * import { serveRecords } from "../reference/record/server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveRecords({ listen: { transport: "unix", path: `${dir}/uds_socket` }, reply: true });
 * await recordClientMain(["--unix", `${dir}/uds_socket`, "--reply"]); // 0, after the reply line
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recordClientMain(args: string[]): Promise<number> {
  const parsed = parseCommand(args, CLIENT_RECORD_HELP, {
    ...STREAM_OPTIONS,
    format: { type: "string" },
    reply: { type: "boolean" },
    timeout: { type: "string" },
  });
  if (!parsed) return 0; // --help
  const { values } = parsed;
  // the client's modules load only when a client runs
  const { runRecordClient } = await import("../reference/record/client.ts");
  return await runRecordClient({
    connectTo: streamAddress(values),
    format: format(values.format),
    reply: values.reply,
    timeoutMs: timeoutOption(values.timeout),
  });
}
