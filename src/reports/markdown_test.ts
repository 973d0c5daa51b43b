import assert from "node:assert/strict";
import { markdownReport, MAX_DETAILED } from "./markdown.ts";
import type { CaseResult } from "./report.ts";
import { sampleReport } from "../testdata/sample_report.ts";

Deno.test("Markdown: closing line, per-target counts, then each failing case in detail", () => {
  const md = markdownReport(sampleReport());
  const lines = md.split("\n");
  assert.equal(
    lines[0],
    "## ❌ sockspec: 6 passed, 3 failed, 1 skipped, 1 expected failure, 1 unexpected pass (1 SHOULD failure not counted, 1 INFO differs from SPEC)",
  );
  assert.ok(lines.includes("| ❌ my-echo-tcp | 2 | 2 | 0 | 0 | 0 | 1 | 5 | 1.5 s |"), md);
  assert.ok(lines.includes("| ⚠️ my-echo-unix | 1 | 0 | 1 | 0 | 0 | 1 | 3 | 0.9 s |"), md);
  assert.ok(lines.includes("| ❌ broken-echo | 3 | 1 | 0 | 1 | 1 | 0 | 6 | 1.9 s |"), md);
  assert.ok(lines.includes("### Failures (3)"));
  // Each failing case: target, id, level, requirement (escaped), message (code), evidence.
  const at = lines.indexOf("#### ❌ my-echo-tcp · `echo/tcp/2` (MUST FAIL)");
  assert.ok(at > 0, md);
  assert.equal(
    lines[at + 2],
    '> Requirement of echo/tcp/2: the echo comes back \\<exactly\\> & "byte-exact".',
  );
  assert.equal(
    lines[at + 4],
    "`echo differs: first difference at byte 16: sent b'age.  It', got b'\\x00\\x1b[31m</'`",
  );
  assert.ok(md.includes("#### 💥 my-echo-tcp · `echo/tcp/3` (MUST ERROR)"));
  assert.ok(md.includes("<details><summary>Evidence</summary>"));
  assert.ok(md.includes("  hex: 54686973206973"));
  assert.ok(md.includes('UNEXPECTED: expected the message to contain "stalled"'));
  // Other lists.
  assert.ok(md.includes("### Unexpected passes (1)"));
  assert.ok(
    md.includes(
      "- **broken-echo** `echo/tcp/2` (MUST, PASS): the echo reassembles — UNEXPECTED: expected FAIL, got PASS",
    ),
    md,
  );
  // SHOULD warnings and INFO differences in their own sections, each with its re-run command
  const section = (title: string) => md.slice(md.indexOf(title)).split("\n### ")[0];
  assert.match(
    section("### SHOULD warnings (1)"),
    /- \*\*my-echo-tcp\*\* `echo\/tcp\/9` \(SHOULD, FAIL\): a second client[^\n]*\n {2}- re-run: `deno task sockspec check --target \/srv\/targets\/my-echo-tcp.json echo\/tcp\/9 --seed 12345`/,
  );
  assert.match(section("### INFO differences (1)"), /`echo\/unix\/10` \(INFO, FAIL\)/);
  assert.doesNotMatch(section("### SHOULD warnings (1)"), /INFO, FAIL/);
  // a detailed failure shows its hint and re-run command outside the folded evidence
  assert.match(
    md,
    /\*\*Hint:\*\* send back exactly the bytes each recv returned[^]*?Re-run: `deno task sockspec check --target \/srv\/targets\/my-echo-tcp.json echo\/tcp\/2 --seed 12345`\n\n<details>/,
  );
  assert.ok(md.includes("### Known failures (1)"));
  // Passing cases are not detailed.
  assert.ok(!md.includes("`echo/tcp/1` (MUST PASS)"));
});

Deno.test("Markdown: a clean run is short; a huge one is cut after MAX_DETAILED details", () => {
  const clean = sampleReport();
  clean.targets = [{ ...clean.targets[0], results: [clean.targets[0].results[0]] }];
  const md = markdownReport(clean);
  assert.match(md, /^## ✅ sockspec: 1 passed, 0 failed, 0 skipped\n/);
  assert.ok(!md.includes("###"));

  const huge = sampleReport();
  huge.targets = [huge.targets[0]];
  const failing = huge.targets[0].results[1];
  huge.targets[0].results = Array.from({ length: MAX_DETAILED + 30 }, (_, i): CaseResult => ({
    ...failing,
    id: `echo/tcp/${i + 1}`,
  }));
  const big = markdownReport(huge);
  assert.equal((big.match(/^#### /gm) ?? []).length, MAX_DETAILED);
  assert.ok(big.includes("30 more failing cases, without details:"));
  assert.ok(big.length < 200_000, `${big.length} characters`);
});

Deno.test("Markdown: an interrupted or sharded run says so; backticks in messages stay code", () => {
  const report = { ...sampleReport(), interrupted: true, shard: { index: 2, count: 4 } };
  report.targets[0].results[1].message = "got ``` and `x`";
  const md = markdownReport(report);
  assert.ok(md.includes("> The run was interrupted: this report is partial."));
  assert.ok(md.includes(" · shard 2/4"));
  assert.ok(md.includes("```` got ``` and `x` ````"), md);
});
