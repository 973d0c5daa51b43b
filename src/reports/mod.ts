/**
 * Reports: the report model (results, judgements, the closing line) and its writers for
 * people and CI: console, JSON (versioned, with a schema), JUnit, Markdown and a
 * self-contained HTML matrix.
 *
 * @example
 * ```ts
 * import { closingLine, type RunReport, summarize } from "@sockspec/sockspec/reports";
 * function lastLine(report: RunReport): string {
 *   return closingLine(summarize(report)); // "95 passed, 0 failed, 0 skipped"
 * }
 * ```
 * @module
 */

export * from "./report.ts";
export * from "./console.ts";
export * from "./json.ts";
export * from "./junit.ts";
export * from "./markdown.ts";
export * from "./html.ts";

// Types the reports refer to, defined by the case model.
export type { Level, Observed, Verdict } from "../case/verdict.ts";
export type {
  BytesEvidence,
  DatagramEventOptions,
  Evidence,
  WireEvent,
  WireKind,
} from "../case/evidence.ts";
export type { ByteDiff, DiffSide } from "../case/diff.ts";
