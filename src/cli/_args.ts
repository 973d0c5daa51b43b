/**
 * Small helpers shared by the CLI commands: usage errors (exit 2), option parsing with
 * `--help`, `HOST:PORT` parsing, the `--tcp HOST:PORT | --unix PATH` address, `--mode OCTAL`,
 * whole-number options, and serving until SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./_args.ts";
 * parseHostPort("[::1]:10000"); // { transport: "tcp", hostname: "::1", port: 10000 }
 * ```
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { StreamAddress } from "../net/sockets.ts";

import { UsageError } from "../harness/usage.ts";

export { UsageError };

/** The options a command takes, as `node:util` parseArgs describes them. */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * What {@linkcode parseOptions} returns for `options`: `values` by option name and
 * `positionals`.
 */
export type ParsedOptions<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>
>;

/**
 * `node:util` parseArgs in strict mode, with its errors turned into {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./_args.ts";
 * const { values } = parseOptions(["--chunk", "6"], { chunk: { type: "string" } });
 * values.chunk; // "6"
 * ```
 */
export function parseOptions<O extends CommandOptions>(
  args: string[],
  options: O,
  allowPositionals = false,
): ParsedOptions<O> {
  // `--jobs -1` is a value, not an option: node:util would call it ambiguous. A string
  // option followed by a negative number takes it as its value, so the number parser
  // ({@linkcode intOption}) can say what range it wants.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    if (
      name && options[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)
    ) {
      joined.push(`--${name}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; see --help`);
  }
}

/**
 * {@linkcode parseOptions} with a `--help` option added: with `--help` it prints `help` and
 * returns `undefined` (the command then exits 0); otherwise it returns the parsed options.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./_args.ts";
 * const parsed = parseCommand(["--chunk", "6"], "Usage: example [--chunk N]", {
 *   chunk: { type: "string" },
 * });
 * parsed?.values.chunk; // "6"
 * parseCommand(["--help"], "Usage: example [--chunk N]", {}); // prints the help, undefined
 * ```
 */
export function parseCommand<O extends CommandOptions>(
  args: string[],
  help: string,
  options: O,
  allowPositionals = false,
): ParsedOptions<O & { help: { type: "boolean" } }> | undefined {
  const parsed = parseOptions(args, { ...options, help: { type: "boolean" } }, allowPositionals);
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return undefined;
  }
  return parsed;
}

/**
 * The options of a stream command's address, `--tcp HOST:PORT` and `--unix PATH`, for
 * {@linkcode parseCommand}; {@linkcode streamAddress} reads them.
 *
 * @example
 * ```ts
 * import { parseCommand, STREAM_OPTIONS } from "./_args.ts";
 * parseCommand(["--unix", "./uds_socket"], "Usage: ...", { ...STREAM_OPTIONS });
 * ```
 */
export const STREAM_OPTIONS = {
  tcp: { type: "string" },
  unix: { type: "string" },
} as const;

/**
 * The address that `--tcp HOST:PORT` or `--unix PATH` names; exactly one must be given.
 *
 * @example
 * ```ts
 * import { streamAddress } from "./_args.ts";
 * streamAddress({ unix: "./uds_socket" }); // { transport: "unix", path: "./uds_socket" }
 * streamAddress({ tcp: "[::1]:10000" }); // { transport: "tcp", hostname: "::1", port: 10000 }
 * ```
 */
export function streamAddress(values: { tcp?: string; unix?: string }): StreamAddress {
  if ((values.tcp === undefined) === (values.unix === undefined)) {
    throw new UsageError("give exactly one of --tcp HOST:PORT or --unix PATH");
  }
  return values.unix !== undefined
    ? { transport: "unix", path: values.unix }
    : parseHostPort(values.tcp!);
}

/**
 * Parses `--mode OCTAL` (`600` or `0600`), the mode of a Unix socket node: `undefined`
 * when not given; a {@linkcode UsageError} when it is not three octal digits or the
 * transport is not `unix`.
 *
 * @example
 * ```ts
 * import { modeOption } from "./_args.ts";
 * modeOption("0600", "unix"); // 0o600
 * modeOption(undefined, "tcp"); // undefined
 * ```
 */
export function modeOption(text: string | undefined, transport: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new UsageError(`--mode must be octal such as 0600, not '${text}'`);
  }
  if (transport !== "unix") throw new UsageError("--mode applies to --unix only");
  return parseInt(text, 8);
}

/**
 * Parses `HOST:PORT` (`[::1]:10000` for IPv6) into a TCP address.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./_args.ts";
 * parseHostPort("localhost:10000"); // { transport: "tcp", hostname: "localhost", port: 10000 }
 * ```
 */
export function parseHostPort(text: string): { transport: "tcp"; hostname: string; port: number } {
  const m = /^\[([^\]]*)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text) ??
    /^(.*):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`'${text}' is not HOST:PORT (for example localhost:10000 or [::1]:10000)`);
  }
  return { transport: "tcp", hostname: m[1] === "" ? "0.0.0.0" : m[1], port };
}

/**
 * The one parser for numbers from the command line: a whole number (decimal digits, an
 * optional minus sign; no `0x`, exponent or blank) within bounds, or a
 * {@linkcode UsageError} naming the option and the range.
 *
 * @example
 * ```ts
 * import { intOption } from "./_args.ts";
 * intOption("chunk", "16", 1, 1 << 20); // 16
 * ```
 */
export function intOption(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return n;
}

/**
 * Parses `--timeout MS`: a whole number of milliseconds from 1 to `maxMs` (default one
 * hour), or `undefined` when not given.
 *
 * @example
 * ```ts
 * import { timeoutOption } from "./_args.ts";
 * timeoutOption("2000"); // 2000
 * try {
 *   timeoutOption("0");
 * } catch (err) {
 *   console.log((err as Error).message); // "--timeout must be a whole number from 1 to 3600000, not '0'"
 * }
 * ```
 */
export function timeoutOption(text: string | undefined, maxMs = 3_600_000): number | undefined {
  return intOption("timeout", text, 1, maxMs);
}

/**
 * Encodes `--message TEXT` as UTF-8, or `undefined` when not given (the program's default).
 *
 * @example
 * ```ts
 * import { messageOption } from "./_args.ts";
 * messageOption("hi"); // Uint8Array [104, 105]
 * ```
 */
export function messageOption(text: string | undefined): Uint8Array | undefined {
  return text === undefined ? undefined : new TextEncoder().encode(text);
}

/**
 * Resolves when SIGINT or SIGTERM arrives (then runs `close`), so a server shuts down
 * cleanly and exits 0.
 *
 * @example
 * ```ts
 * import { untilSignal } from "./_args.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = listener.accept().catch(() => "closed"); // the server waits for clients
 * const stopped = untilSignal(() => listener.close());
 * Deno.kill(Deno.pid, "SIGTERM"); // as `kill` or Ctrl-C (SIGINT) would
 * await stopped;
 * console.log(await serving); // "closed"
 * ```
 */
export function untilSignal(close: () => Promise<void> | void): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handler = async () => {
      for (const s of signals) Deno.removeSignalListener(s, handler);
      await close();
      resolve();
    };
    for (const s of signals) Deno.addSignalListener(s, handler);
  });
}

/**
 * Runs a server until SIGINT or SIGTERM, then closes it: resolves with 0, or with 1 after
 * printing `PREFIX: message` when it cannot start. The signal handlers are installed before
 * the server starts, so a signal that arrives just as it becomes ready still ends it cleanly.
 *
 * @example
 * ```ts
 * import { serveUntilSignal } from "./_args.ts";
 * const code = await serveUntilSignal("sockspec serve x", () => {
 *   const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 *   listener.accept().catch(() => {}); // the server waits for clients
 *   Deno.kill(Deno.pid, "SIGTERM"); // stands in for `kill PID`
 *   return Promise.resolve({ close: () => listener.close() });
 * });
 * console.log(code); // 0
 * ```
 */
export async function serveUntilSignal(
  prefix: string,
  start: () => Promise<{ close(): Promise<void> | void }>,
): Promise<number> {
  let server: { close(): Promise<void> | void } | undefined;
  let stopping = false;
  const stopped = untilSignal(async () => {
    stopping = true;
    await server?.close();
  });
  try {
    server = await start();
  } catch (err) {
    console.error(`${prefix}: ${(err as Error).message}`);
    return 1;
  }
  if (stopping) await server.close();
  await stopped;
  return 0;
}
