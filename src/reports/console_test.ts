import assert from "node:assert/strict";
import { consoleReport, Progress } from "./console.ts";
import { sampleReport } from "../testdata/sample_report.ts";

Deno.test("console report: labels, expectation notes, closing line", () => {
  const text = consoleReport(sampleReport());
  const lines = text.split("\n");
  assert.equal(
    lines.at(-1),
    "6 passed, 3 failed, 1 skipped, 1 expected failure, 1 unexpected pass " +
      "(1 SHOULD failure not counted, 1 INFO differs from SPEC)",
  );
  assert.match(text, /^ {4}FAIL {3}MUST {3}echo\/tcp\/2 /m);
  assert.match(text, /^ {4}ERROR {2}MUST {3}echo\/tcp\/3 /m);
  assert.match(text, /^ {4}WARN {3}SHOULD echo\/tcp\/9 /m);
  assert.match(text, /^ {4}XFAIL {2}MUST {3}echo\/tcp\/1 .* \(expected FAIL\)$/m);
  assert.match(
    text,
    /^ {4}XPASS {2}MUST {3}echo\/tcp\/2 .* \(UNEXPECTED: expected FAIL, got PASS\)$/m,
  );
  assert.match(
    text,
    /1 case\(s\) passed that the expectations say should not: update the expectations file/,
  );
  assert.ok(!text.includes("\x1b[32m"), "no colour unless asked");
  assert.ok(consoleReport(sampleReport(), { color: true }).includes("\x1b[32mPASS"));
});

Deno.test("progress: one plain line per result when not on a terminal", () => {
  const out: string[] = [];
  const report = sampleReport();
  const p = new Progress({ total: 3, live: false, write: (t) => out.push(t) });
  const [a, b] = report.targets[0].results;
  p.start("t1", a.id);
  p.start("t2", b.id);
  p.result("t1", a);
  p.result("t2", b);
  p.result("t3", report.targets[2].results[1]);
  p.done();
  assert.deepEqual(out, [
    "[1/3] t1 echo/tcp/1 PASS (110 ms)\n",
    "[2/3] t2 echo/tcp/2 FAIL (110 ms)\n",
    "[3/3] t3 echo/tcp/2 XPASS (110 ms)\n",
  ]);
});

Deno.test("progress: one live line on a terminal, rewritten in place, cut to the width, cleared", () => {
  const out: string[] = [];
  const report = sampleReport();
  const p = new Progress({ total: 40, live: true, write: (t) => out.push(t), columns: () => 60 });
  const [a, b] = report.targets[0].results;
  p.start("reference-echo-tcp", a.id);
  p.start("reference-echo-unix", b.id);
  p.result("reference-echo-unix", b);
  p.start("reference-echo-unix", "echo/unix/4");
  p.done();
  assert.ok(out.every((t) => !t.includes("\n")), "no newlines in live mode");
  assert.ok(out.slice(0, -1).every((t) => t.startsWith("\r\x1b[K")));
  assert.equal(out[0], "\r\x1b[K[0/40] running reference-echo-tcp echo/tcp/1");
  assert.equal(out[1], "\r\x1b[K[0/40] running reference-echo-tcp echo/tcp/1 (+1 more)");
  assert.equal(out[2], "\r\x1b[K[1/40] 1 failed running reference-echo-tcp echo/tcp/1");
  assert.equal(out[3], "\r\x1b[K[1/40] 1 failed running reference-echo-tcp echo/tcp/1 (+...");
  assert.ok(out.every((t) => t.replace("\r\x1b[K", "").length <= 59));
  assert.equal(out.at(-1), "\r\x1b[K");
  const narrow: string[] = [];
  const q = new Progress({ total: 1, live: true, write: (t) => narrow.push(t), columns: () => 30 });
  q.start("a-very-long-target-name-indeed", "echo/tcp/1");
  assert.equal(narrow[0], "\r\x1b[K[0/1] running a-very-long-...");
});

Deno.test("console and HTML reports head each family with its title", async () => {
  const { htmlReport } = await import("./html.ts");
  const report = sampleReport();
  for (const t of report.targets) {
    for (const r of t.results) if (r.family === "echo/tcp") r.familyTitle = "Stream echo over TCP";
  }
  assert.match(consoleReport(report), /^ {2}echo\/tcp: Stream echo over TCP$/m);
  assert.match(htmlReport(report), /echo\/tcp <span class="title">Stream echo over TCP<\/span>/);
});
