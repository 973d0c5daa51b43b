/**
 * The `sockspec` command line as a library: {@linkcode main} runs any command and resolves
 * with its exit code, and each command's entry point can be called on its own.
 *
 * @example
 * ```ts
 * import { main } from "@sockspec/sockspec/cli";
 * const code = await main(["check", "--list"]);
 * ```
 * @module
 */

export * from "./main.ts";
export { CHECK_HELP, checkMain } from "./check.ts";
export { reportMain } from "./report.ts";
export { lookupCommand } from "./lookup.ts";
export { benchMain } from "./bench.ts";
export type { LookupIo } from "./lookup.ts";
