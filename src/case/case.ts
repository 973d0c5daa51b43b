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
import type { Random } from "./random.ts";
import type { StreamAddress } from "../net/sockets.ts";
import type { Level, Outcome, TargetKind, Transport } from "./verdict.ts";

export * from "./verdict.ts";

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
  /**
   * Takes a second or more against a correct target (a saturated stream, a multicast
   * exchange with its timeouts). The runner starts such cases first, so that they overlap
   * the many short ones instead of running on alone at the end of a run.
   */
  long?: boolean;
  /**
   * What to look at in a server that fails this case, as one short sentence ("read until
   * the peer closes, not once"). Reports show it with a FAIL.
   */
  hint?: string;
  /** The title of the case's family (its id without the last part), set by {@linkcode inFamily}. */
  familyTitle?: string;
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
  /** Every random payload and choice comes from here, seeded by the run (see `random.ts`). */
  readonly random: Random;
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
 * Gives every case of one family its family's title (a family is the cases that share
 * their id up to the last part, such as `echo/tcp`). Reports group and head results by it.
 *
 * @example
 * ```ts
 * import { inFamily } from "./case.ts";
 * const [c] = inFamily("Stream echo over TCP", [{
 *   id: "echo/tcp/1",
 *   requirement: "The tutorial message comes back byte-exact.",
 *   level: "MUST",
 *   kind: "stream-echo",
 *   run: () => Promise.resolve({ verdict: "PASS", message: "ok" }),
 * }]);
 * console.log(c.familyTitle); // "Stream echo over TCP"
 * ```
 */
export function inFamily(title: string, cases: readonly Case[]): Case[] {
  return cases.map((c) => ({ ...c, familyTitle: title }));
}
