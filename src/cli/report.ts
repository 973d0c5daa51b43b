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
 * // shard-1.json, shard-2.json: from `sockspec check --shard i/2 --report json=shard-i.json`
 * function mergeShards(dir: string): Promise<number> {
 *   return reportMain(["merge", `${dir}/shard-1.json`, `${dir}/shard-2.json`, "--report", `html=${dir}/report.html`]);
 * }
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
  /** Where to write it; `-` is standard output. */
  file: string;
}

/** The `FILE` of `--report FORMAT=-`: the report goes to standard output. */
export const STDOUT = "-";

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
  if (twice === STDOUT) {
    throw new UsageError("--report sends two reports to standard output (=-); give one a file");
  }
  if (twice) throw new UsageError(`--report names '${twice}' twice; give each format its own file`);
  return specs;
}

/** $GITHUB_STEP_SUMMARY, when it is set and readable. */
function githubStepSummary(): string | undefined {
  try {
    return Deno.env.get("GITHUB_STEP_SUMMARY") || undefined;
  } catch {
    return undefined; // no env permission: not a CI step summary we can know of
  }
}

/**
 * Checks, before anything runs, that every report file can be written: not a directory,
 * not `/dev/stdout` or `/dev/stderr` (use `FORMAT=-`), its parent directory can be created,
 * and the file can be opened for writing (a file that did not exist is removed again).
 * Throws one {@linkcode UsageError} listing every problem, each naming the file.
 *
 * @example
 * ```ts
 * import { checkReportFiles } from "./report.ts";
 * const dir = await Deno.makeTempDir();
 * await checkReportFiles([{ format: "json", file: `${dir}/out/report.json` }]); // creates out/, no file
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkReportFiles(specs: readonly ReportSpec[]): Promise<void> {
  const problems: string[] = [];
  for (const { format, file } of specs) {
    if (file === STDOUT) continue;
    const where = `--report ${format}=${file}`;
    if (/^\/dev\/(stdout|stderr|fd\/[12])$/.test(file) || /^\/proc\/self\/fd\/[12]$/.test(file)) {
      problems.push(`${where}: write to standard output with ${format}=- instead`);
      continue;
    }
    const stat = await Deno.stat(file).catch(() => undefined);
    if (stat?.isDirectory) {
      problems.push(`${where}: is a directory; give a file name, such as ${file}/report.${format}`);
      continue;
    }
    const slash = file.lastIndexOf("/");
    try {
      if (slash > 0) await Deno.mkdir(file.slice(0, slash), { recursive: true });
    } catch (err) {
      problems.push(
        `${where}: cannot create its directory ${file.slice(0, slash)} (${writeProblem(err)})`,
      );
      continue;
    }
    try {
      const f = await Deno.open(file, { write: true, create: true });
      f.close();
      if (!stat) await Deno.remove(file);
    } catch (err) {
      problems.push(`${where}: cannot be written (${writeProblem(err)})`);
    }
  }
  if (problems.length) throw new UsageError(problems.join("\n"));
}

/** What went wrong writing a file, in words that say what to do (never "--allow-all"). */
function writeProblem(err: unknown): string {
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    const denied = err instanceof Deno.errors.NotCapable
      ? "sockspec was started without --allow-write for it"
      : "permission denied";
    return `${denied}; choose a path you can write`;
  }
  return (err as Error).message;
}

/**
 * Writes each report file (creating parent directories; `-` is standard output); a
 * Markdown report to `$GITHUB_STEP_SUMMARY` is appended to it, as GitHub's job summary
 * expects. Every file is attempted; the errors, one line each naming the file, are returned
 * (empty when all were written).
 *
 * @example
 * ```ts
 * import { writeReports } from "./report.ts";
 * import type { RunReport } from "../reports/report.ts";
 * async function save(report: RunReport, dir: string): Promise<void> {
 *   const errors = await writeReports(report, [{ format: "json", file: `${dir}/report.json` }]);
 *   for (const e of errors) console.error(e);
 * }
 * ```
 */
export async function writeReports(
  report: RunReport,
  specs: readonly ReportSpec[],
): Promise<string[]> {
  const errors: string[] = [];
  for (const { format, file } of specs) {
    try {
      if (file === STDOUT) {
        await writeAll(Deno.stdout, REPORT_FORMATS[format](report));
        continue;
      }
      const slash = file.lastIndexOf("/");
      if (slash > 0) await Deno.mkdir(file.slice(0, slash), { recursive: true });
      // GitHub's job summary collects every step's Markdown: add to it, do not replace it
      const append = format === "markdown" && file === githubStepSummary();
      await Deno.writeTextFile(file, REPORT_FORMATS[format](report), { append });
    } catch (err) {
      errors.push(`cannot write the ${format} report to ${file}: ${writeProblem(err)}`);
    }
  }
  return errors;
}

async function writeAll(out: typeof Deno.stdout, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`);
  for (let off = 0; off < bytes.length;) off += await out.write(bytes.subarray(off));
}

/** Help for `sockspec report`. */
export const REPORT_HELP =
  `Usage: sockspec report merge REPORT.json... [--report FORMAT=FILE]... [options]

Merges JSON reports written by 'sockspec check --report json=FILE' into one report:
the shards of one run (--shard 1/n ... n/n; every shard must be given once), or runs
over different targets. Prints the merged console report and writes each --report file.

Options:
  --report FORMAT=FILE  write the merged report (repeatable); FORMAT: junit, json,
                        markdown (or md), html; FILE - is stdout (the console
                        report then goes to stderr)
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
 * await reportMain(["--help"]); // 0; `reportMain(["merge", "a.json", "b.json", "--report", "junit=junit.xml"])` merges
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
  await checkReportFiles(specs);
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
  // With a report on stdout (FORMAT=-) the console report goes to stderr.
  const toStdout = specs.some((s) => s.file === STDOUT);
  const out = toStdout ? Deno.stderr : Deno.stdout;
  const color = out.isTerminal() && !Deno.env.get("NO_COLOR");
  const text = consoleReport(merged, { color, verbose: values.verbose });
  (toStdout ? console.error : console.log)(values.quiet ? text.split("\n").at(-1) : text);
  const errors = await writeReports(merged, specs);
  for (const e of errors) console.error(`sockspec report merge: ${e}`);
  if (errors.length) return 2;
  return summarize(merged).exitCode;
}
