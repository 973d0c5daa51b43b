/**
 * The conformance cases as Deno tests: one test per target, one step per case, each judged
 * by the reports' own `judge` (the rule `sockspec check` uses).
 *
 * By default the targets are the built-in references, judged strictly: every applicable
 * MUST and SHOULD case must PASS, a case whose needs are unmet here (root for multicast)
 * must SKIP, and an INFO case must observe its value (a value that differs from SPEC, such
 * as Debian's `imap2` for port 143, is printed, not counted). With
 * `SOCKSPEC_TARGET=path/to/manifest.json` (several separated by `:`), the manifests' targets
 * are tested instead, judged as `sockspec check` judges them without `--strict`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allCases } from "./mod.ts";
import { loadManifest, type Target } from "../src/harness/manifest.ts";
import { referenceTargets } from "../src/reference/targets.ts";
import { applicableCases, runCase, unmetNeed } from "../src/harness/runner.ts";
import { failsRun, judge } from "../src/reports/report.ts";

const external = Deno.env.get("SOCKSPEC_TARGET");
const targets: Target[] = external
  ? await Promise.all(external.split(":").filter(Boolean).map((f) => loadManifest(f)))
  : referenceTargets();

// The references must pass SHOULD cases too; an external target is judged as `check` would.
const strict = !external;

for (const target of targets) {
  Deno.test(`${target.name} (${target.source})`, async (t) => {
    for (const c of applicableCases(target, allCases)) {
      await t.step(`${c.id} ${c.level}: ${c.requirement}`, async () => {
        const r = await runCase(target, c);
        const judged = judge(r, strict);
        const detail = `${target.name} ${c.id} ${r.verdict} (${judged}): ${r.message}`;
        const unmet = unmetNeed(c, target);
        if (unmet) {
          // For example the multicast cases as non-root: they must say so and skip.
          assert.equal(r.verdict, "SKIP", detail);
          console.log(`  (skipped: ${unmet}) ${c.id}`);
          return;
        }
        assert.ok(!failsRun(r, strict), detail);
        // A reference INFO case must observe its value (it may differ from SPEC: on Debian
        // getservbyport(143) is 'imap2'); it never fails a run.
        if (!external) assert.notEqual(r.verdict, "ERROR", detail);
        if (judged === "warn" || judged === "info") console.log(`  (not counted) ${detail}`);
      });
    }
  });
}
