/**
 * `sockspec check`: runs the conformance cases against the reference targets or against
 * targets described by manifests (in parallel with `--jobs`, one shard of the work with
 * `--shard`), judges the results against expectations files (`--expect`), prints the
 * console report with a progress line on stderr, and writes report files
 * (`--report FORMAT=FILE`: junit, json, markdown, html).
 *
 * Exit codes: 0 when nothing fails the run, 1 on a conformance failure (or an unexpected
 * result under `--expect`), 2 on a usage, manifest or harness error, 130 when interrupted
 * (the partial report is still printed and every report file is still written).
 *
 * @example
 * ```ts
 * import { checkMain } from "./check.ts";
 * const code = await checkMain(["--level", "must", "--report", "junit=junit.xml", "echo/unix"]);
 * ```
 * @module
 */

import { allCases } from "../../conformance/mod.ts";
import type { Case, Level } from "../case/case.ts";
import { intOption, parseOptions, UsageError } from "./_args.ts";
import { consoleReport, Progress } from "../reports/console.ts";
import {
  applyExpectations,
  ExpectationsError,
  type ExpectFile,
  expectResult,
  unknownCaseIds,
} from "../harness/expectations.ts";
import { type FlakyExpectFile, loadFlakyExpectFile, settleFlaky } from "../harness/flaky.ts";
import { loadManifest, type Target } from "../harness/manifest.ts";
import { referenceTargets } from "../reference/targets.ts";
import { parseReportSpecs, REPORT_FORMATS, writeReports } from "./report.ts";
import { type RunReport, summarize } from "../reports/report.ts";
import { runAll } from "../harness/runner.ts";
import { newSeed } from "../case/random.ts";
import { parseShard, shardCases } from "../harness/shard.ts";

/** Help for `sockspec check`. */
export const CHECK_HELP = `Usage: sockspec check [--target FILE]... [ID-PREFIX...] [options]

Runs the conformance cases. With no --target, runs every built-in reference target.

Options:
  --target FILE        a target manifest (repeatable); see README "Validate your own server"
  ID-PREFIX            run only cases whose id starts with one of these (echo/unix, echo/tcp/4)
  --exclude ID         skip cases whose id starts with ID (repeatable)
  --level LEVELS       only these levels: must, should, info, or a list (must,should)
  --timeout MS         override every target's wait timeout
  --strict             SHOULD failures fail the run too
  --expect FILE        expected results (repeatable; see docs/reports.md): a listed FAIL
                       does not fail the run, an unexpected result (a PASS too) does
  --jobs N             run up to N targets at the same time (default 1)
  --seed N             seed every random payload and choice (0 to 4294967295; default: a
                       fresh seed, printed at the start and kept in every report)
  --shard I/N          run only shard I of N of the (target, case) pairs (CI matrices;
                       combine the shards' JSON reports with 'sockspec report merge')
  --report FORMAT=FILE write a report (repeatable); FORMAT: ${
  Object.keys(REPORT_FORMATS).join(", ")
}
  --json FILE          the same as --report json=FILE
  --list               list the cases that would run, and exit
  --verbose            show evidence under passing cases too
  --help               show this help

Progress goes to stderr: one live line on a terminal, one line per case otherwise.

Exit: 0 all MUST cases pass (or every result is as expected), 1 a conformance failure or
an unexpected result, 2 a usage, manifest or harness error, 130 interrupted (Ctrl-C; the
partial report is still printed and every report file is still written).`;

/**
 * Runs `sockspec check ARGS` and resolves with the exit code.
 *
 * @example
 * ```ts
 * import { checkMain } from "./check.ts";
 * await checkMain(["--list"]);
 * ```
 */
export async function checkMain(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    target: { type: "string", multiple: true },
    exclude: { type: "string", multiple: true },
    level: { type: "string" },
    timeout: { type: "string" },
    strict: { type: "boolean" },
    expect: { type: "string", multiple: true },
    jobs: { type: "string" },
    seed: { type: "string" },
    shard: { type: "string" },
    report: { type: "string", multiple: true },
    list: { type: "boolean" },
    json: { type: "string" },
    verbose: { type: "boolean" },
    help: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(CHECK_HELP);
    return 0;
  }
  const levels = parseLevels(values.level);
  const timeoutMs = intOption("timeout", values.timeout, 1, 600_000);
  const jobs = intOption("jobs", values.jobs, 1, 64) ?? 1;
  const seed = intOption("seed", values.seed, 0, 0xffff_ffff) ?? newSeed();
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  const specs = parseReportSpecs([
    ...(values.report ?? []),
    ...(values.json ? [`json=${values.json}`] : []),
  ]);
  for (const prefix of positionals) {
    if (!allCases.some((c) => c.id.startsWith(prefix))) {
      throw new UsageError(`no case id starts with '${prefix}'; see sockspec check --list`);
    }
  }
  let flakyFiles: FlakyExpectFile[];
  try {
    flakyFiles = await Promise.all((values.expect ?? []).map((f) => loadFlakyExpectFile(f)));
  } catch (err) {
    if (err instanceof ExpectationsError) throw new UsageError(err.message);
    throw err;
  }
  const expectFiles: ExpectFile[] = flakyFiles.map((f) => f.file);
  const unknown = unknownCaseIds(expectFiles, allCases.map((c) => c.id));
  if (unknown.length) throw new UsageError(unknown.join("\n"));

  const select = (c: Case) =>
    (positionals.length === 0 || positionals.some((p) => c.id.startsWith(p))) &&
    !(values.exclude ?? []).some((x) => c.id.startsWith(x)) &&
    (!levels || levels.includes(c.level));
  const loaded: Target[] = values.target?.length
    ? await Promise.all(values.target.map((file) => loadManifest(file)))
    : referenceTargets();
  // Targets the selection leaves no case for are left out (in every shard alike).
  const wanted = shardCases(loaded, allCases, select).map((cases) => cases.length > 0);
  const targets = loaded.filter((_, i) => wanted[i]);
  if (targets.length === 0) {
    throw new UsageError("no case applies to the given targets; see sockspec check --list");
  }
  const plan = shardCases(targets, allCases, select, shard);

  if (values.list) {
    targets.forEach((target, i) => {
      console.log(`${target.name} (${target.source})`);
      for (const c of plan[i]) {
        console.log(`  ${c.level.padEnd(6)} ${c.id.padEnd(18)} ${c.requirement}`);
      }
    });
    return 0;
  }

  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) {
      console.error("still tearing down targets and writing the partial report; please wait");
      return;
    }
    progress.done();
    console.error("\ninterrupted: tearing down targets and writing the partial report");
    controller.abort();
  };
  const total = plan.reduce((n, cases) => n + cases.length, 0);
  const progress = new Progress({
    total,
    live: Deno.stderr.isTerminal(),
    strict: values.strict,
  });
  const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    let report: RunReport;
    console.error(`seed ${seed} (re-run with --seed ${seed} for the same payloads)`);
    try {
      report = await runAll(targets, allCases, {
        select,
        shard,
        jobs,
        seed,
        strict: values.strict,
        timeoutMs,
        signal: controller.signal,
        onCaseStart: (target, c) => progress.start(target.name, c.id),
        onResult: (target, r) => {
          expectResult(expectFiles, target, r);
          progress.result(target.name, r);
        },
      });
    } finally {
      progress.done();
    }
    applyExpectations(report, expectFiles);
    if (flakyFiles.length && !report.interrupted) {
      // A result that differs from its record is re-run to tell noise from a change; a case
      // recorded as FLAKY is run several times and reported with its rate (src/harness/flaky.ts).
      await settleFlaky(report, targets, allCases, flakyFiles, {
        strict: values.strict,
        timeoutMs,
        jobs,
        seed,
        signal: controller.signal,
      });
    }
    console.log(consoleReport(report, { color, verbose: values.verbose }));
    const errors = await writeReports(report, specs);
    for (const e of errors) console.error(`sockspec check: ${e}`);
    if (report.interrupted) return 130;
    if (errors.length) return 2;
    return summarize(report).exitCode;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

function parseLevels(text: string | undefined): Level[] | undefined {
  if (text === undefined) return undefined;
  const levels = text.split(",").map((l) => l.trim().toUpperCase());
  for (const l of levels) {
    if (l !== "MUST" && l !== "SHOULD" && l !== "INFO") {
      throw new UsageError(`--level takes must, should, info or a comma list, not '${text}'`);
    }
  }
  return levels as Level[];
}
