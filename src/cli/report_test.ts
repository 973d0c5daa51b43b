import assert from "node:assert/strict";
import { writeReports } from "./report.ts";
import { sampleReport } from "../testdata/sample_report.ts";

Deno.test("a markdown report to $GITHUB_STEP_SUMMARY is appended; other files are replaced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-summary-" });
  const before = Deno.env.get("GITHUB_STEP_SUMMARY");
  try {
    const summary = `${dir}/step_summary.md`;
    const other = `${dir}/other.md`;
    await Deno.writeTextFile(summary, "# an earlier step\n");
    await Deno.writeTextFile(other, "old\n");
    Deno.env.set("GITHUB_STEP_SUMMARY", summary);
    const report = sampleReport();
    for (let i = 0; i < 2; i++) {
      const errors = await writeReports(report, [
        { format: "markdown", file: summary },
        { format: "markdown", file: other },
      ]);
      assert.deepEqual(errors, []);
    }
    const text = await Deno.readTextFile(summary);
    const once = await Deno.readTextFile(other);
    assert.ok(text.startsWith("# an earlier step\n"), "the summary was overwritten");
    assert.equal(text, `# an earlier step\n${once}${once}`);
    assert.ok(!once.startsWith("old"), "a plain file is replaced");
  } finally {
    if (before === undefined) Deno.env.delete("GITHUB_STEP_SUMMARY");
    else Deno.env.set("GITHUB_STEP_SUMMARY", before);
    await Deno.remove(dir, { recursive: true });
  }
});
