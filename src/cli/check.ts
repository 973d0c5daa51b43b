/**
 * `sockspec check`: runs the conformance cases against the reference targets or against
 * targets described by manifests (in parallel with `--jobs`, one shard of the work with
 * `--shard`), judges the results against expectations files (`--expect`), prints the
 * console report with a progress line on stderr, and writes report files
 * (`--report FORMAT=FILE`: junit, json, markdown, html).
 *
 * Exit codes: 0 when nothing fails the run, 1 on a conformance failure (or an unexpected
 * result under `--expect`), 2 on a usage, manifest or harness error, 130, 143 or 129 when
 * interrupted by SIGINT, SIGTERM or SIGHUP (every target is torn down first, the partial
 * report is still printed, every report file is still written, and the JSON report records
 * the signal and the exit code).
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
import { type RunReport, summarize, type TargetReport } from "../reports/report.ts";
import { runAll, type RunOptions, runTarget } from "../harness/runner.ts";
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
an unexpected result, 2 a usage, manifest or harness error, 130/143/129 interrupted by
SIGINT (Ctrl-C), SIGTERM or SIGHUP (targets are torn down, the partial report is still
printed and every report file is still written).`;

/** Options of {@linkcode runChecks}. */
export interface ChecksOptions extends Omit<RunOptions, "select"> {
  /** How many targets run at the same time (default 1). */
  jobs?: number;
}

/**
 * Runs `plan[i]` (cases) against `targets[i]`, up to `jobs` targets at a time, and returns
 * one report with the targets in the order given (every target is listed, with the results
 * it got before an interrupt, or none). Each target is isolated already: every case gets
 * its own temp dir, free port, socket path and instance.
 *
 * @example
 * ```ts
 * import { runChecks } from "./check.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * import { shardCases } from "../harness/shard.ts";
 * const targets = referenceTargets();
 * const report = await runChecks(targets, shardCases(targets, allCases, () => true), { jobs: 3 });
 * ```
 */
export async function runChecks(
  targets: readonly Target[],
  plan: readonly (readonly Case[])[],
  opts: ChecksOptions = {},
): Promise<RunReport> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const reports: (TargetReport | undefined)[] = targets.map(() => undefined);
  let next = 0;
  const worker = async () => {
    while (next < targets.length && !opts.signal?.aborted) {
      const i = next++;
      reports[i] = await runTarget(targets[i], plan[i] ?? [], opts);
    }
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, targets.length));
  await Promise.all(Array.from({ length: jobs }, worker));
  // runAll with no targets gives the run's metadata (tool, runtime) from the one place that makes it.
  const meta = await runAll([], [], { strict: opts.strict, signal: opts.signal });
  return {
    ...meta,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    interrupted: opts.signal?.aborted ?? false,
    targets: targets.map((t, i) =>
      reports[i] ?? {
        name: t.name,
        kind: t.kind,
        source: t.source,
        description: t.description,
        results: [],
        durationMs: 0,
      }
    ),
  };
}

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
  // SIGINT (Ctrl-C), SIGTERM (CI cancel and timeout, `timeout`, kill) and SIGHUP (the
  // terminal went away) all stop the run the same way: every target and namespace is torn
  // down, the partial report is printed and written, and the exit code is 128 + the signal.
  let caught: InterruptSignal | undefined;
  const listeners = INTERRUPT_SIGNALS.map((sig) => {
    const listener = () => {
      if (controller.signal.aborted) {
        say("still tearing down targets and writing the partial report; please wait");
        return;
      }
      caught = sig;
      progress.done();
      const by = sig === "SIGINT" ? "" : ` by ${sig}`;
      say(`\ninterrupted${by}: tearing down targets and writing the partial report`);
      controller.abort();
    };
    Deno.addSignalListener(sig, listener);
    return [sig, listener] as const;
  });
  const total = plan.reduce((n, cases) => n + cases.length, 0);
  const progress = new Progress({
    total,
    live: Deno.stderr.isTerminal(),
    strict: values.strict,
  });
  const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  try {
    let report: RunReport;
    try {
      report = await runChecks(targets, plan, {
        jobs,
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
    if (shard) report.shard = shard;
    if (report.interrupted) {
      const signal = caught ?? "SIGINT";
      report.interruption = { signal, exitCode: INTERRUPT_EXIT[signal] };
    }
    applyExpectations(report, expectFiles);
    if (flakyFiles.length && !report.interrupted) {
      // A result that differs from its record is re-run to tell noise from a change; a case
      // recorded as FLAKY is run several times and reported with its rate (src/harness/flaky.ts).
      await settleFlaky(report, targets, allCases, flakyFiles, {
        strict: values.strict,
        timeoutMs,
        jobs,
        signal: controller.signal,
      });
    }
    // After SIGHUP the terminal may be gone: the report files are written all the same.
    try {
      console.log(consoleReport(report, { color, verbose: values.verbose }));
    } catch {
      // stdout is closed
    }
    const errors = await writeReports(report, specs);
    for (const e of errors) say(`sockspec check: ${e}`);
    if (report.interruption) return report.interruption.exitCode;
    if (errors.length) return 2;
    return summarize(report).exitCode;
  } finally {
    for (const [sig, listener] of listeners) Deno.removeSignalListener(sig, listener);
  }
}

/** The signals that interrupt a run. */
const INTERRUPT_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type InterruptSignal = typeof INTERRUPT_SIGNALS[number];
/** The exit code for each: 128 + the signal number, as a shell reports a death by it. */
const INTERRUPT_EXIT: Record<InterruptSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** A line on stderr that never throws (after SIGHUP the terminal may be gone). */
function say(text: string): void {
  try {
    console.error(text);
  } catch {
    // stderr is closed
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
