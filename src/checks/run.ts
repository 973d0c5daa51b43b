/**
 * How a program the case ran (a client, a sender) ended, said once for every case:
 * {@linkcode describeRun} and the tail of its output ({@linkcode outputTail}).
 *
 * @example
 * ```ts
 * import { describeRun } from "./run.ts";
 * import type { BoundedResult } from "../harness/netns.ts";
 * declare const r: BoundedResult; // { code: 1, ... }
 * describeRun(r);
 * // "exited with code 1"
 * ```
 * @module
 */

import type { BoundedResult } from "../harness/netns.ts";

/**
 * argv that runs `sockspec ARGS` (the CLI, as a program) in a child Deno with exactly
 * `permissions`, for cases that stand a reference client or sender in for a missing declared
 * one. (Cases may not import the reference servers they judge; this only names the CLI's
 * path, as a manifest's command would.) `{deno}` is substituted like any manifest command.
 *
 * @example
 * ```ts
 * import { sockspecArgv } from "./run.ts";
 * sockspecArgv(["--allow-net=0.0.0.0"], ["client", "mcast"])[0]; // "{deno}"
 * ```
 */
export function sockspecArgv(permissions: string[], args: string[]): string[] {
  const cli = new URL("../cli/main.ts", import.meta.url).pathname;
  return [
    "{deno}",
    "run",
    "--quiet",
    "--no-prompt",
    "--unstable-net",
    ...permissions,
    cli,
    ...args,
  ];
}

/**
 * How the program ended: `exited with code N`, `was killed by SIGNAL`, or `was killed after
 * not finishing in time`.
 *
 * @example
 * ```ts
 * import { describeRun } from "./run.ts";
 * import type { BoundedResult } from "../harness/netns.ts";
 * declare const r: BoundedResult;
 * describeRun(r); // "was killed after not finishing in time" when r.timedOut
 * ```
 */
export function describeRun(r: BoundedResult): string {
  return r.timedOut
    ? "was killed after not finishing in time"
    : r.signal
    ? `was killed by ${r.signal}`
    : `exited with code ${r.code}`;
}

/**
 * The last three lines of its stdout and stderr, at most 300 characters, for a message.
 *
 * @example
 * ```ts
 * import { outputTail } from "./run.ts";
 * import type { BoundedResult } from "../harness/netns.ts";
 * declare const r: BoundedResult; // stdout "a\nb\n"
 * outputTail(r); // "a | b"
 * ```
 */
export function outputTail(r: BoundedResult): string {
  const text = (r.stdout + r.stderr).trim().split("\n").slice(-3).join(" | ");
  return text.length > 300 ? `...${text.slice(-300)}` : text || "(no output)";
}
