/**
 * Flaky results: a case whose verdict against a real server differs from run to run (a
 * race in the server, a timing window) is reported as FLAKY with the rate observed over
 * repeated runs — never hidden, never counted as a plain pass.
 *
 * How it works, after a normal run:
 *
 * - A result that fails the run (it disagrees with its expectation, or fails without one)
 *   is run again `reruns` more times. If the runs disagree among themselves, the case is
 *   flaky; if they agree, the first result stands (a real change, not noise).
 * - A case recorded as FLAKY in an expectations file is always run `flakyRuns` times, and
 *   its observed rate is reported next to the recorded one.
 * - With `repeat` every case is run that many times (a survey, to find and record rates).
 *
 * The runs of one case are combined into one result (see {@linkcode combineRuns}): its
 * verdict is the most severe one seen (ERROR, FAIL, SKIP, PASS), its message starts with
 * `FLAKY:` and gives the counts, its observed values gain `runs`, `nonPassRuns` and
 * `flaky`, and its evidence is that of a failing run plus one note per run. A recorded
 * FLAKY case that gives only recorded verdicts is judged as expected (XFAIL when it failed
 * this time); one that is flaky but not recorded fails the run (`expected observed
 * flaky=false, got true`), and so does a recorded one that gives a verdict not recorded.
 *
 * Expectations files (see `src/harness/expectations.ts`) take one more value for this:
 *
 * ```json
 * {
 *   "targets/socat-echo-unix.json": {
 *     "*": "PASS",
 *     "echo/unix/4": {
 *       "verdict": "FLAKY",
 *       "runs": 20,
 *       "counts": { "PASS": 12, "FAIL": 8 },
 *       "message": "the echo stalled"
 *     }
 *   }
 * }
 * ```
 *
 * `counts` is what a survey measured (the verdicts it may give, and how often); `message`,
 * if given, is a substring every non-PASS run's message must contain.
 *
 * @example
 * ```ts
 * import { loadFlakyExpectFile, settleFlaky } from "./flaky.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { applyExpectations } from "./expectations.ts";
 * import { loadManifest } from "./manifest.ts";
 * import { runAll } from "./runner.ts";
 * async function checkCatalogueTarget(manifest: string): Promise<string[]> {
 *   const expect = await loadFlakyExpectFile("expectations/catalogue.json");
 *   const targets = [await loadManifest(manifest)];
 *   const report = await runAll(targets, allCases);
 *   applyExpectations(report, [expect.file]);
 *   const settled = await settleFlaky(report, targets, allCases, [expect]);
 *   return settled.map((s) => s.result.message);
 * }
 * ```
 * @module
 */

import type { Case, Observed, Verdict } from "../case/case.ts";
import {
  bestKey,
  ExpectationsError,
  type ExpectFile,
  expectResult,
  parseExpectFile,
  parseExpectJson,
  readExpectText,
} from "./expectations.ts";
import type { Target } from "./manifest.ts";
import { type CaseResult, failsRun, type RunReport } from "../reports/report.ts";
import { runCase, type RunOptions } from "./runner.ts";
import { dirname, resolve } from "node:path";
import { parsePattern } from "./select.ts";

/** What a survey measured for a flaky case: the verdicts it gave and how often. */
export interface FlakyRecord {
  /** How many runs the counts are over. */
  runs: number;
  /** Verdict → how many of those runs gave it. The keys are the verdicts it may give. */
  counts: Partial<Record<Verdict, number>>;
  /** A substring every non-PASS run's message must contain, if given. */
  message?: string;
}

/** One FLAKY expectation: a manifest, a case id and its record. */
export interface FlakyEntry {
  /** The manifest's absolute, normalized path. */
  manifest: string;
  /** The case id. */
  id: string;
  /** What was measured. */
  record: FlakyRecord;
}

/** An expectations file split in two: the stable expectations and the FLAKY ones. */
export interface FlakyExpectFile {
  /** The file's absolute path. */
  path: string;
  /** Everything but the FLAKY values, as `src/harness/expectations.ts` reads it. */
  file: ExpectFile;
  /** The FLAKY values. */
  flaky: FlakyEntry[];
}

const VERDICTS: readonly Verdict[] = ["PASS", "FAIL", "SKIP", "ERROR"];
const SEVERITY: Readonly<Record<Verdict, number>> = { PASS: 0, SKIP: 1, FAIL: 2, ERROR: 3 };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * True when an expectations file value is a FLAKY record (`{"verdict": "FLAKY", ...}`).
 * This is the one test `src/harness/expectations.ts` needs to leave such values to this module.
 *
 * @example
 * ```ts
 * import { isFlakyValue } from "./flaky.ts";
 * isFlakyValue({ verdict: "FLAKY", runs: 10, counts: { PASS: 7, FAIL: 3 } }); // true
 * isFlakyValue("FAIL"); // false
 * ```
 */
export function isFlakyValue(value: unknown): boolean {
  return isObject(value) && value.verdict === "FLAKY";
}

function parseRecord(value: Record<string, unknown>, where: string): FlakyRecord {
  for (const key of Object.keys(value)) {
    if (!["verdict", "runs", "counts", "message"].includes(key)) {
      throw new ExpectationsError(
        `${where}: unknown key '${key}' in a FLAKY record; use verdict, runs, counts, message`,
      );
    }
  }
  const { runs, counts, message } = value;
  if (typeof runs !== "number" || !Number.isInteger(runs) || runs < 2) {
    throw new ExpectationsError(`${where}: a FLAKY record needs runs, a whole number of 2 or more`);
  }
  if (!isObject(counts) || Object.keys(counts).length < 2) {
    throw new ExpectationsError(
      `${where}: a FLAKY record needs counts with at least two verdicts, such as {"PASS": 12, "FAIL": 8}`,
    );
  }
  let total = 0;
  for (const [verdict, n] of Object.entries(counts)) {
    if (!VERDICTS.includes(verdict as Verdict)) {
      throw new ExpectationsError(
        `${where}: counts key '${verdict}' is not one of ${VERDICTS.join(", ")}`,
      );
    }
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new ExpectationsError(
        `${where}: counts.${verdict} must be a whole number of 1 or more`,
      );
    }
    total += n;
  }
  if (total !== runs) {
    throw new ExpectationsError(`${where}: the counts add up to ${total}, not to runs (${runs})`);
  }
  if (message !== undefined && typeof message !== "string") {
    throw new ExpectationsError(`${where}: message must be a string the messages contain`);
  }
  return {
    runs,
    counts: counts as FlakyRecord["counts"],
    ...(message === undefined ? {} : { message }),
  };
}

/**
 * Parses an expectations file that may hold FLAKY values: they are taken out and checked
 * here, and the rest is parsed by `src/harness/expectations.ts` (one format, one parser). Throws
 * {@linkcode ExpectationsError} naming the file, manifest and case.
 *
 * @example
 * ```ts
 * import { parseFlakyExpectFile } from "./flaky.ts";
 * const text = '{"m.json": {"*": "PASS", "echo/unix/4": {"verdict": "FLAKY", "runs": 4, "counts": {"PASS": 3, "FAIL": 1}}}}';
 * const parsed = parseFlakyExpectFile("/x/catalogue.json", text);
 * parsed.flaky[0].record.counts.FAIL; // 1
 * parsed.file.entries[0].others; // "PASS"
 * ```
 */
export function parseFlakyExpectFile(path: string, text: string): FlakyExpectFile {
  const absolute = resolve(path);
  const json = parseExpectJson(path, text);
  const flaky: FlakyEntry[] = [];
  const stable: Record<string, unknown> = {};
  if (isObject(json)) {
    for (const [manifest, cases] of Object.entries(json)) {
      if (!isObject(cases)) {
        stable[manifest] = cases;
        continue;
      }
      const rest: Record<string, unknown> = {};
      for (const [id, want] of Object.entries(cases)) {
        if (isFlakyValue(want)) {
          const where = `${path}: ${JSON.stringify(manifest)} ${JSON.stringify(id)}`;
          if (id === "*") throw new ExpectationsError(`${where}: "*" cannot be FLAKY`);
          try {
            parsePattern(id);
          } catch (err) {
            throw new ExpectationsError(`${where}: ${(err as Error).message}`);
          }
          flaky.push({
            manifest: resolve(dirname(absolute), manifest),
            id,
            record: parseRecord(want as Record<string, unknown>, where),
          });
        } else {
          rest[id] = want;
        }
      }
      stable[manifest] = rest;
    }
  }
  const file = parseExpectFile(path, isObject(json) ? JSON.stringify(stable) : text);
  return { path: absolute, file, flaky };
}

/**
 * Reads and parses an expectations file that may hold FLAKY values.
 *
 * @example
 * ```ts
 * import { loadFlakyExpectFile } from "./flaky.ts";
 * const expect = await loadFlakyExpectFile("expectations/catalogue.json");
 * console.log(expect.flaky.length);
 * ```
 */
export async function loadFlakyExpectFile(path: string): Promise<FlakyExpectFile> {
  return parseFlakyExpectFile(path, await readExpectText(path));
}

/**
 * The FLAKY record for case `id` against the target from manifest `source`, if any. Keys
 * are patterns, and the most specific match wins, as in `src/harness/expectations.ts`
 * (and the last file that lists it).
 *
 * @example
 * ```ts
 * import { flakyRecordFor, parseFlakyExpectFile } from "./flaky.ts";
 * const f = parseFlakyExpectFile("/x/c.json", '{"m.json": {"a/b/1": {"verdict": "FLAKY", "runs": 2, "counts": {"PASS": 1, "FAIL": 1}}}}');
 * flakyRecordFor([f], "/x/m.json", "a/b/1")?.runs; // 2
 * ```
 */
export function flakyRecordFor(
  files: readonly FlakyExpectFile[],
  source: string,
  id: string,
): FlakyRecord | undefined {
  if (source === "built-in") return undefined;
  const manifest = resolve(source);
  let found: FlakyRecord | undefined;
  for (const f of files) {
    const mine = f.flaky.filter((e) => e.manifest === manifest);
    const key = bestKey(mine.map((e) => e.id), id);
    if (key !== undefined) found = mine.findLast((e) => e.id === key)!.record;
  }
  return found;
}

/**
 * How a verdict count reads: `FAIL in 8 of 20 runs (40%)`.
 *
 * @example
 * ```ts
 * import { rateText } from "./flaky.ts";
 * rateText("FAIL", 8, 20); // "FAIL in 8 of 20 runs (40%)"
 * ```
 */
export function rateText(verdict: Verdict, n: number, runs: number): string {
  return `${verdict} in ${n} of ${runs} runs (${Math.round((100 * n) / runs)}%)`;
}

/**
 * The counts of each verdict over `runs`, most severe first.
 *
 * @example
 * ```ts
 * import { countVerdicts } from "./flaky.ts";
 * countVerdicts(["PASS", "FAIL", "PASS"]); // { FAIL: 1, PASS: 2 }
 * ```
 */
export function countVerdicts(verdicts: readonly Verdict[]): Partial<Record<Verdict, number>> {
  const counts: Partial<Record<Verdict, number>> = {};
  const sorted = [...verdicts].sort((a, b) => SEVERITY[b] - SEVERITY[a]);
  for (const v of sorted) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function countsText(counts: Partial<Record<Verdict, number>>, runs: number): string {
  const sorted = Object.entries(counts).sort(([a], [b]) =>
    SEVERITY[b as Verdict] - SEVERITY[a as Verdict]
  );
  return sorted.map(([v, n], i) => i === 0 ? rateText(v as Verdict, n!, runs) : `${v} in ${n}`)
    .join(", ");
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s*\n\s*/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Combines the results of running one case several times into one result. With one run
 * and no record it returns that run unchanged. Otherwise: the verdict is the most severe
 * seen; with mixed verdicts the message starts `FLAKY:` (`FLAKY (not recorded):` without
 * a record) and gives the counts and the first failing run's message; observed values gain
 * `runs`, `nonPassRuns` and `flaky`; the evidence is the representative run's plus one note
 * per run; the duration is the sum.
 *
 * @example
 * ```ts
 * import { combineRuns } from "./flaky.ts";
 * import type { CaseResult } from "../reports/report.ts";
 * const pass: CaseResult = {
 *   id: "echo/unix/4", family: "echo/unix", requirement: "A slow reader gets every byte.",
 *   level: "MUST", verdict: "PASS", message: "all bytes echoed",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * const fail: CaseResult = { ...pass, verdict: "FAIL", message: "the echo stalled" };
 * combineRuns([pass, fail, pass]).message; // "FLAKY (not recorded): FAIL in 1 of 3 runs (33%), PASS in 2. First FAIL: ..."
 * ```
 */
export function combineRuns(runs: readonly CaseResult[], record?: FlakyRecord): CaseResult {
  if (runs.length === 0) throw new Error("combineRuns needs at least one run");
  if (runs.length === 1 && !record) return runs[0];
  const counts = countVerdicts(runs.map((r) => r.verdict));
  const verdict = Object.keys(counts)[0] as Verdict;
  const flaky = Object.keys(counts).length > 1;
  const nonPass = runs.filter((r) => r.verdict !== "PASS");
  // The run that speaks for all: a non-PASS run whose message lacks the recorded substring,
  // else the first run with the combined verdict.
  const offending = record?.message === undefined
    ? undefined
    : nonPass.find((r) => !r.message.includes(record.message!));
  const rep = offending ?? runs.find((r) => r.verdict === verdict)!;
  const recorded = record ? `recorded ${countsText(record.counts, record.runs)}` : "";
  let message: string;
  if (flaky) {
    message = `FLAKY${record ? "" : " (not recorded)"}: ${countsText(counts, runs.length)}${
      record ? ` (${recorded})` : ""
    }. First ${rep.verdict}: ${rep.message}`;
  } else if (record) {
    message =
      `FLAKY, not reproduced: ${verdict} in all ${runs.length} runs (${recorded}). ${rep.message}`;
  } else {
    message = `${rep.message} (${verdict} in all ${runs.length} runs)`;
  }
  const observed: Record<string, Observed> = {
    ...rep.observed,
    runs: runs.length,
    nonPassRuns: nonPass.length,
    flaky,
  };
  const notes = runs.map((r, i) =>
    `run ${i + 1}/${runs.length}: ${r.verdict} in ${Math.round(r.durationMs)} ms: ${
      oneLine(r.message)
    }`
  );
  return {
    ...rep,
    verdict,
    message,
    observed,
    evidence: { ...rep.evidence, notes: [...rep.evidence.notes, ...notes] },
    durationMs: Math.round(runs.reduce((n, r) => n + r.durationMs, 0) * 10) / 10,
  };
}

/**
 * Sets the expectation fields of a combined result: first from the stable expectations
 * (as `src/harness/expectations.ts` does), then for flakiness. A recorded case whose runs gave
 * only recorded verdicts (and whose non-PASS messages hold the recorded substring) is
 * expected as it came out; one that gave another verdict is not. A flaky case without a
 * record never fits (`expected observed flaky=false`).
 *
 * @example
 * ```ts
 * import { combineRuns, judgeCombined } from "./flaky.ts";
 * import type { CaseResult } from "../reports/report.ts";
 * const pass: CaseResult = {
 *   id: "echo/unix/4", family: "echo/unix", requirement: "A slow reader gets every byte.",
 *   level: "MUST", verdict: "PASS", message: "all bytes echoed",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * const combined = combineRuns([pass, { ...pass, verdict: "FAIL", message: "the echo stalled" }]);
 * judgeCombined(combined, [], { source: "/x/m.json" }, ["PASS", "FAIL"]);
 * console.log(combined.expectedObserved); // { flaky: false }: flaky without a record never fits
 * ```
 */
export function judgeCombined(
  combined: CaseResult,
  files: readonly FlakyExpectFile[],
  target: { source: string },
  verdicts: readonly Verdict[],
  record: FlakyRecord | undefined = flakyRecordFor(files, target.source, combined.id),
): void {
  expectResult(files.map((f) => f.file), target, combined);
  const flaky = new Set(verdicts).size > 1;
  if (record) {
    const allowed = Object.keys(record.counts) as Verdict[];
    delete combined.expectedObserved;
    delete combined.expectedMessage;
    const strange = verdicts.find((v) => !allowed.includes(v));
    if (strange) {
      combined.expected = allowed.includes(combined.verdict)
        ? combined.verdict
        : allowed.sort((a, b) => SEVERITY[b] - SEVERITY[a])[0];
      if (combined.expected === combined.verdict) {
        combined.expectedObserved = { unrecordedVerdict: null };
        combined.observed = { ...combined.observed, unrecordedVerdict: strange };
      }
      combined.evidence.notes.push(
        `${strange} is not among the recorded verdicts ${allowed.join(", ")}`,
      );
      return;
    }
    combined.expected = combined.verdict;
    if (record.message !== undefined && combined.verdict !== "PASS") {
      combined.expectedMessage = record.message;
    }
    return;
  }
  if (flaky) {
    combined.expected ??= "PASS";
    combined.expectedObserved = { ...combined.expectedObserved, flaky: false };
  }
}

/** Options of {@linkcode settleFlaky}. */
export interface SettleOptions extends Omit<RunOptions, "select" | "onCaseStart"> {
  /** Extra runs of a result that fails the run, to tell noise from a change (default 4). */
  reruns?: number;
  /** Runs of a case recorded as FLAKY, to measure its rate (default 10). */
  flakyRuns?: number;
  /** Runs of every case (default 1; more for a survey). */
  repeat?: number;
  /** How many targets are re-run at the same time (default 1). */
  jobs?: number;
  /** Called before each extra run. */
  onRerun?: (target: Target, c: Case, run: number, of: number) => void;
}

/** A case that ran more than once, with what each run gave. */
export interface Settled {
  /** The target's name. */
  target: string;
  /** The manifest. */
  source: string;
  /** The case id. */
  id: string;
  /** Every run, in order. */
  runs: CaseResult[];
  /** The combined result now in the report. */
  result: CaseResult;
  /** True when the runs gave different verdicts. */
  flaky: boolean;
  /** The FLAKY record it was judged against, if any. */
  record?: FlakyRecord;
}

/**
 * Runs again what needs more runs (see the module doc), replaces those results in `report`
 * by their combined results, and judges them. `targets` are the targets the report was
 * run on, in the same order; `cases` holds every case the report names. Returns every case
 * that ran more than once.
 *
 * @example
 * ```ts
 * import { settleFlaky } from "./flaky.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import type { RunReport } from "../reports/report.ts";
 * import type { Target } from "./manifest.ts";
 * async function countFlaky(report: RunReport, targets: Target[]): Promise<number> {
 *   const settled = await settleFlaky(report, targets, allCases, [], { reruns: 4 });
 *   return settled.filter((s) => s.flaky).length;
 * }
 * ```
 */
export async function settleFlaky(
  report: RunReport,
  targets: readonly Target[],
  cases: readonly Case[],
  files: readonly FlakyExpectFile[],
  opts: SettleOptions = {},
): Promise<Settled[]> {
  const reruns = opts.reruns ?? 4;
  const flakyRuns = opts.flakyRuns ?? 10;
  const repeat = opts.repeat ?? 1;
  const byId = new Map(cases.map((c) => [c.id, c]));
  const settled: Settled[][] = report.targets.map(() => []);
  let next = 0;
  const worker = async () => {
    while (next < report.targets.length && !opts.signal?.aborted) {
      const ti = next++;
      const tr = report.targets[ti];
      const target = targets[ti];
      if (!target || target.source !== tr.source || target.name !== tr.name) {
        throw new Error(
          `settleFlaky: report target ${ti} (${tr.name}) is not targets[${ti}] (${target?.name})`,
        );
      }
      for (const [ri, first] of tr.results.entries()) {
        const c = byId.get(first.id);
        if (!c) continue;
        const record = flakyRecordFor(files, tr.source, first.id);
        const wanted = Math.max(
          repeat,
          record ? flakyRuns : 1,
          failsRun(first, report.strict) ? 1 + reruns : 1,
        );
        if (wanted === 1 && !record) continue;
        const runs = [first];
        while (runs.length < wanted && !opts.signal?.aborted) {
          opts.onRerun?.(target, c, runs.length + 1, wanted);
          runs.push(await runCase(target, c, opts));
        }
        const verdicts = runs.map((r) => r.verdict);
        const flaky = new Set(verdicts).size > 1;
        // A result that failed the run and gave the same verdict every time is a real change,
        // not noise: the combined result keeps its verdict and says "(FAIL in all 5 runs)".
        const result = combineRuns(runs, record);
        judgeCombined(result, files, tr, verdicts, record);
        tr.results[ri] = result;
        settled[ti].push({
          target: tr.name,
          source: tr.source,
          id: c.id,
          runs,
          result,
          flaky,
          record,
        });
      }
    }
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, report.targets.length));
  await Promise.all(Array.from({ length: jobs }, worker));
  return settled.flat();
}
