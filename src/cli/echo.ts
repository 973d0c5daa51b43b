/**
 * `sockspec serve echo` and `sockspec client echo`: the command lines of the reference
 * stream echo server and client.
 *
 * @example
 * ```ts
 * import { echoClientMain } from "./echo.ts";
 * import { serveEcho } from "../reference/echo/server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveEcho({ listen: { transport: "unix", path: `${dir}/uds_socket` } });
 * const code = await echoClientMain(["--unix", `${dir}/uds_socket`]);
 * console.log(code); // 0
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import {
  intOption,
  messageOption,
  modeOption,
  parseCommand,
  serveUntilSignal,
  STREAM_OPTIONS,
  streamAddress,
  timeoutOption,
  UsageError,
} from "./_args.ts";
import { serveEcho } from "../reference/echo/server.ts";

/** Help for `sockspec serve echo`. */
export const SERVE_ECHO_HELP = `Usage: sockspec serve echo (--tcp HOST:PORT | --unix PATH) [options]

The reference stream echo server (SPEC §1-3). Serves clients concurrently and
stops cleanly on SIGINT or SIGTERM (exit 0), removing its socket node only if it is
still its own.

Options:
  --tcp HOST:PORT   listen on TCP (IPv6 as [::1]:10000; port 0 picks a free one)
  --unix PATH       listen on a Unix socket path (a stale socket there is removed;
                    a live one, a file or a directory makes it refuse to start)
  --chunk N         handle N bytes at a time (default 16, the tutorial's recv(16)): reads of at
                    most N bytes; with --transcript, reads of what has arrived (up to 64 KiB)
                    printed in N-byte pieces, the lines a recv(N) loop prints
  --large           large-buffer mode: up to 256 KiB per read over TCP, 64 KiB over a Unix socket (faster there)
  --transcript      print the tutorial's server transcript
  --mode OCTAL      give the Unix socket node this mode (never looser, not even briefly)
  --help            show this help

Exit: 0 after SIGINT/SIGTERM, 1 when it cannot listen (the message names the path),
2 on a usage error.`;

/** Help for `sockspec client echo`. */
export const CLIENT_ECHO_HELP =
  `Usage: sockspec client echo (--tcp HOST:PORT | --unix PATH) [options]

The reference stream echo client: sends the message, reads the echo and prints the
tutorial's client transcript. On failure prints [Errno N] message and exits 1.

Options:
  --tcp HOST:PORT   connect over TCP, trying each address HOST resolves to
  --unix PATH       connect to a Unix socket path
  --message TEXT    what to send (default the tutorial's 42-byte message)
  --chunk N         read at most N bytes at a time (default 16)
  --timeout MS      longest wait for any step (default 5000)
  --help            show this help`;

/**
 * Runs `sockspec serve echo ARGS`; resolves with the exit status after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { echoServeMain } from "./echo.ts";
 * await echoServeMain(["--help"]); // 0
 * ```
 */
export async function echoServeMain(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SERVE_ECHO_HELP, {
    ...STREAM_OPTIONS,
    chunk: { type: "string" },
    large: { type: "boolean" },
    transcript: { type: "boolean" },
    mode: { type: "string" },
  });
  if (!parsed) return 0; // --help
  const { values } = parsed;
  const listen = streamAddress(values);
  if (values.large && values.chunk) throw new UsageError("give --chunk N or --large, not both");
  const chunk = values.large ? 256 << 10 : intOption("chunk", values.chunk, 1, 16 << 20) ?? 16;
  const mode = modeOption(values.mode, listen.transport);
  return await serveUntilSignal(
    "sockspec serve echo",
    () => serveEcho({ listen, chunk, transcript: values.transcript, mode }),
  );
}

/**
 * Runs `sockspec client echo ARGS`; resolves with the exit status.
 *
 * @example
 * ```ts
 * import { echoClientMain } from "./echo.ts";
 * import { serveEcho } from "../reference/echo/server.ts";
 * const server = await serveEcho({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 } });
 * const { port } = server.addr as Deno.NetAddr;
 * await echoClientMain(["--tcp", `127.0.0.1:${port}`]); // 0
 * await server.close();
 * ```
 */
export async function echoClientMain(args: string[]): Promise<number> {
  const parsed = parseCommand(args, CLIENT_ECHO_HELP, {
    ...STREAM_OPTIONS,
    message: { type: "string" },
    chunk: { type: "string" },
    timeout: { type: "string" },
  });
  if (!parsed) return 0; // --help
  const { values } = parsed;
  // the client's modules load only when a client runs
  const { runEchoClient } = await import("../reference/echo/client.ts");
  return await runEchoClient({
    connectTo: streamAddress(values),
    message: messageOption(values.message),
    chunk: intOption("chunk", values.chunk, 1, 16 << 20),
    timeoutMs: timeoutOption(values.timeout),
  });
}
