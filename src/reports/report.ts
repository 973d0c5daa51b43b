/**
 * The report model that every reporter reads: a run holds targets, a target holds case
 * results. Also the one place that decides how each result is judged (pass, fail, expected
 * failure, unexpected pass, ...) and which results fail a run. The console, JUnit, JSON,
 * Markdown and HTML reporters all read this model and call {@linkcode judge} and
 * {@linkcode summarize}; none keeps a model of its own.
 *
 * @example
 * ```ts
 * import { closingLine, type RunReport, summarize } from "./report.ts";
 * const report: RunReport = {
 *   formatVersion: 1,
 *   tool: { name: "sockspec", version: "0.1.0" },
 *   runtime: { deno: Deno.version.deno, os: Deno.build.os, arch: Deno.build.arch },
 *   startedAt: new Date().toISOString(),
 *   durationMs: 40,
 *   strict: false,
 *   interrupted: false,
 *   targets: [{
 *     name: "my-echo", kind: "stream-echo", source: "my-echo.json", durationMs: 40,
 *     results: [{
 *       id: "echo/tcp/1", family: "echo/tcp", requirement: "The message comes back byte-exact.",
 *       level: "MUST", verdict: "PASS", message: "42 bytes echoed exactly",
 *       observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 40,
 *     }],
 *   }],
 * };
 * const summary = summarize(report);
 * console.log(closingLine(summary), summary.exitCode); // "1 passed, 0 failed, 0 skipped" 0
 * ```
 * @module
 */

import type { Level, Observed, Verdict } from "../case/case.ts";
import type { Evidence, WireEvent } from "../case/evidence.ts";
import { describeDiff } from "../case/diff.ts";
import { bytesRepr } from "../python/repr.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The sockspec version, from deno.json. */
export const VERSION: string = denoJson.version;

/** The version of the JSON report format (schemas/sockspec-report.schema.json). */
export const REPORT_FORMAT_VERSION = 1;

/** One case against one target. */
export interface CaseResult {
  /** The case id. */
  id: string;
  /** The id without its last segment. */
  family: string;
  /** The family's title, when the case declares one. */
  familyTitle?: string;
  /** The requirement sentence. */
  requirement: string;
  /** What to look at in a server that fails the case, when the case declares it. */
  hint?: string;
  /** MUST, SHOULD or INFO. */
  level: Level;
  /** What happened. */
  verdict: Verdict;
  /** The verdict an expectations file gave for this case, if any. */
  expected?: Verdict;
  /** A substring the expectations file says the message must contain, if any. */
  expectedMessage?: string;
  /** Observed values the expectations file says the case must report, if any. */
  expectedObserved?: Record<string, Observed>;
  /** One line that says what happened. */
  message: string;
  /** Values the case observed. */
  observed: Record<string, Observed>;
  /** Bytes, timings, notes and output tails. */
  evidence: Evidence;
  /** How long the case took, in ms. */
  durationMs: number;
  /**
   * How many processes the target left running that teardown had to kill (a daemon that
   * escaped with setsid, a child that ignored SIGTERM); each is named in the evidence notes.
   */
  leftProcesses?: number;
  /**
   * The command that re-runs this case against this target with this run's seed (every
   * result but a PASS; see {@linkcode rerunCommand}).
   */
  rerun?: string;
}

/**
 * The command that re-runs case `id` against the target from `source` (a manifest path, or
 * `built-in` for the reference targets) with `seed`, so that it sends the same bytes (an id
 * selects by whole components, so `echo/tcp/1` is that case alone). A
 * built-in target is not named (check runs every built-in target the case applies to).
 *
 * @example
 * ```ts
 * import { rerunCommand } from "./report.ts";
 * rerunCommand("fixtures/broken/echo-leak.json", "echo/tcp/7", 42);
 * // "deno task sockspec check --target fixtures/broken/echo-leak.json echo/tcp/7 --seed 42"
 * rerunCommand("built-in", "echo/tcp/1", 7);
 * // "deno task sockspec check echo/tcp/1 --seed 7" (whole id components: not echo/tcp/10)
 * ```
 */
export function rerunCommand(
  source: string,
  id: string,
  seed: number,
): string {
  const target = source === "built-in" ? "" : ` --target ${shellWord(source)}`;
  return `deno task sockspec check${target} ${shellWord(id)} --seed ${seed}`;
}

/** `word` quoted for a POSIX shell when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** All results for one target. */
export interface TargetReport {
  /** The target's name. */
  name: string;
  /** Its kind. */
  kind: string;
  /** The manifest file, or `built-in`. */
  source: string;
  /** One line saying what it is. */
  description?: string;
  /** The results, in case order. */
  results: CaseResult[];
  /** How long the target's cases took, in ms. */
  durationMs: number;
}

/** Which part of a sharded run a report holds (`--shard 2/3` is index 2, count 3). */
export interface ShardInfo {
  /** 1-based shard number. */
  index: number;
  /** How many shards the work was split into. */
  count: number;
}

/** One shard report that went into a merged report. */
export interface MergedPart {
  /** The shard, as `i/n`, or `-` for a report of an unsharded run. */
  shard: string;
  /** When that part started (ISO 8601). */
  startedAt: string;
  /** How long it took, in ms. */
  durationMs: number;
}

/** A whole run. */
export interface RunReport {
  /** The report format version ({@linkcode REPORT_FORMAT_VERSION}). */
  formatVersion: number;
  /** The tool that wrote it. */
  tool: { name: "sockspec"; version: string };
  /** Where it ran. */
  runtime: { deno: string; os: string; arch: string; uid?: number };
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** How long it took, in ms. */
  durationMs: number;
  /** Whether SHOULD failures fail the run. */
  strict: boolean;
  /** The run's seed (`--seed`): every case's random payloads derive from it. */
  seed?: number;
  /** True when the run was interrupted (Ctrl-C) and the report is partial. */
  interrupted: boolean;
  /**
   * Set when a signal interrupted the run: which one, and the exit code `check` gave for it
   * (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
   */
  interruption?: { signal: "SIGINT" | "SIGTERM" | "SIGHUP"; exitCode: number };
  /** Set when this report holds one shard of the work (`--shard i/n`). */
  shard?: ShardInfo;
  /** Set on a merged report: the reports it was merged from, in order. */
  mergedFrom?: MergedPart[];
  /** The expectations files applied to the results, if any. */
  expectations?: string[];
  /** The targets, in run order. */
  targets: TargetReport[];
}

/**
 * How a result counts, from its verdict, level and expectation:
 *
 * - `pass`: PASS (and, with an expectation, it fits).
 * - `fail`: fails the run: a MUST FAIL/ERROR (SHOULD too under `--strict`) without an
 *   expectation, or any result that does not fit its expectation and is not a PASS.
 * - `unexpected-pass`: PASS where the expectations file said FAIL, ERROR or SKIP (or a PASS
 *   that does not fit the expected message or observed values). Fails the run: update the
 *   expectations.
 * - `expected`: FAIL or ERROR exactly as the expectations file says (a known failure).
 * - `skip`: SKIP (expected, or without an expectation).
 * - `warn`: a SHOULD FAIL/ERROR that does not fail the run without `--strict`.
 * - `info`: an INFO FAIL/ERROR (the value could not be observed); never fails the run.
 */
export type Judgement = "pass" | "fail" | "unexpected-pass" | "expected" | "skip" | "warn" | "info";

/**
 * Why a result does not fit its expectation, or undefined when it fits (or has none).
 *
 * @example
 * ```ts
 * import { type CaseResult, mismatch } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "SHOULD", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * mismatch({ ...result, verdict: "PASS", expected: "FAIL" }); // "expected FAIL, got PASS"
 * mismatch({ ...result, expected: "FAIL" }); // undefined: it fits
 * ```
 */
export function mismatch(result: CaseResult): string | undefined {
  if (result.expected === undefined) return undefined;
  if (result.verdict !== result.expected) {
    return `expected ${result.expected}, got ${result.verdict}`;
  }
  if (result.expectedMessage !== undefined && !result.message.includes(result.expectedMessage)) {
    return `expected the message to contain ${JSON.stringify(result.expectedMessage)}`;
  }
  for (const [key, want] of Object.entries(result.expectedObserved ?? {})) {
    const got = Object.hasOwn(result.observed, key) ? result.observed[key] : undefined;
    if (got !== want) {
      return `expected observed ${key}=${JSON.stringify(want)}, got ${
        got === undefined ? "nothing" : JSON.stringify(got)
      }`;
    }
  }
  return undefined;
}

/**
 * Judges one result (see {@linkcode Judgement}); `strict` is the run's `--strict`.
 *
 * @example
 * ```ts
 * import { type CaseResult, judge } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "SHOULD", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * judge(result, false); // "warn": a SHOULD failure
 * judge(result, true); // "fail": under --strict
 * judge({ ...result, level: "MUST" }, false); // "fail"
 * ```
 */
export function judge(result: CaseResult, strict: boolean): Judgement {
  const bad = result.verdict === "FAIL" || result.verdict === "ERROR";
  if (result.expected !== undefined) {
    if (mismatch(result) !== undefined) {
      return result.verdict === "PASS" ? "unexpected-pass" : "fail";
    }
    return result.verdict === "PASS" ? "pass" : result.verdict === "SKIP" ? "skip" : "expected";
  }
  if (!bad) return result.verdict === "PASS" ? "pass" : "skip";
  if (result.level === "MUST" || (result.level === "SHOULD" && strict)) return "fail";
  return result.level === "SHOULD" ? "warn" : "info";
}

/**
 * True when this result fails the run: judged `fail` or `unexpected-pass`
 * (see {@linkcode judge}).
 *
 * @example
 * ```ts
 * import { type CaseResult, failsRun } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "SHOULD", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * failsRun(result, false); // false: a SHOULD failure only warns
 * failsRun(result, true); // true
 * ```
 */
export function failsRun(result: CaseResult, strict: boolean): boolean {
  const j = judge(result, strict);
  return j === "fail" || j === "unexpected-pass";
}

/** Counts over a run (or one target), and the exit code. Each result is in exactly one count. */
export interface Summary {
  /** All results. */
  total: number;
  /** Judged `pass`. */
  passed: number;
  /** Judged `fail`: results that fail the run (unexpected passes are counted apart). */
  failed: number;
  /** Judged `skip`. */
  skipped: number;
  /** Judged `expected`: known failures listed in an expectations file. */
  expected: number;
  /** Judged `unexpected-pass`: these fail the run too. */
  unexpectedPass: number;
  /** Judged `warn`: SHOULD failures not counted without `--strict`. */
  notStrict: number;
  /** Judged `info`: INFO results (FAIL or ERROR) that observed a value other than SPEC's, or none. */
  infoProblems: number;
  /** 0 when nothing fails the run, else 1. */
  exitCode: 0 | 1;
}

/**
 * Counts results by {@linkcode judge} and derives the exit code: 1 when any result is
 * judged `fail` or `unexpected-pass`, else 0.
 *
 * @example
 * ```ts
 * import { type RunReport, summarize } from "./report.ts";
 * function exitCodes(report: RunReport): number[] {
 *   const perTarget = report.targets.map((t) => summarize(report, t).exitCode); // one target only
 *   return [summarize(report).exitCode, ...perTarget];
 * }
 * ```
 */
export function summarize(report: RunReport, only?: TargetReport): Summary {
  const s: Summary = {
    total: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    expected: 0,
    unexpectedPass: 0,
    notStrict: 0,
    infoProblems: 0,
    exitCode: 0,
  };
  const key: Record<Judgement, Exclude<keyof Summary, "exitCode" | "total">> = {
    pass: "passed",
    fail: "failed",
    skip: "skipped",
    expected: "expected",
    "unexpected-pass": "unexpectedPass",
    warn: "notStrict",
    info: "infoProblems",
  };
  for (const target of only ? [only] : report.targets) {
    for (const r of target.results) {
      s.total++;
      s[key[judge(r, report.strict)]]++;
    }
  }
  s.exitCode = s.failed + s.unexpectedPass > 0 ? 1 : 0;
  return s;
}

/**
 * The closing line of every console run: `N passed, N failed, N skipped`, then the
 * expected failures and unexpected passes when there are any, then in parentheses what
 * never counts (SHOULD failures without `--strict`, INFO values other than SPEC's), so
 * the line accounts for every result: `95 passed, 0 failed, 0 skipped (1 INFO differs from SPEC)`.
 *
 * @example
 * ```ts
 * import { closingLine, type RunReport, summarize } from "./report.ts";
 * function lastLine(report: RunReport): string {
 *   return closingLine(summarize(report)); // e.g. "3 passed, 0 failed, 1 skipped"
 * }
 * ```
 */
export function closingLine(s: Summary): string {
  const parts = [`${s.passed} passed`, `${s.failed} failed`, `${s.skipped} skipped`];
  if (s.expected) parts.push(`${s.expected} expected failure${s.expected === 1 ? "" : "s"}`);
  if (s.unexpectedPass) {
    parts.push(`${s.unexpectedPass} unexpected pass${s.unexpectedPass === 1 ? "" : "es"}`);
  }
  // What never counts is still accounted for, so the line adds up to every result.
  const aside: string[] = [];
  if (s.notStrict) {
    aside.push(`${s.notStrict} SHOULD failure${s.notStrict === 1 ? "" : "s"} not counted`);
  }
  if (s.infoProblems) {
    aside.push(`${s.infoProblems} INFO differ${s.infoProblems === 1 ? "s" : ""} from SPEC`);
  }
  return parts.join(", ") + (aside.length ? ` (${aside.join(", ")})` : "");
}

/**
 * A short label for a result, the same in every reporter: the verdict, `WARN` for a SHOULD
 * failure that does not count, `XFAIL`/`XERROR` for an expected failure, `XPASS` for an
 * unexpected pass, `FLAKY` for repeated runs that gave different verdicts (observed
 * `flaky: true`; the message gives the rate).
 *
 * @example
 * ```ts
 * import { type CaseResult, label } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "SHOULD", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * label(result, false); // "WARN"
 * label({ ...result, expected: "FAIL" }, false); // "XFAIL"
 * ```
 */
export function label(result: CaseResult, strict: boolean): string {
  // Runs that gave different verdicts (--repeat, or a re-run): the message gives the rate.
  if (result.observed.flaky === true) return "FLAKY";
  switch (judge(result, strict)) {
    case "warn":
      return "WARN";
    case "expected":
      return result.verdict === "ERROR" ? "XERROR" : "XFAIL";
    case "unexpected-pass":
      return "XPASS";
    default:
      return result.verdict;
  }
}

/**
 * One sentence that says how a result was judged against its expectation, or `""` when
 * there is no expectation.
 *
 * @example
 * ```ts
 * import { type CaseResult, expectationNote } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "SHOULD", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * expectationNote({ ...result, verdict: "PASS", expected: "FAIL" }); // "UNEXPECTED: expected FAIL, got PASS"
 * expectationNote(result); // "": no expectation
 * ```
 */
export function expectationNote(result: CaseResult): string {
  if (result.expected === undefined) return "";
  const why = mismatch(result);
  return why ? `UNEXPECTED: ${why}` : `expected ${result.expected}`;
}

/**
 * The case id and target of every result, with its verdict: handy to compare runs.
 *
 * @example
 * ```ts
 * import { type RunReport, verdicts } from "./report.ts";
 * function changed(before: RunReport, after: RunReport): string[] {
 *   const old = new Set(verdicts(before)); // ["reference-echo-tcp echo/tcp/1 PASS", ...]
 *   return verdicts(after).filter((line) => !old.has(line));
 * }
 * ```
 */
export function verdicts(report: RunReport): string[] {
  return report.targets.flatMap((t) => t.results.map((r) => `${t.name} ${r.id} ${r.verdict}`));
}

/**
 * A result's details as plain text lines, the same in the JUnit and Markdown reports:
 * observed values, bytes (length, hex and Python repr), timings, notes, the transcript
 * excerpt and the target's output tails (last `tailLines` lines each).
 *
 * @example
 * ```ts
 * import { type CaseResult, evidenceLines } from "./report.ts";
 * import { EvidenceRecorder } from "../case/evidence.ts";
 * const evidence = new EvidenceRecorder();
 * evidence.sent(new TextEncoder().encode("This is the message."));
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "SHOULD", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: evidence.toJSON(), durationMs: 12,
 * };
 * console.log(evidenceLines(result).join("\n")); // "sent: 20 bytes\n  hex: 5468...\n  repr: b'This...'"
 * ```
 */
export function evidenceLines(result: CaseResult, tailLines = 20): string[] {
  const lines: string[] = [];
  const observed = Object.entries(result.observed);
  if (observed.length) {
    lines.push(`observed: ${observed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`);
  }
  const e = result.evidence;
  lines.push(...explainLines(result));
  for (const b of e.bytes) {
    const shown = b.truncated ? ` (first ${b.hex.length / 2} shown)` : "";
    lines.push(`${b.label}: ${b.length} bytes${shown}`, `  hex: ${b.hex}`, `  repr: ${b.repr}`);
  }
  const timings = Object.entries(e.timings);
  lines.push(
    `timings: ${
      [...timings.map(([k, v]) => `${k}=${v}`), `case=${result.durationMs}`].join(", ")
    } (ms)`,
  );
  for (const note of e.notes) lines.push(`note: ${note}`);
  const block = (title: string, text: string | undefined) => {
    if (!text) return;
    const all = text.trimEnd().split("\n");
    const tail = all.slice(-tailLines);
    lines.push(`${title}${all.length > tail.length ? ` (last ${tail.length} lines)` : ""}:`);
    lines.push(...tail.map((l) => `  | ${l}`));
  };
  block("transcript", e.transcript);
  block("stdout tail", e.stdoutTail);
  block("stderr tail", e.stderrTail);
  lines.push(...timelineLines(result));
  return lines;
}

/** One row of a case's timeline (see {@linkcode timeline}). */
export interface TimelineRow {
  /** µs since the case started. */
  atUs: number;
  /** The wire event's kind, or `fold` for a folded run. */
  kind: WireEvent["kind"] | "fold";
  /** Where: `#1` (connection 1), `socket 1`, `target 1`. */
  who: string;
  /** `→` sockspec to the target, `←` from the target, `·` neither. */
  arrow: "→" | "←" | "·";
  /** What happened, as text: `write 42 B`, `stdout: waiting for a connection`. */
  what: string;
  /** Python repr of the event's bytes (head, then `…` and the tail when cut). */
  repr?: string;
  /** With kind `fold`: the rows folded away. */
  folded?: TimelineRow[];
}

/** Runs of this many events of one shape, or more, fold in a timeline. */
export const FOLD_MIN = 5;
/** Runs of this many output lines of one stream, or more, fold in a timeline. */
export const OUTPUT_FOLD_MIN = 12;

const KIND_WORD: Partial<Record<WireEvent["kind"], string>> = {
  write: "write",
  read: "read",
  send: "datagram sent",
  recv: "datagram received",
};

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array((hex.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

function whoOf(e: WireEvent): string {
  if (e.conn !== undefined) return `#${e.conn}`;
  if (e.socket !== undefined) return `socket ${e.socket}`;
  if (e.instance !== undefined) return `target ${e.instance}`;
  return "";
}

function rowOf(e: WireEvent): TimelineRow {
  const arrow = e.dir === "out" ? "→" : e.dir === "in" ? "←" : "·";
  const size = e.bytes !== undefined ? ` ${e.bytes.toLocaleString("en-US")} B` : "";
  const times = e.repeat
    ? ` in ${(e.repeat + 1).toLocaleString("en-US")} events, until +${
      ((e.lastUs ?? e.atUs) / 1000).toFixed(3)
    } ms`
    : "";
  const what = e.kind === "stdout" || e.kind === "stderr"
    ? `${e.kind}: ${e.text ?? ""}`
    : `${e.kind}${size}${times}${e.text !== undefined ? ` ${e.text}` : ""}`;
  const repr = e.head === undefined
    ? undefined
    : e.tail === undefined
    ? bytesRepr(hexBytes(e.head))
    : `${bytesRepr(hexBytes(e.head))} … ${bytesRepr(hexBytes(e.tail))}`;
  return { atUs: e.atUs, kind: e.kind, who: whoOf(e), arrow, what, ...(repr ? { repr } : {}) };
}

function shapeKey(e: WireEvent): string | undefined {
  if (e.kind === "stdout" || e.kind === "stderr") return `output|${e.kind}|${whoOf(e)}`;
  if (!KIND_WORD[e.kind]) return undefined;
  const each = e.repeat === undefined ? e.bytes : e.each;
  // an aggregate of mixed sizes stands alone
  if (each === undefined) return undefined;
  return `${e.kind}|${whoOf(e)}|${e.dir}|${each}`;
}

/**
 * A result's wire log as timeline rows, with long runs of events of one shape folded: the
 * first two are shown, then one `fold` row (`… 4,094 more 16-byte reads …`) that holds the
 * rest. A long run of a target's output lines shows its first three and last two lines
 * around a fold (`… 980 more stdout lines …`).
 *
 * @example
 * ```ts
 * import { type CaseResult, timeline } from "./report.ts";
 * function rows(result: CaseResult): string[] { // a result whose evidence has a wire log
 *   return timeline(result).map((r) => `${r.who} ${r.arrow} ${r.what}`);
 * }
 * ```
 */
export function timeline(result: CaseResult): TimelineRow[] {
  const wire = result.evidence.wire ?? [];
  const rows: TimelineRow[] = [];
  for (let i = 0; i < wire.length;) {
    const key = shapeKey(wire[i]);
    let j = i + 1;
    while (key && j < wire.length && shapeKey(wire[j]) === key) j++;
    const run = wire.slice(i, j);
    if (key?.startsWith("output|") && run.length >= OUTPUT_FOLD_MIN) {
      // a chatty target: its first and last lines, and the middle folded
      const middle = run.slice(3, -2);
      rows.push(...run.slice(0, 3).map(rowOf), {
        atUs: middle[0].atUs,
        kind: "fold",
        who: whoOf(run[0]),
        arrow: "·",
        what: `… ${middle.length.toLocaleString("en-US")} more ${run[0].kind} lines …`,
        folded: middle.map(rowOf),
      }, ...run.slice(-2).map(rowOf));
      i = j;
      continue;
    }
    const count = run.reduce((n, e) => n + 1 + (e.repeat ?? 0), 0);
    if (key && !key.startsWith("output|") && count >= FOLD_MIN && run.length >= 3) {
      const [a, b, ...rest] = run;
      rows.push(rowOf(a), rowOf(b));
      const more = count - 2;
      const each = (b.bytes ?? 0).toLocaleString("en-US");
      const total = rest.reduce((n, e) => n + (e.bytes ?? 0), 0).toLocaleString("en-US");
      const last = rest.at(-1)!;
      const untilUs = last.lastUs ?? last.atUs;
      rows.push({
        atUs: rest[0].atUs,
        kind: "fold",
        who: whoOf(a),
        arrow: rowOf(a).arrow,
        what: `… ${more.toLocaleString("en-US")} more ${each}-byte ${
          KIND_WORD[a.kind]
        }s (${total} B, until +${(untilUs / 1000).toFixed(3)} ms) …`,
        folded: rest.map(rowOf),
      });
    } else {
      rows.push(...run.map(rowOf));
    }
    i = j;
  }
  return rows;
}

/**
 * A result's timeline as text lines (`+13.200 ms  #1 → write 42 B  b'...'`), for the
 * text reports; at most `max` rows, the rest counted.
 *
 * @example
 * ```ts
 * import { type CaseResult, timelineLines } from "./report.ts";
 * function printWire(result: CaseResult): void {
 *   console.log(timelineLines(result).join("\n")); // nothing when there is no wire log
 * }
 * ```
 */
export function timelineLines(result: CaseResult, max = 60): string[] {
  const rows = timeline(result);
  const line = (r: TimelineRow) =>
    `  ${`+${(r.atUs / 1000).toFixed(3)}`.padStart(10)} ms  ${
      r.who.padEnd(9)
    } ${r.arrow} ${r.what}${
      r.repr ? `  ${r.repr.length > 120 ? `${r.repr.slice(0, 117)}...` : r.repr}` : ""
    }`;
  const out = rows.length > max
    ? [
      ...rows.slice(0, max - 10).map(line),
      `  … ${rows.length - max + 10} more rows …`,
      ...rows.slice(-10).map(line),
    ]
    : rows.map(line);
  const omitted = result.evidence.wireOmitted;
  if (omitted) {
    out.push(`  (${omitted.events} events, ${omitted.bytes} B, left out of the log's middle)`);
  }
  return out.length ? ["wire log:", ...out] : [];
}

/**
 * What a reader needs to act on a result that is not a PASS, as text lines: the case's
 * hint, each first difference in words, and the command that re-runs it.
 *
 * @example
 * ```ts
 * import { type CaseResult, explainLines } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/3", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "MUST", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   hint: "read until the peer closes, not once", rerun: "deno task check echo/tcp/3",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * explainLines(result); // ["hint: read until the peer closes, not once", "re-run: deno task check echo/tcp/3"]
 * ```
 */
export function explainLines(result: CaseResult): string[] {
  if (result.verdict === "PASS") return [];
  const lines: string[] = [];
  if (result.hint && result.verdict !== "SKIP") lines.push(`hint: ${result.hint}`);
  for (const d of result.evidence.diffs ?? []) {
    lines.push(`diff (${d.label}): ${describeDiff(d)}`);
    lines.push(`  expected @${d.expected.start}: ${d.expected.repr}`);
    lines.push(`  actual   @${d.actual.start}: ${d.actual.repr}`);
  }
  if (result.rerun) lines.push(`re-run: ${result.rerun}`);
  return lines;
}

/**
 * What is wrong with how a message is written, as short sentences (empty when nothing):
 * the runtime's own `(os error N)` text (format errors with `errnoMessage`), an errno line
 * that appears twice, or the same exit (`pid 4242, exited with code 1`) twice. Tests run it over every message of a run.
 *
 * @example
 * ```ts
 * import { messageFaults } from "./report.ts";
 * messageFaults("[Errno 2] No such file or directory (No such file or directory (os error 2))");
 * // ["holds the runtime's '(os error 2)': format the error with errnoMessage"]
 * ```
 */
export function messageFaults(message: string): string[] {
  const faults: string[] = [];
  for (const m of message.matchAll(/\(os error (\d+)\)/g)) {
    faults.push(`holds the runtime's '(os error ${m[1]})': format the error with errnoMessage`);
  }
  const errnos = [...message.matchAll(/\[Errno \d+\][^(;:]*/g)].map((m) => m[0].trim());
  for (const e of new Set(errnos)) {
    if (errnos.filter((x) => x === e).length > 1) faults.push(`says '${e}' twice`);
  }
  const exits = [...message.matchAll(/pid \d+, (?:exited with code \d+|killed by \w+)/g)].map((m) =>
    m[0]
  );
  for (const f of new Set(exits)) {
    if (exits.filter((x) => x === f).length > 1) faults.push(`says '${f}' twice`);
  }
  return faults;
}

/**
 * " by SIGTERM" or " by SIGHUP" for a run a signal other than Ctrl-C interrupted, else "":
 * for the "the run was interrupted… this report is partial" lines.
 *
 * @example
 * ```ts
 * import { byWhom } from "./report.ts";
 * import type { RunReport } from "./report.ts";
 * function interruptedLine(report: RunReport): string {
 *   return `the run was interrupted${byWhom(report)}`; // "… by SIGTERM"
 * }
 * ```
 */
export function byWhom(report: RunReport): string {
  const signal = report.interruption?.signal;
  return signal && signal !== "SIGINT" ? ` by ${signal}` : "";
}

/**
 * The targets whose cases left processes running that teardown had to kill, with how many
 * processes in all, and what the run summary says of each after the target's name (every
 * reporter says the same, escaping the name its own way).
 *
 * @example
 * ```ts
 * import { leftProcessTargets } from "./report.ts";
 * import type { RunReport } from "./report.ts";
 * function summaryOfLeftovers(report: RunReport): string[] {
 *   // ["my-daemon left 3 process(es) running in 3 case(s); teardown killed them (…)"]
 *   return leftProcessTargets(report).map((t) => `${t.name} ${t.says}`);
 * }
 * ```
 */
export function leftProcessTargets(
  report: RunReport,
): { name: string; processes: number; cases: number; says: string }[] {
  return report.targets.flatMap((t) => {
    const hits = t.results.filter((r) => (r.leftProcesses ?? 0) > 0);
    if (hits.length === 0) return [];
    const processes = hits.reduce((n, r) => n + (r.leftProcesses ?? 0), 0);
    const cases = hits.length;
    const says =
      `left ${processes} process(es) running in ${cases} case(s); teardown killed them (see each case's evidence)`;
    return [{ name: t.name, processes, cases, says }];
  });
}
