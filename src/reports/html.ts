/**
 * The HTML report: one self-contained file (inline CSS, script and data; a Content
 * Security Policy forbids any network access at view time) with a matrix of cases (rows,
 * grouped by family) × targets (columns), in the manner of the Autobahn test suite's
 * report. Each cell is coloured by how the result is judged (see {@linkcode judge}) and
 * shows its label and duration. Selecting a cell (click, or Enter on the focused cell)
 * shows the requirement, message, expectation, the case's hint, the command that re-runs it
 * (with the run's seed), the first difference between expected and received bytes (offset,
 * context as hex and repr, the differing byte marked), observed values and the evidence:
 * bytes as a hex dump that fits the panel (a long one shows its head and tail and expands)
 * and as Python repr, timings, notes, the transcript excerpt, the target's stdout/stderr
 * tails, and the wire log as a timeline (connections, reads and writes with their bytes,
 * datagrams, the target's output lines on the same clock) where long runs of similar events
 * fold into one row (`… 4,094 more 16-byte reads …`) that expands. The selection is kept in the URL (`#cell=T/ID`) so it can be linked.
 *
 * @example
 * ```ts
 * import { htmlReport } from "./html.ts";
 * import type { RunReport } from "./report.ts";
 * async function save(report: RunReport, dir: string): Promise<void> {
 *   await Deno.writeTextFile(`${dir}/report.html`, htmlReport(report));
 * }
 * ```
 * @module
 */

import {
  byWhom,
  type CaseResult,
  closingLine,
  expectationNote,
  judge,
  label,
  leftProcessTargets,
  type RunReport,
  summarize,
  timeline,
  type TimelineRow,
} from "./report.ts";
import { describeDiff } from "../case/diff.ts";

/**
 * What the page script reads: the report with each wire log replaced by its timeline
 * (folded, see {@linkcode timeline}) and each diff's sentence, and the judgements.
 */
function pageData(report: RunReport, judged: unknown): unknown {
  const timelines: TimelineRow[][][] = report.targets.map((t) => t.results.map(timeline));
  const slim: RunReport = {
    ...report,
    targets: report.targets.map((t) => ({
      ...t,
      results: t.results.map((r) => {
        const { wire: _wire, ...evidence } = r.evidence;
        return {
          ...r,
          evidence: {
            ...evidence,
            diffs: (r.evidence.diffs ?? []).map((d) => ({ ...d, text: describeDiff(d) })),
          },
        };
      }),
    })),
  };
  return { report: slim, judged, timelines };
}

/** Escapes text for HTML content and attribute values. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  ).replace(/'/g, "&#39;");
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

/** The rows of the matrix: case ids in first-seen order, grouped by family. */
function rowsOf(report: RunReport): { family: string; ids: { id: string; r: CaseResult }[] }[] {
  const seen = new Map<string, CaseResult>();
  for (const t of report.targets) for (const r of t.results) if (!seen.has(r.id)) seen.set(r.id, r);
  const families = new Map<string, { id: string; r: CaseResult }[]>();
  for (const [id, r] of seen) {
    const list = families.get(r.family) ?? [];
    list.push({ id, r });
    families.set(r.family, list);
  }
  return [...families].map(([family, ids]) => ({ family, ids }));
}

const LEGEND: [string, string, string][] = [
  ["pass", "PASS", "the requirement holds"],
  ["fail", "FAIL", "fails the run"],
  ["error", "ERROR", "could not exercise the target; fails the run"],
  ["unexpected-pass", "XPASS", "passed, but the expectations say otherwise; fails the run"],
  ["expected", "XFAIL", "a known failure listed in the expectations; does not fail the run"],
  ["warn", "WARN", "SHOULD failed; counts only with --strict"],
  ["info", "INFO", "an INFO case observed a value other than SPEC's, or none"],
  ["skip", "SKIP", "does not apply here (the reason is in the details)"],
];

/**
 * Renders the HTML report.
 *
 * @example
 * ```ts
 * import { htmlReport } from "./html.ts";
 * import type { RunReport } from "./report.ts";
 * function isPage(report: RunReport): boolean {
 *   return htmlReport(report).startsWith("<!doctype html>"); // true
 * }
 * ```
 */
export function htmlReport(report: RunReport): string {
  const s = summarize(report);
  const rows = rowsOf(report);
  const judged = report.targets.map((t) =>
    t.results.map((r) => ({
      judgement: judge(r, report.strict),
      label: label(r, report.strict),
      note: expectationNote(r),
    }))
  );
  const index = report.targets.map((t) => new Map(t.results.map((r, i) => [r.id, i])));
  const cls = (ti: number, ri: number) => {
    const j = judged[ti][ri].judgement;
    const r = report.targets[ti].results[ri];
    return j === "fail" && r.verdict === "ERROR" ? "error" : j;
  };

  const head = report.targets.map((t) => {
    const c = summarize(report, t);
    const bad = c.failed + c.unexpectedPass;
    return `<th class="target" scope="col" title="${
      esc(`${t.source}${t.description ? `: ${t.description}` : ""}`)
    }"><span class="tname">${esc(t.name)}</span><span class="tcounts">${c.passed}/${c.total} pass${
      bad ? ` · <b>${bad} fail</b>` : ""
    }${c.expected ? ` · ${c.expected} xfail` : ""}</span></th>`;
  }).join("");

  const body: string[] = [];
  for (const { family, ids } of rows) {
    const title = ids[0]?.r.familyTitle;
    body.push(
      `<tr class="family"><th scope="rowgroup" colspan="${report.targets.length + 1}">${
        esc(family)
      }${title ? ` <span class="title">${esc(title)}</span>` : ""}</th></tr>`,
    );
    for (const { id, r } of ids) {
      const cells = report.targets.map((t, ti) => {
        const ri = index[ti].get(id);
        if (ri === undefined) return `<td class="na" title="not run against ${esc(t.name)}">·</td>`;
        const result = t.results[ri];
        const c = cls(ti, ri);
        const lab = judged[ti][ri].label;
        return `<td class="cell ${c}" data-t="${ti}" data-r="${ri}" tabindex="0" role="button" aria-label="${
          esc(`${id} on ${t.name}: ${lab}`)
        }" title="${esc(`${lab}: ${result.message}`)}">${esc(lab)}<small>${
          Math.round(result.durationMs)
        } ms</small></td>`;
      }).join("");
      const problem = report.targets.some((_, ti) => {
        const ri = index[ti].get(id);
        return ri !== undefined && !["pass", "skip"].includes(judged[ti][ri].judgement);
      });
      body.push(
        `<tr class="case${problem ? " problem" : ""}" data-case="${
          esc(id)
        }"><th scope="row" title="${esc(r.requirement)}"><span class="id">${
          esc(id)
        }</span> <span class="lvl lvl-${r.level}">${r.level}</span><span class="req">${
          esc(r.requirement)
        }</span></th>${cells}</tr>`,
      );
    }
  }

  const facts = [
    `sockspec ${report.tool.version}`,
    `Deno ${report.runtime.deno} on ${report.runtime.os}/${report.runtime.arch}`,
    `started ${report.startedAt}`,
    `${(report.durationMs / 1000).toFixed(1)} s`,
    report.strict ? "strict" : "",
    report.seed !== undefined ? `seed ${report.seed}` : "",
    report.shard ? `shard ${report.shard.index}/${report.shard.count}` : "",
    report.mergedFrom ? `merged from ${report.mergedFrom.length} reports` : "",
    report.expectations?.length ? `expectations: ${report.expectations.join(", ")}` : "",
  ].filter(Boolean).map(esc).join(" · ");
  const verdictWord = s.exitCode ? "FAILED" : "PASSED";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sockspec ${esc(report.tool.version)}">
<title>sockspec ${verdictWord}: ${esc(closingLine(s))}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1><span class="badge ${s.exitCode ? "fail" : "pass"}">${verdictWord}</span> sockspec report</h1>
<p class="summary" id="summary">${esc(closingLine(s))}${
    s.notStrict ? ` · ${s.notStrict} SHOULD warnings` : ""
  }${s.infoProblems ? ` · ${s.infoProblems} INFO problems` : ""}</p>
<p class="meta">${facts}</p>
${
    report.interrupted
      ? `<p class="interrupted">The run was interrupted${
        esc(byWhom(report))
      }: this report is partial.</p>`
      : ""
  }${
    leftProcessTargets(report).map((t) => `<p class="left">${esc(t.name)} ${esc(t.says)}.</p>`)
      .join("")
  }
<ul class="legend">${
    LEGEND.map(([c, l, d]) => `<li><span class="chip ${c}">${l}</span> ${esc(d)}</li>`).join("")
  }</ul>
<label class="filter"><input type="checkbox" id="only-problems"> only rows with a result other than PASS or SKIP</label>
</header>
<main>
<div class="matrix-wrap">
<table class="matrix" id="matrix">
<thead><tr><th class="corner" scope="col">Case \\ target</th>${head}</tr></thead>
<tbody>
${body.join("\n")}
</tbody>
</table>
</div>
<aside class="details" id="details" aria-live="polite"><p class="hint">Select a cell to see the requirement, the message and the evidence.</p></aside>
</main>
<script type="application/json" id="sockspec-data">${scriptJson(pageData(report, judged))}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
:root { --pass:#2e9e44; --fail:#d93025; --error:#8e24aa; --xpass:#1565c0; --xfail:#f1a7a0;
  --warn:#f29900; --info:#e8c547; --skip:#b8bcc2; --line:#d6d9dd; --bg:#fff; --fg:#1f2328; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 12px 16px 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 4px; }
.badge { font-size: 13px; padding: 2px 8px; border-radius: 4px; color: #fff; vertical-align: middle; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.summary { font-weight: 600; margin: 2px 0; } .meta { color: #57606a; margin: 2px 0; font-size: 12px; }
.interrupted, .left { background: #fff4e5; border: 1px solid var(--warn); padding: 4px 8px; border-radius: 4px; }
.legend { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: #57606a; }
.chip { display: inline-block; min-width: 46px; text-align: center; padding: 1px 4px; border-radius: 3px; font-weight: 600; font-size: 11px; }
.filter { font-size: 12px; }
main { display: flex; align-items: flex-start; gap: 12px; padding: 12px 16px; }
.matrix-wrap { overflow: auto; max-height: calc(100vh - 150px); flex: 0 1 auto; }
table.matrix { border-collapse: separate; border-spacing: 2px; }
.matrix th, .matrix td { font-size: 12px; }
.matrix thead th { position: sticky; top: 0; background: var(--bg); z-index: 2; vertical-align: bottom; padding: 4px; }
.matrix th.target { min-width: 80px; max-width: 130px; text-align: center; word-break: break-word; }
.tname { display: block; font-weight: 600; } .tcounts { display: block; font-weight: 400; color: #57606a; font-size: 11px; }
.tcounts b { color: var(--fail); }
.matrix th.corner { text-align: left; left: 0; z-index: 3; color: #57606a; font-weight: 400; }
tr.family th { text-align: left; background: #f3f4f6; padding: 3px 6px; font-size: 12px; position: sticky; left: 0; }
tr.family th .title { font-weight: normal; color: #4b5563; }
tr.case th { text-align: left; font-weight: 400; padding: 2px 6px; max-width: 240px; position: sticky; left: 0; background: var(--bg); z-index: 1; }
tr.case th .id { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 600; }
tr.case th .req { display: block; color: #57606a; font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lvl { font-size: 10px; padding: 0 3px; border-radius: 3px; border: 1px solid var(--line); color: #57606a; }
.lvl-MUST { border-color: #999; color: #333; }
td.cell { text-align: center; cursor: pointer; padding: 3px 4px; border-radius: 3px; font-weight: 600; color: #fff; min-width: 64px; outline-offset: 1px; }
td.cell small { display: block; font-weight: 400; font-size: 10px; opacity: .85; }
td.cell:hover { filter: brightness(1.1); } td.cell:focus { outline: 2px solid #0969da; }
td.cell.selected { outline: 3px solid #0969da; }
td.na { text-align: center; color: #bbb; }
.pass { background: var(--pass); color: #fff; } .fail { background: var(--fail); color: #fff; }
.error { background: var(--error); color: #fff; } .unexpected-pass { background: var(--xpass); color: #fff; }
.expected { background: repeating-linear-gradient(135deg, var(--xfail) 0 6px, #f8cbc6 6px 12px); }
.warn { background: var(--warn); color: #fff; } .info { background: var(--info); }
.skip { background: var(--skip); }
td.cell.expected, .chip.expected { color: #7a1c14; }
td.cell.info, .chip.info { color: #4d3d00; }
td.cell.skip, .chip.skip { color: #333; }
body.only-problems tr.case:not(.problem) { display: none; }
aside.details { flex: 1 1 540px; min-width: 320px; max-width: 760px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; position: sticky; top: 12px; max-height: calc(100vh - 40px); overflow: auto; }
aside .hint { color: #57606a; }
aside h2 { font-size: 15px; margin: 0 0 6px; } aside h3 { font-size: 12px; margin: 10px 0 2px; text-transform: uppercase; letter-spacing: .04em; color: #57606a; }
aside pre { background: #f6f8fa; padding: 5px 6px; border-radius: 4px; overflow: auto; font-size: 11px; margin: 2px 0; white-space: pre; }
aside table { border-collapse: collapse; font-size: 12px; } aside td, aside th { border: 1px solid var(--line); padding: 1px 6px; text-align: left; }
aside .msg { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
aside pre.probe { position: absolute; visibility: hidden; }
aside .dump details summary { font-size: 11px; color: #0969da; cursor: pointer; }
aside .hint-text { background: #fff8c5; border-left: 3px solid var(--warn); padding: 3px 8px; margin: 2px 0; }
aside .diff p { margin: 2px 0; } aside .diff table td, aside .diff table th { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; vertical-align: top; }
aside .diff .hexcell { word-break: break-all; } aside .diff mark { background: #ffd7d5; color: #82071e; font-weight: 700; padding: 0 1px; }
aside .diff mark.none { background: #eee; color: #57606a; font-weight: 400; }
aside table.timeline { width: 100%; table-layout: fixed; border-collapse: collapse; }
aside table.timeline th, aside table.timeline td { border: 0; border-bottom: 1px solid #eef0f2; padding: 1px 4px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; vertical-align: top; }
aside table.timeline th:nth-child(1) { width: 72px; } aside table.timeline th:nth-child(2) { width: 64px; } aside table.timeline th:nth-child(3) { width: 18px; } aside table.timeline th:nth-child(4) { width: 38%; }
aside table.timeline td.t { text-align: right; color: #57606a; white-space: nowrap; }
aside table.timeline td.what, aside table.timeline td.repr { white-space: pre-wrap; overflow-wrap: anywhere; }
aside pre.cmd { white-space: pre-wrap; overflow-wrap: anywhere; user-select: all; }
aside pre.wrap { white-space: pre-wrap; overflow-wrap: anywhere; }
aside .diff td.repr { white-space: pre-wrap; overflow-wrap: anywhere; }
aside table.timeline td.repr { color: #0a3069; }
aside tr.ev-stdout td.what, aside tr.ev-stderr td.what { color: #57606a; font-style: italic; }
aside tr.ev-stderr td.what { color: #82071e; }
aside tr.ev-connect-failed td, aside tr.ev-reset td, aside tr.ev-error td, aside tr.ev-exit td { background: #fff1f0; }
aside tr.ev-fold summary { cursor: pointer; color: #0969da; }
aside tr.folded td { background: #f6f8fa; }
@media (max-width: 900px) { main { flex-direction: column; } aside.details { position: static; max-width: none; width: 100%; } }
`;

/** The page script: renders the details of a selected cell from the embedded data. */
const SCRIPT = String.raw`
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("sockspec-data").textContent);
  var details = document.getElementById("details");
  var selected = null;
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }
  function section(title, field, node) {
    details.append(el("h3", {}, [title]));
    if (field) node.setAttribute("data-field", field);
    details.append(node);
  }
  function pre(text, field) { var p = el("pre", field ? { "data-field": field } : {}, [text]); return p; }
  // Bytes per hex dump line: 16 when the panel is wide enough for 16 (offset, hex, ASCII), else 8.
  function perLine() {
    var probe = el("pre", { "class": "probe" }, ["0".repeat(80)]);
    details.append(probe);
    var fits = probe.scrollWidth <= details.clientWidth - 24;
    probe.remove();
    return fits ? 16 : 8;
  }
  function hexdumpLines(hex, n) {
    var lines = [];
    for (var i = 0; i < hex.length; i += 2 * n) {
      var bytes = hex.slice(i, i + 2 * n).match(/../g) || [];
      var ascii = bytes.map(function (b) { var c = parseInt(b, 16); return c >= 32 && c < 127 ? String.fromCharCode(c) : "."; }).join("");
      lines.push((i / 2).toString(16).padStart(4, "0") + "  " + bytes.join(" ").padEnd(3 * n - 1) + "  " + ascii);
    }
    return lines;
  }
  // A hex dump that fits the panel; a long one shows its head and tail and expands on demand.
  function dumpNode(hex) {
    var lines = hexdumpLines(hex, perLine());
    if (lines.length <= 8) return pre(lines.join("\n"), "hex");
    var wrap = el("div", { "data-field": "hex", "class": "dump" });
    var short = pre(lines.slice(0, 4).join("\n") + "\n  \u22ef " + (lines.length - 6) + " more lines \u22ef\n" + lines.slice(-2).join("\n"));
    var full = el("details", {}, [el("summary", {}, ["all " + lines.length + " lines"]), pre(lines.join("\n"))]);
    full.addEventListener("toggle", function () { short.hidden = full.open; });
    wrap.append(short, full);
    return wrap;
  }
  function timelineRow(row) {
    var ms = "+" + (row.atUs / 1000).toFixed(3);
    var tr = el("tr", { "class": "ev ev-" + row.kind }, [
      el("td", { "class": "t" }, [ms]),
      el("td", { "class": "who" }, [row.who]),
      el("td", { "class": "dir" }, [row.arrow]),
      el("td", { "class": "what" }, [row.what]),
      el("td", { "class": "repr" }, [row.repr || ""]),
    ]);
    return tr;
  }
  function timelineNode(rows) {
    var limit = 400;
    var body = el("tbody");
    rows.slice(0, limit).forEach(function (row) {
      if (row.kind !== "fold") { body.append(timelineRow(row)); return; }
      // the folded rows follow the fold's row, hidden until it is opened
      var hidden = row.folded.map(function (f) { var tr = timelineRow(f); tr.classList.add("folded"); tr.hidden = true; return tr; });
      var fold = el("details", { "class": "fold" }, [el("summary", {}, [row.what])]);
      fold.addEventListener("toggle", function () { hidden.forEach(function (tr) { tr.hidden = !fold.open; }); });
      body.append(el("tr", { "class": "ev ev-fold" }, [el("td", { "class": "t" }, ["+" + (row.atUs / 1000).toFixed(3)]), el("td", { "class": "who" }, [row.who]), el("td", { "class": "dir" }, [row.arrow]), el("td", { colspan: "2" }, [fold])]));
      hidden.forEach(function (tr) { body.append(tr); });
    });
    if (rows.length > limit) body.append(el("tr", {}, [el("td", { colspan: "5" }, [(rows.length - limit) + " more rows: see the JSON report"])]));
    var head = el("thead", {}, [el("tr", {}, ["ms", "where", "", "what", "bytes"].map(function (h) { return el("th", {}, [h]); }))]);
    return el("table", { "class": "timeline" }, [head, body]);
  }
  function diffSide(name, side, offset) {
    var bytes = side.hex.match(/../g) || [];
    var cells = bytes.map(function (b, i) {
      return side.start + i === offset ? el("mark", {}, [b]) : b;
    });
    var hexCell = el("td", { "class": "hexcell" }, []);
    cells.forEach(function (c, i) { if (i) hexCell.append(" "); hexCell.append(c); });
    if (!bytes.length || side.start + bytes.length <= offset) { hexCell.append(bytes.length ? " " : ""); hexCell.append(el("mark", { "class": "none" }, ["(end)"])); }
    return el("tr", {}, [el("th", {}, [name]), el("td", {}, ["@" + side.start]), hexCell, el("td", { "class": "repr" }, [side.repr])]);
  }
  function diffNode(d) {
    return el("div", { "class": "diff" }, [
      el("p", {}, [el("strong", {}, [d.label + ": "]), d.text]),
      el("table", {}, [diffSide("expected", d.expected, d.offset), diffSide("actual", d.actual, d.offset)]),
    ]);
  }
  function table(rows) {
    return el("table", {}, rows.map(function (r) { return el("tr", {}, [el("th", {}, [r[0]]), el("td", {}, [r[1]])]); }));
  }
  function show(ti, ri) {
    var t = data.report.targets[ti], r = t.results[ri], j = data.judged[ti][ri];
    if (selected) selected.classList.remove("selected");
    selected = document.querySelector('td.cell[data-t="' + ti + '"][data-r="' + ri + '"]');
    if (selected) selected.classList.add("selected");
    details.replaceChildren();
    details.setAttribute("data-case", r.id);
    details.setAttribute("data-target", t.name);
    var chip = el("span", { "class": "chip " + (j.judgement === "fail" && r.verdict === "ERROR" ? "error" : j.judgement), "data-field": "label" }, [j.label]);
    details.append(el("h2", {}, [chip, " ", el("span", { "data-field": "id" }, [r.id]), " on ", el("span", { "data-field": "target" }, [t.name])]));
    section("Requirement (" + r.level + ")", "requirement", el("p", {}, [r.requirement]));
    section("Message", "message", el("p", { "class": "msg" }, [r.verdict + ": " + r.message]));
    if (j.note) section("Expectation", "expectation", el("p", {}, [j.note]));
    if (r.hint && (r.verdict === "FAIL" || r.verdict === "ERROR")) section("Hint", "hint", el("p", { "class": "hint-text" }, [r.hint]));
    if (r.rerun) section("Re-run this case", "rerun", el("pre", { "class": "cmd" }, [r.rerun]));
    var diffs = r.evidence.diffs || [];
    if (diffs.length) section("First difference", "diff", el("div", {}, diffs.map(diffNode)));
    var obs = Object.keys(r.observed);
    if (obs.length) section("Observed", "observed", table(obs.map(function (k) { return [k, JSON.stringify(r.observed[k])]; })));
    r.evidence.bytes.forEach(function (b) {
      var title = b.label + ": " + b.length + " bytes" + (b.truncated ? " (first " + b.hex.length / 2 + " shown)" : "");
      details.append(el("h3", {}, [title]));
      details.append(dumpNode(b.hex));
      details.append(el("pre", { "data-field": "repr", "class": "wrap" }, [b.repr]));
    });
    var rows = data.timelines[ti][ri];
    if (rows.length) {
      var omitted = r.evidence.wireOmitted;
      section("Wire log" + (omitted ? " (" + omitted.events + " events in the middle left out)" : ""), "timeline", timelineNode(rows));
    }
    var timings = Object.keys(r.evidence.timings).map(function (k) { return [k, r.evidence.timings[k] + " ms"]; });
    timings.push(["case", r.durationMs + " ms"]);
    section("Timing", "timing", table(timings));
    if (r.evidence.notes.length) section("Notes", "notes", el("ul", {}, r.evidence.notes.map(function (n) { return el("li", {}, [n]); })));
    if (r.evidence.transcript) section("Transcript excerpt", "transcript", pre(r.evidence.transcript));
    if (r.evidence.stdoutTail) section("stdout tail", "stdout", pre(r.evidence.stdoutTail));
    if (r.evidence.stderrTail) section("stderr tail", "stderr", pre(r.evidence.stderrTail));
    section("Target", "source", el("p", {}, [t.source + (t.description ? ": " + t.description : "")]));
    history.replaceState(null, "", "#cell=" + ti + "/" + encodeURIComponent(r.id));
  }
  document.getElementById("matrix").addEventListener("click", function (ev) {
    var cell = ev.target.closest("td.cell");
    if (cell) show(Number(cell.dataset.t), Number(cell.dataset.r));
  });
  document.getElementById("matrix").addEventListener("keydown", function (ev) {
    var cell = ev.target.closest && ev.target.closest("td.cell");
    if (cell && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); show(Number(cell.dataset.t), Number(cell.dataset.r)); }
  });
  var box = document.getElementById("only-problems");
  box.addEventListener("change", function () { document.body.classList.toggle("only-problems", box.checked); });
  var m = /^#cell=(\d+)\/(.+)$/.exec(location.hash);
  if (m) {
    var ti = Number(m[1]), t = data.report.targets[ti], id = decodeURIComponent(m[2]);
    var ri = t ? t.results.findIndex(function (r) { return r.id === id; }) : -1;
    if (ri >= 0) show(ti, ri);
  }
  document.documentElement.setAttribute("data-ready", "1");
})();
`;
