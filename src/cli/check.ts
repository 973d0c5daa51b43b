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
 * const dir = await Deno.makeTempDir();
 * const code = await checkMain(["--level", "must", "--report", `junit=${dir}/junit.xml`, "echo/unix/1"]);
 * console.log(code); // 0: the reference Unix echo server passes echo/unix/1
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { allCases } from "../../conformance/mod.ts";
import { type Case, familyOf, type Level } from "../case/case.ts";
import { intOption, parseOptions, UsageError } from "./_args.ts";
import { consoleReport, Progress } from "../reports/console.ts";
import {
  applyExpectations,
  ExpectationsError,
  type ExpectFile,
  expectResult,
  unknownCaseIds,
  unknownTargets,
} from "../harness/expectations.ts";
import { type FlakyExpectFile, loadFlakyExpectFile, settleFlaky } from "../harness/flaky.ts";
import { loadTargets, MAX_MANIFEST_MS, type Target } from "../harness/manifest.ts";
import { parsePattern, PatternError, selector, unmatched } from "../harness/select.ts";
import { referenceTargets } from "../reference/targets.ts";
import {
  checkReportFiles,
  parseReportSpecs,
  REPORT_FORMATS,
  STDOUT,
  writeReports,
} from "./report.ts";
import { type RunReport, summarize } from "../reports/report.ts";
import { pinnedTarget, runAll } from "../harness/runner.ts";
import { newSeed } from "../case/random.ts";
import { parseShard, shardCases } from "../harness/shard.ts";

/** Help for `sockspec check`. */
export const CHECK_HELP = `Usage: sockspec check [--target FILE]... [ID...] [options]

Runs the conformance cases. With no --target, runs every built-in reference target.

Selecting cases: an ID selects by whole id components. echo/tcp/1 is that case only
(not echo/tcp/10), echo/tcp the family, echo every echo case; * is one component
(echo/*/1) and ** any number (**/4). The same rules hold for --exclude and for the case
keys of --expect files. An ID, --exclude or expectation key that matches no case is a
usage error (exit 2), and so is an expectation key naming a manifest that is not run.

Options:
  --target FILE        a target manifest (repeatable); see README "Validate your own server"
  ID                   run only the cases these patterns select (echo/unix, echo/tcp/4)
  --exclude ID         leave out the cases this pattern selects (repeatable)
  --level LEVELS       only these levels: must, should, info, or a list (must,should)
  --timeout MS         override every target's wait timeout (1 to ${MAX_MANIFEST_MS})
  --strict             SHOULD failures fail the run too
  --expect FILE        expected results (repeatable; see docs/reports.md): a listed FAIL
                       does not fail the run, an unexpected result (a PASS too) does
  --repeat N           run every selected case N times against every target; a case
                       whose verdicts differ is reported FLAKY with its rate
  --jobs N             run up to N cases at the same time (default ${defaultJobs()} here:
                       two per core, at least 2, at most 8)
  --seed N             seed every random payload and choice (0 to 4294967295; default: a
                       fresh seed, printed at the start and kept in every report)
  --shard I/N          run only shard I of N of the (target, case) pairs (CI matrices;
                       combine the shards' JSON reports with 'sockspec report merge')
  --report FORMAT=FILE write a report (repeatable); FORMAT: ${
  Object.keys(REPORT_FORMATS).join(", ")
}; FILE - is
                       stdout, and the console report then goes to stderr
  --json FILE          the same as --report json=FILE (- or no FILE: stdout)
  --list               list the cases that would run, and exit; with --json (a flag
                       here) or --report json=-: as JSON (id, family, level,
                       requirement, needs of each target's cases)
  --verbose            show evidence under passing cases too
  --help               show this help

Report files are checked before any case runs. Progress goes to stderr: one live line
on a terminal, one line per case otherwise. The closing line is
'N passed, N failed, N skipped', then what else the run holds (expected failures,
unexpected passes, and in parentheses SHOULD failures not counted and INFO values that
differ from SPEC), so it accounts for every result.

Exit: 0 all MUST cases pass (or every result is as expected), 1 a conformance failure or
an unexpected result, 2 a usage, manifest or harness error, 130/143/129 interrupted by
SIGINT (Ctrl-C), SIGTERM or SIGHUP (targets are torn down, the partial report is still
printed and every report file is still written).`;

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
  const { values, positionals } = parseOptions(bareJson(args), {
    target: { type: "string", multiple: true },
    exclude: { type: "string", multiple: true },
    level: { type: "string" },
    timeout: { type: "string" },
    strict: { type: "boolean" },
    expect: { type: "string", multiple: true },
    jobs: { type: "string" },
    repeat: { type: "string" },
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
  const timeoutMs = intOption("timeout", values.timeout, 1, MAX_TIMEOUT_MS);
  const jobs = intOption("jobs", values.jobs, 1, 64) ?? defaultJobs();
  const repeat = intOption("repeat", values.repeat, 1, 1000) ?? 1;
  const seed = intOption("seed", values.seed, 0, 0xffff_ffff) ?? newSeed();
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  const specs = parseReportSpecs([
    ...(values.report ?? []),
    ...(values.json ? [`json=${values.json}`] : []),
  ]);
  const ids = allCases.map((c) => c.id);
  const exclude = values.exclude ?? [];
  checkPatterns("", positionals, ids);
  checkPatterns("--exclude ", exclude, ids);
  let flakyFiles: FlakyExpectFile[];
  try {
    flakyFiles = await Promise.all((values.expect ?? []).map((f) => loadFlakyExpectFile(f)));
  } catch (err) {
    if (err instanceof ExpectationsError) throw new UsageError(err.message);
    throw err;
  }
  const expectFiles: ExpectFile[] = flakyFiles.map((f) => f.file);
  const unknown = [
    ...unknownCaseIds(expectFiles, ids),
    ...flakyFiles.flatMap((f) =>
      f.flaky.filter((e) => unmatched([e.id], ids).length).map((e) =>
        `${f.path}: ${e.manifest}: no case '${e.id}' exists; see sockspec check --list`
      )
    ),
  ];
  if (unknown.length) throw new UsageError(unknown.join("\n"));

  const chosen = selector({ include: positionals, exclude });
  const select = (c: Case) => chosen(c.id) && (!levels || levels.includes(c.level));
  const loaded: Target[] = values.target?.length
    ? (await Promise.all(values.target.map((file) => loadTargets(file)))).flat()
    : referenceTargets();
  const strangers = unknownTargets(expectFiles, loaded.map((t) => t.source));
  if (strangers.length) throw new UsageError(strangers.join("\n"));
  // Targets the selection leaves no case for are left out (in every shard alike).
  const wanted = shardCases(loaded, allCases, select).map((cases) => cases.length > 0);
  const targets = loaded.filter((_, i) => wanted[i]);
  if (targets.length === 0) {
    throw new UsageError(
      `no selected case applies to ${
        loaded.map((t) => `${t.name} (${t.kind} over ${t.transports.join(", ") || "no transport"})`)
          .join(", ")
      }; see sockspec check --list`,
    );
  }
  const plan = shardCases(targets, allCases, select, shard);
  // A server on a fixed port or path can run one instance at a time: with it in the run,
  // the runner runs one case at a time (pinnedTarget); say so.
  const fixed = targets.filter(pinnedTarget);
  if (fixed.length && jobs > 1 && !values.list) {
    console.error(
      `sockspec check: ${
        fixed.map((t) => t.name).join(", ")
      } listen on a fixed port or path; running one case at a time`,
    );
  }
  // With a report on stdout (FORMAT=-), the console report goes to stderr.
  const toStdout = specs.some((s) => s.file === STDOUT);

  if (values.list) {
    const other = specs.find((s) => s.file === STDOUT && s.format !== "json");
    if (other) {
      throw new UsageError(
        `--list writes its listing as JSON (--report json=-), not as ${other.format}`,
      );
    }
    if (toStdout) {
      const listing = listJson(targets, plan);
      console.log(JSON.stringify(listing, null, 2));
      return 0;
    }
    targets.forEach((target, i) => {
      console.log(`${target.name} (${target.source})`);
      for (const c of plan[i]) {
        console.log(`  ${c.level.padEnd(6)} ${c.id.padEnd(18)} ${c.requirement}`);
      }
    });
    return 0;
  }
  await checkReportFiles(specs);

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
  const out = toStdout ? Deno.stderr : Deno.stdout;
  const color = out.isTerminal() && !Deno.env.get("NO_COLOR");
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
    if (report.interrupted) {
      const signal = caught ?? "SIGINT";
      report.interruption = { signal, exitCode: INTERRUPT_EXIT[signal] };
    }
    applyExpectations(report, expectFiles);
    if ((flakyFiles.length || repeat > 1) && !report.interrupted) {
      // A result that differs from its record is re-run to tell noise from a change; a case
      // recorded as FLAKY is run several times and reported with its rate; with --repeat N
      // every case runs N times (src/harness/flaky.ts).
      await settleFlaky(report, targets, allCases, flakyFiles, {
        strict: values.strict,
        timeoutMs,
        jobs,
        repeat,
        // --repeat N is the number of runs of every case, recorded FLAKY ones included.
        flakyRuns: values.repeat === undefined ? undefined : repeat,
        // Without --expect, a failure is reported as it came (no re-runs to settle it).
        reruns: flakyFiles.length ? undefined : 0,
        seed,
        signal: controller.signal,
        onRerun: (target, c, run, of) =>
          console.error(`re-run ${run}/${of}: ${target.name} ${c.id}`),
      });
    }
    // After SIGHUP the terminal may be gone: the report files are written all the same.
    try {
      (toStdout ? console.error : console.log)(
        consoleReport(report, { color, verbose: values.verbose }),
      );
    } catch {
      // stdout or stderr is closed
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

/** The longest timeout a user may give, on the command line or in a manifest (ms). */
export const MAX_TIMEOUT_MS = MAX_MANIFEST_MS;

/**
 * The default of `--jobs`: what the machine can take. Most of a case's time is spent
 * waiting on sockets and timers, not on the CPU, so two targets per core (at least 2,
 * at most 8).
 *
 * @example
 * ```ts
 * import { defaultJobs } from "./check.ts";
 * defaultJobs(); // 4 on a 2-core machine
 * ```
 */
export function defaultJobs(): number {
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(2, Math.min(8, 2 * cores));
}

/** One listed case of `--list --json`. */
export interface ListedCase {
  /** The case id. */
  id: string;
  /** The id without its last component. */
  family: string;
  /** The family's title, such as "Stream echo over TCP". */
  title?: string;
  /** MUST, SHOULD or INFO. */
  level: Level;
  /** The requirement sentence. */
  requirement: string;
  /** What to look at in a server that fails the case. */
  hint?: string;
  /** What the case needs to run (root, python3, commands, properties, ...). */
  needs: Record<string, unknown>;
}

/**
 * The `--list --json` document: each target that runs and the cases it would run.
 *
 * @example
 * ```ts
 * import { listJson } from "./check.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * import { shardCases } from "../harness/shard.ts";
 * const targets = referenceTargets();
 * listJson(targets, shardCases(targets, allCases, () => true)).targets[0].cases[0].id;
 * ```
 */
export function listJson(
  targets: readonly Target[],
  plan: readonly (readonly Case[])[],
): { targets: { name: string; kind: string; source: string; cases: ListedCase[] }[] } {
  return {
    targets: targets.map((t, i) => ({
      name: t.name,
      kind: t.kind,
      source: t.source,
      cases: (plan[i] ?? []).map((c) => ({
        id: c.id,
        family: familyOf(c.id),
        ...(c.familyTitle ? { title: c.familyTitle } : {}),
        level: c.level,
        requirement: c.requirement,
        ...(c.hint ? { hint: c.hint } : {}),
        needs: { ...(c.needs ?? {}) },
      })),
    })),
  };
}

/**
 * `--json` takes FILE, except with `--list`, where it is a flag (the listing as JSON), and
 * when it comes last or before another option: then it means `--json -` (stdout).
 */
function bareJson(args: readonly string[]): string[] {
  const list = args.includes("--list");
  return args.map((a, i) =>
    a === "--json" && (list || i === args.length - 1 || args[i + 1].startsWith("--"))
      ? "--json=-"
      : a
  );
}

/** Each pattern must be well formed and select some case; `what` is the option, if any. */
function checkPatterns(what: string, patterns: readonly string[], ids: readonly string[]): void {
  for (const p of patterns) {
    try {
      parsePattern(p);
    } catch (err) {
      if (err instanceof PatternError) throw new UsageError(`${what}${err.message}`);
      throw err;
    }
  }
  const none = unmatched(patterns, ids);
  if (none.length) {
    throw new UsageError(
      none.map((p) =>
        `${what}'${p}' matches no case id (ids match by whole components: echo/tcp/1, echo/tcp, echo/*/1, **/4); see sockspec check --list`
      ).join("\n"),
    );
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
