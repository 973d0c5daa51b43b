/**
 * The JUnit XML report, for CI systems that read test results: one `<testsuite>` per
 * target, one `<testcase>` per case (name: the case id, classname: its family). The XML
 * follows the run's judgement (see {@linkcode judge}), so the failure and error counts a CI
 * shows agree with the exit code:
 *
 * | result                                   | element                                   |
 * | ---------------------------------------- | ----------------------------------------- |
 * | PASS                                     | (none)                                    |
 * | FAIL that fails the run                  | `<failure type="MUST">` (or SHOULD)        |
 * | ERROR that fails the run                 | `<error type="MUST">`                      |
 * | SKIP                                     | `<skipped>` with the reason               |
 * | expected FAIL/ERROR (expectations file)  | `<skipped type="expected-fail">`          |
 * | unexpected PASS                          | `<failure type="unexpected-pass">`        |
 * | result that does not fit its expectation | `<failure type="unexpected">` (or error)  |
 * | SHOULD failure without `--strict`, INFO  | (none; `WARN` in `<system-out>`)          |
 *
 * So that a SHOULD warning is visible in CI without `--strict`, every testcase carries
 * properties `sockspec.level`, `sockspec.verdict` and `sockspec.judgement` (`warn` for it;
 * `sockspec.rerun` for any result but a PASS), its message and evidence go to
 * `<system-out>`, and each suite's properties count `sockspec.warnings` and `sockspec.info`.
 *
 * The body of each element holds the requirement, the message and the evidence; every
 * testcase's `<system-out>` holds the requirement, the message and observed values. The
 * schema is `schemas/junit.xsd`.
 *
 * @example
 * ```ts
 * import { junitReport } from "./junit.ts";
 * import type { RunReport } from "./report.ts";
 * async function save(report: RunReport, dir: string): Promise<void> {
 *   await Deno.writeTextFile(`${dir}/junit.xml`, junitReport(report));
 * }
 * ```
 * @module
 */

import {
  type CaseResult,
  evidenceLines,
  expectationNote,
  judge,
  type RunReport,
  summarize,
  type TargetReport,
} from "./report.ts";

/** The schema file, relative to the repository root. */
export const JUNIT_SCHEMA_PATH = "schemas/junit.xsd";

/**
 * Text made safe for XML 1.0: characters XML cannot carry at all (control characters,
 * lone surrogates, U+FFFE/U+FFFF) are written as `\xNN` / `\uNNNN` text.
 *
 * @example
 * ```ts
 * import { xmlSafe } from "./junit.ts";
 * xmlSafe("a\x1bb"); // "a\\x1bb"
 * ```
 */
export function xmlSafe(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
    },
  );
}

function text(s: string): string {
  return xmlSafe(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;")
    .replace(/\t/g, "&#9;");
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

interface Element {
  tag: "failure" | "error" | "skipped";
  type: string;
  message: string;
}

/** What one result becomes in JUnit (see the module doc). */
function elementOf(r: CaseResult, strict: boolean): Element | undefined {
  const note = expectationNote(r);
  const withNote = note ? `${note}: ${r.message}` : r.message;
  switch (judge(r, strict)) {
    case "pass":
    case "warn":
    case "info":
      return undefined;
    case "skip":
      return { tag: "skipped", type: r.expected ? "expected-skip" : "skip", message: r.message };
    case "expected":
      return { tag: "skipped", type: "expected-fail", message: withNote };
    case "unexpected-pass":
      return { tag: "failure", type: "unexpected-pass", message: withNote };
    case "fail":
      if (r.expected !== undefined) {
        return {
          tag: r.verdict === "ERROR" ? "error" : "failure",
          type: "unexpected",
          message: withNote,
        };
      }
      return {
        tag: r.verdict === "ERROR" ? "error" : "failure",
        type: r.level,
        message: r.message,
      };
  }
}

function testcase(target: TargetReport, r: CaseResult, strict: boolean, out: string[]): void {
  const el = elementOf(r, strict);
  const j = judge(r, strict);
  out.push(
    `    <testcase name="${attr(r.id)}" classname="${attr(r.family)}" time="${
      seconds(r.durationMs)
    }">`,
  );
  out.push(...caseProperties(r, j));
  if (el) {
    const body = [
      `${r.level} ${r.id} against ${target.name}: ${r.requirement}`,
      `${r.verdict}: ${r.message}`,
      ...(expectationNote(r) ? [expectationNote(r)] : []),
      ...(el.tag === "skipped" && j === "skip" ? [] : evidenceLines(r)),
    ].join("\n");
    out.push(
      `      <${el.tag} type="${attr(el.type)}" message="${attr(el.message)}">${
        text(body)
      }</${el.tag}>`,
    );
  }
  const observed = Object.entries(r.observed);
  const sysout = [
    `${r.level}: ${r.requirement}`,
    `${j === "warn" ? "WARN (SHOULD, not counted without --strict) " : ""}${
      j === "info" ? "INFO differs from SPEC or could not observe: " : ""
    }${r.verdict}: ${r.message}`,
    ...(observed.length
      ? [`observed: ${observed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`]
      : []),
    ...((j === "warn" || j === "info") ? evidenceLines(r) : []),
  ].join("\n");
  out.push(`      <system-out>${text(sysout)}</system-out>`);
  out.push(`    </testcase>`);
}

/**
 * Renders the JUnit XML report.
 *
 * @example
 * ```ts
 * import { junitReport } from "./junit.ts";
 * import type { RunReport } from "./report.ts";
 * function isXml(report: RunReport): boolean {
 *   return junitReport(report).startsWith('<?xml version="1.0" encoding="UTF-8"?>'); // true
 * }
 * ```
 */
export function junitReport(report: RunReport): string {
  const count = (t: TargetReport, tag: Element["tag"]) =>
    t.results.filter((r) => elementOf(r, report.strict)?.tag === tag).length;
  const total = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const suites: string[] = [];
  report.targets.forEach((t, i) => {
    const c = {
      tests: t.results.length,
      failures: count(t, "failure"),
      errors: count(t, "error"),
      skipped: count(t, "skipped"),
    };
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += c[k];
    suites.push(
      `  <testsuite name="${
        attr(t.name)
      }" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${
        seconds(t.durationMs)
      }" timestamp="${attr(report.startedAt)}" id="${i}" file="${attr(t.source)}">`,
    );
    const props: [string, string][] = [
      ["kind", t.kind],
      ["source", t.source],
      ...(t.description ? [["description", t.description] as [string, string]] : []),
      ["sockspec", report.tool.version],
      ["deno", report.runtime.deno],
      ["strict", String(report.strict)],
      ...(report.seed !== undefined ? [["seed", String(report.seed)] as [string, string]] : []),
      ...(report.shard
        ? [["shard", `${report.shard.index}/${report.shard.count}`] as [string, string]]
        : []),
      ...(report.interrupted ? [["interrupted", "true"] as [string, string]] : []),
    ];
    props.push(...suiteCounts(report, t));
    suites.push(`    <properties>`);
    for (const [name, value] of props) {
      suites.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    }
    suites.push(`    </properties>`);
    for (const r of t.results) testcase(t, r, report.strict, suites);
    suites.push(`  </testsuite>`);
  });
  const s = summarize(report);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!-- sockspec ${
      attr(report.tool.version)
    }: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${
      s.expected ? `, ${s.expected} expected failures` : ""
    }${s.unexpectedPass ? `, ${s.unexpectedPass} unexpected passes` : ""}${
      report.interrupted ? "; interrupted, partial" : ""
    } -->`,
    `<testsuites name="sockspec" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" skipped="${total.skipped}" time="${
      seconds(report.durationMs)
    }" timestamp="${attr(report.startedAt)}">`,
    ...suites,
    `</testsuites>`,
    "",
  ].join("\n");
}

/**
 * A testcase's own properties, so a CI that hides `<system-out>` still shows how a SHOULD or
 * INFO result that does not fail the run came out: `sockspec.level`, `sockspec.verdict`,
 * `sockspec.judgement` (see `judge`), and `sockspec.rerun` for a result that is not a PASS.
 */
function caseProperties(r: CaseResult, j: ReturnType<typeof judge>): string[] {
  const props: [string, string][] = [
    ["sockspec.level", r.level],
    ["sockspec.verdict", r.verdict],
    ["sockspec.judgement", j],
    ...(r.rerun ? [["sockspec.rerun", r.rerun] as [string, string]] : []),
  ];
  return [
    `      <properties>`,
    ...props.map(([name, value]) =>
      `        <property name="${attr(name)}" value="${attr(value)}"/>`
    ),
    `      </properties>`,
  ];
}

/**
 * A suite's counts of results that JUnit's own counts leave out: `sockspec.warnings` (SHOULD
 * FAIL or ERROR without `--strict`), `sockspec.info` (INFO FAIL or ERROR), `sockspec.expected`.
 */
function suiteCounts(report: RunReport, t: TargetReport): [string, string][] {
  const c = summarize(report, t);
  return [
    ["sockspec.warnings", String(c.notStrict)],
    ["sockspec.info", String(c.infoProblems)],
    ["sockspec.expected", String(c.expected)],
  ];
}
