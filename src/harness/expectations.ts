/**
 * Expectations files (known results, in the manner of web-platform-tests): which verdict
 * each case is expected to give against each target. `sockspec check --expect FILE` reads
 * them, and the fixtures' `NAME.expect.json` files use the same format:
 *
 * ```json
 * {
 *   "servers/my-echo.json": {
 *     "echo/tcp/9": "FAIL",
 *     "echo/tcp/4": { "verdict": "FAIL", "message": "stalled" },
 *     "echo/tcp/10": { "verdict": "PASS", "observed": { "chunkSize": 1024 } },
 *     "*": "PASS"
 *   }
 * }
 * ```
 *
 * Keys are manifest paths relative to the expectations file (`multi.json#v6` for service
 * `v6` of a manifest with services). Values map a case id to a
 * verdict (PASS, FAIL, SKIP, ERROR) or to `{verdict, message?, observed?}`: `message` is a
 * substring the result's message must contain, `observed` values the case must report
 * exactly. A case key is a selection pattern with the rules of `sockspec check`'s
 * positional ids (`src/harness/select.ts`): `echo/tcp/1` is that case only, `echo/tcp` the
 * family, `echo/*\/4` case 4 of every echo transport. When several keys match a case, the
 * most specific wins (an exact id beats `echo/*\/4`, which beats `echo/tcp`); on a tie the
 * later key wins. The key `"*"` alone is the verdict every other applicable MUST case is
 * expected to give.
 *
 * A result that fits its expectation does not fail the run, even when it is a FAIL; one
 * that does not fit fails it, a PASS included (an unexpected pass: update the file).
 *
 * @example
 * ```ts
 * import { applyExpectations, loadExpectFile } from "./expectations.ts";
 * import type { RunReport } from "../reports/report.ts";
 * async function withKnownFailures(report: RunReport): Promise<RunReport> {
 *   applyExpectations(report, [await loadExpectFile("ci/known.expect.json")]);
 *   return report; // known failures are now XFAIL, unexpected passes XPASS
 * }
 * ```
 * @module
 */

import { dirname, resolve } from "node:path";
import type { Level, Observed, Verdict } from "../case/case.ts";
import type { CaseResult, RunReport, TargetReport } from "../reports/report.ts";
import { matches, parsePattern, PatternError, specificity } from "./select.ts";
import { errnoMessage } from "../python/errno.ts";

/** What one case is expected to give. */
export interface Expectation {
  /** The verdict. */
  verdict: Verdict;
  /** A substring the message must contain. */
  message?: string;
  /** Observed values that must be reported exactly. */
  observed?: Record<string, Observed>;
}

/** The expectations for one manifest. */
export interface ExpectEntry {
  /** The manifest's absolute, normalized path. */
  manifest: string;
  /** Case id → expectation. */
  cases: Record<string, Expectation>;
  /** The verdict for every other applicable MUST case (`"*"`), if given. */
  others?: Verdict;
}

/** One expectations file. */
export interface ExpectFile {
  /** Its absolute path. */
  path: string;
  /** Its entries, in file order. */
  entries: ExpectEntry[];
}

/** An expectations file that cannot be used; the message names the file and the key. */
export class ExpectationsError extends Error {
  /**
   * An error in `file`.
   *
   * @example
   * ```ts
   * import { ExpectationsError } from "./expectations.ts";
   * const err = new ExpectationsError("known.expect.json: 'x.json' 'echo/tcp/1': bad verdict");
   * console.log(err.name); // "ExpectationsError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "ExpectationsError";
  }
}

const VERDICTS: readonly Verdict[] = ["PASS", "FAIL", "SKIP", "ERROR"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses one expectations file's text; `path` is the file (manifest keys are relative to
 * its directory). Throws {@linkcode ExpectationsError} naming the file, manifest and case.
 *
 * @example
 * ```ts
 * import { parseExpectFile } from "./expectations.ts";
 * const file = parseExpectFile("/x/a.expect.json", '{"m.json": {"echo/tcp/1": "FAIL"}}');
 * file.entries[0].manifest; // "/x/m.json"
 * ```
 */
export function parseExpectFile(path: string, text: string): ExpectFile {
  const absolute = resolve(path);
  const json = parseExpectJson(path, text);
  if (!isObject(json)) {
    throw new ExpectationsError(
      `${path}: must be a JSON object mapping manifest paths to {"case id": verdict}`,
    );
  }
  const entries: ExpectEntry[] = [];
  for (const [manifest, cases] of Object.entries(json)) {
    const where = `${path}: ${JSON.stringify(manifest)}`;
    if (!/\.json(#[a-z0-9_-]+)?$/.test(manifest)) {
      throw new ExpectationsError(
        `${where}: keys are manifest paths relative to this file, ending in .json ` +
          "(.json#SERVICE for one service of a manifest with services)",
      );
    }
    if (!isObject(cases)) {
      throw new ExpectationsError(`${where}: must be an object mapping case ids to verdicts`);
    }
    const entry: ExpectEntry = { manifest: resolve(dirname(absolute), manifest), cases: {} };
    for (const [id, want] of Object.entries(cases)) {
      if (id !== "*") {
        try {
          parsePattern(id);
        } catch (err) {
          if (!(err instanceof PatternError)) throw err;
          throw new ExpectationsError(`${where} ${JSON.stringify(id)}: ${err.message}`);
        }
      }
      const e = parseExpectation(want, `${where} ${JSON.stringify(id)}`);
      if (id === "*") {
        if (e.message !== undefined || e.observed !== undefined) {
          throw new ExpectationsError(
            `${where} "*": gives only a verdict (message and observed need a case id)`,
          );
        }
        entry.others = e.verdict;
      } else {
        entry.cases[id] = e;
      }
    }
    entries.push(entry);
  }
  return { path: absolute, entries };
}

function parseExpectation(want: unknown, where: string): Expectation {
  const verdictError = () =>
    new ExpectationsError(`${where}: the verdict must be one of ${VERDICTS.join(", ")}`);
  if (typeof want === "string") {
    if (!VERDICTS.includes(want as Verdict)) throw verdictError();
    return { verdict: want as Verdict };
  }
  if (!isObject(want)) {
    throw new ExpectationsError(
      `${where}: must be a verdict or {"verdict": ..., "message": ..., "observed": {...}}`,
    );
  }
  for (const key of Object.keys(want)) {
    if (!["verdict", "message", "observed"].includes(key)) {
      throw new ExpectationsError(`${where}: unknown key '${key}'; use verdict, message, observed`);
    }
  }
  if (!VERDICTS.includes(want.verdict as Verdict)) throw verdictError();
  const e: Expectation = { verdict: want.verdict as Verdict };
  if (want.message !== undefined) {
    if (typeof want.message !== "string") {
      throw new ExpectationsError(`${where}: message must be a string the message contains`);
    }
    e.message = want.message;
  }
  if (want.observed !== undefined) {
    const ok = isObject(want.observed) &&
      Object.values(want.observed).every((v) =>
        v === null || ["string", "number", "boolean"].includes(typeof v)
      );
    if (!ok) {
      throw new ExpectationsError(
        `${where}: observed must be an object of strings, numbers, booleans or null`,
      );
    }
    e.observed = want.observed as Record<string, Observed>;
  }
  return e;
}

/**
 * Reads and parses one expectations file.
 *
 * @example
 * ```ts
 * import { loadExpectFile } from "./expectations.ts";
 * const file = await loadExpectFile("fixtures/broken/echo.expect.json");
 * console.log(file.entries.length);
 * ```
 */
export async function loadExpectFile(path: string): Promise<ExpectFile> {
  return parseExpectFile(path, await readExpectText(path));
}

/**
 * Parses an expectations file's JSON, or throws an {@linkcode ExpectationsError} naming it.
 *
 * @example
 * ```ts
 * import { parseExpectJson } from "./expectations.ts";
 * parseExpectJson("/x/a.expect.json", "{}"); // {}
 * ```
 */
export function parseExpectJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ExpectationsError(`${path}: invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * The text of an expectations file, or an {@linkcode ExpectationsError} naming it.
 *
 * @example
 * ```ts
 * import { readExpectText } from "./expectations.ts";
 * const text = await readExpectText("fixtures/broken/echo.expect.json");
 * ```
 */
export async function readExpectText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new ExpectationsError(
      `${path}: cannot read the expectations file (${errnoMessage(err)}); check the path`,
    );
  }
}

/**
 * Finds and parses every `*.expect.json` below `dir`, sorted by path.
 *
 * @example
 * ```ts
 * import { loadExpectFiles } from "./expectations.ts";
 * const files = await loadExpectFiles("fixtures/");
 * console.log(files.map((f) => f.path));
 * ```
 */
export async function loadExpectFiles(dir: string): Promise<ExpectFile[]> {
  const out: ExpectFile[] = [];
  const walk = async (d: string, depth: number) => {
    if (depth > 16) return;
    for await (const e of Deno.readDir(d)) {
      const p = `${d.replace(/\/$/, "")}/${e.name}`;
      if (e.isDirectory) await walk(p, depth + 1);
      else if (e.name.endsWith(".expect.json")) out.push(await loadExpectFile(p));
    }
  };
  await walk(dir, 0);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The key among `keys` that decides for case `id`: the most specific pattern that matches
 * it (see `specificity` in `src/harness/select.ts`), the later one on a tie; undefined when
 * none matches. `"*"` is not a pattern here (it is the MUST default) and is never returned.
 *
 * @example
 * ```ts
 * import { bestKey } from "./expectations.ts";
 * bestKey(["echo/tcp", "echo/tcp/1", "echo/tcp/10"], "echo/tcp/1"); // "echo/tcp/1"
 * bestKey(["echo/tcp", "echo/tcp/1"], "echo/tcp/11"); // "echo/tcp"
 * ```
 */
export function bestKey(keys: readonly string[], id: string): string | undefined {
  let best: string | undefined;
  let score = -1;
  for (const key of keys) {
    if (key === "*" || !matches(key, id)) continue;
    const s = specificity(key);
    if (s >= score) [best, score] = [key, s];
  }
  return best;
}

/**
 * The expectation for case `id` (at `level`) against the target from manifest `source`, or
 * undefined. The most specific matching key wins (see {@linkcode bestKey}), and any key wins
 * over `"*"`, which covers MUST cases only. When several files list the same pair, the last
 * file wins.
 *
 * @example
 * ```ts
 * import { expectationFor, parseExpectFile } from "./expectations.ts";
 * const file = parseExpectFile("/x/a.expect.json", '{"m.json": {"*": "PASS"}}');
 * expectationFor([file], "/x/m.json", "echo/tcp/1", "MUST"); // { verdict: "PASS" }
 * ```
 */
export function expectationFor(
  files: readonly ExpectFile[],
  source: string,
  id: string,
  level: Level,
): Expectation | undefined {
  if (source === "built-in") return undefined;
  const manifest = resolve(source);
  let found: Expectation | undefined;
  for (const file of files) {
    for (const entry of file.entries) {
      if (entry.manifest !== manifest) continue;
      const key = bestKey(Object.keys(entry.cases), id);
      if (key !== undefined) found = entry.cases[key];
      else if (entry.others !== undefined && level === "MUST") found = { verdict: entry.others };
    }
  }
  return found;
}

/**
 * Sets (or clears) one result's expectation fields from `files`.
 *
 * @example
 * ```ts
 * import { expectResult, parseExpectFile } from "./expectations.ts";
 * import type { CaseResult } from "../reports/report.ts";
 * const file = parseExpectFile("/x/a.expect.json", '{"m.json": {"echo/tcp/9": "FAIL"}}');
 * const result: CaseResult = {
 *   id: "echo/tcp/9", family: "echo/tcp", requirement: "A long message comes back whole.",
 *   level: "MUST", verdict: "FAIL", message: "echo ended after 32 of 42 bytes",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * expectResult([file], { source: "/x/m.json" }, result);
 * console.log(result.expected); // "FAIL"
 * ```
 */
export function expectResult(
  files: readonly ExpectFile[],
  target: Pick<TargetReport, "source">,
  result: CaseResult,
): void {
  const e = expectationFor(files, target.source, result.id, result.level);
  delete result.expected;
  delete result.expectedMessage;
  delete result.expectedObserved;
  if (!e) return;
  result.expected = e.verdict;
  if (e.message !== undefined) result.expectedMessage = e.message;
  if (e.observed !== undefined) result.expectedObserved = e.observed;
}

/**
 * Applies expectations files to every result of a report (in place), and records the files
 * in `report.expectations`.
 *
 * @example
 * ```ts
 * import { applyExpectations, loadExpectFile } from "./expectations.ts";
 * import type { RunReport } from "../reports/report.ts";
 * async function expect(report: RunReport, file: string): Promise<void> {
 *   applyExpectations(report, [await loadExpectFile(file)]); // report.expectations: [file]
 * }
 * ```
 */
export function applyExpectations(report: RunReport, files: readonly ExpectFile[]): void {
  for (const target of report.targets) {
    for (const r of target.results) expectResult(files, target, r);
  }
  if (files.length) report.expectations = files.map((f) => f.path);
}

/**
 * Problems with expectations files against the known case ids: case keys that match no
 * case. Returns one message per problem (empty when all is well).
 *
 * @example
 * ```ts
 * import { unknownCaseIds, parseExpectFile } from "./expectations.ts";
 * const file = parseExpectFile("/x/a.expect.json", '{"m.json": {"echo/tcp/99": "FAIL"}}');
 * unknownCaseIds([file], ["echo/tcp/1"]); // ["/x/a.expect.json: /x/m.json: no case 'echo/tcp/99' ..."]
 * ```
 */
export function unknownCaseIds(files: readonly ExpectFile[], ids: readonly string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    for (const entry of file.entries) {
      for (const key of Object.keys(entry.cases)) {
        if (!ids.some((id) => matches(key, id))) {
          problems.push(
            `${file.path}: ${entry.manifest}: no case '${key}' exists; see sockspec check --list`,
          );
        }
      }
    }
  }
  return problems;
}

/**
 * Problems with expectations files against the run's targets: manifest keys that name no
 * target of the run (a typo, or a target left out of the command line). Returns one
 * message per problem (empty when all is well).
 *
 * @example
 * ```ts
 * import { parseExpectFile, unknownTargets } from "./expectations.ts";
 * const file = parseExpectFile("/x/a.expect.json", '{"m.json": {"echo/tcp/1": "FAIL"}}');
 * unknownTargets([file], ["/x/other.json"]); // ["/x/a.expect.json: key \"m.json\" ..."]
 * ```
 */
export function unknownTargets(
  files: readonly ExpectFile[],
  sources: readonly string[],
): string[] {
  const run = new Set(sources.filter((s) => s !== "built-in").map((s) => resolve(s)));
  const problems: string[] = [];
  for (const file of files) {
    for (const entry of file.entries) {
      if (!run.has(entry.manifest)) {
        problems.push(
          `${file.path}: key ${
            JSON.stringify(entry.manifest)
          } names no target of this run; add --target ${entry.manifest}, or remove the key`,
        );
      }
    }
  }
  return problems;
}
