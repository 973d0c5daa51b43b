/**
 * Runs cases against targets: picks the cases that apply, skips those whose needs are not
 * met (saying why), gives each case a private temp dir and a hard time limit, turns what
 * `run` returns or throws into a verdict, attaches evidence, and always tears down every
 * instance, connection and temp dir the case made.
 *
 * @example
 * ```ts
 * import { runAll } from "./runner.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const [echo] = referenceTargets(); // reference-echo-tcp
 * const report = await runAll([echo], allCases, { select: (c) => c.id === "echo/tcp/1" });
 * console.log(report.targets[0].results[0].verdict); // "PASS"
 * ```
 * @module
 */

import {
  type Case,
  type CaseContext,
  Failure,
  familyOf,
  type Outcome,
  Skip,
  TargetError,
} from "../case/case.ts";
import { atStep, EvidenceRecorder, ordinal, stepOf } from "../case/evidence.ts";
import { caseSeed, newSeed, Random } from "../case/random.ts";
import { errnoCode, errnoMessage } from "../python/errno.ts";
import { commandExists, type Target } from "./manifest.ts";
import type { CaseResult, RunReport, TargetReport } from "../reports/report.ts";
import { rerunCommand, VERSION } from "../reports/report.ts";
import { currentUid, holdProcReader } from "../net/proc.ts";
import {
  closeQuietly,
  connect,
  EofError,
  formatAddress,
  OverflowError,
  TimeoutError,
} from "../net/sockets.ts";
import {
  type Instance,
  portListening,
  StartError,
  startInstance,
  unixListening,
} from "./target.ts";
import { applicableCases } from "./plan.ts";
import { shardCases } from "./shard.ts";
import type { ShardInfo } from "../reports/report.ts";

export { applicableCases } from "./plan.ts";

/** How many of a target's first and last output lines go in the wire log, per stream. */
const WIRE_LINES = 25;
/** How much of one output line goes in the wire log. */
const WIRE_LINE_CHARS = 200;

/** Options for a run. */
export interface RunOptions {
  /** SHOULD failures fail the run. */
  strict?: boolean;
  /** Which cases to run, given each applicable case and its target (default: all). */
  select?: (c: Case, target: Target) => boolean;
  /** Aborting it stops the run after tearing down the current case (Ctrl-C). */
  signal?: AbortSignal;
  /** Called before each case. */
  onCaseStart?: (target: Target, c: Case, index: number, total: number) => void;
  /** Called after each case with its result. */
  onResult?: (target: Target, result: CaseResult, index: number, total: number) => void;
  /** Override every target's wait timeout (ms). */
  timeoutMs?: number;
  /**
   * The run's seed: every case's random payloads derive from it, the target's name and the
   * case id (default: a fresh one, which the report records).
   */
  seed?: number;
  /** How many cases {@linkcode runAll} runs at the same time (default 1). */
  jobs?: number;
  /** Run only this shard of the (target, case) pairs (see `shard.ts`). */
  shard?: ShardInfo;
}

/**
 * Whether a case opens datagram sockets in this process (Deno.listenDatagram is behind
 * --unstable-net): the datagram and multicast families, and any case over udp or unixgram.
 */
function usesDatagrams(c: Case): boolean {
  return c.kind === "dgram-echo" || c.kind === "multicast" || c.transport === "udp" ||
    c.transport === "unixgram";
}

/**
 * Why a case cannot run here, or undefined when its needs are met.
 *
 * @example
 * ```ts
 * import { unmetNeed } from "./runner.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * unmetNeed(allCases[0], referenceTargets()[0]); // undefined: it can run here
 * ```
 */
export function unmetNeed(c: Case, target: Target): string | undefined {
  const needs = c.needs ?? {};
  if ((needs.root || needs.netns) && currentUid() !== 0) return "needs root (run as uid 0)";
  for (const cmd of [...(needs.commands ?? []), ...(needs.netns ? ["unshare", "ip"] : [])]) {
    if (!commandExists(cmd)) return `needs the command '${cmd}' on PATH; install it`;
  }
  if (needs.python3 && !commandExists("python3")) return "needs python3 on PATH; install it";
  if (usesDatagrams(c) && typeof Deno.listenDatagram !== "function") {
    return "needs Deno's unstable datagram API (Deno.listenDatagram): run deno with --unstable-net";
  }
  if (needs.launch && !target.command) {
    return "needs to start the target itself, but the manifest attaches to a running server (no command)";
  }
  for (const p of needs.properties ?? []) {
    if (!(p in target.properties)) return `the manifest declares no properties.${p}`;
  }
  return undefined;
}

/**
 * Runs one case against one target and returns its result. Never throws; never leaves an
 * instance, connection or temp dir behind.
 *
 * @example
 * ```ts
 * import { runCase } from "./runner.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const tutorialMessage = allCases.find((c) => c.id === "echo/tcp/1")!;
 * const result = await runCase(referenceTargets()[0], tutorialMessage);
 * console.log(result.verdict, result.message); // PASS, and what it saw
 * ```
 */
export async function runCase(target: Target, c: Case, opts: RunOptions = {}): Promise<CaseResult> {
  const started = performance.now();
  const evidence = new EvidenceRecorder(started);
  const seed = opts.seed ?? newSeed();
  let leftProcesses = 0;
  const result = (outcome: Outcome): CaseResult => ({
    id: c.id,
    family: familyOf(c.id),
    ...(c.familyTitle ? { familyTitle: c.familyTitle } : {}),
    requirement: c.requirement,
    ...(c.hint ? { hint: c.hint } : {}),
    level: c.level,
    verdict: outcome.verdict,
    message: outcome.message,
    observed: outcome.observed ?? {},
    evidence: evidence.toJSON(),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    ...(outcome.verdict === "PASS"
      ? {}
      : { rerun: rerunCommand(shownPath(target.source), c.id, seed) }),
    ...(leftProcesses ? { leftProcesses } : {}),
  });
  const why = unmetNeed(c, target);
  if (why) return result({ verdict: "SKIP", message: why });

  const timeoutMs = opts.timeoutMs ?? target.timeoutMs;
  const hardMs = (c.timeoutMs ?? 4 * timeoutMs) + target.ready.timeoutMs;
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-" });
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onAbort);
  const instances: Instance[] = [];
  // Starts still waiting for readiness: the teardown waits for them (they end at once when
  // the case is stopped), so an instance that comes up late is torn down too, never leaked.
  const starting = new Set<Promise<unknown>>();
  const resources: { close(): void }[] = [];
  const deferred: (() => void | Promise<void>)[] = [];
  // Set once the teardown begins. A case that is still running then (it outlived its hard
  // limit) has nothing left to hand its resources to: track() closes them at once, defer()
  // runs its step at once and start() refuses, so nothing it makes late is leaked.
  let tornDown = false;
  const lateCleanup = (fn: () => void | Promise<void>) => {
    Promise.resolve().then(fn).catch((err) =>
      evidence.note(`cleanup step after the teardown failed: ${(err as Error).message}`)
    );
  };
  let starts = 0;
  const ctx: CaseContext = {
    target: timeoutMs === target.timeoutMs ? target : { ...target, timeoutMs },
    caseId: c.id,
    timeoutMs,
    signal: controller.signal,
    tmp,
    evidence,
    random: new Random(caseSeed(seed, target.name, c.id)),
    async start(startOpts = {}) {
      if (tornDown || controller.signal.aborted) throw new TargetError("the case was stopped");
      const dir = `${tmp}/${++starts}`;
      await Deno.mkdir(dir);
      const t0 = performance.now();
      const pending = startInstance(ctx.target, {
        ...startOpts,
        tmp: dir,
        signal: controller.signal,
      }).then((instance) => {
        instances.push(instance);
        return instance;
      });
      const settled = pending.then(() => {}, () => {});
      starting.add(settled);
      settled.then(() => starting.delete(settled));
      const instance = await pending.catch((err) => {
        if (err instanceof StartError) {
          evidence.note(`target command: ${err.argv.join(" ")}`);
          evidence.tails(err.stdoutTail, err.stderrTail);
        }
        throw err;
      });
      evidence.timing(`start${starts}Ms`, performance.now() - t0);
      evidence.wireEvent({
        kind: "start",
        instance: instances.indexOf(instance) + 1,
        text: instance.pid === undefined ? "attached" : `pid ${instance.pid}, ready`,
      });
      if (controller.signal.aborted) throw new TargetError("the case was stopped");
      return instance;
    },
    async connect(addr) {
      const where = formatAddress(addr);
      try {
        return ctx.track(evidence.stream(await connect(addr, timeoutMs), where));
      } catch (err) {
        evidence.connectFailed(where, err);
        throw atStep(err, `the ${ordinal(evidence.connections)} connect to ${where}`);
      }
    },
    track(resource) {
      if (tornDown) closeQuietly(resource);
      else resources.push(resource);
      return resource;
    },
    defer(fn) {
      if (tornDown) lateCleanup(fn);
      else deferred.push(fn);
    },
  };

  let outcome: Outcome;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onInterrupt: (() => void) | undefined;
  const running = c.run(ctx);
  running.catch(() => {});
  try {
    outcome = await Promise.race([
      running,
      new Promise<Outcome>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({ verdict: "FAIL", message: `the case did not finish within ${hardMs} ms` }),
          hardMs,
        );
      }),
      new Promise<Outcome>((resolve) => {
        onInterrupt = () => resolve({ verdict: "ERROR", message: "interrupted" });
        if (opts.signal?.aborted) onInterrupt();
        opts.signal?.addEventListener("abort", onInterrupt);
      }),
    ]);
  } catch (err) {
    outcome = outcomeOf(err, c);
  } finally {
    clearTimeout(timer);
    tornDown = true;
    controller.abort();
    opts.signal?.removeEventListener("abort", onAbort);
    if (onInterrupt) opts.signal?.removeEventListener("abort", onInterrupt);
  }
  for (const fn of deferred.reverse()) {
    try {
      await fn();
    } catch (err) {
      evidence.note(`cleanup step failed: ${(err as Error).message}`);
    }
  }
  for (const r of resources) closeQuietly(r);
  await Promise.all([...starting]);
  // A FAIL or ERROR whose server stopped by itself (crashed, exited) says so. A server that
  // is dying just now (its reset may be what failed the case) gets a moment to be reaped;
  // a little longer when it no longer even listens (it may be finishing its exit).
  const failed = outcome.verdict === "FAIL" || outcome.verdict === "ERROR";
  const server = target.kind !== "program" && target.kind !== "runtime";
  const unsignalled = instances.filter((i) => !i.signalled);
  if (failed && server) {
    await Promise.all(
      unsignalled.map(async (i) => i.waitExit(i.running && !(await listening(i)) ? 250 : 20)),
    );
  }
  const exited = unsignalled.filter((i) => !i.running);
  if (failed && server && exited.length > 0) {
    const how = exited.map((i) => exitStory(i, evidence, started))
      .filter((text) => !outcome.message.includes(text.split(" at +")[0])).join("; ");
    if (how) {
      outcome = {
        ...outcome,
        message: `${outcome.message} (the target stopped by itself: ${how})`,
      };
    }
  }
  await Promise.all(instances.map((i) => i.stop()));
  instances.forEach((i, n) => {
    for (const stream of ["stdout", "stderr"] as const) {
      // The first and the last lines, each cut short: a target that floods its output cannot
      // flood the report (the whole tail is in the evidence's output tails anyway).
      const { lines, lineCount } = i[stream];
      const cut = lineCount > 2 * WIRE_LINES;
      const shown = cut
        ? [...lines.slice(0, WIRE_LINES), ...i[stream].lastLines(WIRE_LINES)]
        : i[stream].lastLines(lineCount);
      shown.forEach((line, k) => {
        if (k === WIRE_LINES && cut) {
          const more = lineCount - 2 * WIRE_LINES;
          evidence.wireEvent(
            { kind: stream, instance: n + 1, text: `… ${more} more ${stream} lines …` },
            undefined,
            line.at,
          );
        }
        const text = line.text.length > WIRE_LINE_CHARS
          ? `${line.text.slice(0, WIRE_LINE_CHARS)}…`
          : line.text;
        evidence.wireEvent({ kind: stream, instance: n + 1, text }, undefined, line.at);
      });
    }
    if (i.exitedAt !== undefined) {
      const how = i.signalled ? `${i.describe()} (stopped by sockspec)` : i.describe();
      evidence.wireEvent({ kind: "exit", instance: n + 1, text: how }, undefined, i.exitedAt);
    }
  });
  const left = instances.flatMap((i) => i.leftBehindNotes());
  for (const note of left) evidence.note(note);
  leftProcesses = left.length;
  if (outcome.verdict === "FAIL" || outcome.verdict === "ERROR") {
    const last = instances.at(-1);
    if (last) evidence.tails(last.stdout.tail(), last.stderr.tail());
    for (const i of instances) {
      evidence.note(`target ${i.describe()}${i.argv ? `: ${i.argv.join(" ")}` : ""}`);
    }
  }
  // A case still running now (interrupted, or past its hard limit) gets a bounded moment to
  // fail on its torn-down resources before its temp dir goes, so that a late mkdir in it
  // cannot re-create the dir after the removal.
  let settleTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    running.catch(() => {}),
    new Promise((r) => (settleTimer = setTimeout(r, 2000))),
  ]);
  clearTimeout(settleTimer);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  return result(outcome);
}

/**
 * Runs the applicable, selected cases against one target, in order.
 *
 * @example
 * ```ts
 * import { runTarget } from "./runner.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const report = await runTarget(referenceTargets()[0], allCases, {
 *   select: (c) => c.id === "echo/tcp/1" || c.id === "echo/tcp/2",
 * });
 * console.log(report.results.length); // 2
 * ```
 */
export async function runTarget(
  target: Target,
  cases: readonly Case[],
  opts: RunOptions = {},
): Promise<TargetReport> {
  const started = performance.now();
  const chosen = applicableCases(target, cases).filter((c) => opts.select?.(c, target) ?? true);
  const results: CaseResult[] = [];
  for (const [i, c] of chosen.entries()) {
    if (opts.signal?.aborted) break;
    opts.onCaseStart?.(target, c, i, chosen.length);
    const r = await runCase(target, c, opts);
    results.push(r);
    opts.onResult?.(target, r, i, chosen.length);
  }
  return {
    name: target.name,
    kind: target.kind,
    source: target.source,
    description: target.description,
    results,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * True when a target's cases must run one at a time: it is one shared server (attached, not
 * started per case), so cases running at once would see each other's connections.
 *
 * @example
 * ```ts
 * import { exclusiveTarget } from "./runner.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * exclusiveTarget(referenceTargets()[0]); // false: each case starts its own instance
 * ```
 */
export function exclusiveTarget(target: Target): boolean {
  return !target.command;
}

/**
 * True when a started target listens on a fixed port or path (its own, or one of its
 * services'): only one instance can run at a time, so a run that has it runs one case at a
 * time (see {@linkcode runAll}).
 *
 * @example
 * ```ts
 * import { pinnedTarget } from "./runner.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * pinnedTarget(referenceTargets()[0]); // false: a free port for every start
 * ```
 */
export function pinnedTarget(target: Target): boolean {
  const pinned = (s: { port?: number; path?: string }) =>
    s.port !== undefined || s.path !== undefined;
  return target.command !== undefined && (pinned(target) || (target.services ?? []).some(pinned));
}

function isLong(item: { t: number; cases: number[] }, plan: Case[][]): boolean {
  return item.cases.some((i) => plan[item.t][i].long);
}

/**
 * The one run loop: runs the applicable, selected cases (only this shard's, with `shard`)
 * against every target and returns the whole report. Up to `jobs` cases run at the same
 * time, across targets and within one (each case has its own temp dir, free port, socket
 * path and instance), except that an {@linkcode exclusiveTarget}'s cases run one at a time,
 * and a run with a {@linkcode pinnedTarget} in it runs one case at a time.
 * Every target is listed, in the order given, with its results in case order (none when
 * interrupted before it started). `sockspec check`, `deno test`, the catalogue and the
 * benchmark's suite timing all run through here.
 *
 * @example
 * ```ts
 * import { runAll } from "./runner.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const report = await runAll(referenceTargets().slice(0, 2), allCases, {
 *   strict: true, // SHOULD failures fail the run too
 *   jobs: 2,
 *   select: (c) => c.id.endsWith("/1"),
 * });
 * console.log(report.targets.map((t) => t.results.length)); // [1, 1]
 * ```
 */
export async function runAll(
  targets: readonly Target[],
  cases: readonly Case[],
  opts: RunOptions = {},
): Promise<RunReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const seed = opts.seed ?? newSeed();
  const caseOpts = { ...opts, seed, select: undefined };
  const plan = shardCases(targets, cases, opts.select ?? (() => true), opts.shard);
  const results: (CaseResult | undefined)[][] = plan.map((p) => p.map(() => undefined));
  const began: (number | undefined)[] = targets.map(() => undefined);
  const ended: number[] = targets.map(() => 0);
  // The work; an exclusive target's cases form one item, run in turn. Long cases go first
  // (see Case.long), the rest in report order.
  const items = targets.flatMap((target, t) =>
    exclusiveTarget(target) ? [{ t, cases: plan[t].map((_, i) => i) }] : plan[t].map((_, i) => ({
      t,
      cases: [i],
    }))
  ).sort((a, b) => Number(isLong(b, plan)) - Number(isLong(a, plan)));
  let next = 0;
  const worker = async () => {
    while (next < items.length && !opts.signal?.aborted) {
      const { t, cases: indexes } = items[next++];
      for (const i of indexes) {
        if (opts.signal?.aborted) return;
        began[t] ??= performance.now();
        opts.onCaseStart?.(targets[t], plan[t][i], i, plan[t].length);
        const r = await runCase(targets[t], plan[t][i], caseOpts);
        results[t][i] = r;
        ended[t] = performance.now();
        opts.onResult?.(targets[t], r, i, plan[t].length);
      }
    }
  };
  const wanted = targets.some(pinnedTarget) ? 1 : opts.jobs ?? 1;
  const jobs = Math.max(1, Math.min(wanted, items.length));
  // Readiness and teardown read /proc hundreds of times in a run: one reader for them all.
  const release = holdProcReader();
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    await release();
  }
  return {
    formatVersion: 1,
    tool: { name: "sockspec", version: VERSION },
    runtime: {
      deno: Deno.version.deno,
      os: Deno.build.os,
      arch: Deno.build.arch,
      uid: currentUid(),
    },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    strict: opts.strict ?? false,
    seed,
    interrupted: opts.signal?.aborted ?? false,
    ...(opts.shard ? { shard: opts.shard } : {}),
    targets: targets.map((target, t) => ({
      name: target.name,
      kind: target.kind,
      source: target.source,
      description: target.description,
      // Results in case order; an interrupted run keeps those that finished.
      results: results[t].filter((r): r is CaseResult => r !== undefined),
      durationMs: began[t] === undefined ? 0 : Math.round(ended[t] - began[t]!),
    })),
  };
}

/** False when a started stream server's port or socket path no longer listens. */
async function listening(i: Instance): Promise<boolean> {
  const { transports } = i.target;
  if (i.port !== undefined && transports.includes("tcp")) return await portListening(i.port);
  if (i.path !== undefined && transports.includes("unix")) return await unixListening(i.path);
  return true;
}

function outcomeOf(err: unknown, c: Case): Outcome {
  if (err instanceof Failure) {
    return { verdict: "FAIL", message: err.message, observed: err.observed };
  }
  if (err instanceof Skip) return { verdict: "SKIP", message: err.message };
  if (err instanceof TargetError) return { verdict: "ERROR", message: err.message };
  if (err instanceof Error && err.name === "AssertionError") {
    return { verdict: "FAIL", message: err.message };
  }
  const step = stepOf(err);
  const at = (text: string) => step ? `${step} failed: ${text}` : text;
  if (err instanceof TimeoutError || err instanceof EofError || err instanceof OverflowError) {
    return { verdict: "FAIL", message: at(err.message) };
  }
  if (errnoCode(err)) return { verdict: "FAIL", message: at(errnoMessage(err)) };
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    verdict: "ERROR",
    message: `case ${c.id} failed inside sockspec: ${text}; please report this`,
  };
}

/** How an instance stopped, and after which of the case's connections. */
function exitStory(i: Instance, evidence: EvidenceRecorder, started: number): string {
  const how = i.describe();
  if (i.exitedAt === undefined) return how;
  const atMs = Math.round((i.exitedAt - started) * 10) / 10;
  const before = evidence.connectionsBefore(i.exitedAt);
  return `${how} at +${atMs} ms${
    before > 0 ? `, after the case's ${ordinal(before)} connection` : ", before any connection"
  }`;
}

/** A manifest path as the re-run command shows it: relative when it is under the current directory. */
function shownPath(source: string): string {
  if (!source.startsWith("/")) return source;
  const cwd = Deno.cwd();
  return source.startsWith(`${cwd}/`) ? source.slice(cwd.length + 1) : source;
}
