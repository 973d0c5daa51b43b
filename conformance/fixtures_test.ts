/**
 * Proves that the cases can fail, and that the repo's fixtures behave as documented.
 *
 * Every `fixtures/**\/NAME.expect.json` maps manifests (relative to the file) to the verdict
 * each listed case must give (`"*"`: every other applicable MUST case). Each manifest is a
 * Deno test and each case a step; the pairs run once, together, through the runner, as
 * `sockspec check` runs them (see `results`). A coverage test fails unless every MUST and
 * SHOULD case is expected to FAIL against at least one broken fixture under
 * `fixtures/broken/`, and every INFO case has an expectation on its observed values
 * somewhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allCases } from "./mod.ts";
import { type Case } from "../src/case/mod.ts";
import {
  expectationFor,
  type ExpectEntry,
  type ExpectFile,
  loadExpectFiles,
} from "../src/harness/expectations.ts";
import { loadTargets, type Target } from "../src/harness/manifest.ts";
import { matches } from "../src/harness/select.ts";
import { applicableCases, pinnedTarget, runAll } from "../src/harness/runner.ts";
import { type CaseResult, mismatch } from "../src/reports/report.ts";
import { defaultJobs } from "../src/cli/check.ts";

const root = new URL("../fixtures/", import.meta.url).pathname;
const files = await loadExpectFiles(root);

/** One manifest entry of an expect file, with its target, or why that did not load. */
interface Fixture {
  file: ExpectFile;
  entry: ExpectEntry;
  target?: Target;
  problem?: string;
}

const fixtures: Fixture[] = await Promise.all(
  files.flatMap((file) =>
    file.entries.map(async (entry): Promise<Fixture> => {
      try {
        // `m.json#service` is one service of a manifest with services.
        const targets = await loadTargets(entry.manifest.replace(/#[^/]*$/, ""));
        const target = targets.find((t) => t.source === entry.manifest);
        const problem = target ? undefined : `${file.path}: no target ${entry.manifest}`;
        return { file, entry, target, problem };
      } catch (err) {
        return { file, entry, problem: `${file.path}: ${(err as Error).message}` };
      }
    })
  ),
);

/** What a fixture's expect file says of this case (undefined: nothing). */
function expectation(f: Fixture, c: Case) {
  return expectationFor([f.file], f.entry.manifest, c.id, c.level);
}

/**
 * Every (fixture, case) pair runs once, through the one runner, `defaultJobs()` at a time as
 * the CLI does (targets on a fixed port or path afterwards, one case at a time); each test
 * below judges its own fixture's results. Started by the first test that needs it, so a
 * `--filter` still runs every pair (about 50 s); for one fixture, `deno task check --target
 * fixtures/...json` is quicker.
 */
let batch: Promise<Map<Target, CaseResult[]>> | undefined;
function results(): Promise<Map<Target, CaseResult[]>> {
  batch ??= (async () => {
    const byTarget = new Map<Target, CaseResult[]>();
    const of = new Map(fixtures.filter((f) => f.target).map((f) => [f.target!, f]));
    const select = (c: Case, t: Target) => expectation(of.get(t)!, c) !== undefined;
    const targets = [...of.keys()];
    const free = targets.filter((t) => !pinnedTarget(t));
    const pinned = targets.filter(pinnedTarget);
    for (const [group, jobs] of [[free, defaultJobs()], [pinned, 1]] as const) {
      const report = await runAll(group, allCases, { jobs, select });
      report.targets.forEach((t, i) => byTarget.set(group[i], t.results));
    }
    return byTarget;
  })();
  return batch;
}

for (const f of fixtures) {
  Deno.test(`fixture ${f.entry.manifest.slice(root.length)} (${f.file.path.slice(root.length)})`, async (t) => {
    assert.ok(f.target, f.problem);
    const { target, entry } = f;
    const cases = applicableCases(target, allCases).filter((c) => expectation(f, c) !== undefined);
    for (const id of Object.keys(entry.cases)) {
      assert.ok(
        cases.some((c) => matches(id, c.id)),
        `${f.file.path}: case ${id} does not apply to ${target.name} or does not exist`,
      );
    }
    const got = (await results()).get(target)!;
    for (const c of cases) {
      await t.step(`${c.id} ${c.level}`, () => {
        const want = expectation(f, c)!;
        const result = got.find((r) => r.id === c.id);
        assert.ok(result, `${target.name} ${c.id}: the runner gave no result (not applicable?)`);
        const where = `${target.name} ${c.id}: ${result.verdict}: ${result.message}`;
        // report.ts's mismatch is the one judge of "does this result fit its expectation".
        const why = mismatch({
          ...result,
          expected: want.verdict,
          expectedMessage: want.message,
          expectedObserved: want.observed,
        });
        assert.equal(why, undefined, `${where}\n${why}`);
      });
    }
  });
}

Deno.test("every MUST and SHOULD case is flagged by a broken fixture; every INFO case's value is checked", () => {
  const flagged = new Set<string>();
  const observed = new Set<string>();
  for (const file of files) {
    const broken = file.path.startsWith(`${root}broken/`);
    for (const entry of file.entries) {
      for (const [id, want] of Object.entries(entry.cases)) {
        if (broken && want.verdict === "FAIL") flagged.add(id);
        if (want.observed) observed.add(id);
      }
    }
  }
  const missing = allCases.filter((c) =>
    c.level === "INFO" ? !observed.has(c.id) : !flagged.has(c.id)
  );
  assert.deepEqual(
    missing.map((c) => `${c.id} (${c.level})`),
    [],
    "these cases have no broken fixture that they must flag (INFO: no expectation on observed values)",
  );
});

Deno.test("case ids are unique and well formed", () => {
  const ids = allCases.map((c) => c.id);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], "duplicate case ids");
  for (const c of allCases) {
    assert.match(c.id, /^[a-z0-9-]+(\/[a-z0-9-]+)+$/, `bad id ${c.id}`);
    assert.ok(
      c.requirement.endsWith("."),
      `${c.id}: the requirement should be one sentence ending with a full stop`,
    );
  }
});
