import assert, { deepEqual as assertEquals } from "node:assert/strict";
import { docModules, isDocModule, treeSnapshot } from "./doc_examples.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("isDocModule: modules yes; tests, testdata and fixtures no", () => {
  assert(isDocModule("mod.ts"));
  assert(isDocModule("src/case/verdict.ts"));
  assert(!isDocModule("src/case/verdict_test.ts"));
  assert(!isDocModule("src/testdata/sample_report.ts"));
  assert(!isDocModule("fixtures/targets/x.ts"));
  assert(!isDocModule("README.md"));
});

Deno.test("docModules: every module of the project, none twice, sorted", async () => {
  const all = await docModules(ROOT);
  assert(all.includes("mod.ts"));
  assert(all.includes("src/reports/report.ts"));
  assert(all.includes("conformance/mod.ts"));
  assert(!all.some((m) => m.endsWith("_test.ts") || m.includes("testdata/")), all.join(" "));
  assert(!all.some((m) => m.startsWith("scripts/")), "scripts are not modules of the package");
  assertEquals(all, [...new Set(all)].sort());
  // a folder given twice (with and without its slash) counts once; only its modules
  const caseModules = await docModules(ROOT, ["src/case", "src/case/"]);
  assert(caseModules.includes("src/case/verdict.ts"), caseModules.join(" "));
  assert(caseModules.every((m) => m.startsWith("src/case/") && !m.endsWith("_test.ts")));
  assertEquals(caseModules, [...new Set(caseModules)].sort());
  assertEquals(await docModules(ROOT, ["src/case/verdict.ts"]), ["src/case/verdict.ts"]);
});

Deno.test("treeSnapshot: sees a file that appears", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-docex-" });
  try {
    await Deno.mkdir(`${dir}/a`);
    const before = await treeSnapshot(dir);
    await Deno.writeTextFile(`${dir}/a/junit.xml`, "<x/>");
    const added = [...await treeSnapshot(dir)].filter((p) => !before.has(p));
    assertEquals(added, ["a/junit.xml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
