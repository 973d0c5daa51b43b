/**
 * Proves that the cases can fail, and that the repo's fixtures behave as documented.
 *
 * Every `fixtures/**\/NAME.expect.json` maps manifests (relative to the file) to the verdict
 * each listed case must give (`"*"`: every other applicable MUST case). Each manifest is a
 * Deno test and each case a step. A coverage test fails unless every MUST and SHOULD case
 * is expected to FAIL against at least one broken fixture under `fixtures/broken/`, and
 * every INFO case has an expectation on its observed values somewhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allCases } from "./mod.ts";
import { expectationFor, loadExpectFiles } from "../src/harness/expectations.ts";
import { loadTargets } from "../src/harness/manifest.ts";
import { matches } from "../src/harness/select.ts";
import { applicableCases, runCase } from "../src/harness/runner.ts";
import { mismatch } from "../src/reports/report.ts";

const root = new URL("../fixtures/", import.meta.url).pathname;
const files = await loadExpectFiles(root);

for (const file of files) {
  for (const entry of file.entries) {
    Deno.test(`fixture ${entry.manifest.slice(root.length)} (${file.path.slice(root.length)})`, async (t) => {
      // `m.json#service` is one service of a manifest with services.
      const targets = await loadTargets(entry.manifest.replace(/#[^/]*$/, ""));
      const target = targets.find((t) => t.source === entry.manifest)!;
      assert.ok(target, `${file.path}: no target ${entry.manifest}`);
      const cases = applicableCases(target, allCases).filter((c) =>
        expectationFor([file], target.source, c.id, c.level) !== undefined
      );
      for (const id of Object.keys(entry.cases)) {
        assert.ok(
          cases.some((c) => matches(id, c.id)),
          `${file.path}: case ${id} does not apply to ${target.name} or does not exist`,
        );
      }
      for (const c of cases) {
        await t.step(`${c.id} ${c.level}`, async () => {
          const want = expectationFor([file], target.source, c.id, c.level)!;
          const result = await runCase(target, c);
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
