/**
 * docs/spec.md, the behaviours sockspec checks, against the code: every case is listed under
 * a section, every listed case exists, and every text in src/ that cites SPEC (help texts,
 * messages, module docs) cites it as `SPEC §N` with a section that exists.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allCases } from "./mod.ts";
import { badCitations, citedSections, specSections } from "./_spec.ts";

const root = new URL("../", import.meta.url).pathname;
const spec = await Deno.readTextFile(`${root}docs/spec.md`);

const sections = specSections(spec);

Deno.test("docs/spec.md: numbered sections in order, each listing existing cases; every case is listed", () => {
  assert.deepEqual(sections.map((s) => s.n), sections.map((_, i) => i + 1));
  const known = new Set(allCases.map((c) => c.id));
  for (const s of sections) {
    const unknown = s.ids.filter((id) => !known.has(id));
    assert.deepEqual(unknown, [], `docs/spec.md §${s.n} lists cases that do not exist`);
  }
  const listed = new Set(sections.flatMap((s) => s.ids));
  assert.deepEqual(
    allCases.filter((c) => !listed.has(c.id)).map((c) => c.id),
    [],
    "these cases are in no section of docs/spec.md: add each to the section it checks",
  );
});

Deno.test("every SPEC citation in src/ (help texts, messages, docs) is 'SPEC §N' with a section of docs/spec.md", async () => {
  const numbers = new Set(sections.map((s) => s.n));
  const problems: string[] = [];
  let cited = 0;
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (const bad of badCitations(text)) problems.push(`${path.slice(root.length)}: '${bad}'`);
        for (const c of citedSections(text)) {
          cited++;
          for (const n of c.sections) {
            if (!numbers.has(n)) {
              problems.push(`${path.slice(root.length)}: '${c.cite}' (no §${n})`);
            }
          }
        }
      }
    }
  };
  await walk(`${root}src`);
  assert.deepEqual(problems, []);
  assert.ok(cited > 20, `only ${cited} citations found: is the pattern still right?`);
});

Deno.test("the citation helpers read ranges and lists, and flag other forms", () => {
  assert.deepEqual(
    citedSections("(SPEC §1-3) and SPEC §4 and §6, SPEC §9").map((c) => c.sections),
    [
      [1, 2, 3],
      [4, 6],
      [9],
    ],
  );
  assert.deepEqual(badCitations("SPEC 7's order; SPEC sections 1 and 2; SPEC §4"), [
    "SPEC 7's",
    "SPEC sections 1",
  ]);
});
