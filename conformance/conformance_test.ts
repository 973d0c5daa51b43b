/**
 * The conformance cases as Deno tests: one test per target, one step per case.
 *
 * By default the targets are the built-in references, and every applicable MUST and SHOULD
 * case must PASS (a case whose needs are unmet here, such as root for multicast, must SKIP) (INFO cases must observe their value; a value that differs from SPEC, such
 * as Debian's `imap2` for port 143, is printed). With `SOCKSPEC_TARGET=path/to/manifest.json` (several separated by `:`), the
 * manifests' targets are tested instead: MUST cases must PASS, SHOULD and INFO results are
 * printed but do not fail the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allCases } from "./mod.ts";
import { loadManifest, type Target } from "../src/harness/manifest.ts";
import { referenceTargets } from "../src/reference/targets.ts";
import { applicableCases, runCase, unmetNeed } from "../src/harness/runner.ts";

const external = Deno.env.get("SOCKSPEC_TARGET");
const targets: Target[] = external
  ? await Promise.all(external.split(":").filter(Boolean).map((f) => loadManifest(f)))
  : referenceTargets();

for (const target of targets) {
  Deno.test(`${target.name} (${target.source})`, async (t) => {
    for (const c of applicableCases(target, allCases)) {
      await t.step(`${c.id} ${c.level}: ${c.requirement}`, async () => {
        const r = await runCase(target, c);
        const detail = `${target.name} ${c.id} ${r.verdict}: ${r.message}`;
        const unmet = unmetNeed(c, target);
        if (unmet) {
          // For example the multicast cases as non-root: they must say so and skip.
          assert.equal(r.verdict, "SKIP", detail);
          console.log(`  (skipped: ${unmet}) ${c.id}`);
        } else if (!external && c.level !== "INFO") {
          assert.equal(r.verdict, "PASS", `the reference must pass every case: ${detail}`);
        } else if (!external) {
          // INFO reports the environment (on Debian getservbyport(143) is 'imap2'): it never
          // fails a run, but it must be able to observe its value.
          assert.notEqual(r.verdict, "ERROR", detail);
          if (r.verdict !== "PASS") console.log(`  (INFO, not counted) ${detail}`);
        } else if (c.level === "MUST") {
          assert.ok(r.verdict === "PASS" || r.verdict === "SKIP", detail);
        } else if (r.verdict !== "PASS") {
          console.log(`  (${c.level}, not counted) ${detail}`);
        }
      });
    }
  });
}
