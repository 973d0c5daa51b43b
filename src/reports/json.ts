/**
 * The JSON report: the run model ({@linkcode RunReport}) as JSON, versioned by
 * `formatVersion`, with the run's {@linkcode Summary} added for consumers. Its JSON Schema
 * is `schemas/sockspec-report.schema.json`. `sockspec report merge` reads these files back
 * with {@linkcode parseJsonReport}.
 *
 * @example
 * ```ts
 * import { jsonReport, parseJsonReport } from "./json.ts";
 * import type { RunReport } from "./report.ts";
 * function roundTrip(report: RunReport): RunReport {
 *   return parseJsonReport(jsonReport(report), "report.json"); // the same targets and results
 * }
 * ```
 * @module
 */

import { REPORT_FORMAT_VERSION, type RunReport, summarize, type Summary } from "./report.ts";

/** The JSON document: the run model plus its summary. */
export type JsonReport = RunReport & { summary: Summary };

/** The schema file, relative to the repository root. */
export const JSON_SCHEMA_PATH = "schemas/sockspec-report.schema.json";

/**
 * Renders the JSON report (2-space indented, ending in a newline).
 *
 * @example
 * ```ts
 * import { jsonReport } from "./json.ts";
 * import type { RunReport } from "./report.ts";
 * function exitCode(report: RunReport): 0 | 1 {
 *   return JSON.parse(jsonReport(report)).summary.exitCode;
 * }
 * ```
 */
export function jsonReport(report: RunReport): string {
  const { targets, ...meta } = report;
  const doc: JsonReport = { ...meta, summary: summarize(report), targets };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** A file that is not a JSON report this sockspec can read. */
export class ReportFileError extends Error {
  /**
   * An error naming the file.
   *
   * @example
   * ```ts
   * import { ReportFileError } from "./json.ts";
   * const err = new ReportFileError("a.json: not a sockspec JSON report (no formatVersion)");
   * console.log(err.name); // "ReportFileError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "ReportFileError";
  }
}

/**
 * Parses a JSON report written by {@linkcode jsonReport} back into the model (the summary
 * is dropped: it is always recomputed). Checks the shape that merging relies on and names
 * the file and the field when something is off.
 *
 * @example
 * ```ts
 * import { parseJsonReport } from "./json.ts";
 * async function load(file: string) {
 *   return parseJsonReport(await Deno.readTextFile(file), file); // names the file on errors
 * }
 * ```
 */
export function parseJsonReport(text: string, name: string): RunReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReportFileError(`${name}: invalid JSON: ${(err as Error).message}`);
  }
  const bad = (what: string) =>
    new ReportFileError(
      `${name}: not a sockspec JSON report (${what}); write one with --report json=FILE`,
    );
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("not an object");
  const doc = json as Partial<JsonReport>;
  if (doc.tool?.name !== "sockspec") throw bad("tool.name is not sockspec");
  if (doc.formatVersion !== REPORT_FORMAT_VERSION) {
    throw new ReportFileError(
      `${name}: report format version ${doc.formatVersion}; this sockspec reads version ${REPORT_FORMAT_VERSION}`,
    );
  }
  if (typeof doc.startedAt !== "string" || Number.isNaN(Date.parse(doc.startedAt))) {
    throw bad("startedAt is not a date");
  }
  if (typeof doc.durationMs !== "number") throw bad("durationMs is not a number");
  if (typeof doc.strict !== "boolean") throw bad("strict is not true or false");
  if (!Array.isArray(doc.targets)) throw bad("targets is not an array");
  doc.targets.forEach((t, i) => {
    if (typeof t?.name !== "string" || typeof t.source !== "string" || !Array.isArray(t.results)) {
      throw bad(`targets[${i}] lacks name, source or results`);
    }
    t.results.forEach((r, j) => {
      if (typeof r?.id !== "string" || typeof r.verdict !== "string") {
        throw bad(`targets[${i}].results[${j}] lacks id or verdict`);
      }
    });
  });
  const { summary: _summary, ...report } = doc as JsonReport;
  return report;
}
