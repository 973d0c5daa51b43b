/**
 * What every case owes a reader of its FAIL, checked over the whole catalogue. These tests
 * wait for the case rewrite (issue 19 item 3, the case side: helpers i14a and i14b), so each
 * is gated by a PENDING flag below. LEAD: once those branches are merged, set the flags to
 * false (or delete them); each test then names every case that still falls short.
 *
 * - every case declares a `hint` (what to look at in a server that fails it);
 * - every requirement and hint that cites SPEC cites an existing section of docs/spec.md as
 *   `SPEC §N`;
 * - no FAIL or ERROR message of a run over the broken fixtures holds the runtime's nested
 *   `(os error N)`, an errno line twice, or the same exit twice (report.ts messageFaults).
 *
 * @module
 */

import assert from "node:assert/strict";
import { allCases } from "./mod.ts";
import { badCitations, citedSections, specSections } from "./_spec.ts";
import { loadExpectFiles } from "../src/harness/expectations.ts";
import { loadManifest } from "../src/harness/manifest.ts";
import { applicableCases, runAll } from "../src/harness/runner.ts";
import { messageFaults } from "../src/reports/report.ts";

/** LEAD: set to false once i14a/i14b (hints on every case) are merged. */
const PENDING_HINTS = false;
/** LEAD: set to false once the case requirements cite SPEC as `SPEC §N`. */
const PENDING_CITATIONS = false;
/** LEAD: set to false once the cases format caught errors with errnoMessage. */
const PENDING_MESSAGES = false;

const root = new URL("../", import.meta.url).pathname;

Deno.test({
  name: `every case has a hint${PENDING_HINTS ? " (PENDING: see PENDING_HINTS)" : ""}`,
  ignore: PENDING_HINTS,
  fn() {
    const missing = allCases.filter((c) => !c.hint?.trim()).map((c) => c.id);
    assert.deepEqual(
      missing,
      [],
      "these cases declare no hint: say what to check in a server that fails them",
    );
    for (const c of allCases) {
      assert.ok(
        c.hint!.length <= 160,
        `${c.id}: the hint is one short sentence (${c.hint!.length} characters)`,
      );
    }
  },
});

Deno.test({
  name: `every requirement and hint cites SPEC as 'SPEC §N' with an existing section${
    PENDING_CITATIONS ? " (PENDING: see PENDING_CITATIONS)" : ""
  }`,
  ignore: PENDING_CITATIONS,
  async fn() {
    const numbers = new Set(
      specSections(await Deno.readTextFile(`${root}docs/spec.md`)).map((s) => s.n),
    );
    const problems: string[] = [];
    for (const c of allCases) {
      for (const [field, text] of [["requirement", c.requirement], ["hint", c.hint ?? ""]]) {
        for (const bad of badCitations(text)) problems.push(`${c.id} ${field}: '${bad}'`);
        // a bare "SPEC" (as in "matches SPEC") names no section
        const bare = text.replace(/SPEC §\d+/g, "").match(/\bSPEC\b(?!_)/g);
        if (bare) problems.push(`${c.id} ${field}: 'SPEC' without a section`);
        for (const cite of citedSections(text)) {
          for (const n of cite.sections) {
            if (!numbers.has(n)) problems.push(`${c.id} ${field}: '${cite.cite}' (no §${n})`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name: `no message of a run over the broken fixtures nests runtime errno text or repeats itself${
    PENDING_MESSAGES ? " (PENDING: see PENDING_MESSAGES)" : ""
  }`,
  ignore: PENDING_MESSAGES,
  sanitizeResources: false,
  async fn() {
    const files = (await loadExpectFiles(`${root}fixtures/`)).filter((f) =>
      f.path.startsWith(`${root}fixtures/broken/`)
    );
    const problems: string[] = [];
    for (const file of files) {
      for (const entry of file.entries) {
        const target = await loadManifest(entry.manifest);
        const ids = new Set(Object.keys(entry.cases));
        const cases = applicableCases(target, allCases).filter((c) => ids.has(c.id));
        const report = await runAll([target], cases, { seed: 19 });
        for (const r of report.targets[0].results) {
          for (const fault of messageFaults(r.message)) {
            problems.push(`${target.name} ${r.id} ${r.verdict}: ${fault}: ${r.message}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  },
});
