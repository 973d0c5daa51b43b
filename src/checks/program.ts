/**
 * Program verifiers: what the `program/*` cases share. {@linkcode runProgram} runs the
 * target to completion (bounded), {@linkcode transcriptCase} judges its stdout with a check
 * and puts a numbered excerpt around the first misfit in the evidence, and
 * {@linkcode leftBehind} waits out the grace for processes left in its session. The
 * socketpair checks ({@linkcode checkExchange}, {@linkcode checkOrder}) quote the
 * transcript matcher (src/transcript/transcript.ts), which accepts any stdout buffering.
 *
 * @example
 * ```ts
 * import { checkOrder } from "./program.ts";
 * checkOrder("in child, waiting for message\nmessage from parent: b'ping'\n" +
 *   "in parent, sending message\nresponse from child: b'pong'\n").verdict; // "PASS"
 * ```
 * @module
 */

import { type CaseContext, fail, type Outcome, pass } from "../case/case.ts";
import type { Instance } from "../harness/target.ts";
import { bytesRepr } from "../python/repr.ts";
import { match, socketpairTranscript } from "../transcript/transcript.ts";
import { waitUntil } from "../case/wait.ts";

const encoder = new TextEncoder();

/** The line the child prints once it has the parent's message (SPEC §7). */
export const MESSAGE_LINE: string = `message from parent: ${bytesRepr(encoder.encode("ping"))}`;
/** The line the parent prints once it has the child's answer (SPEC §7). */
export const RESPONSE_LINE: string = `response from child: ${bytesRepr(encoder.encode("pong"))}`;

/**
 * How long processes left in the program's session may take to go away after it exits, in
 * ms: a child that is already on its way out (the tutorial's parent does not wait for it)
 * is not left behind.
 */
export const LEFTOVER_GRACE_MS = 300;

function outputLines(output: string): string[] {
  const lines = output.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (output === "" || output.endsWith("\n")) lines.pop();
  return lines;
}

function escapeControls(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * A numbered excerpt of `output` for the evidence: up to 20 lines around `lineNo` (marked
 * `>`), or from the start; control characters are shown as `\xNN`.
 *
 * @example
 * ```ts
 * import { transcriptExcerpt } from "./program.ts";
 * transcriptExcerpt("a\nb\nc\n", 2); // "  1 | a\n> 2 | b\n  3 | c"
 * ```
 */
export function transcriptExcerpt(output: string, lineNo?: number): string {
  const lines = outputLines(output);
  if (lines.length === 0) return "(no output)";
  const from = lineNo === undefined ? 0 : Math.max(0, Math.min(lineNo - 6, lines.length - 20));
  const to = Math.min(lines.length, from + 20);
  const width = String(to).length;
  const shown = lines.slice(from, to).map((l, i) => {
    const n = from + i + 1;
    const text = escapeControls(l.length > 200 ? `${l.slice(0, 200)}...` : l);
    return `${n === lineNo ? ">" : " "} ${String(n).padStart(width)} | ${text}`;
  });
  if (from > 0) shown.unshift(`  ... ${from} earlier line(s)`);
  if (to < lines.length) shown.push(`  ... ${lines.length - to} more line(s)`);
  if (lineNo !== undefined && lineNo > lines.length) shown.push(`> ${lineNo} | (end of output)`);
  return shown.join("\n");
}

/**
 * Judges whether the exchange happened: the output has the line `message from parent:
 * b'ping'` and the line `response from child: b'pong'`. A FAIL names the missing line and
 * quotes the matcher's report of the first line that does not fit.
 *
 * @example
 * ```ts
 * import { checkExchange } from "./program.ts";
 * checkExchange("in parent, sending message\nin child, waiting for message\n").verdict; // "FAIL"
 * ```
 */
export function checkExchange(output: string): Outcome {
  const lines = outputLines(output);
  const missing = [[MESSAGE_LINE, "child"], [RESPONSE_LINE, "parent"]].filter(([want]) =>
    !lines.includes(want)
  );
  if (missing.length === 0) {
    return pass(
      `the child printed ${JSON.stringify(MESSAGE_LINE)} (line ${
        lines.indexOf(MESSAGE_LINE) + 1
      }) and the parent ${JSON.stringify(RESPONSE_LINE)} (line ${
        lines.indexOf(RESPONSE_LINE) + 1
      })`,
    );
  }
  const result = match(socketpairTranscript(), output);
  const where = result.ok ? "" : `; ${result.message}`;
  return fail(
    `no line ${missing.map(([l, p]) => `${JSON.stringify(l)} (${p})`).join(" and no line ")} ` +
      `in the ${lines.length} lines of output${where}`,
  );
}

/**
 * Judges the order: the output fits SPEC §7's transcript ({@linkcode socketpairTranscript})
 * under some stdout buffering of parent and child (see docs/transcripts.md): each process's
 * lines in order; where a process writes as it prints, the parent's start line before the
 * message and the message before the response; a block-buffered process's lines as one
 * block. A FAIL quotes the matcher: the first line that does not fit and what was expected.
 *
 * @example
 * ```ts
 * import { checkOrder } from "./program.ts";
 * checkOrder("in parent, sending message\nresponse from child: b'pong'\n").message;
 * // "line 2: \"response from child: b'pong'\" does not fit; expected ..."
 * ```
 */
export function checkOrder(output: string): Outcome {
  const result = match(socketpairTranscript(), output);
  if (!result.ok) return fail(result.message);
  const first = result.lines[0];
  const how = Object.entries(result.buffering ?? {}).map(([p, b]) => `${p} ${b}`).join(", ");
  return pass(
    `all ${result.lines.length} lines fit SPEC §7, the ${first.process}'s start line first (${how}${
      result.split ? "; lines split by the other process's output" : ""
    })`,
    { firstLine: first.text, buffering: how, split: result.split ?? false },
  );
}

/**
 * Starts the program and waits (bounded) for it to exit; the status is undefined on timeout.
 *
 * @example
 * ```ts
 * import type { CaseContext } from "../case/case.ts";
 * import { runProgram } from "./program.ts";
 * async function runOnce(ctx: CaseContext) {
 *   const { status, ms } = await runProgram(ctx);
 *   return status ? `exit ${status.code} after ${ms} ms` : "still running"; // undefined: timed out
 * }
 * ```
 */
export async function runProgram(
  ctx: CaseContext,
): Promise<{ program: Instance; status?: Deno.CommandStatus; ms: number }> {
  const program = await ctx.start();
  const t0 = performance.now();
  const status = await program.waitExit(ctx.timeoutMs);
  const ms = Math.round(performance.now() - t0);
  ctx.evidence.timing("runMs", ms);
  return { program, status, ms };
}

/**
 * Runs the program to completion and returns everything it printed on stdout. A child the
 * program did not wait for may still be writing its block-buffered lines as it exits, so the
 * case waits (up to {@linkcode LEFTOVER_GRACE_MS}) for stdout to close before it ends what
 * is left in the session.
 *
 * @example
 * ```ts
 * import type { CaseContext } from "../case/case.ts";
 * import { outputOfOneRun } from "./program.ts";
 * async function stdoutOfOneRun(ctx: CaseContext) {
 *   return await outputOfOneRun(ctx);
 * }
 * ```
 */
export async function outputOfOneRun(ctx: CaseContext): Promise<string> {
  const { program, status } = await runProgram(ctx);
  if (!status) {
    ctx.evidence.note(
      `the program was still running after ${ctx.timeoutMs} ms; it was stopped and its output so far is judged`,
    );
  } else {
    let closed = false;
    program.stdout.done.then(() => (closed = true));
    await waitUntil(() => closed, { timeoutMs: LEFTOVER_GRACE_MS, signal: ctx.signal });
  }
  // Ends whatever is left in its session, so that its stdout closes and is read to the end.
  await program.stop();
  return program.stdout.text();
}

/**
 * What a transcript case reports: the verdict of `check` on one run's stdout, with a
 * numbered excerpt around the first misfit in the evidence.
 *
 * @example
 * ```ts
 * import type { CaseContext } from "../case/case.ts";
 * import { checkOrder, transcriptCase } from "./program.ts";
 * async function transcript(ctx: CaseContext) {
 *   return await transcriptCase(ctx, checkOrder);
 * }
 * ```
 */
export async function transcriptCase(
  ctx: CaseContext,
  check: (output: string) => Outcome,
): Promise<Outcome> {
  const output = await outputOfOneRun(ctx);
  const outcome = check(output);
  const at = outcome.verdict === "FAIL"
    ? /^line (\d+):/.exec(outcome.message)?.[1] ??
      /; line (\d+):/.exec(outcome.message)?.[1] ??
      (/output (?:ended|is empty)/.test(outcome.message)
        ? String(outputLines(output).length + 1)
        : undefined)
    : undefined;
  ctx.evidence.transcript(transcriptExcerpt(output, at === undefined ? undefined : Number(at)));
  return outcome;
}

/**
 * Processes left in the program's session after it exited, waiting out
 * {@linkcode LEFTOVER_GRACE_MS} for those already on their way out.
 *
 * @example
 * ```ts
 * import type { CaseContext } from "../case/case.ts";
 * import { leftBehind, runProgram } from "./program.ts";
 * async function leftovers(ctx: CaseContext) {
 *   const { program } = await runProgram(ctx);
 *   return await leftBehind(ctx, program); // [] when nothing is left
 * }
 * ```
 */
export async function leftBehind(ctx: CaseContext, program: Instance): Promise<number[]> {
  await waitUntil(async () => (await program.leftovers()).length === 0, {
    timeoutMs: LEFTOVER_GRACE_MS,
    intervalMs: 20,
    signal: ctx.signal,
  });
  return await program.leftovers();
}

/**
 * The last line of `text` (its trailing newlines dropped).
 *
 * @example
 * ```ts
 * import { lastLine } from "./program.ts";
 * lastLine("a\nb\n"); // "b"
 * ```
 */
export function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}
