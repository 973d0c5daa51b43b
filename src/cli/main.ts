/**
 * The `sockspec` command line: `check`, `serve`, `client` and `lookup`.
 *
 * Exit codes: 0 success, 1 a conformance failure (or a client/server failure, as the
 * tutorial programs exit 1), 2 a usage, manifest or harness error, 130 interrupted.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["check", "--list"]);
 * ```
 * @module
 */

import { UsageError } from "./_args.ts";
import { ManifestError } from "../harness/usage.ts";
import { echoClientMain, echoServeMain } from "./echo.ts";
import { recordClientMain, recordServeMain } from "./record.ts";
import * as dgram from "./dgram.ts";
import { mcastClientMain, mcastServeMain } from "./multicast.ts";
import { VERSION } from "../reports/report.ts";

/** A reference program that `serve` or `client` can run. */
export interface Program {
  /** One line for the listing. */
  summary: string;
  /** Runs it with its arguments; resolves with the exit code. */
  main(args: string[]): Promise<number>;
}

/** `sockspec serve KIND`: the reference servers. */
export const SERVERS: Record<string, Program> = {
  echo: {
    summary: "stream echo server over TCP or a Unix socket (SPEC §1-3)",
    main: echoServeMain,
  },
  record: { summary: "packed record server, TCP or Unix socket (SPEC §6)", main: recordServeMain },
  udp: { summary: "UDP echo server, IPv4 or IPv6 (SPEC §4)", main: dgram.udpServeMain },
  unixgram: { summary: "Unix datagram echo server (SPEC §4)", main: dgram.unixgramServeMain },
  mcast: { summary: "multicast receiver that acks each message (SPEC §5)", main: mcastServeMain },
};

/** `sockspec client KIND`: the reference clients. */
export const CLIENTS: Record<string, Program> = {
  echo: { summary: "stream echo client (SPEC §1-2)", main: echoClientMain },
  record: { summary: "packed binary record client (SPEC §6)", main: recordClientMain },
  udp: { summary: "UDP echo client (SPEC §4)", main: dgram.udpClientMain },
  unixgram: { summary: "Unix datagram echo client (SPEC §4)", main: dgram.unixgramClientMain },
  mcast: { summary: "multicast sender collecting acks (SPEC §5)", main: mcastClientMain },
};

/** The top-level help. */
export const HELP = `sockspec ${VERSION}: a conformance suite for socket servers

Usage:
  sockspec check [--target FILE]... [ID-PREFIX...] [options]   run the conformance cases
  sockspec serve KIND [options]                                  run a reference server
  sockspec client KIND [options]                                 run a reference client
  sockspec lookup WHAT ...                                       names, services, addresses
  sockspec bench [--target FILE]... [options]                    throughput and round trips
  sockspec report merge REPORT.json... [--report FORMAT=FILE]...  merge shard reports
  sockspec COMMAND --help                                        help for one command

Servers: ${Object.keys(SERVERS).join(", ")}.  Clients: ${Object.keys(CLIENTS).join(", ")}.

Exit: 0 success, 1 conformance failure, 2 usage/manifest/harness error, 130 interrupted.`;

function programs(
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
 * Runs the CLI with `args` and resolves with the exit code (it never calls `Deno.exit`).
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * await main(["--help"]); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      // check, bench, lookup and report load on demand, so that a reference server started
      // through `sockspec serve` does not load every case and reporter first.
      case "check":
        return await (await import("./check.ts")).checkMain(rest);
      case "serve":
        return await programs("serve", SERVERS, rest);
      case "client":
        return await programs("client", CLIENTS, rest);
      case "bench":
        return await (await import("./bench.ts")).benchMain(rest);
      case "lookup":
        return await (await import("./lookup.ts")).lookupCommand(rest);
      case "report":
        return await (await import("./report.ts")).reportMain(rest);
      case "--version":
        console.log(VERSION);
        return 0;
      case "--help":
      case "-h":
      case "help":
        console.log(HELP);
        return 0;
      case undefined:
        console.error(HELP);
        return 2;
      default:
        throw new UsageError(`unknown command '${command}'; see sockspec --help`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ManifestError) {
      console.error(`sockspec: ${err.message}`);
      return 2;
    }
    console.error(`sockspec: internal error: ${(err as Error).stack ?? err}`);
    return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
