/**
 * The console report: grouped by target and family, one line per case with its verdict,
 * level, id and requirement, details under failures, and the closing line
 * `N passed, N failed, N skipped`. Colour only on a terminal (and never with NO_COLOR).
 *
 * @example
 * ```ts
 * import { consoleReport } from "./console.ts";
 * import type { RunReport } from "./report.ts";
 * function print(report: RunReport): void {
 *   console.log(consoleReport(report, { color: false }));
 * }
 * ```
 * @module
 */

import {
  byWhom,
  type CaseResult,
  closingLine,
  expectationNote,
  explainLines,
  judge,
  label,
  leftProcessTargets,
  type RunReport,
  summarize,
} from "./report.ts";

const COLORS: Record<string, string> = {
  PASS: "\x1b[32m",
  FAIL: "\x1b[31m",
  ERROR: "\x1b[35m",
  SKIP: "\x1b[33m",
  WARN: "\x1b[33m",
  XFAIL: "\x1b[36m",
  XERROR: "\x1b[36m",
  XPASS: "\x1b[1;31m",
  FLAKY: "\x1b[1;33m",
};

/** Options of {@linkcode consoleReport}. */
export interface ConsoleOptions {
  /** Use ANSI colours. */
  color?: boolean;
  /** Show details (evidence) under passing cases too. */
  verbose?: boolean;
}

/**
 * Renders the whole report as text.
 *
 * @example
 * ```ts
 * import { consoleReport } from "./console.ts";
 * import type { RunReport } from "./report.ts";
 * function lastLine(report: RunReport): string | undefined {
 *   return consoleReport(report).split("\n").at(-1); // e.g. "12 passed, 0 failed, 1 skipped"
 * }
 * ```
 */
export function consoleReport(raw: RunReport, opts: ConsoleOptions = {}): string {
  // Every string of the report (names, messages, evidence, output tails: much of it made
  // by the target) with its control characters escaped, so none reaches the terminal raw.
  const report = escapeDeep(raw);
  const paint = (code: string, text: string) => (opts.color ? `${code}${text}\x1b[0m` : text);
  const out: string[] = [];
  for (const target of report.targets) {
    out.push(
      paint("\x1b[1m", `${target.name}`) +
        `  (${target.source === "built-in" ? "built-in" : target.source}${
          target.description ? `: ${target.description}` : ""
        })`,
    );
    let family = "";
    for (const r of target.results) {
      if (r.family !== family) {
        family = r.family;
        out.push(`  ${family}${r.familyTitle ? `: ${r.familyTitle}` : ""}`);
      }
      const j = judge(r, report.strict);
      const tag = label(r, report.strict);
      const note = expectationNote(r);
      out.push(
        `    ${paint(COLORS[tag] ?? "", tag.padEnd(6))} ${r.level.padEnd(6)} ${
          r.id.padEnd(18)
        } ${r.requirement}${note ? ` (${note})` : ""}`,
      );
      out.push(...details(r, opts.verbose ?? false, j === "warn"));
      out.push(...explainConsole(r));
    }
    out.push("");
  }
  const s = summarize(report);
  const extras = [
    s.notStrict ? `${s.notStrict} SHOULD case(s) failed (not counted; --strict counts them)` : "",
    s.infoProblems
      ? `${s.infoProblems} INFO case(s) observed a value other than SPEC's, or none (never counted)`
      : "",
    s.unexpectedPass
      ? `${s.unexpectedPass} case(s) passed that the expectations say should not: update the expectations file`
      : "",
    ...leftProcessTargets(report).map((t) => `${t.name} ${t.says}`),
    report.interrupted ? `the run was interrupted${byWhom(report)}: this report is partial` : "",
  ].filter(Boolean);
  out.push(...seedLine(report));
  if (extras.length) out.push(extras.join("; "));
  out.push(closingLine(s));
  return out.join("\n");
}

/** The hint, first differences and re-run command under a FAIL or ERROR. */
function explainConsole(r: CaseResult): string[] {
  if (r.verdict !== "FAIL" && r.verdict !== "ERROR") return [];
  return explainLines(r).map((line) => `            ${line}`);
}

/** The run's seed, for replaying its random payloads. */
function seedLine(report: RunReport): string[] {
  return report.seed === undefined
    ? []
    : [`seed ${report.seed} (--seed ${report.seed} replays the same random payloads)`];
}

/** Continuation lines indented like the first, so no text can pose as a verdict line. */
function indent(text: string, pad: string): string {
  return text.replaceAll("\n", `\n${pad}`);
}

function details(r: CaseResult, verbose: boolean, notStrict: boolean): string[] {
  const pad = "            ";
  const lines: string[] = [];
  const bad = r.verdict === "FAIL" || r.verdict === "ERROR";
  if (r.verdict === "SKIP" || bad || r.level === "INFO" || verbose) {
    lines.push(`${pad}${notStrict ? "(not strict) " : ""}${indent(r.message, pad)}`);
  }
  const observed = Object.entries(r.observed);
  if (observed.length && (r.level === "INFO" || verbose)) {
    lines.push(
      `${pad}observed: ${observed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`,
    );
  }
  if (!bad && !verbose) return lines;
  const e = r.evidence;
  for (const b of e.bytes) {
    lines.push(`${pad}${b.label}: ${b.length} bytes ${b.repr}${b.truncated ? " ..." : ""}`);
  }
  const timings = Object.entries(e.timings);
  if (timings.length) {
    lines.push(
      `${pad}timings: ${timings.map(([k, v]) => `${k}=${v}`).join(", ")} (case ${r.durationMs} ms)`,
    );
  }
  for (const note of e.notes) lines.push(`${pad}${indent(note, pad)}`);
  for (const [label, text] of [["stdout", e.stdoutTail], ["stderr", e.stderrTail]] as const) {
    if (!text) continue;
    const tail = text.trimEnd().split("\n").slice(-8);
    lines.push(`${pad}${label} tail:`, ...tail.map((l) => `${pad}  | ${l}`));
  }
  return lines;
}

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** How many results the run will produce. */
  total: number;
  /** One line rewritten in place (a terminal), or one plain line per result (CI, logs). */
  live: boolean;
  /** Whether SHOULD failures fail the run (for the labels). */
  strict?: boolean;
  /** Where the text goes (default: stderr). */
  write?: (text: string) => void;
  /** The terminal width, for the live line (default: the console's, or 100). */
  columns?: () => number;
}

/**
 * The progress display of `sockspec check`, on stderr: on a terminal one live line that
 * shows how many cases are done, how many failed and which are running; elsewhere (CI) one
 * plain line per finished case. Works with targets running in parallel.
 *
 * @example
 * ```ts
 * import { Progress } from "./console.ts";
 * import type { CaseResult } from "./report.ts";
 * const result: CaseResult = {
 *   id: "echo/tcp/1", family: "echo/tcp", requirement: "The message comes back byte-exact.",
 *   level: "MUST", verdict: "PASS", message: "42 bytes echoed exactly",
 *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
 * };
 * const lines: string[] = [];
 * const progress = new Progress({ total: 1, live: false, write: (t) => lines.push(t) });
 * progress.start("my-echo", "echo/tcp/1");
 * progress.result("my-echo", result);
 * progress.done();
 * console.log(lines); // ["[1/1] my-echo echo/tcp/1 PASS (12 ms)\n"]
 * ```
 */
export class Progress {
  #opts: ProgressOptions;
  #done = 0;
  #failed = 0;
  #running: string[] = [];
  #shown = false;

  /**
   * A progress display for `total` results.
   *
   * @example
   * ```ts
   * import { Progress } from "./console.ts";
   * new Progress({ total: 33, live: Deno.stderr.isTerminal() });
   * ```
   */
  constructor(opts: ProgressOptions) {
    this.#opts = opts;
  }

  /**
   * A case started on a target.
   *
   * @example
   * ```ts
   * import { Progress } from "./console.ts";
   * new Progress({ total: 1, live: true, write: () => {} }).start("my-echo", "echo/tcp/1");
   * ```
   */
  start(target: string, id: string): void {
    this.#running.push(escapeControls(`${target} ${id}`, { newlines: true }));
    if (this.#opts.live) this.#render();
  }

  /**
   * A case finished on a target.
   *
   * @example
   * ```ts
   * import { Progress } from "./console.ts";
   * import type { CaseResult } from "./report.ts";
   * const result: CaseResult = {
   *   id: "echo/tcp/1", family: "echo/tcp", requirement: "The message comes back byte-exact.",
   *   level: "MUST", verdict: "PASS", message: "42 bytes echoed exactly",
   *   observed: {}, evidence: { bytes: [], timings: {}, notes: [] }, durationMs: 12,
   * };
   * new Progress({ total: 1, live: false, write: () => {} }).result("my-echo", result);
   * ```
   */
  result(target: string, r: CaseResult): void {
    const at = this.#running.indexOf(escapeControls(`${target} ${r.id}`, { newlines: true }));
    if (at >= 0) this.#running.splice(at, 1);
    this.#done++;
    const strict = this.#opts.strict ?? false;
    const j = judge(r, strict);
    if (j === "fail" || j === "unexpected-pass") this.#failed++;
    if (this.#opts.live) {
      this.#render();
    } else {
      this.#write(
        `[${this.#done}/${this.#opts.total}] ${
          escapeControls(`${target} ${r.id}`, { newlines: true })
        } ${label(r, strict)} (${Math.round(r.durationMs)} ms)\n`,
      );
    }
  }

  /**
   * Clears the live line (call before printing the report).
   *
   * @example
   * ```ts
   * import { Progress } from "./console.ts";
   * new Progress({ total: 0, live: true, write: () => {} }).done();
   * ```
   */
  done(): void {
    if (this.#opts.live && this.#shown) this.#write("\r\x1b[K");
    this.#shown = false;
  }

  #render(): void {
    const width = Math.max(20, (this.#opts.columns ?? consoleColumns)() - 1);
    const head = `[${this.#done}/${this.#opts.total}]${
      this.#failed ? ` ${this.#failed} failed` : ""
    }`;
    const running = this.#running.length
      ? ` running ${this.#running[0]}${
        this.#running.length > 1 ? ` (+${this.#running.length - 1} more)` : ""
      }`
      : "";
    let line = head + running;
    if (line.length > width) line = line.slice(0, width - 3) + "...";
    this.#write(`\r\x1b[K${line}`);
    this.#shown = true;
  }

  #write(text: string): void {
    if (this.#opts.write) this.#opts.write(text);
    else {
      try {
        Deno.stderr.writeSync(new TextEncoder().encode(text));
      } catch {
        // stderr is gone (the terminal closed: SIGHUP); the run and its reports go on
      }
    }
  }
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 100;
  }
}

/**
 * Control characters a terminal could act on, escaped: C0 (but tab and newline), DEL, the C1
 * range (U+0080 to U+009F, where 8-bit CSI and OSC live) and the bidirectional overrides and
 * isolates (U+202A to U+202E, U+2066 to U+2069). ESC becomes `\x1b`, BEL `\x07`, NUL `\x00`,
 * C1 and bidi characters `\u009b`-style. With `newlines`, newline is escaped too (`\n`),
 * and carriage return is `\r` either way. Everything else, Unicode text included, is kept.
 *
 * @example
 * ```ts
 * import { escapeControls } from "./console.ts";
 * escapeControls("\x1b]0;title\x07ok"); // "\\x1b]0;title\\x07ok"
 * ```
 */
export function escapeControls(text: string, opts: { newlines?: boolean } = {}): string {
  const re = opts.newlines ? CONTROLS_AND_NEWLINES : CONTROLS;
  return text.replace(re, (c) => {
    if (c === "\r") return "\\r";
    if (c === "\n") return "\\n";
    const code = c.charCodeAt(0);
    return code < 0x80
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// deno-lint-ignore no-control-regex
const CONTROLS_AND_NEWLINES = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** A copy of `value` with {@linkcode escapeControls} applied to every string (keys too). */
function escapeDeep<T>(value: T): T {
  if (typeof value === "string") return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map(escapeDeep) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [escapeControls(k), escapeDeep(v)]),
    ) as T;
  }
  return value;
}
