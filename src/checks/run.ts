/**
 * How a program the case ran (a client, a sender) ended, said once for every case:
 * {@linkcode describeRun} and the tail of its output ({@linkcode outputTail}).
 *
 * @example
 * ```ts
 * import { describeRun } from "./run.ts";
 * import { runBounded } from "../harness/netns.ts";
 * const r = await runBounded(["sh", "-c", "exit 1"], { timeoutMs: 2000 });
 * describeRun(r);
 * // "exited with code 1"
 * ```
 * @module
 */

import type { BoundedResult } from "../harness/netns.ts";

/**
 * How the program ended: `exited with code N`, `was killed by SIGNAL`, or `was killed after
 * not finishing in time`.
 *
 * @example
 * ```ts
 * import { describeRun } from "./run.ts";
 * import { runBounded } from "../harness/netns.ts";
 * const r = await runBounded(["sleep", "5"], { timeoutMs: 50 });
 * describeRun(r); // "was killed after not finishing in time": r.timedOut
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
 * import { runBounded } from "../harness/netns.ts";
 * const r = await runBounded(["printf", "a\\nb\\n"], { timeoutMs: 2000 }); // stdout "a\nb\n"
 * outputTail(r); // "a | b"
 * ```
 */
export function outputTail(r: BoundedResult): string {
  const text = (r.stdout + r.stderr).trim().split("\n").slice(-3).join(" | ");
  return text.length > 300 ? `...${text.slice(-300)}` : text || "(no output)";
}
