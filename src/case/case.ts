/**
 * The case model: one declarative record per documented behaviour. The same records feed
 * `deno test`, `sockspec check` and every report.
 *
 * A case says what it checks (a one-sentence requirement, which every report shows), how
 * much it matters (MUST, SHOULD, INFO), which targets it applies to (kind and transport),
 * what it needs from the machine, and a short `run` that exercises a target through the
 * {@linkcode CaseContext} and returns (or throws) a verdict.
 *
 * @example
 * ```ts
 * import { type Case, fail, pass } from "./case.ts";
 * import { readExactly, writeAll } from "../net/sockets.ts";
 *
 * export const tutorialMessage: Case = {
 *   id: "echo/tcp/1",
 *   requirement: "The tutorial message comes back byte-exact.",
 *   level: "MUST",
 *   kind: "stream-echo",
 *   transport: "tcp",
 *   async run(ctx) {
 *     const server = await ctx.start();
 *     const conn = await ctx.connect(server.address("tcp"));
 *     const message = new TextEncoder().encode("This is the message.  It will be repeated.");
 *     await writeAll(conn, ctx.evidence.sent(message), ctx.timeoutMs);
 *     const echo = ctx.evidence.received(await readExactly(conn, message.length, ctx.timeoutMs));
 *     return echo.every((b, i) => b === message[i]) ? pass("echo is byte-exact") : fail("echo differs");
 *   },
 * };
 * ```
 * @module
 */

import type { Target } from "../harness/manifest.ts";
import type { Instance, StartOptions } from "../harness/target.ts";
import type { EvidenceRecorder } from "./evidence.ts";
import type { StreamAddress } from "../net/sockets.ts";

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
 * a struct record server, a program that runs to completion, or the runtime itself.
 */
export type TargetKind =
  | "stream-echo"
  | "dgram-echo"
  | "multicast"
  | "record"
  | "program"
  | "runtime";

/** A value a case observed (INFO cases report these). */
export type Observed = string | number | boolean | null;

/** What a case needs from the machine and the target; unmet needs make it SKIP. */
export interface Needs {
  /** Must run as root (uid 0). */
  root?: boolean;
  /** Needs `python3` on PATH. */
  python3?: boolean;
  /** Needs to create network namespaces (root plus `unshare` and `ip`). */
  netns?: boolean;
  /** Starts the target itself, so it cannot run against an attached (already running) server. */
  launch?: boolean;
  /** Target properties that must be declared in the manifest, such as `chunkSize`. */
  properties?: readonly string[];
  /** External commands that must be on PATH, such as `ss`. */
  commands?: readonly string[];
}

/** A case's result before the runner adds timing and evidence. */
export interface Outcome {
  /** The verdict. */
  verdict: Verdict;
  /** One line that says what happened, naming addresses, paths and sizes. */
  message: string;
  /** Values the case observed, shown by INFO cases and recorded in every report. */
  observed?: Record<string, Observed>;
}

/** One documented behaviour, checked against one target. */
export interface Case {
  /** Hierarchical id, `family/.../n`, such as `echo/unix/3`. Unique across all cases. */
  id: string;
  /** The requirement as one sentence; every report shows it. */
  requirement: string;
  /** MUST, SHOULD or INFO. */
  level: Level;
  /** The kind of target this case exercises. */
  kind: TargetKind;
  /** The transport it exercises; the case applies only to targets that declare it. */
  transport?: Transport;
  /** What it needs; unmet needs give SKIP with the reason. */
  needs?: Needs;
  /** Hard limit for the whole case in ms (default: 4 × the target's wait timeout). */
  timeoutMs?: number;
  /** Exercises the target. Return an {@linkcode Outcome}, or throw (see {@linkcode Failure}). */
  run(ctx: CaseContext): Promise<Outcome>;
}

/** What a case's `run` gets: the target, its limits, and tracked resources. */
export interface CaseContext {
  /** The target under test, as its manifest declares it. */
  readonly target: Target;
  /** The id of the running case. */
  readonly caseId: string;
  /** The longest any single wait in the case may take, in ms (the target's `timeoutMs`). */
  readonly timeoutMs: number;
  /** Aborted when the case runs out of time or the run is interrupted. */
  readonly signal: AbortSignal;
  /** A private temp dir for this case, removed afterwards. Short enough for socket paths. */
  readonly tmp: string;
  /** Records bytes, timings and notes that the reports show. */
  readonly evidence: EvidenceRecorder;
  /** Starts (or attaches to) an instance of the target; it is torn down after the case. */
  start(opts?: StartOptions): Promise<Instance>;
  /** Connects to a stream address within {@linkcode CaseContext.timeoutMs}; closed after the case. */
  connect(addr: StreamAddress): Promise<Deno.Conn>;
  /** Closes `resource` after the case, whatever happens. Returns it. */
  track<T extends { close(): void }>(resource: T): T;
  /** Runs `fn` after the case (in reverse order of registration), whatever happens. */
  defer(fn: () => void | Promise<void>): void;
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
   * import { Failure } from "./case.ts";
   * throw new Failure("regular file at /tmp/x/sock was deleted");
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
   * import { Skip } from "./case.ts";
   * throw new Skip("the target declares no chunkSize");
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
   * import { TargetError } from "./case.ts";
   * throw new TargetError("target 'x' did not become ready within 5000 ms");
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
 * import { pass } from "./case.ts";
 * return pass("42 bytes echoed", { chunkSize: 16 });
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
 * import { fail } from "./case.ts";
 * return fail("echo ended after 32 of 42 bytes");
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
 * import { familyOf } from "./case.ts";
 * familyOf("uds/stale/2"); // "uds/stale"
 * ```
 */
export function familyOf(id: string): string {
  const at = id.lastIndexOf("/");
  return at < 0 ? id : id.slice(0, at);
}
