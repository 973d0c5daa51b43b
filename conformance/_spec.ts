/**
 * Reading docs/spec.md and SPEC citations, for the tests that hold the code to the spec
 * (`spec_test.ts`, `hints_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";

/** The sections of docs/spec.md: number, title, anchor and the case ids it lists. */
export function specSections(text: string): { n: number; title: string; ids: string[] }[] {
  return [...text.matchAll(/<a id="s(\d+)"><\/a>\s*## §(\d+) ([^\n]+)\n([^]*?)(?=<a id="s|$)/g)]
    .map(
      (m) => {
        assert.equal(m[1], m[2], `docs/spec.md: the anchor s${m[1]} heads section §${m[2]}`);
        const checked = /Checked by: ([^]*?)\.\n/.exec(m[4]);
        assert.ok(checked, `docs/spec.md §${m[2]} has no "Checked by:" line`);
        return { n: Number(m[2]), title: m[3], ids: checked[1].split(/,\s*/).map((s) => s.trim()) };
      },
    );
}

/** The section numbers a text cites as `SPEC §N` (ranges `§1-3` and lists `§1, §2 and §4`). */
export function citedSections(text: string): { cite: string; sections: number[] }[] {
  return [...text.matchAll(/SPEC (§\d+(?:-\d+)?(?:(?:, | and )§\d+(?:-\d+)?)*)/g)].map((m) => ({
    cite: m[0],
    sections: [...m[1].matchAll(/§(\d+)(?:-(\d+))?/g)].flatMap((r) => {
      const [a, b] = [Number(r[1]), Number(r[2] ?? r[1])];
      return Array.from({ length: b - a + 1 }, (_, i) => a + i);
    }),
  }));
}

/** Citations of SPEC with a number that are not in the `SPEC §N` form. */
export function badCitations(text: string): string[] {
  return [...text.matchAll(/SPEC (?:sections? )?\d+(?:-\d+)?(?:'s)?/g)].map((m) => m[0]);
}
