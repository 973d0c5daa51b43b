/**
 * Loads the fixtures' expectation files (`NAME.expect.json`), which say what verdict each
 * case must give against each fixture manifest. See `conformance/fixtures_test.ts`.
 *
 * @example
 * ```ts
 * import { loadExpectFiles } from "./expect_files.ts";
 * const files = await loadExpectFiles("fixtures/");
 * console.log(files.map((f) => f.path));
 * ```
 * @module
 */

import type { Observed, Verdict } from "../src/case.ts";

/** What one case must give. */
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
  /** The manifest's absolute path. */
  manifest: string;
  /** Case id → expectation. */
  cases: Record<string, Expectation>;
  /** The verdict for every other applicable MUST case (`"*"`), if given. */
  others?: Verdict;
}

/** One expectation file. */
export interface ExpectFile {
  /** Its absolute path. */
  path: string;
  /** Its entries. */
  entries: ExpectEntry[];
}

const VERDICTS = ["PASS", "FAIL", "SKIP", "ERROR"];

/**
 * Finds and parses every `*.expect.json` below `dir` (absolute), sorted by path.
 *
 * @example
 * ```ts
 * import { loadExpectFiles } from "./expect_files.ts";
 * await loadExpectFiles(new URL("../fixtures/", import.meta.url).pathname);
 * ```
 */
export async function loadExpectFiles(dir: string): Promise<ExpectFile[]> {
  const out: ExpectFile[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d.replace(/\/$/, "")}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".expect.json")) {
        out.push(parseExpectFile(p, await Deno.readTextFile(p)));
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Parses one expectation file's text; throws naming the file and the key when it is wrong.
 *
 * @example
 * ```ts
 * import { parseExpectFile } from "./expect_files.ts";
 * parseExpectFile("/x/a.expect.json", '{"m.json": {"echo/tcp/1": "FAIL"}}');
 * ```
 */
export function parseExpectFile(path: string, text: string): ExpectFile {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const json = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const entries: ExpectEntry[] = [];
  for (const [manifest, cases] of Object.entries(json)) {
    const entry: ExpectEntry = { manifest: `${dir}/${manifest}`, cases: {} };
    for (const [id, want] of Object.entries(cases)) {
      const e = (typeof want === "string" ? { verdict: want } : want) as Expectation;
      if (!VERDICTS.includes(e.verdict)) {
        throw new Error(
          `${path}: ${manifest} ${id}: verdict must be one of ${VERDICTS.join(", ")}`,
        );
      }
      if (id === "*") entry.others = e.verdict;
      else entry.cases[id] = e;
    }
    entries.push(entry);
  }
  return { path, entries };
}
