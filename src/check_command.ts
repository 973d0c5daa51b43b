/**
 * `sockspec check`: runs the conformance cases against the reference targets or against
 * targets described by manifests, prints the console report, and writes a JSON report.
 *
 * Exit codes: 0 when nothing fails the run, 1 on a conformance failure, 2 on a usage,
 * manifest or harness error, 130 when interrupted (the partial report is still written).
 *
 * @example
 * ```ts
 * import { checkMain } from "./check_command.ts";
 * const code = await checkMain(["--level", "must", "echo/unix"]);
 * ```
 * @module
 */

import { allCases } from "../conformance/mod.ts";
import type { Case, Level } from "./case.ts";
import { intOption, parseOptions, UsageError } from "./cli_args.ts";
import { consoleReport } from "./console_report.ts";
import { loadManifest, type Target } from "./manifest.ts";
import { referenceTargets } from "./reference_targets.ts";
import { summarize } from "./report.ts";
import { applicableCases, runAll } from "./runner.ts";

/** Help for `sockspec check`. */
export const CHECK_HELP = `Usage: sockspec check [--target FILE]... [ID-PREFIX...] [options]

Runs the conformance cases. With no --target, runs every built-in reference target.

Options:
  --target FILE     a target manifest (repeatable); see README "Validate your own server"
  ID-PREFIX         run only cases whose id starts with one of these (echo/unix, echo/tcp/4)
  --exclude ID      skip cases whose id starts with ID (repeatable)
  --level LEVELS    only these levels: must, should, info, or a list (must,should)
  --timeout MS      override every target's wait timeout
  --strict          SHOULD failures fail the run too
  --list            list the cases that would run, and exit
  --json FILE       also write the JSON report to FILE
  --verbose         show evidence under passing cases too
  --help            show this help

Exit: 0 all MUST cases pass, 1 a conformance failure, 2 a usage, manifest or harness
error, 130 interrupted (Ctrl-C; the partial report is still printed and written).`;

/**
 * Runs `sockspec check ARGS` and resolves with the exit code.
 *
 * @example
 * ```ts
 * import { checkMain } from "./check_command.ts";
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
  for (const prefix of positionals) {
    if (!allCases.some((c) => c.id.startsWith(prefix))) {
      throw new UsageError(`no case id starts with '${prefix}'; see sockspec check --list`);
    }
  }
  const select = (c: Case) =>
    (positionals.length === 0 || positionals.some((p) => c.id.startsWith(p))) &&
    !(values.exclude ?? []).some((x) => c.id.startsWith(x)) &&
    (!levels || levels.includes(c.level));
  const targets: Target[] = values.target?.length
    ? await Promise.all(values.target.map((file) => loadManifest(file)))
    : referenceTargets();

  if (values.list) {
    for (const target of targets) {
      console.log(`${target.name} (${target.source})`);
      for (const c of applicableCases(target, allCases).filter(select)) {
        console.log(`  ${c.level.padEnd(6)} ${c.id.padEnd(18)} ${c.requirement}`);
      }
    }
    return 0;
  }

  const controller = new AbortController();
  const onInterrupt = () => {
    console.error("\ninterrupted: tearing down targets and writing the partial report");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const live = Deno.stderr.isTerminal();
  const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  let report;
  try {
    report = await runAll(targets, allCases, {
      strict: values.strict,
      select,
      timeoutMs,
      signal: controller.signal,
      onCaseStart: (target, c, i, total) => {
        if (live) progress(`\r\x1b[K[${i + 1}/${total}] ${target.name} ${c.id} ...`);
      },
      onResult: (target, r, i, total) => {
        const text = `[${i + 1}/${total}] ${target.name} ${r.id} ${r.verdict} (${
          Math.round(r.durationMs)
        } ms)`;
        progress(live ? `\r\x1b[K${text}` : `${text}\n`);
      },
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    if (live) progress("\r\x1b[K");
  }
  console.log(consoleReport(report, { color, verbose: values.verbose }));
  if (values.json) {
    await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
  }
  if (report.interrupted) return 130;
  return summarize(report).exitCode;
}

function progress(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
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
