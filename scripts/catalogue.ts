/**
 * The third-party catalogue run: every manifest `fixtures/targets/{socat,ncat,pyserver}-*.json`
 * through every applicable case, judged against `expectations/catalogue.json` (which may
 * record FLAKY cases, see `src/harness/flaky.ts`), with flaky results re-run and reported with
 * their rate. Writes the report in every format to a directory (`reports/catalogue/` by
 * default): `junit.xml`, `report.json`, `report.md`, `report.html`, and `matrix.md`, the
 * server × case matrix.
 *
 *     deno run --allow-run --allow-read --allow-write --allow-net --allow-env \
 *       scripts/catalogue.ts [--out DIR] [--repeat N] [--update] [MANIFEST...]
 *
 * The run is strict (SHOULD failures count unless recorded). Exit codes: 0 every result is
 * as recorded, 1 something differs (a changed verdict, a new failure, an unexpected pass, a
 * flaky case not recorded as such), 2 a usage, manifest or harness error (for example
 * socat missing: run `scripts/install_third_party.sh`), 130 interrupted.
 *
 * `--update` rewrites the expectations file from the run (keeping recorded messages and
 * FLAKY records that still hold); survey first with `--repeat 20 --update`.
 *
 * @example
 * ```ts
 * import { catalogueMain } from "./catalogue.ts";
 * const code = await catalogueMain(["--out", "reports/catalogue"]);
 * ```
 * @module
 */

import { dirname, relative, resolve } from "node:path";
import { allCases } from "../conformance/mod.ts";
import type { Case, Observed, Verdict } from "../src/case/case.ts";
import { runAll } from "../src/harness/runner.ts";
import { intOption, parseOptions, UsageError } from "../src/cli/_args.ts";
import { consoleReport, Progress } from "../src/reports/console.ts";
import { applyExpectations, ExpectationsError, expectResult } from "../src/harness/expectations.ts";
import {
  countVerdicts,
  type FlakyExpectFile,
  type FlakyRecord,
  isFlakyValue,
  loadFlakyExpectFile,
  type Settled,
  settleFlaky,
} from "../src/harness/flaky.ts";
import { loadManifest, ManifestError, type Target } from "../src/harness/manifest.ts";
import { writeReports } from "../src/cli/report.ts";
import {
  type CaseResult,
  closingLine,
  judge,
  label,
  type RunReport,
  summarize,
} from "../src/reports/report.ts";
import { shardCases } from "../src/harness/shard.ts";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

/** Where the catalogue's manifests live. */
export const CATALOGUE_DIR: string = `${ROOT}/fixtures/targets`;

/** The manifests that make up the catalogue: `socat-*`, `ncat-*`, `pyserver-*` JSON files. */
export const CATALOGUE_PATTERN = /^(socat|ncat|pyserver)-[a-z0-9-]+\.json$/;

/** The expectations file the catalogue is judged against. */
export const CATALOGUE_EXPECT: string = `${ROOT}/expectations/catalogue.json`;

/** Help for the catalogue script. */
export const CATALOGUE_HELP = `Usage: scripts/catalogue.ts [MANIFEST...] [options]

Runs sockspec over the third-party catalogue (fixtures/targets/socat-*, ncat-*,
pyserver-*.json, or the manifests given), judges the results against the recorded ones,
re-runs flaky cases, and writes the report in every format.

Options:
  --out DIR          where the reports go (default reports/catalogue): junit.xml,
                     report.json, report.md, report.html, matrix.md
  --expect FILE      the recorded results (default expectations/catalogue.json)
  --jobs N           targets run at the same time (default 2)
  --reruns N         extra runs of a result that differs from its record (default 4)
  --flaky-runs N     runs of a case recorded as FLAKY, to measure its rate (default 10)
  --repeat N         run every case N times (a survey; default 1)
  --timeout MS       override every target's wait timeout
  --update           rewrite the expectations file from this run
  --quiet            no progress lines, no console report: only the closing line
                     (the report files are written all the same)
  --help             show this help

Exit: 0 every result as recorded, 1 something differs (see the report), 2 a usage,
manifest or harness error (socat or ncat missing: scripts/install_third_party.sh),
130 interrupted.`;

/**
 * The catalogue's manifest files in `dir`, sorted.
 *
 * @example
 * ```ts
 * import { catalogueManifests } from "./catalogue.ts";
 * (await catalogueManifests()).map((f) => f.split("/").at(-1)); // ["ncat-echo-tcp.json", ...]
 * ```
 */
export async function catalogueManifests(dir: string = CATALOGUE_DIR): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && CATALOGUE_PATTERN.test(e.name)) files.push(`${dir}/${e.name}`);
  }
  return files.sort();
}

/**
 * The matrix row a case id belongs to: the id without its transport segment
 * (`echo/unix/4` → `echo/4`), so that one row holds a case across transports.
 *
 * @example
 * ```ts
 * import { matrixRow } from "./catalogue.ts";
 * matrixRow("dgram/unixgram/5"); // "dgram/5"
 * matrixRow("uds/lifecycle/2"); // "uds/lifecycle/2"
 * ```
 */
export function matrixRow(id: string): string {
  return id.replace(/\/(tcp|unix|udp|unixgram)\//, "/");
}

/**
 * One matrix cell: how a result was judged, with the flaky rate where the runs disagreed.
 *
 * @example
 * ```ts
 * import { matrixCell } from "./catalogue.ts";
 * import type { CaseResult } from "../src/reports/report.ts";
 * declare const result: CaseResult;
 * matrixCell(result, true); // "✅ PASS", "✖️ XFAIL", "〰️ FLAKY 8/20", "❌ FAIL", ...
 * ```
 */
export function matrixCell(r: CaseResult | undefined, strict: boolean): string {
  if (!r) return "·";
  const j = judge(r, strict);
  const bad = j === "fail" || j === "unexpected-pass";
  if (r.observed.flaky === true) {
    return `〰️ FLAKY ${r.observed.nonPassRuns}/${r.observed.runs}${bad ? " ❌" : ""}`;
  }
  const icon: Record<string, string> = {
    pass: "✅",
    fail: "❌",
    "unexpected-pass": "❌",
    expected: "✖️",
    skip: "➖",
    warn: "⚠️",
    info: "ℹ️",
  };
  return `${icon[j]} ${label(r, strict)}`;
}

/**
 * The server × case matrix as Markdown: one table per target kind (rows: cases, columns:
 * targets), then the flaky cases with their rates and everything that fails the run.
 *
 * @example
 * ```ts
 * import { matrixMarkdown } from "./catalogue.ts";
 * import type { RunReport } from "../src/reports/report.ts";
 * declare const report: RunReport;
 * console.log(matrixMarkdown(report, []));
 * ```
 */
export function matrixMarkdown(report: RunReport, settled: readonly Settled[]): string {
  const s = summarize(report);
  const flakyCount = settled.filter((x) => x.flaky || x.record).length;
  const out = [
    `## sockspec catalogue: ${closingLine(s)}${flakyCount ? `; ${flakyCount} flaky` : ""}`,
    "",
    `${report.targets.length} servers · ${(report.durationMs / 1000).toFixed(1)} s · strict · ` +
    `expectations: ${
      (report.expectations ?? []).map((p) => relative(ROOT, p)).join(", ") || "none"
    }`,
    "",
    "✅ pass · ✖️ known failure (recorded, explained in docs/third-party.md) · " +
    "〰️ flaky (non-PASS runs / runs) · ➖ skip · ⚠️ SHOULD warning · ❌ differs from the record · · not applicable",
    "",
  ];
  const kinds = [...new Set(report.targets.map((t) => t.kind))];
  for (const kind of kinds) {
    const targets = report.targets.filter((t) => t.kind === kind);
    const rows: string[] = [];
    const levels = new Map<string, string>();
    for (const c of allCases) {
      const row = matrixRow(c.id);
      if (targets.some((t) => t.results.some((r) => r.id === c.id)) && !rows.includes(row)) {
        rows.push(row);
        levels.set(row, c.level);
      }
    }
    out.push(`### ${kind}`, "");
    out.push(`| case | level | ${targets.map((t) => t.name).join(" | ")} |`);
    out.push(`| :-- | :-- | ${targets.map(() => ":--").join(" | ")} |`);
    for (const row of rows) {
      const cells = targets.map((t) =>
        matrixCell(t.results.find((r) => matrixRow(r.id) === row), report.strict)
      );
      out.push(`| ${row} | ${levels.get(row)} | ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  const flaky = settled.filter((x) => x.flaky || x.record);
  if (flaky.length) {
    out.push("### Flaky cases", "");
    for (const x of flaky) {
      const n = x.runs.filter((r) => r.verdict !== "PASS").length;
      const recorded = x.record ? x.record.runs - (x.record.counts.PASS ?? 0) : 0;
      const rec = x.record
        ? `recorded: non-PASS in ${recorded} of ${x.record.runs} runs (${
          Math.round((100 * recorded) / x.record.runs)
        }%)`
        : "**not recorded**";
      out.push(
        `- **${x.target}** \`${x.id}\`: non-PASS in ${n} of ${x.runs.length} runs this time ` +
          `(${Math.round((100 * n) / x.runs.length)}%); ${rec}. ${
            x.runs.find((r) => r.verdict !== "PASS")?.message.replace(/\s+/g, " ").slice(0, 200) ??
              ""
          }`,
      );
    }
    out.push("");
  }
  const failing = report.targets.flatMap((t) =>
    t.results.filter((r) => ["fail", "unexpected-pass"].includes(judge(r, report.strict))).map((
      r,
    ) => ({ t, r }))
  );
  if (failing.length) {
    out.push("### Differs from the record", "");
    for (const { t, r } of failing) {
      out.push(
        `- **${t.name}** \`${r.id}\` ${label(r, report.strict)}: ${r.message.slice(0, 300)}`,
      );
    }
    out.push(
      "",
      "If the new result is right, record it (`scripts/catalogue.ts --repeat 20 --update`) and explain every FAIL in docs/third-party.md.",
      "",
    );
  }
  return out.join("\n");
}

const COMBINED_KEYS = new Set(["runs", "nonPassRuns", "flaky", "unrecordedVerdict"]);

/** Observed values that every run reported the same (the combined result's own keys left out). */
function stableObserved(runs: readonly CaseResult[]): Record<string, Observed> {
  const out: Record<string, Observed> = {};
  for (const [key, value] of Object.entries(runs[0].observed)) {
    if (COMBINED_KEYS.has(key)) continue;
    if (runs.every((r) => Object.hasOwn(r.observed, key) && r.observed[key] === value)) {
      out[key] = value;
    }
  }
  return out;
}

function fitsOld(old: unknown, r: CaseResult): boolean {
  if (typeof old === "string") return old === r.verdict;
  if (typeof old !== "object" || old === null) return false;
  const o = old as { verdict?: string; message?: string; observed?: Record<string, Observed> };
  if (o.verdict !== r.verdict) return false;
  if (o.message !== undefined && !r.message.includes(o.message)) return false;
  return Object.entries(o.observed ?? {}).every(([k, v]) => r.observed[k] === v);
}

/**
 * True when a FLAKY record is contradicted by `runs` that all gave one verdict: at the
 * recorded rates, so many runs of that one verdict had less than a 1% chance.
 *
 * @example
 * ```ts
 * import { staleFlaky } from "./catalogue.ts";
 * import type { CaseResult } from "../src/reports/report.ts";
 * declare const passes: CaseResult[]; // 20 PASS runs
 * staleFlaky({ runs: 5, counts: { FAIL: 4, PASS: 1 } }, passes); // true: 0.2^20 < 1%
 * ```
 */
export function staleFlaky(record: FlakyRecord, runs: readonly CaseResult[]): boolean {
  const verdicts = new Set(runs.map((r) => r.verdict));
  if (verdicts.size !== 1 || runs.length === 0) return false;
  const [v] = verdicts;
  const share = (record.counts[v] ?? 0) / record.runs;
  return share ** runs.length < 0.01;
}

/**
 * The expectations file content that records `report` (see the module doc of
 * `src/harness/flaky.ts`): `"*": "PASS"` for each manifest, then every result that is not a
 * passing MUST case. A recorded value that still fits is kept as it is (its message
 * substring, its observed values). A case that was flaky in this run, or is recorded as
 * FLAKY, gets a FLAKY record with this run's counts added to those recorded before: a
 * record is never dropped by a lucky run, but `warn` is told when the runs make it
 * unlikely ({@linkcode staleFlaky}). INFO results record the observed values every run
 * agreed on. Manifest keys are relative to `file`.
 *
 * @example
 * ```ts
 * import { recordExpectations } from "./catalogue.ts";
 * import type { RunReport } from "../src/reports/report.ts";
 * declare const report: RunReport;
 * const json = recordExpectations(report, [], {}, "expectations/catalogue.json");
 * ```
 */
export function recordExpectations(
  report: RunReport,
  settled: readonly Settled[],
  old: Record<string, Record<string, unknown>>,
  file: string,
  warn?: (message: string) => void,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const dir = dirname(resolve(file));
  for (const t of report.targets) {
    const key = relative(dir, t.source);
    const before = old[key] ?? {};
    const entry: Record<string, unknown> = { "*": "PASS" };
    for (const r of t.results) {
      const s = settled.find((x) => x.source === t.source && x.id === r.id);
      const runs = s?.runs ?? [r];
      const was = before[r.id];
      const old = isFlakyValue(was) ? (was as FlakyRecord) : undefined;
      if (s?.flaky || (old && s?.record)) {
        // Every survey adds to what was measured before, reproduced or not: rates firm up.
        const counts = countVerdicts(runs.map((x) => x.verdict));
        for (const [v, n] of Object.entries(old?.counts ?? {}) as [Verdict, number][]) {
          counts[v] = (counts[v] ?? 0) + n;
        }
        const keep = old?.message !== undefined &&
          runs.every((x) => x.verdict === "PASS" || x.message.includes(old.message!));
        entry[r.id] = {
          verdict: "FLAKY",
          runs: runs.length + (old?.runs ?? 0),
          counts: countVerdicts(
            Object.entries(counts).flatMap(([v, n]) => Array(n).fill(v as Verdict)),
          ),
          ...(keep ? { message: old.message } : {}),
        };
        if (old && !s?.flaky && staleFlaky(old, runs)) {
          warn?.(
            `${t.name} ${r.id}: recorded FLAKY, but ${runs.length} runs all gave ${
              runs[0].verdict
            } ` +
              `(under 1% at the recorded rates); if its cause is gone, record its verdict instead`,
          );
        }
      } else if (was !== undefined && fitsOld(was, runs[0]) && runs.every((x) => fitsOld(was, x))) {
        entry[r.id] = was;
      } else if (r.level === "MUST" && r.verdict === "PASS") {
        continue;
      } else {
        const observed = r.level === "INFO" ? stableObserved(runs) : {};
        entry[r.id] = Object.keys(observed).length ? { verdict: r.verdict, observed } : r.verdict;
      }
    }
    out[key] = entry;
  }
  return out;
}

/**
 * Runs the catalogue with `args` (see {@linkcode CATALOGUE_HELP}) and resolves with the
 * exit code.
 *
 * @example
 * ```ts
 * import { catalogueMain } from "./catalogue.ts";
 * await catalogueMain(["--help"]); // 0
 * ```
 */
export async function catalogueMain(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    out: { type: "string" },
    expect: { type: "string" },
    jobs: { type: "string" },
    reruns: { type: "string" },
    "flaky-runs": { type: "string" },
    repeat: { type: "string" },
    timeout: { type: "string" },
    update: { type: "boolean" },
    quiet: { type: "boolean" },
    help: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(CATALOGUE_HELP);
    return 0;
  }
  const out = values.out ?? `${ROOT}/reports/catalogue`;
  const expectPath = values.expect ?? CATALOGUE_EXPECT;
  const jobs = intOption("jobs", values.jobs, 1, 16) ?? 2;
  const reruns = intOption("reruns", values.reruns, 0, 100) ?? 4;
  const flakyRuns = intOption("flaky-runs", values["flaky-runs"], 2, 1000) ?? 10;
  const repeat = intOption("repeat", values.repeat, 1, 1000) ?? 1;
  const timeoutMs = intOption("timeout", values.timeout, 1, 600_000);

  const files = positionals.length ? positionals : await catalogueManifests();
  if (files.length === 0) throw new UsageError(`no catalogue manifests in ${CATALOGUE_DIR}`);
  const targets: Target[] = [];
  for (const f of files) {
    try {
      targets.push(await loadManifest(f));
    } catch (err) {
      if (err instanceof ManifestError && /not found on PATH/.test(err.message)) {
        throw new UsageError(
          `${err.message}\nInstall the third-party servers first: scripts/install_third_party.sh`,
        );
      }
      throw err;
    }
  }
  let expect: FlakyExpectFile | undefined;
  let oldJson: Record<string, Record<string, unknown>> = {};
  try {
    const text = await Deno.readTextFile(expectPath);
    oldJson = JSON.parse(text);
    expect = await loadFlakyExpectFile(expectPath);
  } catch (err) {
    if (err instanceof ExpectationsError) throw new UsageError(err.message);
    if (!(err instanceof Deno.errors.NotFound) || !values.update) {
      throw new UsageError(
        `${expectPath}: cannot read the recorded results (${
          (err as Error).message
        }); record them with --update`,
      );
    }
  }
  const expectFiles = expect ? [expect] : [];
  const stable = expectFiles.map((f) => f.file);
  const known = new Set(allCases.map((c) => c.id));
  for (const f of expectFiles) {
    const ids = [
      ...f.file.entries.flatMap((e) => Object.keys(e.cases)),
      ...f.flaky.map((e) => e.id),
    ];
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) {
      throw new UsageError(
        `${f.path}: no case named ${unknown.join(", ")}; see sockspec check --list`,
      );
    }
  }

  const plan = shardCases(targets, allCases, () => true);
  const kept = targets.filter((_, i) => plan[i].length > 0);
  for (const [i, t] of targets.entries()) {
    if (plan[i].length === 0) {
      console.error(`catalogue: no case applies to ${t.name} yet; left out`);
    }
  }
  const keptPlan = plan.filter((p) => p.length > 0);
  const total = keptPlan.reduce((n, p) => n + p.length, 0);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const write = values.quiet
    ? () => {}
    : (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));
  const progress = new Progress({ total, live: false, strict: true, write });
  const t0 = performance.now();
  let report: RunReport;
  let settled: Settled[];
  try {
    report = await runAll(kept, allCases, {
      jobs,
      strict: true,
      timeoutMs,
      signal: controller.signal,
      onCaseStart: (target, c) => progress.start(target.name, c.id),
      onResult: (target, r) => {
        expectResult(stable, target, r);
        progress.result(target.name, r);
      },
    });
    applyExpectations(report, stable);
    settled = await settleFlaky(report, kept, allCases as Case[], expectFiles, {
      strict: true,
      timeoutMs,
      signal: controller.signal,
      reruns,
      flakyRuns,
      repeat,
      jobs,
      onRerun: (target, c, run, of) => write(`  again ${target.name} ${c.id} (run ${run}/${of})\n`),
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  report.durationMs = Math.round(performance.now() - t0);
  report.interrupted = controller.signal.aborted;
  if (expect) report.expectations = [expect.path];

  const matrix = matrixMarkdown(report, settled);
  if (!values.quiet) console.log(`${consoleReport(report, { color: false })}\n\n${matrix}`);
  const errors = await writeReports(report, [
    { format: "junit", file: `${out}/junit.xml` },
    { format: "json", file: `${out}/report.json` },
    { format: "markdown", file: `${out}/report.md` },
    { format: "html", file: `${out}/report.html` },
  ]);
  try {
    await Deno.writeTextFile(`${out}/matrix.md`, `${matrix}\n`);
  } catch (err) {
    errors.push(`cannot write ${out}/matrix.md: ${(err as Error).message}`);
  }
  for (const e of errors) console.error(`catalogue: ${e}`);
  console.error(
    `catalogue: ${matrix.split("\n")[0].replace(/^## sockspec catalogue: /, "")} in ${
      (report.durationMs / 1000).toFixed(1)
    } s; reports in ${out}/`,
  );

  if (values.update && !report.interrupted) {
    const json = recordExpectations(
      report,
      settled,
      oldJson,
      expectPath,
      (m) => console.error(`catalogue: ${m}`),
    );
    await Deno.mkdir(dirname(resolve(expectPath)), { recursive: true });
    await Deno.writeTextFile(expectPath, JSON.stringify(json, null, 2) + "\n");
    console.error(
      `catalogue: recorded ${report.targets.length} servers in ${expectPath}; explain every FAIL and FLAKY in docs/third-party.md`,
    );
  }
  if (report.interrupted) return 130;
  if (errors.length) return 2;
  return values.update ? 0 : summarize(report).exitCode;
}

if (import.meta.main) {
  try {
    Deno.exit(await catalogueMain(Deno.args));
  } catch (err) {
    if (err instanceof UsageError || err instanceof ManifestError) {
      console.error(`catalogue: ${err.message}`);
      Deno.exit(2);
    }
    throw err;
  }
}
