/**
 * Cases for program targets (SPEC §7): a command that runs to completion, here the socketpair
 * program, whose parent and child exchange `b'ping'` and `b'pong'` over a socket pair and
 * print the tutorial lines into one stdout (`program/socketpair/N`).
 *
 * Each case starts a fresh run of the program (readiness `none`), waits for it to exit
 * within the target's `timeoutMs`, and judges one thing: the exit status and what is left
 * in its session, the exchange lines, or the order of all lines. Transcript failures quote
 * the matcher (src/transcript/transcript.ts), which names the first line that does not fit and what
 * was expected there; the evidence holds a numbered excerpt of the output around it. The
 * verifiers are in src/checks/program.ts.
 *
 * @example
 * ```ts
 * import { programCases } from "./program.ts";
 * for (const c of programCases) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import { type Case, fail, inFamily, pass } from "../../src/case/case.ts";
import {
  checkExchange,
  checkOrder,
  lastLine,
  leftBehind,
  LEFTOVER_GRACE_MS,
  runProgram,
  transcriptCase,
} from "../../src/checks/program.ts";
import { commandLine } from "../../src/net/proc.ts";

export {
  checkExchange,
  checkOrder,
  LEFTOVER_GRACE_MS,
  MESSAGE_LINE,
  RESPONSE_LINE,
  transcriptExcerpt,
} from "../../src/checks/program.ts";

/**
 * The program cases (SPEC §7), for targets of kind `program`.
 *
 * @example
 * ```ts
 * import { programCases } from "./program.ts";
 * programCases.map((c) => c.id); // ["program/socketpair/1", ...]
 * ```
 */
export const programCases: Case[] = inFamily("Socketpair program (SPEC §7)", [
  {
    id: "program/socketpair/1",
    level: "MUST",
    kind: "program",
    requirement:
      "The program exits 0 within its timeout and leaves no child process behind (nothing is left in its session).",
    needs: { launch: true },
    hint:
      "the parent should wait for its child (os.waitpid) and exit 0; the child should exit once it has answered",
    async run(ctx) {
      const { program, status, ms } = await runProgram(ctx);
      if (!status) {
        const left = await program.leftovers();
        return fail(
          `still running after ${ctx.timeoutMs} ms (pid ${program.pid}; ${left.length} process(es) in its session); the harness stops it`,
          { exited: false },
        );
      }
      const stderr = lastLine(program.stderr.text());
      if (status.signal !== null) {
        return fail(`killed by ${status.signal} after ${ms} ms`, { exitCode: status.code });
      }
      if (status.code !== 0) {
        return fail(
          `exited with code ${status.code} after ${ms} ms, not 0; ${
            stderr ? `its stderr ends: ${JSON.stringify(stderr)}` : "its stderr is empty"
          }`,
          { exitCode: status.code },
        );
      }
      const left = await leftBehind(ctx, program);
      if (left.length > 0) {
        const cmds = await Promise.all(
          left.map(async (pid) => (await commandLine(pid, 160)) || "gone by now"),
        );
        left.forEach((pid, i) => ctx.evidence.note(`left behind: pid ${pid}: ${cmds[i]}`));
        return fail(
          `exited 0 after ${ms} ms but left ${left.length} process(es) running in its session ` +
            `${LEFTOVER_GRACE_MS} ms later: ${
              left.map((pid, i) => `pid ${pid} (${cmds[i]})`).join(", ")
            }; the harness kills them`,
          { exitCode: 0, leftovers: left.join(" ") },
        );
      }
      return pass(`exited 0 after ${ms} ms; no process is left in its session`, { exitCode: 0 });
    },
  },
  {
    id: "program/socketpair/2",
    level: "MUST",
    kind: "program",
    requirement:
      "The exchange happened: the output has the lines `message from parent: b'ping'` and `response from child: b'pong'`.",
    needs: { launch: true },
    hint:
      "the child prints what it received from the parent, the parent what the child answered, each on a line of its own",
    run: (ctx) => transcriptCase(ctx, checkExchange),
  },
  {
    id: "program/socketpair/3",
    level: "MUST",
    kind: "program",
    requirement:
      "The lines keep SPEC §7's order under any stdout buffering: each process's lines in order, nothing else; where a process writes as it prints, the parent's start line before `message from parent`, and that before `response from child`.",
    needs: { launch: true },
    hint:
      "print the response only after receiving it, and print each line once; see docs/transcripts.md for the orders accepted",
    run: (ctx) => transcriptCase(ctx, checkOrder),
  },
]);
