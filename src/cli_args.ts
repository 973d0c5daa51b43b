/**
 * Small helpers shared by the CLI commands: usage errors (exit 2), `HOST:PORT` parsing,
 * whole-number options, and serving until SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./cli_args.ts";
 * parseHostPort("[::1]:10000"); // { transport: "tcp", hostname: "::1", port: 10000 }
 * ```
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A wrong command line: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  /**
   * A usage error whose message says what to do.
   *
   * @example
   * ```ts
   * import { UsageError } from "./cli_args.ts";
   * throw new UsageError("give --tcp HOST:PORT or --unix PATH");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * `node:util` parseArgs in strict mode, with its errors turned into {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./cli_args.ts";
 * const { values } = parseOptions(["--chunk", "6"], { chunk: { type: "string" } });
 * values.chunk; // "6"
 * ```
 */
export function parseOptions<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; see --help`);
  }
}

/**
 * Parses `HOST:PORT` (`[::1]:10000` for IPv6) into a TCP address.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./cli_args.ts";
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
 * Parses a whole-number option within bounds, or throws {@linkcode UsageError} naming it.
 *
 * @example
 * ```ts
 * import { intOption } from "./cli_args.ts";
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
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return n;
}

/**
 * Resolves when SIGINT or SIGTERM arrives (then runs `close`), so a server shuts down
 * cleanly and exits 0.
 *
 * @example
 * ```ts
 * import { untilSignal } from "./cli_args.ts";
 * await untilSignal(async () => {});
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
 * import { serveUntilSignal } from "./cli_args.ts";
 * const code = await serveUntilSignal("sockspec serve x", async () => ({ close: async () => {} }));
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
