import assert from "node:assert/strict";
import { JSON_SCHEMA_PATH, jsonReport, parseJsonReport, ReportFileError } from "./json.ts";
import { summarize } from "./report.ts";
import { sampleReport } from "../testdata/sample_report.ts";
import { reportValidator } from "../testdata/validators.ts";

Deno.test(`the JSON report validates against ${JSON_SCHEMA_PATH}`, async () => {
  const validate = await reportValidator();
  const report = sampleReport();
  const doc = JSON.parse(jsonReport(report));
  assert.deepEqual(validate(doc), []);
  assert.deepEqual(doc.summary, summarize(report));
  assert.equal(doc.formatVersion, 1);
  assert.deepEqual(Object.keys(doc).at(-1), "targets");
  // Shard and merge metadata are part of the schema too.
  const shard = { ...report, shard: { index: 2, count: 3 }, expectations: ["/e/k.expect.json"] };
  assert.deepEqual(validate(JSON.parse(jsonReport(shard))), []);
  const merged = {
    ...report,
    mergedFrom: [{ shard: "1/2", startedAt: report.startedAt, durationMs: 5 }],
  };
  assert.deepEqual(validate(JSON.parse(jsonReport(merged))), []);
});

Deno.test("the schema rejects reports that drift from the model", async () => {
  const validate = await reportValidator();
  // deno-lint-ignore no-explicit-any
  const mutations: [string, (doc: any) => void, RegExp][] = [
    ["bad verdict", (d) => (d.targets[0].results[0].verdict = "OK"), /verdict/],
    ["unknown field", (d) => (d.targets[0].results[0].extra = 1), /additional properties/],
    ["missing message", (d) => delete d.targets[0].results[0].message, /message/],
    ["bad hex", (d) => (d.targets[0].results[1].evidence.bytes[0].hex = "zz"), /hex/],
    ["bad date", (d) => (d.startedAt = "yesterday"), /startedAt/],
    ["no summary", (d) => delete d.summary, /summary/],
    ["version 2", (d) => (d.formatVersion = 2), /formatVersion/],
    ["bad wire kind", (d) => (d.targets[0].results[1].evidence.wire[0].kind = "x"), /wire/],
    ["wire µs not whole", (d) => (d.targets[0].results[1].evidence.wire[0].atUs = 1.5), /atUs/],
    ["bad diff kind", (d) => (d.targets[0].results[1].evidence.diffs[0].kind = "x"), /diffs/],
    ["bad rerun", (d) => (d.targets[0].results[1].rerun = "rm -rf /"), /rerun/],
  ];
  for (const [what, mutate, re] of mutations) {
    const doc = JSON.parse(jsonReport(sampleReport()));
    mutate(doc);
    const errors = validate(doc);
    assert.ok(errors.length > 0, `${what}: the schema accepted it`);
    assert.match(errors.join("\n"), re, what);
  }
});

Deno.test("parseJsonReport reads a report back, and names the file on bad input", () => {
  const report = sampleReport();
  const back = parseJsonReport(jsonReport(report), "r.json");
  assert.deepEqual(back, report);
  const bad: [string, RegExp][] = [
    ["{", /^x\.json: invalid JSON/],
    ["[]", /^x\.json: not a sockspec JSON report \(not an object\)/],
    ['{"tool": {"name": "other"}}', /tool\.name is not sockspec/],
    [
      JSON.stringify({ ...report, formatVersion: 9 }),
      /^x\.json: report format version 9; this sockspec reads version 1/,
    ],
    [JSON.stringify({ ...report, targets: [{ name: "t" }] }), /targets\[0\] lacks/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => parseJsonReport(text, "x.json"),
      (e: Error) => e instanceof ReportFileError && re.test(e.message),
      text,
    );
  }
});

Deno.test("the schema compiles under stock ajv strict mode, with no option beyond the draft", async () => {
  const { Ajv2020 } = await import("npm:ajv@8.17.1/dist/2020.js");
  const ajvFormats = await import("npm:ajv-formats@3.0.1");
  const schema = JSON.parse(
    await Deno.readTextFile(new URL(`../../${JSON_SCHEMA_PATH}`, import.meta.url)),
  );
  const ajv = new Ajv2020({ strict: true });
  // ajv-formats is CommonJS: its function is the default export (or that one's default)
  const add = ajvFormats.default as unknown as ((a: unknown) => void) & {
    default?: (a: unknown) => void;
  };
  (add.default ?? add)(ajv);
  const validate = ajv.compile(schema);
  const doc = JSON.parse(jsonReport(sampleReport()));
  assert.ok(doc.targets[0].results[1].evidence.wire.length > 5, "the sample carries a wire log");
  assert.equal(doc.seed, 12345);
  assert.ok(validate(doc), JSON.stringify(validate.errors));
});
