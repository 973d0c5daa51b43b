// Tests for the program cases (conformance/program/program.ts): the order and exchange checks on
// synthetic outputs (both documented orders pass, every kind of misplaced line fails at
// that line), and the exit / leftover case against small inline programs, including proof
// that a process left behind is killed by the harness afterwards. The fixtures' verdicts
// are checked by conformance/fixtures_test.ts (fixtures/**/socketpair.expect.json,
// program.expect.json).
//
// Run with: deno test --allow-run --allow-read --allow-write --allow-net --allow-env

import assert from "node:assert/strict";
import {
  checkExchange,
  checkOrder,
  LEFTOVER_GRACE_MS,
  programCases,
  transcriptExcerpt,
} from "./program.ts";
import { loadManifest, parseManifest } from "../../src/harness/manifest.ts";
import { processesSync } from "../../src/net/proc.ts";
import { runCase } from "../../src/harness/runner.ts";

const P = "in parent, sending message";
const C = "in child, waiting for message";
const M = "message from parent: b'ping'";
const R = "response from child: b'pong'";
const out = (...lines: string[]) => lines.map((l) => l + "\n").join("");

Deno.test("order check: every output of a correct program under any stdout buffering passes", () => {
  const outputs: [string, string][] = [
    [out(P, C, M, R), "parent as printed, child as printed"], // the blog post, python3 -u
    [out(C, P, M, R), "parent as printed, child as printed"],
    [out(C, M, P, R), "parent at exit, child as printed"], // PyMOTW, Python 2, stdout a pipe
    [out(P, R, C, M), "parent as printed, child at exit"], // python3, the parent's block first
    [`${P}${C}\n\n${M}\n${R}\n`, "parent as printed, child as printed"], // python3 -u, split
  ];
  for (const [output, how] of outputs) {
    const o = checkOrder(output);
    assert.equal(o.verdict, "PASS", o.message);
    assert.equal(o.observed?.buffering, how, output);
  }
  assert.equal(checkOrder(out(C, P, M, R)).observed?.firstLine, C);
  assert.equal(checkOrder(`${P}${C}\n\n${M}\n${R}\n`).observed?.split, true);
});

Deno.test("order check: fails at the first line that does not fit, naming what fits there", () => {
  const cases: [string, number, string, string][] = [
    // [output, line number, the line, what must be named as expected there]
    [out(P, R, M, C), 3, M, `expected "${C}" (child)`],
    [out(C, P, R, M), 3, R, `expected "${M}" (child)`],
    // The child's lines apart with the response between them: no buffering explains it.
    [out(C, R, P, M), 2, R, `"${M}" (child)`],
    [out(P, C, "@@ garbage @@", M, R), 3, "@@ garbage @@", `expected "${M}" (child)`],
    [out(P, C, M, R, R), 5, R, "expected the end of the output"],
    [out(P, C, M, "response from child: b'pon'"), 4, "response from child: b'pon'", R],
    [out(P, C, M, R).replace(`${C}\n`, ""), 2, M, `"${C}" (child)`],
  ];
  for (const [output, lineNo, text, expected] of cases) {
    const o = checkOrder(output);
    assert.equal(o.verdict, "FAIL", `should fail:\n${output}`);
    assert.ok(
      o.message.startsWith(`line ${lineNo}: ${JSON.stringify(text)} does not fit; `),
      o.message,
    );
    assert.ok(o.message.includes(expected), `${o.message}\nshould include ${expected}`);
  }
  const early = checkOrder(out(P, C, M));
  assert.equal(early.verdict, "FAIL");
  assert.match(
    early.message,
    /^expected "response from child: b'pong'" \(parent\) but output ended after line 3$/,
  );
  assert.match(checkOrder("").message, /the output is empty$/);
});

Deno.test("exchange check: needs both exchange lines, and quotes the matcher when one is missing", () => {
  assert.equal(checkExchange(out(P, R, C, M)).verdict, "PASS"); // order is case 3's business
  const missing = checkExchange(out(P, C, R));
  assert.equal(missing.verdict, "FAIL");
  assert.equal(
    missing.message.split("; line")[0],
    `no line ${JSON.stringify(M)} (child) in the 3 lines of output`,
  );
  assert.ok(missing.message.includes(`; line 3: ${JSON.stringify(R)} does not fit`));
  const wrongPayload = checkExchange(out(P, C, "message from parent: b'pin'", R));
  assert.equal(wrongPayload.verdict, "FAIL");
  assert.ok(wrongPayload.message.includes(`line 3: "message from parent: b'pin'" does not fit`));
  const none = checkExchange(out(P, C));
  assert.ok(none.message.startsWith(`no line ${JSON.stringify(M)} (child) and no line`));
});

Deno.test("transcript excerpt: numbered, marks the line, escapes control characters", () => {
  assert.equal(transcriptExcerpt(out(P, "\x00x", M), 2), `  1 | ${P}\n> 2 | \\x00x\n  3 | ${M}`);
  assert.equal(transcriptExcerpt(out(P), 2), `  1 | ${P}\n> 2 | (end of output)`);
  assert.equal(transcriptExcerpt(""), "(no output)");
  const long = out(...Array.from({ length: 100 }, (_, i) => `line ${i + 1}`));
  const shown = transcriptExcerpt(long, 50).split("\n");
  assert.equal(shown.length, 22);
  assert.equal(shown[0], "  ... 44 earlier line(s)");
  assert.ok(shown.includes("> 50 | line 50"), shown.join("\n"));
});

function program(name: string, script: string, timeoutMs = 1000) {
  return parseManifest(
    { name, kind: "program", command: ["sh", "-c", script], timeoutMs },
    "inline.json",
  );
}

const exitCase = programCases[0];

Deno.test("exit case: a process left behind fails the case, and the harness kills it", async () => {
  // The program prints the pid of the child it leaves asleep in its session.
  const target = program("leaves-sleeper", "sleep 30 & echo $!; exit 0");
  const r = await runCase(target, exitCase);
  assert.equal(r.verdict, "FAIL", r.message);
  assert.match(r.message, /^exited 0 after \d+ ms but left 1 process\(es\) running in its session/);
  assert.match(r.message, /\(sleep 30\); the harness kills them$/);
  const pid = Number(r.observed.leftovers);
  assert.ok(pid > 0, JSON.stringify(r.observed));
  assert.ok(
    r.evidence.notes.some((n) => n === `left behind: pid ${pid}: sleep 30`),
    r.evidence.notes.join("\n"),
  );
  // runCase has returned: the sleeper must be gone (it was in the program's session).
  const alive = processesSync().find((p) => p.pid === pid && p.state !== "Z");
  assert.equal(alive, undefined, `leftover pid ${pid} was not killed by the harness`);
});

Deno.test("exit case: a child that ends within the grace period is not left behind", async () => {
  const seconds = (LEFTOVER_GRACE_MS / 3 / 1000).toFixed(2);
  const r = await runCase(program("slow-child", `sleep ${seconds} & exit 0`), exitCase);
  assert.equal(r.verdict, "PASS", r.message);
});

Deno.test("exit case: a non-zero exit and a program that never ends both fail", async () => {
  const failed = await runCase(program("exits-3", "echo oops >&2; exit 3"), exitCase);
  assert.equal(failed.verdict, "FAIL");
  assert.match(failed.message, /^exited with code 3 after \d+ ms, not 0; its stderr ends: "oops"$/);
  assert.equal(failed.observed.exitCode, 3);
  const hung = await runCase(program("hangs", "exec sleep 30", 300), exitCase);
  assert.equal(hung.verdict, "FAIL");
  assert.match(
    hung.message,
    /^still running after 300 ms \(pid \d+; 1 process\(es\) in its session\)/,
  );
});

Deno.test("order case: a program printing either documented order passes through the runner", async () => {
  const orderCase = programCases[2];
  for (const lines of [[P, C, M, R], [C, P, M, R]]) {
    const script = `printf '%s\\n' ${lines.map((l) => `"${l}"`).join(" ")}`;
    const r = await runCase(program("prints-order", script), orderCase);
    assert.equal(r.verdict, "PASS", r.message);
    assert.equal(r.observed.firstLine, lines[0]);
    assert.equal(r.evidence.transcript, lines.map((l, i) => `  ${i + 1} | ${l}`).join("\n"));
  }
  const bad = await runCase(
    program("prints-bad-order", `printf '%s\\n' "${C}" "${R}" "${P}" "${M}"`),
    orderCase,
  );
  assert.equal(bad.verdict, "FAIL");
  assert.ok(bad.evidence.transcript?.includes(`> 2 | ${R}`), bad.evidence.transcript);
});

Deno.test("the unmodified tutorial program passes the order case under python3 and python3 -u", async () => {
  // Before, python3 (stdout a pipe: each process writes one block at exit) failed 10 of 10
  // runs, and python3 -u (lines split by the other process) 6 of 10.
  const orderCase = programCases[2];
  const dir = new URL("../../fixtures/targets/", import.meta.url).pathname;
  for (
    const [manifest, atExit] of [["python-socketpair.json", true], [
      "python-socketpair-u.json",
      false,
    ]] as const
  ) {
    const target = await loadManifest(`${dir}${manifest}`);
    for (let i = 0; i < 5; i++) {
      const r = await runCase(target, orderCase);
      assert.equal(
        r.verdict,
        "PASS",
        `${manifest} run ${i + 1}: ${r.message}\n${r.evidence.transcript}`,
      );
      assert.equal(
        String(r.observed.buffering).includes("at exit"),
        atExit,
        `${manifest}: ${r.message}`,
      );
    }
  }
});
