/**
 * The report model that every reporter reads: a run holds targets, a target holds case
 * results. Also the one place that decides how each result is judged (pass, fail, expected
 * failure, unexpected pass, ...) and which results fail a run. The console, JUnit, JSON,
 * Markdown and HTML reporters all read this model and call {@linkcode judge} and
 * {@linkcode summarize}; none keeps a model of its own.
 *
 * @example
 * ```ts
 * import { summarize, type RunReport } from "./report.ts";
 * declare const report: RunReport;
 * const { passed, failed, exitCode } = summarize(report);
 * console.log(`${passed} passed, ${failed} failed`);
 * ```
 * @module
 */

import type { Level, Observed, Verdict } from "../case/case.ts";
import type { Evidence } from "../case/evidence.ts";
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
  /** The requirement sentence. */
  requirement: string;
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
 * import { mismatch, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * mismatch({ ...result, verdict: "PASS", expected: "FAIL" }); // "expected FAIL, got PASS"
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
 * import { judge, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * judge({ ...result, level: "SHOULD", verdict: "FAIL" }, false); // "warn"
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
 * import { failsRun, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * failsRun(result, false);
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
 * import { summarize, type RunReport } from "./report.ts";
 * declare const report: RunReport;
 * summarize(report).exitCode;
 * summarize(report, report.targets[0]).passed; // one target only
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
 * expected failures and unexpected passes when there are any.
 *
 * @example
 * ```ts
 * import { closingLine, summarize, type RunReport } from "./report.ts";
 * declare const report: RunReport;
 * closingLine(summarize(report)); // "3 passed, 0 failed, 1 skipped"
 * ```
 */
export function closingLine(s: Summary): string {
  const parts = [`${s.passed} passed`, `${s.failed} failed`, `${s.skipped} skipped`];
  if (s.expected) parts.push(`${s.expected} expected failure${s.expected === 1 ? "" : "s"}`);
  if (s.unexpectedPass) {
    parts.push(`${s.unexpectedPass} unexpected pass${s.unexpectedPass === 1 ? "" : "es"}`);
  }
  return parts.join(", ");
}

/**
 * A short label for a result, the same in every reporter: the verdict, `WARN` for a SHOULD
 * failure that does not count, `XFAIL`/`XERROR` for an expected failure, `XPASS` for an
 * unexpected pass.
 *
 * @example
 * ```ts
 * import { label, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * label({ ...result, verdict: "FAIL", expected: "FAIL" }, false); // "XFAIL"
 * ```
 */
export function label(result: CaseResult, strict: boolean): string {
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
 * import { expectationNote, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * expectationNote({ ...result, verdict: "PASS", expected: "FAIL" }); // "UNEXPECTED: expected FAIL, got PASS"
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
 * import { verdicts, type RunReport } from "./report.ts";
 * declare const report: RunReport;
 * verdicts(report); // ["reference-echo-tcp echo/tcp/1 PASS", ...]
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
 * import { evidenceLines, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * console.log(evidenceLines(result).join("\n")); // "sent: 42 bytes\n  hex: 5468...\n  repr: b'This...'"
 * ```
 */
export function evidenceLines(result: CaseResult, tailLines = 20): string[] {
  const lines: string[] = [];
  const observed = Object.entries(result.observed);
  if (observed.length) {
    lines.push(`observed: ${observed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`);
  }
  const e = result.evidence;
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
  return lines;
}

/**
 * " by SIGTERM" or " by SIGHUP" for a run a signal other than Ctrl-C interrupted, else "":
 * for the "the run was interrupted… this report is partial" lines.
 *
 * @example
 * ```ts
 * import { byWhom } from "./report.ts";
 * import type { RunReport } from "./report.ts";
 * declare const report: RunReport;
 * `the run was interrupted${byWhom(report)}`;
 * ```
 */
export function byWhom(report: RunReport): string {
  const signal = report.interruption?.signal;
  return signal && signal !== "SIGINT" ? ` by ${signal}` : "";
}

/**
 * The targets whose cases left processes running that teardown had to kill, with how many
 * processes in all: for the run summary.
 *
 * @example
 * ```ts
 * import { leftProcessTargets } from "./report.ts";
 * import type { RunReport } from "./report.ts";
 * declare const report: RunReport;
 * leftProcessTargets(report); // [{ name: "my-daemon", processes: 3, cases: 3 }]
 * ```
 */
export function leftProcessTargets(
  report: RunReport,
): { name: string; processes: number; cases: number }[] {
  return report.targets.flatMap((t) => {
    const hits = t.results.filter((r) => (r.leftProcesses ?? 0) > 0);
    if (hits.length === 0) return [];
    const processes = hits.reduce((n, r) => n + (r.leftProcesses ?? 0), 0);
    return [{ name: t.name, processes, cases: hits.length }];
  });
}
