import assert from "node:assert/strict";
import {
  closingLine,
  evidenceLines,
  expectationNote,
  failsRun,
  judge,
  label,
  messageFaults,
  mismatch,
  summarize,
  timeline,
} from "./report.ts";
import { EvidenceRecorder } from "../case/evidence.ts";
import { sampleReport } from "../testdata/sample_report.ts";

const report = sampleReport();
const find = (target: string, id: string) =>
  report.targets.find((t) => t.name === target)!.results.find((r) => r.id === id)!;

Deno.test("judge: every kind of result", () => {
  const cases: [string, string, string, string][] = [
    ["my-echo-tcp", "echo/tcp/1", "pass", "PASS"],
    ["my-echo-tcp", "echo/tcp/2", "fail", "FAIL"],
    ["my-echo-tcp", "echo/tcp/3", "fail", "ERROR"],
    ["my-echo-tcp", "echo/tcp/9", "warn", "WARN"],
    ["my-echo-unix", "echo/unix/3", "skip", "SKIP"],
    ["my-echo-unix", "echo/unix/10", "info", "FAIL"],
    ["broken-echo", "echo/tcp/1", "expected", "XFAIL"],
    ["broken-echo", "echo/tcp/2", "unexpected-pass", "XPASS"],
    ["broken-echo", "echo/tcp/3", "fail", "FAIL"],
    ["broken-echo", "echo/tcp/4", "pass", "PASS"],
    ["broken-echo", "echo/tcp/10", "pass", "PASS"],
  ];
  for (const [target, id, j, l] of cases) {
    const r = find(target, id);
    assert.equal(judge(r, false), j, `${target} ${id}`);
    assert.equal(label(r, false), l, `${target} ${id}`);
    assert.equal(failsRun(r, false), j === "fail" || j === "unexpected-pass", `${target} ${id}`);
  }
  // --strict turns a SHOULD warning into a failure, but never touches INFO or expectations.
  assert.equal(judge(find("my-echo-tcp", "echo/tcp/9"), true), "fail");
  assert.equal(judge(find("my-echo-unix", "echo/unix/10"), true), "info");
  assert.equal(judge(find("broken-echo", "echo/tcp/1"), true), "expected");
  // An expected ERROR is labelled XERROR; an expected SKIP is a skip; a SHOULD expected FAIL too.
  const r = find("my-echo-tcp", "echo/tcp/3");
  assert.equal(label({ ...r, expected: "ERROR" }, false), "XERROR");
  assert.equal(judge({ ...find("my-echo-unix", "echo/unix/3"), expected: "SKIP" }, false), "skip");
  assert.equal(judge({ ...find("my-echo-tcp", "echo/tcp/9"), expected: "FAIL" }, true), "expected");
  // A SKIP where PASS was expected is a failure, not a skip.
  assert.equal(judge({ ...find("my-echo-unix", "echo/unix/3"), expected: "PASS" }, false), "fail");
});

Deno.test("mismatch explains why a result does not fit its expectation", () => {
  assert.equal(mismatch(find("broken-echo", "echo/tcp/1")), undefined);
  assert.equal(mismatch(find("my-echo-tcp", "echo/tcp/2")), undefined, "no expectation");
  assert.equal(mismatch(find("broken-echo", "echo/tcp/2")), "expected FAIL, got PASS");
  assert.equal(
    mismatch(find("broken-echo", "echo/tcp/3")),
    'expected the message to contain "stalled"',
  );
  const info = find("broken-echo", "echo/tcp/10");
  assert.equal(mismatch(info), undefined);
  assert.equal(
    mismatch({ ...info, observed: { chunkSize: 16 } }),
    "expected observed chunkSize=6, got 16",
  );
  assert.equal(mismatch({ ...info, observed: {} }), "expected observed chunkSize=6, got nothing");
  assert.equal(judge({ ...info, observed: { chunkSize: 16 } }, false), "unexpected-pass");
  assert.equal(expectationNote(find("broken-echo", "echo/tcp/1")), "expected FAIL");
  assert.equal(
    expectationNote(find("broken-echo", "echo/tcp/2")),
    "UNEXPECTED: expected FAIL, got PASS",
  );
  assert.equal(expectationNote(find("my-echo-tcp", "echo/tcp/1")), "");
});

Deno.test("summarize counts each result once and fails only on unexpected results", () => {
  const s = summarize(report);
  assert.deepEqual(s, {
    total: 14,
    passed: 6,
    failed: 3,
    skipped: 1,
    expected: 1,
    unexpectedPass: 1,
    notStrict: 1,
    infoProblems: 1,
    exitCode: 1,
  });
  assert.equal(
    closingLine(s),
    "6 passed, 3 failed, 1 skipped, 1 expected failure, 1 unexpected pass " +
      "(1 SHOULD failure not counted, 1 INFO differs from SPEC)",
  );
  // One target alone.
  const unix = summarize(report, report.targets[1]);
  assert.equal(unix.total, 3);
  assert.equal(unix.exitCode, 0);
  // Only known failures: exit 0, and the expected FAIL is not counted as passed.
  const known = sampleReport();
  known.targets = [{ ...known.targets[2], results: [known.targets[2].results[0]] }];
  const k = summarize(known);
  assert.equal(k.exitCode, 0);
  assert.equal(k.passed, 0);
  assert.equal(k.expected, 1);
  assert.equal(closingLine(k), "0 passed, 0 failed, 0 skipped, 1 expected failure");
  // The same FAIL without its expectation fails the run.
  delete known.targets[0].results[0].expected;
  assert.equal(summarize(known).exitCode, 1);
});

Deno.test("evidenceLines shows bytes as hex and repr, timings, notes and tails", () => {
  const lines = evidenceLines(find("my-echo-tcp", "echo/tcp/2"), 2);
  const text = lines.join("\n");
  assert.match(text, /^sent: 42 bytes$/m);
  assert.match(text, /^ {2}hex: 54686973206973/m);
  assert.match(text, /^ {2}repr: b'This is the message\. {2}It will be repeated\.'$/m);
  assert.match(text, /^timings: start1Ms=12\.5, case=110 \(ms\)$/m);
  assert.match(text, /^note: target pid 4242/m);
  assert.match(text, /^stderr tail \(last 2 lines\):$/m);
  assert.ok(!text.includes("Traceback"), "only the last 2 lines of the tail");
  assert.match(text, /OSError: \[Errno 32\] Broken pipe/);
});

Deno.test("messageFaults finds nested runtime errno text and repeated facts", () => {
  assert.deepEqual(messageFaults("[Errno 111] Connection refused"), []);
  assert.deepEqual(
    messageFaults("[Errno 111] Connection refused (Connection refused (os error 111))"),
    ["holds the runtime's '(os error 111)': format the error with errnoMessage"],
  );
  assert.deepEqual(
    messageFaults(
      "the server exited (pid 12, exited with code 1) (the target stopped by itself: pid 12, exited with code 1)",
    ),
    ["says 'pid 12, exited with code 1' twice"],
  );
  assert.deepEqual(messageFaults("pid 12, exited with code 1; pid 13, exited with code 1"), []);
  assert.deepEqual(messageFaults("[Errno 2] No such file; [Errno 2] No such file"), [
    "says '[Errno 2] No such file' twice",
  ]);
});

Deno.test("timeline folds long runs of transfers and of output lines, and keeps short ones", () => {
  const evidence = new EvidenceRecorder(0);
  evidence.wireEvent({ kind: "connect", conn: 1, text: "127.0.0.1:1" }, undefined, 1);
  for (let i = 0; i < 3; i++) {
    evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, new Uint8Array(16), 2 + i);
  }
  for (let i = 0; i < 50; i++) {
    evidence.wireEvent({ kind: "stdout", instance: 1, text: `line ${i}` }, undefined, 10 + i / 100);
  }
  for (let i = 0; i < 100; i++) {
    evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, new Uint8Array(16), 20 + i);
  }
  const result = { ...sampleReport().targets[0].results[0], evidence: evidence.toJSON() };
  const rows = timeline(result).map((r) => `${r.who} ${r.arrow} ${r.what}`);
  assert.deepEqual(rows, [
    "#1 · connect 127.0.0.1:1",
    "#1 ← read 16 B",
    "#1 ← read 16 B",
    "#1 ← read 16 B",
    "target 1 · stdout: line 0",
    "target 1 · stdout: line 1",
    "target 1 · stdout: line 2",
    "target 1 · … 45 more stdout lines …",
    "target 1 · stdout: line 48",
    "target 1 · stdout: line 49",
    "#1 ← read 16 B",
    "#1 ← read 16 B",
    "#1 ← … 98 more 16-byte reads (1,568 B, until +119.000 ms) …",
  ]);
  const fold = timeline(result).find((r) => r.what.startsWith("… 98"))!;
  assert.equal(
    fold.folded!.reduce(
      (n, r) => n + Number(/in ([\d,]+) events/.exec(r.what)?.[1].replace(/,/g, "") ?? 1),
      0,
    ),
    98,
  );
});

Deno.test("timeline leaves a short run of output lines as it is", () => {
  const evidence = new EvidenceRecorder(0);
  for (let i = 0; i < 6; i++) {
    evidence.wireEvent({ kind: "stdout", instance: 1, text: `line ${i}` }, undefined, i);
  }
  const result = { ...sampleReport().targets[0].results[0], evidence: evidence.toJSON() };
  assert.deepEqual(
    timeline(result).map((r) => r.what),
    [0, 1, 2, 3, 4, 5].map((i) => `stdout: line ${i}`),
  );
});
