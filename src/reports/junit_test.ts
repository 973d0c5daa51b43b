import assert from "node:assert/strict";
import { JUNIT_SCHEMA_PATH, junitReport, xmlSafe } from "./junit.ts";
import { summarize } from "./report.ts";
import { sampleReport } from "../testdata/sample_report.ts";
import { xmllint } from "../testdata/validators.ts";

async function validateText(xml: string): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-junit-" });
  try {
    await Deno.writeTextFile(`${dir}/junit.xml`, xml);
    return await xmllint.validate(`${dir}/junit.xml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: xmllint.available
    ? `JUnit XML validates against ${JUNIT_SCHEMA_PATH} (xmllint), and the XSD rejects drift`
    : `JUnit XSD validation SKIPPED: ${xmllint.missing}`,
  ignore: !xmllint.available,
  async fn() {
    assert.deepEqual(await validateText(junitReport(sampleReport())), []);
    const interrupted = { ...sampleReport(), interrupted: true, shard: { index: 1, count: 2 } };
    assert.deepEqual(await validateText(junitReport(interrupted)), []);
    const good = junitReport(sampleReport());
    const drifts: [string, string][] = [
      ["testcase without name", good.replace('<testcase name="echo/tcp/1"', "<testcase")],
      ["failure without type", good.replace('<failure type="MUST"', "<failure")],
      [
        "two problems in one testcase",
        good.replace("<system-out>", "<skipped/><skipped/><system-out>"),
      ],
      ["unknown element", good.replace("<properties>", "<properties><x/>")],
      ["bad time", good.replace(/time="0\.110"/, 'time="soon"')],
    ];
    for (const [what, xml] of drifts) {
      assert.notEqual(xml, good, `${what}: the mutation did not apply`);
      assert.ok((await validateText(xml)).length > 0, `${what}: the XSD accepted it`);
    }
  },
});

Deno.test("JUnit: one testsuite per target, one testcase per case, elements follow the judgement", () => {
  const report = sampleReport();
  const xml = junitReport(report);
  const suites = [
    ...xml.matchAll(
      /<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/g,
    ),
  ]
    .map((m) => m.slice(1).join(" "));
  assert.deepEqual(suites, [
    "my-echo-tcp 5 1 1 0",
    "my-echo-unix 3 0 0 1",
    "broken-echo 6 2 0 1",
  ]);
  assert.match(
    xml,
    /<testsuites name="sockspec" tests="14" failures="3" errors="1" skipped="2" time="4\.321"/,
  );
  // failures + errors = what fails the run.
  const s = summarize(report);
  assert.equal(3 + 1, s.failed + s.unexpectedPass);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 14);
  assert.match(
    xml,
    /<testcase name="echo\/tcp\/2" classname="echo\/tcp" time="0\.110">\n {6}<properties>[^]*?<\/properties>\n {6}<failure type="MUST" message="echo differs: first difference at byte 16: sent b'age\. {2}It', got b'\\x00\\x1b\[31m&lt;\/'">MUST echo\/tcp\/2 against my-echo-tcp: Requirement of echo\/tcp\/2: the echo comes back &lt;exactly&gt; &amp; "byte-exact"\./,
  );
  // Evidence in the body: hex and repr, tails; control characters made XML-safe.
  assert.match(xml, / {2}hex: 54686973206973/);
  assert.match(xml, / {2}repr: b'This is the mess\\x00\\x1b\[31m&lt;\/script&gt;&lt;b&gt;\|`x`\|'/);
  assert.match(xml, /Broken pipe \\x07 &lt;script&gt;/);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(xml), "no raw control characters");
  assert.match(
    xml,
    /<error type="MUST" message="target 'my-echo-tcp' did not become ready within 5000 ms">/,
  );
  assert.match(
    xml,
    /<skipped type="skip" message="the manifest declares no properties\.chunkSize"/,
  );
  assert.match(
    xml,
    /<skipped type="expected-fail" message="expected FAIL: echo ended after 32 of 42 bytes">/,
  );
  assert.match(
    xml,
    /<failure type="unexpected-pass" message="UNEXPECTED: expected FAIL, got PASS: the echo reassembles">/,
  );
  assert.match(
    xml,
    /<failure type="unexpected" message="UNEXPECTED: expected the message to contain &quot;stalled&quot;: echo differs at byte 3">/,
  );
  // A SHOULD failure without --strict is no <failure>, but says WARN; with --strict it is one.
  const should =
    /<testcase name="echo\/tcp\/9"[^>]*>\n\s*<properties>[^]*?<\/properties>\n\s*<system-out>SHOULD: [^\n]*\nWARN \(SHOULD, not counted without --strict\) FAIL: a second client/;
  assert.match(xml, should);
  const strict = junitReport({ ...report, strict: true });
  assert.match(
    strict,
    /<testcase name="echo\/tcp\/9"[^>]*>\n\s*<properties>[^]*?<\/properties>\n\s*<failure type="SHOULD"/,
  );
  assert.match(xml, /<property name="source" value="\/srv\/targets\/my-echo-tcp\.json"\/>/);
  assert.match(
    xml,
    /<property name="description" value="a TCP echo server &lt;v2&gt; &amp; friends"\/>/,
  );
});

Deno.test("xmlSafe writes characters XML cannot carry as escapes", () => {
  assert.equal(xmlSafe("a\x00b\x1bc\td\ne"), "a\\x00b\\x1bc\td\ne");
  assert.equal(xmlSafe("\uD800x\uDC00"), "\\ud800x\\udc00");
  assert.equal(xmlSafe("\uD83D\uDE00 ok"), "\uD83D\uDE00 ok");
  assert.equal(xmlSafe("\uFFFE"), "\\ufffe");
});

Deno.test("JUnit marks SHOULD warnings without --strict: properties, system-out and suite counts", () => {
  const xml = junitReport(sampleReport());
  const testcase = (id: string, suite: string) => {
    const s = xml.slice(xml.indexOf(`<testsuite name="${suite}"`));
    const from = s.indexOf(`<testcase name="${id}"`);
    return s.slice(from, s.indexOf("</testcase>", from));
  };
  const warn = testcase("echo/tcp/9", "my-echo-tcp");
  assert.doesNotMatch(warn, /<failure|<error/, "a SHOULD warning does not fail the build");
  assert.match(warn, /<property name="sockspec.level" value="SHOULD"\/>/);
  assert.match(warn, /<property name="sockspec.verdict" value="FAIL"\/>/);
  assert.match(warn, /<property name="sockspec.judgement" value="warn"\/>/);
  assert.match(
    warn,
    /<system-out>[^<]*WARN \(SHOULD, not counted without --strict\) FAIL: a second client/,
  );
  assert.match(
    warn,
    /<property name="sockspec.rerun" value="deno task sockspec check --target \/srv\/targets\/my-echo-tcp.json echo\/tcp\/9 --seed 12345"\/>/,
  );
  const info = testcase("echo/unix/10", "my-echo-unix");
  assert.match(info, /<property name="sockspec.judgement" value="info"\/>/);
  const suite = (name: string) =>
    xml.slice(xml.indexOf(`<testsuite name="${name}"`)).split("<testcase")[0];
  assert.match(suite("my-echo-tcp"), /<property name="sockspec.warnings" value="1"\/>/);
  assert.match(suite("my-echo-unix"), /<property name="sockspec.info" value="1"\/>/);
  assert.match(suite("my-echo-tcp"), /<property name="seed" value="12345"\/>/);
  const pass = testcase("echo/tcp/1", "my-echo-tcp");
  assert.match(pass, /<property name="sockspec.judgement" value="pass"\/>/);
  assert.doesNotMatch(pass, /sockspec.rerun/);
  // with --strict the same result is a failure
  const strict = junitReport({ ...sampleReport(), strict: true });
  assert.match(strict, /<testcase name="echo\/tcp\/9"[^]*?<failure type="SHOULD"/);
});
