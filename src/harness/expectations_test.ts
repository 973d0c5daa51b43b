import assert from "node:assert/strict";
import { allCases } from "../../conformance/mod.ts";
import {
  applyExpectations,
  expectationFor,
  ExpectationsError,
  loadExpectFile,
  loadExpectFiles,
  parseExpectFile,
  unknownCaseIds,
  unknownTargets,
} from "./expectations.ts";
import { judge, summarize } from "../reports/report.ts";
import { sampleReport } from "../testdata/sample_report.ts";

Deno.test("parseExpectFile: manifest paths relative to the file, verdicts, objects and *", () => {
  const file = parseExpectFile(
    "/srv/ci/known.expect.json",
    JSON.stringify({
      "../targets/my-echo-tcp.json": {
        "echo/tcp/2": "FAIL",
        "echo/tcp/3": { verdict: "ERROR", message: "ready" },
        "echo/tcp/10": { verdict: "PASS", observed: { chunkSize: 16 } },
        "*": "PASS",
      },
      "./x/../y.json": { "echo/unix/1": "SKIP" },
    }),
  );
  assert.equal(file.path, "/srv/ci/known.expect.json");
  assert.deepEqual(file.entries.map((e) => e.manifest), [
    "/srv/targets/my-echo-tcp.json",
    "/srv/ci/y.json",
  ]);
  assert.deepEqual(file.entries[0].cases["echo/tcp/3"], { verdict: "ERROR", message: "ready" });
  assert.equal(file.entries[0].others, "PASS");
  assert.equal(file.entries[1].others, undefined);
});

Deno.test("parseExpectFile: errors name the file, the manifest and the case", () => {
  const bad: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [
      { "m.json": { "echo/tcp/1": "BROKEN" } },
      /"m\.json" "echo\/tcp\/1": the verdict must be one of PASS, FAIL, SKIP, ERROR/,
    ],
    [{ "m.json": { "echo/tcp/1": { verdict: "FAIL", msg: "x" } } }, /unknown key 'msg'/],
    [{ "m.json": { "echo/tcp/1": { verdict: "FAIL", message: 3 } } }, /message must be a string/],
    [{ "m.json": { "echo/tcp/1": { verdict: "PASS", observed: { a: [1] } } } }, /observed must be/],
    [{ "m.json": { "*": { verdict: "PASS", message: "x" } } }, /"\*": gives only a verdict/],
    [{ "m.json": ["echo/tcp/1"] }, /must be an object mapping case ids/],
    [
      { "my-echo": { "echo/tcp/1": "FAIL" } },
      /keys are manifest paths relative to this file, ending in \.json/,
    ],
  ];
  for (const [json, re] of bad) {
    assert.throws(
      () => parseExpectFile("/srv/known.expect.json", JSON.stringify(json)),
      (err: Error) =>
        err instanceof ExpectationsError && /^\/srv\/known\.expect\.json: /.test(err.message) &&
        re.test(err.message),
      JSON.stringify(json),
    );
  }
  assert.throws(() => parseExpectFile("k.json", "{"), /k\.json: invalid JSON/);
});

Deno.test("expectationFor: a listed id wins; * covers MUST cases only; last file wins", () => {
  const a = parseExpectFile(
    "/e/a.expect.json",
    JSON.stringify({
      "t.json": { "echo/tcp/2": "FAIL", "*": "PASS" },
    }),
  );
  const b = parseExpectFile(
    "/e/b.expect.json",
    JSON.stringify({
      "t.json": { "echo/tcp/3": "ERROR" },
    }),
  );
  assert.deepEqual(expectationFor([a], "/e/t.json", "echo/tcp/2", "MUST"), { verdict: "FAIL" });
  assert.deepEqual(expectationFor([a], "/e/t.json", "echo/tcp/1", "MUST"), { verdict: "PASS" });
  assert.equal(expectationFor([a], "/e/t.json", "echo/tcp/9", "SHOULD"), undefined);
  assert.equal(expectationFor([a], "/e/other.json", "echo/tcp/2", "MUST"), undefined);
  assert.equal(expectationFor([a], "built-in", "echo/tcp/2", "MUST"), undefined);
  assert.deepEqual(expectationFor([a, b], "/e/t.json", "echo/tcp/3", "MUST"), { verdict: "ERROR" });
  assert.deepEqual(expectationFor([b, a], "/e/t.json", "echo/tcp/3", "MUST"), { verdict: "PASS" });
  // The manifest path is normalized on both sides.
  assert.deepEqual(expectationFor([a], "/e/x/../t.json", "echo/tcp/2", "MUST"), {
    verdict: "FAIL",
  });
});

Deno.test("applyExpectations sets and clears expectation fields and changes the exit code", () => {
  const report = sampleReport();
  const before = summarize(report);
  assert.equal(before.exitCode, 1);
  const file = parseExpectFile(
    "/srv/targets/known.expect.json",
    JSON.stringify({
      "my-echo-tcp.json": {
        "echo/tcp/2": { verdict: "FAIL", message: "first difference at byte 16" },
        "echo/tcp/3": "ERROR",
      },
      "broken-echo.json": { "echo/tcp/1": "FAIL", "echo/tcp/2": "PASS", "echo/tcp/3": "FAIL" },
    }),
  );
  applyExpectations(report, [file]);
  assert.deepEqual(report.expectations, ["/srv/targets/known.expect.json"]);
  const [tcp, , broken] = report.targets;
  assert.equal(tcp.results[1].expected, "FAIL");
  assert.equal(tcp.results[1].expectedMessage, "first difference at byte 16");
  assert.equal(judge(tcp.results[1], false), "expected");
  assert.equal(judge(tcp.results[2], false), "expected");
  // Fields from before are cleared when the new files say nothing.
  assert.equal(broken.results[4].expected, undefined);
  assert.equal(broken.results[4].expectedObserved, undefined);
  assert.equal(broken.results[2].expectedMessage, undefined);
  const after = summarize(report);
  assert.equal(after.exitCode, 0, JSON.stringify(after));
  assert.equal(after.expected, 4);
});

Deno.test("unknownCaseIds names ids that are no case", () => {
  const file = parseExpectFile(
    "/e/a.expect.json",
    '{"t.json": {"echo/tcp/1": "PASS", "echo/tcp/99": "FAIL", "*": "PASS"}}',
  );
  const problems = unknownCaseIds([file], allCases.map((c) => c.id));
  assert.equal(problems.length, 1);
  assert.match(
    problems[0],
    /\/e\/a\.expect\.json: \/e\/t\.json: no case 'echo\/tcp\/99' exists; see sockspec check --list/,
  );
});

Deno.test("the repo's fixture expectation files parse, and name existing manifests and cases", async () => {
  const root = new URL("../../fixtures/", import.meta.url).pathname;
  const files = await loadExpectFiles(root);
  assert.ok(files.length > 0, `no *.expect.json under ${root}`);
  for (const file of files) {
    for (const entry of file.entries) {
      const info = await Deno.stat(entry.manifest.replace(/#[^/]*$/, "")).catch(() => null);
      assert.ok(info?.isFile, `${file.path}: ${entry.manifest} does not exist`);
    }
  }
  assert.deepEqual(unknownCaseIds(files, allCases.map((c) => c.id)), []);
  await assert.rejects(
    () => loadExpectFile("/nonexistent/known.expect.json"),
    /\/nonexistent\/known\.expect\.json: cannot read the expectations file/,
  );
});

Deno.test("case keys are patterns: the most specific key that matches wins", () => {
  const file = parseExpectFile(
    "/e/a.expect.json",
    JSON.stringify({
      "t.json": {
        "*": "PASS",
        "echo/tcp": "FAIL",
        "echo/*/4": "ERROR",
        "echo/tcp/1": "SKIP",
        "**/9": { verdict: "FAIL", message: "serial" },
      },
    }),
  );
  const want = (id: string, level: "MUST" | "SHOULD" = "MUST") =>
    expectationFor([file], "/e/t.json", id, level)?.verdict;
  assert.equal(want("echo/tcp/1"), "SKIP", "an exact id beats the family");
  assert.equal(want("echo/tcp/10"), "FAIL", "echo/tcp/1 does not select echo/tcp/10");
  assert.equal(want("echo/tcp/11"), "FAIL");
  assert.equal(want("echo/tcp/4"), "ERROR", "echo/*/4 has as many literals, more components");
  assert.equal(want("echo/unix/4"), "ERROR");
  assert.equal(want("echo/unix/9", "SHOULD"), "FAIL", "a pattern key covers every level");
  assert.equal(want("echo/unix/1"), "PASS", '"*" covers the MUST cases no key matches');
  assert.equal(want("echo/unix/1", "SHOULD"), undefined, '"*" covers MUST cases only');
});

Deno.test("a malformed case key is an error naming the file, manifest and key", () => {
  assert.throws(
    () => parseExpectFile("/e/a.expect.json", '{"t.json": {"echo//1": "FAIL"}}'),
    (e: unknown) =>
      e instanceof ExpectationsError &&
      /a\.expect\.json: "t\.json" "echo\/\/1": 'echo\/\/1' has an empty component/.test(e.message),
  );
});

Deno.test("unknownCaseIds takes patterns; unknownTargets names manifests not in the run", () => {
  const file = parseExpectFile(
    "/e/a.expect.json",
    '{"t.json": {"echo/*/1": "PASS", "echo/tcp/1/2": "FAIL", "echo/sctp": "FAIL"}}',
  );
  const problems = unknownCaseIds([file], allCases.map((c) => c.id));
  assert.deepEqual(problems.map((p) => /no case '([^']*)'/.exec(p)?.[1]), [
    "echo/tcp/1/2",
    "echo/sctp",
  ]);
  assert.deepEqual(unknownTargets([file], ["/e/t.json", "built-in"]), []);
  const strangers = unknownTargets([file], ["/e/other.json"]);
  assert.equal(strangers.length, 1);
  assert.match(strangers[0], /a\.expect\.json: key "\/e\/t\.json" names no target of this run/);
});
