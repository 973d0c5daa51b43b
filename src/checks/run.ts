/**
 * How a program the case ran (a client, a sender) ended, said once for every case:
 * {@linkcode describeRun} and the tail of its output ({@linkcode outputTail}).
 *
 * @example
 * ```ts
 * import { describeRun } from "./run.ts";
 * describeRun({ code: 1, signal: null, stdout: "", stderr: "", timedOut: false, durationMs: 3 });
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
 * describeRun({ code: null, signal: "SIGKILL", stdout: "", stderr: "", timedOut: true, durationMs: 9 });
 * // "was killed after not finishing in time"
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
 * outputTail({ code: 0, signal: null, stdout: "a\nb\n", stderr: "", timedOut: false, durationMs: 1 });
 * // "a | b"
 * ```
 */
export function outputTail(r: BoundedResult): string {
  const text = (r.stdout + r.stderr).trim().split("\n").slice(-3).join(" | ");
  return text.length > 300 ? `...${text.slice(-300)}` : text || "(no output)";
}
