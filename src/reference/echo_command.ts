/**
 * `sockspec serve echo` and `sockspec client echo`: the command lines of the reference
 * stream echo server and client.
 *
 * @example
 * ```ts
 * import { echoClientMain } from "./echo_command.ts";
 * const code = await echoClientMain(["--unix", "./uds_socket"]);
 * ```
 * @module
 */

import {
  intOption,
  parseHostPort,
  parseOptions,
  serveUntilSignal,
  UsageError,
} from "../cli_args.ts";
import type { StreamAddress } from "../sockets.ts";
import { runEchoClient } from "./echo_client.ts";
import { serveEcho } from "./echo_server.ts";

/** Help for `sockspec serve echo`. */
export const SERVE_ECHO_HELP = `Usage: sockspec serve echo (--tcp HOST:PORT | --unix PATH) [options]

The reference stream echo server (SPEC sections 1-3). Serves clients concurrently and
stops cleanly on SIGINT or SIGTERM (exit 0), removing its socket node only if it is
still its own.

Options:
  --tcp HOST:PORT   listen on TCP (IPv6 as [::1]:10000; port 0 picks a free one)
  --unix PATH       listen on a Unix socket path (a stale socket there is removed;
                    a live one, a file or a directory makes it refuse to start)
  --chunk N         read at most N bytes at a time (default 16, the tutorial's recv(16))
  --large           large-buffer mode: read up to 256 KiB at a time
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

function address(values: { tcp?: string; unix?: string }): StreamAddress {
  if ((values.tcp === undefined) === (values.unix === undefined)) {
    throw new UsageError("give exactly one of --tcp HOST:PORT or --unix PATH");
  }
  return values.unix !== undefined
    ? { transport: "unix", path: values.unix }
    : parseHostPort(values.tcp!);
}

/**
 * Runs `sockspec serve echo ARGS`; resolves with the exit status after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { echoServeMain } from "./echo_command.ts";
 * await echoServeMain(["--help"]); // 0
 * ```
 */
export async function echoServeMain(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    tcp: { type: "string" },
    unix: { type: "string" },
    chunk: { type: "string" },
    large: { type: "boolean" },
    transcript: { type: "boolean" },
    mode: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(SERVE_ECHO_HELP);
    return 0;
  }
  const listen = address(values);
  if (values.large && values.chunk) throw new UsageError("give --chunk N or --large, not both");
  const chunk = values.large ? 256 << 10 : intOption("chunk", values.chunk, 1, 16 << 20) ?? 16;
  let mode: number | undefined;
  if (values.mode !== undefined) {
    if (!/^0?[0-7]{3}$/.test(values.mode)) {
      throw new UsageError(`--mode must be octal such as 0600, not '${values.mode}'`);
    }
    if (listen.transport !== "unix") throw new UsageError("--mode applies to --unix only");
    mode = parseInt(values.mode, 8);
  }
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
 * import { echoClientMain } from "./echo_command.ts";
 * await echoClientMain(["--tcp", "localhost:10000"]);
 * ```
 */
export async function echoClientMain(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    tcp: { type: "string" },
    unix: { type: "string" },
    message: { type: "string" },
    chunk: { type: "string" },
    timeout: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(CLIENT_ECHO_HELP);
    return 0;
  }
  return await runEchoClient({
    connectTo: address(values),
    message: values.message === undefined ? undefined : new TextEncoder().encode(values.message),
    chunk: intOption("chunk", values.chunk, 1, 16 << 20),
    timeoutMs: intOption("timeout", values.timeout, 1, 3_600_000),
  });
}
