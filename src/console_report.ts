/**
 * The console report: grouped by target and family, one line per case with its verdict,
 * level, id and requirement, details under failures, and the closing line
 * `N passed, N failed, N skipped`. Colour only on a terminal (and never with NO_COLOR).
 *
 * @example
 * ```ts
 * import { consoleReport } from "./console_report.ts";
 * import type { RunReport } from "./report.ts";
 * declare const report: RunReport;
 * console.log(consoleReport(report, { color: false }));
 * ```
 * @module
 */

import type { Verdict } from "./case.ts";
import { type CaseResult, closingLine, failsRun, type RunReport, summarize } from "./report.ts";

const COLORS: Record<Verdict | "NOTSTRICT", string> = {
  PASS: "\x1b[32m",
  FAIL: "\x1b[31m",
  ERROR: "\x1b[35m",
  SKIP: "\x1b[33m",
  NOTSTRICT: "\x1b[33m",
};

/** Options of {@linkcode consoleReport}. */
export interface ConsoleOptions {
  /** Use ANSI colours. */
  color?: boolean;
  /** Show details (evidence) under passing cases too. */
  verbose?: boolean;
}

/**
 * Renders the whole report as text.
 *
 * @example
 * ```ts
 * import { consoleReport } from "./console_report.ts";
 * import type { RunReport } from "./report.ts";
 * declare const report: RunReport;
 * consoleReport(report).split("\n").at(-1); // "12 passed, 0 failed, 1 skipped"
 * ```
 */
export function consoleReport(report: RunReport, opts: ConsoleOptions = {}): string {
  const paint = (code: string, text: string) => (opts.color ? `${code}${text}\x1b[0m` : text);
  const out: string[] = [];
  for (const target of report.targets) {
    out.push(
      paint("\x1b[1m", `${target.name}`) +
        `  (${target.source === "built-in" ? "built-in" : target.source}${
          target.description ? `: ${target.description}` : ""
        })`,
    );
    let family = "";
    for (const r of target.results) {
      if (r.family !== family) {
        family = r.family;
        out.push(`  ${family}`);
      }
      const notStrict = (r.verdict === "FAIL" || r.verdict === "ERROR") && r.level === "SHOULD" &&
        !failsRun(r, report.strict);
      const label = notStrict ? "WARN" : r.verdict;
      const expected = r.expected
        ? ` (expected ${r.expected}${r.expected === r.verdict ? "" : ", UNEXPECTED"})`
        : "";
      out.push(
        `    ${paint(COLORS[notStrict ? "NOTSTRICT" : r.verdict], label.padEnd(5))} ${
          r.level.padEnd(6)
        } ${r.id.padEnd(18)} ${r.requirement}${expected}`,
      );
      out.push(...details(r, opts.verbose ?? false, notStrict));
    }
    out.push("");
  }
  const s = summarize(report);
  const extras = [
    s.notStrict ? `${s.notStrict} SHOULD case(s) failed (not counted; --strict counts them)` : "",
    s.infoProblems ? `${s.infoProblems} INFO case(s) could not observe their value` : "",
    report.interrupted ? "the run was interrupted: this report is partial" : "",
  ].filter(Boolean);
  if (extras.length) out.push(extras.join("; "));
  out.push(closingLine(s));
  return out.join("\n");
}

function details(r: CaseResult, verbose: boolean, notStrict: boolean): string[] {
  const pad = "            ";
  const lines: string[] = [];
  const bad = r.verdict === "FAIL" || r.verdict === "ERROR";
  if (r.verdict === "SKIP" || bad || r.level === "INFO" || verbose) {
    lines.push(`${pad}${notStrict ? "(not strict) " : ""}${r.message}`);
  }
  const observed = Object.entries(r.observed);
  if (observed.length && (r.level === "INFO" || verbose)) {
    lines.push(
      `${pad}observed: ${observed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`,
    );
  }
  if (!bad && !verbose) return lines;
  const e = r.evidence;
  for (const b of e.bytes) {
    lines.push(`${pad}${b.label}: ${b.length} bytes ${b.repr}${b.truncated ? " ..." : ""}`);
  }
  const timings = Object.entries(e.timings);
  if (timings.length) {
    lines.push(
      `${pad}timings: ${timings.map(([k, v]) => `${k}=${v}`).join(", ")} (case ${r.durationMs} ms)`,
    );
  }
  for (const note of e.notes) lines.push(`${pad}${note}`);
  for (const [label, text] of [["stdout", e.stdoutTail], ["stderr", e.stderrTail]] as const) {
    if (!text) continue;
    const tail = text.trimEnd().split("\n").slice(-8);
    lines.push(`${pad}${label} tail:`, ...tail.map((l) => `${pad}  | ${l}`));
  }
  return lines;
}
