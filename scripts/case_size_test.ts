import assert from "node:assert/strict";
import { caseLiterals } from "./case_size.ts";

Deno.test("case_size: counts each case literal from { to }, braces in strings, templates, regexes and comments aside", () => {
  const src = [
    "export const cases = inFamily('T', [", // 1
    "  {", // 2
    '    id: "f/1",', // 3
    "    requirement: 'has a { brace'.", // 4
    "    hint: `and ${'}'} a template`,", // 5
    "    async run(ctx) {", // 6
    "      const re = /\\{+/; // }", // 7
    "      /* } */ return pass(`${ {a: 1}.a }`);", // 8
    "    },", // 9
    "  },", // 10
    "  { id: `f/2`, requirement: 'R.', run: () => x },", // 11
    "  { id: 'not/a/case', requirement: 'no run' },", // 12
    "]);", // 13
    "const row = (n: number) => ({ id: `t/${n}`,", // 14
    "  requirement: 'R.', run: async () => ({ verdict: 'PASS' }) });", // 15
  ].join("\n");
  const found = caseLiterals(src, "x.ts");
  assert.deepEqual(found.map((c) => [c.id, c.line, c.lines]), [
    ['"f/1"', 2, 9],
    ["`f/2`", 11, 1],
    ["`t/${n}`", 14, 2],
  ]);
});
