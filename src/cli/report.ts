/**
 * Report files and `sockspec report`: the `--report FORMAT=FILE` option shared by
 * `sockspec check` and `sockspec report merge`, and the merge command itself, which
 * combines the JSON reports of CI shards (or of separate runs) into one report in every
 * format.
 *
 * Exit codes of `report merge`: 0 when nothing in the merged report fails the run, 1 when
 * something does, 2 on a usage error or a report that cannot be merged.
 *
 * @example
 * ```ts
 * import { reportMain } from "./report.ts";
 * const code = await reportMain(["merge", "shard-1.json", "shard-2.json", "--report", "html=report.html"]);
 * ```
 * @module
 */

import { allCases } from "../../conformance/mod.ts";
import { parseOptions, UsageError } from "./_args.ts";
import { consoleReport } from "../reports/console.ts";
import { htmlReport } from "../reports/html.ts";
import { jsonReport, parseJsonReport, ReportFileError } from "../reports/json.ts";
import { junitReport } from "../reports/junit.ts";
import { markdownReport } from "../reports/markdown.ts";
import { type RunReport, summarize } from "../reports/report.ts";
import { MergeError, mergeReports } from "../harness/shard.ts";
import { errnoMessage } from "../python/errno.ts";

/** The report formats and their renderers. */
export const REPORT_FORMATS: Readonly<Record<string, (report: RunReport) => string>> = {
  junit: junitReport,
  json: jsonReport,
  markdown: markdownReport,
  html: htmlReport,
};

/** One `--report FORMAT=FILE`. */
export interface ReportSpec {
  /** A key of {@linkcode REPORT_FORMATS}. */
  format: string;
  /** Where to write it. */
  file: string;
}

/**
 * Parses `--report` values (`junit=out/junit.xml`; `md` is short for `markdown`).
 *
 * @example
 * ```ts
 * import { parseReportSpecs } from "./report.ts";
 * parseReportSpecs(["junit=junit.xml", "md=summary.md"]); // [{ format: "junit", file: "junit.xml" }, { format: "markdown", file: "summary.md" }]
 * ```
 */
export function parseReportSpecs(values: readonly string[]): ReportSpec[] {
  const formats = Object.keys(REPORT_FORMATS).join(", ");
  const specs = values.map((v) => {
    const at = v.indexOf("=");
    const format = at > 0 ? v.slice(0, at).toLowerCase() : "";
    const file = at > 0 ? v.slice(at + 1) : "";
    const name = format === "md" ? "markdown" : format;
    if (!(name in REPORT_FORMATS) || file === "") {
      throw new UsageError(
        `--report takes FORMAT=FILE with FORMAT one of ${formats} (for example junit=junit.xml), not '${v}'`,
      );
    }
    return { format: name, file };
  });
  const files = specs.map((s) => s.file);
  const twice = files.find((f, i) => files.indexOf(f) !== i);
  if (twice) throw new UsageError(`--report names '${twice}' twice; give each format its own file`);
  return specs;
}

/**
 * Writes each report file (creating parent directories). Every file is attempted; the
 * errors, one line each naming the file, are returned (empty when all were written).
 *
 * @example
 * ```ts
 * import { writeReports } from "./report.ts";
 * import type { RunReport } from "../reports/report.ts";
 * declare const report: RunReport;
 * const errors = await writeReports(report, [{ format: "json", file: "out/report.json" }]);
 * ```
 */
export async function writeReports(
  report: RunReport,
  specs: readonly ReportSpec[],
): Promise<string[]> {
  const errors: string[] = [];
  for (const { format, file } of specs) {
    try {
      const slash = file.lastIndexOf("/");
      if (slash > 0) await Deno.mkdir(file.slice(0, slash), { recursive: true });
      await Deno.writeTextFile(file, REPORT_FORMATS[format](report));
    } catch (err) {
      errors.push(`cannot write the ${format} report to ${file}: ${(err as Error).message}`);
    }
  }
  return errors;
}

/** Help for `sockspec report`. */
export const REPORT_HELP =
  `Usage: sockspec report merge REPORT.json... [--report FORMAT=FILE]... [options]

Merges JSON reports written by 'sockspec check --report json=FILE' into one report:
the shards of one run (--shard 1/n ... n/n; every shard must be given once), or runs
over different targets. Prints the merged console report and writes each --report file.

Options:
  --report FORMAT=FILE  write the merged report (repeatable); FORMAT: junit, json,
                        markdown (or md), html
  --quiet               print only the closing line
  --verbose             show evidence under passing cases too
  --help                show this help

Exit: 0 nothing in the merged report fails the run, 1 something does (a failure or an
unexpected pass), 2 a usage error or reports that cannot be merged (missing or
duplicate shards, different --strict).`;

/**
 * Runs `sockspec report ARGS` and resolves with the exit code.
 *
 * @example
 * ```ts
 * import { reportMain } from "./report.ts";
 * await reportMain(["merge", "a.json", "b.json", "--report", "junit=junit.xml"]);
 * ```
 */
export async function reportMain(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    (sub === undefined ? console.error : console.log)(REPORT_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "merge") {
    throw new UsageError(`unknown report command '${sub}'; the one command is: merge`);
  }
  const { values, positionals } = parseOptions(rest, {
    report: { type: "string", multiple: true },
    quiet: { type: "boolean" },
    verbose: { type: "boolean" },
    help: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(REPORT_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("give the JSON reports to merge: sockspec report merge a.json b.json");
  }
  const specs = parseReportSpecs(values.report ?? []);
  let merged: RunReport;
  try {
    const reports: RunReport[] = [];
    for (const file of positionals) {
      let text: string;
      try {
        text = await Deno.readTextFile(file);
      } catch (err) {
        throw new ReportFileError(`${file}: cannot read it (${errnoMessage(err)})`);
      }
      reports.push(parseJsonReport(text, file));
    }
    merged = mergeReports(reports, { names: positionals, order: allCases.map((c) => c.id) });
  } catch (err) {
    if (err instanceof ReportFileError || err instanceof MergeError) {
      console.error(`sockspec report merge: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  const text = consoleReport(merged, { color, verbose: values.verbose });
  console.log(values.quiet ? text.split("\n").at(-1) : text);
  const errors = await writeReports(merged, specs);
  for (const e of errors) console.error(`sockspec report merge: ${e}`);
  if (errors.length) return 2;
  return summarize(merged).exitCode;
}
