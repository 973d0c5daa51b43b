/**
 * `sockspec serve udp|unixgram` and `sockspec client udp|unixgram`: the command lines of
 * the reference datagram echo server and client (SPEC §4).
 *
 * @example
 * ```ts
 * import { udpClientMain } from "./dgram.ts";
 * const code = await udpClientMain(["localhost:10000", "--size", "65508"]);
 * // prints [Errno 90] Message too long, code 1
 * ```
 * @module
 */

import {
  intOption,
  messageOption,
  parseCommand,
  parseHostPort,
  serveUntilSignal,
  timeoutOption,
  UsageError,
} from "./_args.ts";
import { DEFAULT_BUFFER, serveDgram } from "../reference/dgram/server.ts";
import { type DatagramAddress, patterned } from "../net/datagram.ts";

import { SIZE_ENV } from "../net/datagram.ts";

/** The largest receive buffer the reference server accepts. */
const MAX_BUFFER = 4 << 20;

/** Help for `sockspec serve udp` and `sockspec serve unixgram`. */
export const SERVE_DGRAM_HELP =
  `Usage: sockspec serve udp HOST:PORT [options]      (IPv6: [::1]:10000)
       sockspec serve unixgram PATH [options]

The reference datagram echo server (SPEC §4). Sends each datagram back to its sender.
Like the tutorial's recvfrom(4096), a datagram longer than the buffer is truncated to
exactly the buffer's size (the rest is lost), and a zero-length datagram gets no answer.
A Unix client that did not bind a path of its own cannot be answered: a line on stderr
says so and the server goes on. Stops cleanly on SIGINT or SIGTERM (exit 0), removing
its Unix socket node only if it is still its own.

Options:
  --buffer N        receive buffer in bytes (default ${DEFAULT_BUFFER}, the tutorial's)
  --zero ignore|echo  what to do with a zero-length datagram (default ignore)
  --transcript      print the tutorial's server transcript
  --help            show this help

Exit: 0 after SIGINT/SIGTERM, 1 when it cannot bind (the message names the address),
2 on a usage error.`;

/** Help for `sockspec client udp` and `sockspec client unixgram`. */
export const CLIENT_DGRAM_HELP = `Usage: sockspec client udp HOST:PORT [options]
       sockspec client unixgram PATH [--bind PATH | --unbound] [options]

The reference datagram echo client (SPEC §4): sends one datagram, waits for the answer,
prints the tutorial's client transcript. Errors print as Python's do ([Errno 90] Message
too long for a datagram over 65,507 bytes on IPv4 or 65,527 on IPv6) and exit 1.

Options:
  --message TEXT    what to send (default the tutorial's 42-byte message)
  --size N          send N bytes of a repeating pattern instead (also taken from the
                    ${SIZE_ENV} environment variable when neither option is given)
  --buffer N        receive buffer (default 4096)
  --timeout MS      longest wait for the answer (default 5000)
  --bind PATH       (unixgram) the client's own path (default: a fresh temporary one)
  --unbound         (unixgram) send from an unbound socket: nobody can answer it, so the
                    client says so and exits 1
  --help            show this help`;

function address(kind: "udp" | "unixgram", positionals: string[]): DatagramAddress {
  if (positionals.length !== 1) {
    throw new UsageError(
      kind === "udp" ? "give the server as one HOST:PORT" : "give the server's socket path",
    );
  }
  if (kind === "unixgram") return { transport: "unixgram", path: positionals[0] };
  const { hostname, port } = parseHostPort(positionals[0]);
  return { transport: "udp", hostname, port };
}

async function serveMain(kind: "udp" | "unixgram", args: string[]): Promise<number> {
  const parsed = parseCommand(args, SERVE_DGRAM_HELP, {
    buffer: { type: "string" },
    zero: { type: "string" },
    transcript: { type: "boolean" },
  }, true);
  if (!parsed) return 0; // --help
  const { values, positionals } = parsed;
  const listen = address(kind, positionals);
  const zero = values.zero ?? "ignore";
  if (zero !== "ignore" && zero !== "echo") {
    throw new UsageError(`--zero takes ignore or echo, not '${zero}'`);
  }
  const buffer = intOption("buffer", values.buffer, 1, MAX_BUFFER);
  return await serveUntilSignal(
    `sockspec serve ${kind}`,
    () => serveDgram({ listen, buffer, zeroLength: zero, transcript: values.transcript }),
  );
}

function sizeFromEnv(): string | undefined {
  try {
    return Deno.env.get(SIZE_ENV);
  } catch {
    return undefined; // no --allow-env: the option is the only way
  }
}

async function clientMain(kind: "udp" | "unixgram", args: string[]): Promise<number> {
  const parsed = parseCommand(args, CLIENT_DGRAM_HELP, {
    message: { type: "string" },
    size: { type: "string" },
    buffer: { type: "string" },
    timeout: { type: "string" },
    bind: { type: "string" },
    unbound: { type: "boolean" },
  }, true);
  if (!parsed) return 0; // --help
  const { values, positionals } = parsed;
  const to = address(kind, positionals);
  if (kind === "udp" && (values.bind !== undefined || values.unbound)) {
    throw new UsageError("--bind and --unbound apply to unixgram only");
  }
  if (values.bind !== undefined && values.unbound) {
    throw new UsageError("give --bind PATH or --unbound, not both");
  }
  if (values.message !== undefined && values.size !== undefined) {
    throw new UsageError("give --message TEXT or --size N, not both");
  }
  const sizeText = values.size ?? (values.message === undefined ? sizeFromEnv() : undefined);
  const size = sizeText === undefined ? undefined : intOption("size", sizeText, 0, 16 << 20);
  // the client's modules load only when a client runs
  const { runDgramClient } = await import("../reference/dgram/client.ts");
  return await runDgramClient({
    to,
    message: size !== undefined ? patterned(size) : messageOption(values.message),
    bind: values.bind,
    unbound: values.unbound,
    buffer: intOption("buffer", values.buffer, 1, MAX_BUFFER),
    timeoutMs: timeoutOption(values.timeout),
  });
}

/**
 * Runs `sockspec serve udp ARGS`; resolves with the exit status after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { udpServeMain } from "./dgram.ts";
 * await udpServeMain(["--help"]); // 0
 * ```
 */
export function udpServeMain(args: string[]): Promise<number> {
  return serveMain("udp", args);
}

/**
 * Runs `sockspec serve unixgram ARGS`; resolves with the exit status after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { unixgramServeMain } from "./dgram.ts";
 * await unixgramServeMain(["--help"]); // 0
 * ```
 */
export function unixgramServeMain(args: string[]): Promise<number> {
  return serveMain("unixgram", args);
}

/**
 * Runs `sockspec client udp ARGS`; resolves with the exit status.
 *
 * @example
 * ```ts
 * import { udpClientMain } from "./dgram.ts";
 * import { serveDgram } from "../reference/dgram/server.ts";
 * const server = await serveDgram({ listen: { transport: "udp", hostname: "127.0.0.1", port: 0 } });
 * const { port } = server.addr as Deno.NetAddr;
 * await udpClientMain([`127.0.0.1:${port}`, "--timeout", "1000"]); // 0
 * await server.close();
 * ```
 */
export function udpClientMain(args: string[]): Promise<number> {
  return clientMain("udp", args);
}

/**
 * Runs `sockspec client unixgram ARGS`; resolves with the exit status.
 *
 * @example
 * ```ts
 * import { unixgramClientMain } from "./dgram.ts";
 * import { serveDgram } from "../reference/dgram/server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveDgram({ listen: { transport: "unixgram", path: `${dir}/s` } });
 * await unixgramClientMain([`${dir}/s`, "--unbound"]); // 1: no answer can come back to it
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function unixgramClientMain(args: string[]): Promise<number> {
  return clientMain("unixgram", args);
}
