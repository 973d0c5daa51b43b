/**
 * The Markdown report, sized for a CI step summary (`$GITHUB_STEP_SUMMARY`): the closing
 * line, a table of per-target counts, then each case that fails the run with its
 * requirement, message, hint, re-run command and evidence (folded), then unexpected passes,
 * SHOULD warnings, INFO differences and known (expected) failures in short lists, each with
 * its re-run command. Long runs are cut at {@linkcode MAX_DETAILED}
 * detailed failures so the summary stays far below GitHub's 1 MiB limit.
 *
 * @example
 * ```ts
 * import { markdownReport } from "./markdown.ts";
 * import type { RunReport } from "./report.ts";
 * async function summarizeStep(report: RunReport): Promise<void> {
 *   const file = Deno.env.get("GITHUB_STEP_SUMMARY"); // set in a GitHub Actions step
 *   if (file) await Deno.writeTextFile(file, markdownReport(report), { append: true });
 * }
 * ```
 * @module
 */

import {
  byWhom,
  type CaseResult,
  closingLine,
  evidenceLines,
  expectationNote,
  judge,
  leftProcessTargets,
  type RunReport,
  summarize,
  type TargetReport,
} from "./report.ts";
import { escapeControls } from "./console.ts";

/** How many failing cases get full details; the rest are listed in one line each. */
export const MAX_DETAILED = 50;

/** Escapes text for a Markdown table cell or a line of prose (control characters too). */
function md(text: string): string {
  return escapeControls(text).replace(/[\\`*_{}[\]<>()#+!|~]/g, "\\$&").replace(/\r?\n/g, " ");
}

/** Inline code that survives backticks in the text. */
function code(text: string): string {
  const one = escapeControls(text.replace(/\r?\n/g, " "));
  const longest = Math.max(0, ...(one.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = one.startsWith("`") || one.endsWith("`") ? " " : "";
  return `${fence}${pad}${one}${pad}${fence}`;
}

/** A fenced block that survives backtick fences in the text. */
function block(raw: string): string[] {
  const text = escapeControls(raw);
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return [fence + "text", text, fence];
}

function icon(s: ReturnType<typeof summarize>): string {
  return s.failed + s.unexpectedPass > 0 ? "❌" : s.notStrict + s.infoProblems > 0 ? "⚠️" : "✅";
}

/**
 * Renders the Markdown report.
 *
 * @example
 * ```ts
 * import { markdownReport } from "./markdown.ts";
 * import type { RunReport } from "./report.ts";
 * function heading(report: RunReport): string {
 *   return markdownReport(report).split("\n")[0]; // "## ✅ sockspec: 33 passed, 0 failed, 0 skipped"
 * }
 * ```
 */
export function markdownReport(report: RunReport): string {
  const s = summarize(report);
  const out: string[] = [`## ${icon(s)} sockspec: ${closingLine(s)}`, ""];
  const facts = [
    `sockspec ${report.tool.version}`,
    `Deno ${report.runtime.deno} on ${report.runtime.os}/${report.runtime.arch}`,
    `started ${report.startedAt}`,
    `${(report.durationMs / 1000).toFixed(1)} s`,
    report.strict ? "strict (SHOULD failures count)" : "",
    report.seed !== undefined ? `seed ${report.seed}` : "",
    report.shard ? `shard ${report.shard.index}/${report.shard.count}` : "",
    report.mergedFrom ? `merged from ${report.mergedFrom.length} reports` : "",
  ].filter(Boolean);
  out.push(facts.join(" · "), "");
  if (report.interrupted) {
    const by = byWhom(report);
    out.push("> [!WARNING]", `> The run was interrupted${by}: this report is partial.`, "");
  }
  for (const t of leftProcessTargets(report)) {
    out.push(`> [!WARNING]`, `> ${md(t.name)} ${t.says}.`, "");
  }
  out.push(
    "| Target | Passed | Failed | Skipped | Expected | Unexpected pass | Warnings | Total | Time |",
    "| :-- | --: | --: | --: | --: | --: | --: | --: | --: |",
  );
  for (const t of report.targets) {
    const c = summarize(report, t);
    out.push(
      `| ${icon(c)} ${
        md(t.name)
      } | ${c.passed} | ${c.failed} | ${c.skipped} | ${c.expected} | ${c.unexpectedPass} | ${
        c.notStrict + c.infoProblems
      } | ${c.total} | ${(t.durationMs / 1000).toFixed(1)} s |`,
    );
  }
  out.push("");

  const pick = (...js: ReturnType<typeof judge>[]) =>
    report.targets.flatMap((t) =>
      t.results.filter((r) => js.includes(judge(r, report.strict))).map((r) => ({ t, r }))
    );
  const failing = pick("fail");
  if (failing.length) {
    out.push(`### Failures (${failing.length})`, "");
    failing.slice(0, MAX_DETAILED).forEach(({ t, r }) => out.push(...detail(t, r)));
    if (failing.length > MAX_DETAILED) {
      out.push(`${failing.length - MAX_DETAILED} more failing cases, without details:`, "");
      for (const { t, r } of failing.slice(MAX_DETAILED)) out.push(oneLine(t, r));
      out.push("", "See the HTML or JSON report for every detail.", "");
    }
  }
  const lists: [string, { t: TargetReport; r: CaseResult }[], string][] = [
    [
      "Unexpected passes",
      pick("unexpected-pass"),
      "These passed although the expectations file says otherwise: update it.",
    ],
    [
      "SHOULD warnings",
      pick("warn"),
      "SHOULD cases that failed; they do not fail the run without --strict.",
    ],
    [
      "INFO differences",
      pick("info"),
      "INFO cases that observed a value other than SPEC's, or could not observe one; they never fail the run.",
    ],
    [
      "Known failures",
      pick("expected"),
      "Expected by the expectations file; they do not fail the run.",
    ],
  ];
  for (const [title, items, explain] of lists) {
    if (!items.length) continue;
    out.push(`### ${title} (${items.length})`, "", explain, "");
    for (const { t, r } of items.slice(0, 200)) out.push(oneLine(t, r), ...rerunItem(r));
    if (items.length > 200) out.push(`- … and ${items.length - 200} more`);
    out.push("");
  }
  return out.join("\n");
}

function oneLine(t: TargetReport, r: CaseResult): string {
  const note = expectationNote(r);
  return `- **${md(t.name)}** ${code(r.id)} (${r.level}, ${r.verdict}): ${md(r.message)}${
    note ? ` — ${md(note)}` : ""
  }`;
}

function detail(t: TargetReport, r: CaseResult): string[] {
  const note = expectationNote(r);
  return [
    `#### ${r.verdict === "ERROR" ? "💥" : "❌"} ${md(t.name)} · ${
      code(r.id)
    } (${r.level} ${r.verdict})`,
    "",
    `> ${md(r.requirement)}`,
    "",
    code(r.message),
    ...(note ? ["", md(note)] : []),
    ...explainMarkdown(r),
    "",
    "<details><summary>Evidence</summary>",
    "",
    ...block(evidenceLines(r, 12).join("\n")),
    "",
    "</details>",
    "",
  ];
}

/** The hint and the re-run command of a detailed failure, as Markdown lines. */
function explainMarkdown(r: CaseResult): string[] {
  return [
    ...(r.hint ? ["", `**Hint:** ${md(r.hint)}`] : []),
    ...(r.rerun ? ["", `Re-run: ${code(r.rerun)}`] : []),
  ];
}

/** The re-run command under a list item. */
function rerunItem(r: CaseResult): string[] {
  return r.rerun ? [`  - re-run: ${code(r.rerun)}`] : [];
}
