/**
 * The report model that every reporter reads: a run holds targets, a target holds case
 * results. Also the one place that decides which results fail a run.
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

import type { Level, Observed, Verdict } from "./case.ts";
import type { Evidence } from "./evidence.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The sockspec version, from deno.json. */
export const VERSION: string = denoJson.version;

/** The version of the JSON report format. */
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
  /** One line that says what happened. */
  message: string;
  /** Values the case observed. */
  observed: Record<string, Observed>;
  /** Bytes, timings, notes and output tails. */
  evidence: Evidence;
  /** How long the case took, in ms. */
  durationMs: number;
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
  /** The targets, in run order. */
  targets: TargetReport[];
}

/** Counts over a run, and its exit code. */
export interface Summary {
  /** Results with verdict PASS. */
  passed: number;
  /** Results that fail the run (see {@linkcode failsRun}). */
  failed: number;
  /** Results with verdict SKIP. */
  skipped: number;
  /** SHOULD results that failed but do not fail the run without `--strict`. */
  notStrict: number;
  /** INFO results that could not observe their value. */
  infoProblems: number;
  /** 0 when nothing fails the run, else 1. */
  exitCode: 0 | 1;
}

/**
 * True when this result fails the run: a MUST case that is FAIL or ERROR, a SHOULD case
 * likewise under `strict`, or any result that differs from its expected verdict.
 *
 * @example
 * ```ts
 * import { failsRun, type CaseResult } from "./report.ts";
 * declare const result: CaseResult;
 * failsRun(result, false);
 * ```
 */
export function failsRun(result: CaseResult, strict: boolean): boolean {
  if (result.expected) return result.verdict !== result.expected;
  if (result.verdict !== "FAIL" && result.verdict !== "ERROR") return false;
  return result.level === "MUST" || (result.level === "SHOULD" && strict);
}

/**
 * Counts a run's results and derives the exit code.
 *
 * @example
 * ```ts
 * import { summarize, type RunReport } from "./report.ts";
 * declare const report: RunReport;
 * summarize(report).exitCode;
 * ```
 */
export function summarize(report: RunReport): Summary {
  const s: Summary = {
    passed: 0,
    failed: 0,
    skipped: 0,
    notStrict: 0,
    infoProblems: 0,
    exitCode: 0,
  };
  for (const target of report.targets) {
    for (const r of target.results) {
      const bad = r.verdict === "FAIL" || r.verdict === "ERROR";
      if (failsRun(r, report.strict)) s.failed++;
      else if (r.verdict === "PASS") s.passed++;
      else if (r.verdict === "SKIP") s.skipped++;
      else if (bad && r.level === "SHOULD") s.notStrict++;
      else if (bad && r.level === "INFO") s.infoProblems++;
      else s.passed++; // an expected FAIL or ERROR
    }
  }
  s.exitCode = s.failed > 0 ? 1 : 0;
  return s;
}

/**
 * The closing line of every console run: `N passed, N failed, N skipped`.
 *
 * @example
 * ```ts
 * import { closingLine, type Summary } from "./report.ts";
 * closingLine({ passed: 3, failed: 0, skipped: 1, notStrict: 0, infoProblems: 0, exitCode: 0 }); // "3 passed, 0 failed, 1 skipped"
 * ```
 */
export function closingLine(s: Summary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}
