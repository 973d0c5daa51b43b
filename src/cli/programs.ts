/**
 * `sockspec serve KIND` and `sockspec client KIND`: the reference programs, and the entry
 * point that the built-in targets run in a child Deno.
 *
 * The child runs this module, not `main.ts`: its module graph holds only the reference
 * programs, with no path (not even a dynamic import) to the cases, the reporters or the
 * manifest validator's npm package. So a target starts in about 60 ms, loads nothing it
 * does not run, and needs no npm registry or certificate, whatever the Deno cache holds
 * (`src/cli/programs_test.ts` checks the graph).
 *
 * @example
 * ```ts
 * import { runProgram } from "./programs.ts";
 * await runProgram(["serve", "--help"]); // 0
 * ```
 * @module
 */

import { UsageError } from "./_args.ts";
import { ManifestError } from "../harness/usage.ts";

/** A reference program that `serve` or `client` can run. */
export interface Program {
  /** One line for the listing. */
  summary: string;
  /** Runs it with its arguments; resolves with the exit code. */
  main(args: string[]): Promise<number>;
}

// Each program's modules load when it runs: a start loads one program, not all five (the
// built-in targets start about 140 times a run, and each module costs every start time).

/** `sockspec serve KIND`: the reference servers. */
export const SERVERS: Record<string, Program> = {
  echo: {
    summary: "stream echo server over TCP or a Unix socket (SPEC §1-3)",
    main: async (args) => (await import("./echo.ts")).echoServeMain(args),
  },
  record: {
    summary: "packed record server, TCP or Unix socket (SPEC §6)",
    main: async (args) => (await import("./record.ts")).recordServeMain(args),
  },
  udp: {
    summary: "UDP echo server, IPv4 or IPv6 (SPEC §4)",
    main: async (args) => (await import("./dgram.ts")).udpServeMain(args),
  },
  unixgram: {
    summary: "Unix datagram echo server (SPEC §4)",
    main: async (args) => (await import("./dgram.ts")).unixgramServeMain(args),
  },
  mcast: {
    summary: "multicast receiver that acks each message (SPEC §5)",
    main: async (args) => (await import("./multicast.ts")).mcastServeMain(args),
  },
};

/** `sockspec client KIND`: the reference clients. */
export const CLIENTS: Record<string, Program> = {
  echo: {
    summary: "stream echo client (SPEC §1-2)",
    main: async (args) => (await import("./echo.ts")).echoClientMain(args),
  },
  record: {
    summary: "packed binary record client (SPEC §6)",
    main: async (args) => (await import("./record.ts")).recordClientMain(args),
  },
  udp: {
    summary: "UDP echo client (SPEC §4)",
    main: async (args) => (await import("./dgram.ts")).udpClientMain(args),
  },
  unixgram: {
    summary: "Unix datagram echo client (SPEC §4)",
    main: async (args) => (await import("./dgram.ts")).unixgramClientMain(args),
  },
  mcast: {
    summary: "multicast sender collecting acks (SPEC §5)",
    main: async (args) => (await import("./multicast.ts")).mcastClientMain(args),
  },
};

/**
 * Runs `KIND ARGS` from `table` (`serve` or `client` names the command in the listing and
 * the errors); with no kind or `--help`, lists the kinds.
 *
 * @example
 * ```ts
 * import { programs, SERVERS } from "./programs.ts";
 * await programs("serve", SERVERS, ["--help"]); // 0
 * ```
 */
export function programs(
  kind: "serve" | "client",
  table: Record<string, Program>,
  args: string[],
): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h") {
    console.log(`Usage: sockspec ${kind} KIND [options]\n\nKinds:`);
    for (const [k, p] of Object.entries(table)) console.log(`  ${k.padEnd(10)} ${p.summary}`);
    return Promise.resolve(name === undefined ? 2 : 0);
  }
  const program = table[name];
  if (!program) {
    throw new UsageError(`unknown ${kind} kind '${name}'; one of ${Object.keys(table).join(", ")}`);
  }
  return program.main(rest);
}

/**
 * Prints what went wrong and gives the exit code: a usage or manifest error is the user's
 * (its message says what to do), anything else is sockspec's own; both exit 2.
 *
 * @example
 * ```ts
 * import { failed } from "./programs.ts";
 * import { UsageError } from "./_args.ts";
 * failed(new UsageError("give --tcp HOST:PORT or --unix PATH")); // 2
 * ```
 */
export function failed(err: unknown): number {
  if (err instanceof UsageError || err instanceof ManifestError) {
    console.error(`sockspec: ${err.message}`);
  } else {
    console.error(`sockspec: internal error: ${(err as Error).stack ?? err}`);
  }
  return 2;
}

/**
 * Runs `serve KIND ...` or `client KIND ...` and resolves with the exit code, as
 * `sockspec` does for those two commands.
 *
 * @example
 * ```ts
 * import { runProgram } from "./programs.ts";
 * await runProgram(["client", "--help"]); // 0
 * ```
 */
export async function runProgram(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === "serve") return await programs("serve", SERVERS, rest);
    if (command === "client") return await programs("client", CLIENTS, rest);
    throw new UsageError(`this entry point runs serve or client, not '${command ?? ""}'`);
  } catch (err) {
    return failed(err);
  }
}

if (import.meta.main) {
  Deno.exit(await runProgram(Deno.args));
}
