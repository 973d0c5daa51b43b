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
import { CLIENTS, failed, programs, SERVERS } from "./programs.ts";
import { VERSION } from "../reports/report.ts";

export { CLIENTS, SERVERS };
export type { Program } from "./programs.ts";

/** The top-level help. */
export const HELP = `sockspec ${VERSION}: a conformance suite for socket servers

Usage:
  sockspec check [--target FILE]... [ID...] [options]          run the conformance cases
  sockspec serve KIND [options]                                  run a reference server
  sockspec client KIND [options]                                 run a reference client
  sockspec lookup WHAT ...                                       names, services, addresses
  sockspec bench [--target FILE]... [options]                    throughput and round trips
  sockspec report merge REPORT.json... [--report FORMAT=FILE]...  merge shard reports
  sockspec COMMAND --help                                        help for one command

Servers: ${Object.keys(SERVERS).join(", ")}.  Clients: ${Object.keys(CLIENTS).join(", ")}.

Exit: 0 success, 1 conformance failure, 2 usage/manifest/harness error, 130 interrupted.`;

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
    return failed(err);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
