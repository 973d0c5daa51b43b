/**
 * Verdicts and the words a case speaks: levels, verdicts, transports, target kinds,
 * outcomes, and the errors a case throws ({@linkcode Failure}, {@linkcode Skip},
 * {@linkcode TargetError}). A leaf module: it imports nothing of sockspec's, so the
 * harness, the reports and the cases can all depend on it.
 *
 * @example
 * ```ts
 * import { fail, familyOf, pass } from "./verdict.ts";
 * pass("42 bytes echoed").verdict; // "PASS"
 * fail("echo differs").verdict; // "FAIL"
 * familyOf("echo/unix/3"); // "echo/unix"
 * ```
 * @module
 */

/** How much a case matters: MUST fails the run, SHOULD only with `--strict`, INFO never. */
export type Level = "MUST" | "SHOULD" | "INFO";

/**
 * What happened: PASS, FAIL (the target broke the requirement), SKIP (the case could not
 * apply here; the message says why) or ERROR (the target could not be exercised at all).
 */
export type Verdict = "PASS" | "FAIL" | "SKIP" | "ERROR";

/** The ways a target is reached. */
export type Transport = "tcp" | "unix" | "udp" | "unixgram";

/**
 * What a target does: a stream echo server, a datagram echo server, a multicast receiver,
 * a struct record server, a program that runs to completion, or the runtime itself; or a
 * client that sockspec plays the server for: a stream echo client, a datagram echo client
 * or a struct record client (`*-client`, see {@linkcode isClientKind}).
 */
export type TargetKind =
  | "stream-echo"
  | "dgram-echo"
  | "multicast"
  | "record"
  | "program"
  | "runtime"
  | "stream-client"
  | "dgram-client"
  | "record-client";

/**
 * True for the client kinds: targets that sockspec runs against a server of its own.
 *
 * @example
 * ```ts
 * import { isClientKind } from "./verdict.ts";
 * isClientKind("stream-client"); // true
 * isClientKind("stream-echo"); // false
 * ```
 */
export function isClientKind(kind: TargetKind): boolean {
  return kind === "stream-client" || kind === "dgram-client" || kind === "record-client";
}

/** A value a case observed (INFO cases report these). */
export type Observed = string | number | boolean | null;

/** A case's result before the runner adds timing and evidence. */
export interface Outcome {
  /** The verdict. */
  verdict: Verdict;
  /** One line that says what happened, naming addresses, paths and sizes. */
  message: string;
  /** Values the case observed, shown by INFO cases and recorded in every report. */
  observed?: Record<string, Observed>;
}

/**
 * Thrown by a case when the target broke the requirement: the verdict is FAIL.
 * (`node:assert` errors are taken as FAIL too.)
 */
export class Failure extends Error {
  /**
   * A failure with a message that says what went wrong.
   *
   * @example
   * ```ts
   * import { Failure } from "./verdict.ts";
   * try {
   *   throw new Failure("regular file at /tmp/x/sock was deleted");
   * } catch (err) {
   *   console.log(err instanceof Failure); // true: the runner records FAIL with this message
   * }
   * ```
   */
  constructor(message: string, readonly observed?: Record<string, Observed>) {
    super(message);
    this.name = "Failure";
  }
}

/** Thrown when the case cannot apply here: the verdict is SKIP, with the reason. */
export class Skip extends Error {
  /**
   * A skip with its reason.
   *
   * @example
   * ```ts
   * import { Skip } from "./verdict.ts";
   * const skip = new Skip("the target declares no chunkSize"); // thrown by a case: SKIP
   * console.log(skip.message); // "the target declares no chunkSize"
   * ```
   */
  constructor(reason: string) {
    super(reason);
    this.name = "Skip";
  }
}

/** Thrown when the target could not be exercised (did not start, not ready): ERROR. */
export class TargetError extends Error {
  /**
   * A target error with a message that names the target and says what to do.
   *
   * @example
   * ```ts
   * import { TargetError } from "./verdict.ts";
   * const err = new TargetError("target 'x' did not become ready within 5000 ms"); // ERROR
   * console.log(err.name); // "TargetError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/**
 * A PASS outcome.
 *
 * @example
 * ```ts
 * import { pass } from "./verdict.ts";
 * const outcome = pass("42 bytes echoed", { chunkSize: 16 });
 * ```
 */
export function pass(message: string, observed?: Record<string, Observed>): Outcome {
  return { verdict: "PASS", message, observed };
}

/**
 * A FAIL outcome.
 *
 * @example
 * ```ts
 * import { fail } from "./verdict.ts";
 * const outcome = fail("echo ended after 32 of 42 bytes");
 * ```
 */
export function fail(message: string, observed?: Record<string, Observed>): Outcome {
  return { verdict: "FAIL", message, observed };
}

/**
 * The family of a case: its id without the last segment (`echo/unix/3` → `echo/unix`).
 *
 * @example
 * ```ts
 * import { familyOf } from "./verdict.ts";
 * familyOf("uds/stale/2"); // "uds/stale"
 * ```
 */
export function familyOf(id: string): string {
  const at = id.lastIndexOf("/");
  return at < 0 ? id : id.slice(0, at);
}
