/**
 * A run report built in memory for the reporter tests: three targets and one result of
 * every kind (PASS, MUST FAIL with evidence, ERROR, SKIP, SHOULD warning, INFO problem,
 * expected FAIL, unexpected PASS, expectation mismatch), with text that needs escaping in
 * every format (`<`, `&`, quotes, backticks, `|`, control characters, `</script>`).
 *
 * @example
 * ```ts
 * import { sampleReport } from "./sample_report.ts";
 * const report = sampleReport();
 * console.log(report.targets.length); // 3
 * ```
 * @module
 */

import type { Level, Observed, Verdict } from "../case/case.ts";
import { describeBytes, type Evidence, EvidenceRecorder } from "../case/evidence.ts";
import { type CaseResult, rerunCommand, type RunReport } from "../reports/report.ts";

const enc = new TextEncoder();

function result(
  id: string,
  level: Level,
  verdict: Verdict,
  message: string,
  extra: Partial<CaseResult> = {},
  evidence: Partial<Evidence> = {},
  observed: Record<string, Observed> = {},
): CaseResult {
  return {
    id,
    family: id.slice(0, id.lastIndexOf("/")),
    requirement: `Requirement of ${id}: the echo comes back <exactly> & "byte-exact".`,
    level,
    verdict,
    message,
    observed,
    evidence: {
      bytes: [],
      timings: { start1Ms: 12.5 },
      notes: [],
      wire: [],
      diffs: [],
      ...evidence,
    },
    durationMs: 100 + id.length,
    ...extra,
  };
}

/**
 * The sample report. Expected counts: total 14; passed 6, failed 3 (FAIL, ERROR,
 * message mismatch), skipped 1, expected 1, unexpected passes 1, SHOULD warnings 1,
 * INFO problems 1.
 *
 * @example
 * ```ts
 * import { sampleReport } from "./sample_report.ts";
 * sampleReport().targets.map((t: { name: string }) => t.name); // ["my-echo-tcp", "my-echo-unix", "broken-echo"]
 * ```
 */
export function sampleReport(): RunReport {
  const sent = enc.encode("This is the message.  It will be repeated.");
  const got = enc.encode("This is the mess\x00\x1b[31m</script><b>|`x`|");
  const report: RunReport = {
    formatVersion: 1,
    tool: { name: "sockspec", version: "0.1.0" },
    runtime: { deno: "2.9.6", os: "linux", arch: "x86_64", uid: 1000 },
    startedAt: "2026-01-02T03:04:05.678Z",
    durationMs: 4321,
    strict: false,
    seed: 12345,
    interrupted: false,
    targets: [
      {
        name: "my-echo-tcp",
        kind: "stream-echo",
        source: "/srv/targets/my-echo-tcp.json",
        description: "a TCP echo server <v2> & friends",
        durationMs: 1500,
        results: [
          result("echo/tcp/1", "MUST", "PASS", "42 bytes echoed exactly"),
          result(
            "echo/tcp/2",
            "MUST",
            "FAIL",
            "echo differs: first difference at byte 16: sent b'age.  It', got b'\\x00\\x1b[31m</'",
            { hint: "send back exactly the bytes each recv returned, not a re-encoded string" },
            {
              ...sampleWire(sent, got),
              timings: { start1Ms: 12.5 },
              bytes: [describeBytes("sent", sent), describeBytes("received", got)],
              notes: ["target pid 4242, killed by SIGTERM: python3 echo.py"],
              transcript: "starting up on 127.0.0.1 port 10000\nwaiting for a connection\n",
              stdoutTail: "received b'This is the mess'\nsending data back to the client\n",
              stderrTail:
                'Traceback (most recent call last):\n  File "echo.py", line 9\nOSError: [Errno 32] Broken pipe \x07 <script>alert(1)</script>\n',
            },
          ),
          result(
            "echo/tcp/3",
            "MUST",
            "ERROR",
            "target 'my-echo-tcp' did not become ready within 5000 ms",
          ),
          result(
            "echo/tcp/9",
            "SHOULD",
            "FAIL",
            "a second client was not served while the first stayed connected",
          ),
          result("echo/tcp/10", "INFO", "PASS", "largest read was 16 bytes", {}, {}, {
            chunkSize: 16,
          }),
        ],
      },
      {
        name: "my-echo-unix",
        kind: "stream-echo",
        source: "/srv/targets/my-echo-unix.json",
        durationMs: 900,
        results: [
          result("echo/unix/1", "MUST", "PASS", "42 bytes echoed exactly"),
          result("echo/unix/3", "MUST", "SKIP", "the manifest declares no properties.chunkSize"),
          result("echo/unix/10", "INFO", "FAIL", "cannot read the chunk size: no transcript"),
        ],
      },
      {
        name: "broken-echo",
        kind: "stream-echo",
        source: "/srv/targets/broken-echo.json",
        durationMs: 1900,
        results: [
          result("echo/tcp/1", "MUST", "FAIL", "echo ended after 32 of 42 bytes", {
            expected: "FAIL",
          }),
          result("echo/tcp/2", "MUST", "PASS", "the echo reassembles", { expected: "FAIL" }),
          result("echo/tcp/3", "MUST", "FAIL", "echo differs at byte 3", {
            expected: "FAIL",
            expectedMessage: "stalled",
          }),
          result("echo/tcp/4", "MUST", "PASS", "1 MiB came back", { expected: "PASS" }),
          result(
            "echo/tcp/10",
            "INFO",
            "PASS",
            "largest read was 6 bytes",
            {
              expected: "PASS",
              expectedObserved: { chunkSize: 6 },
            },
            {},
            { chunkSize: 6 },
          ),
          result("echo/tcp/11", "MUST", "PASS", "transcript fits"),
        ],
      },
    ],
  };
  for (const t of report.targets) {
    for (const r of t.results) {
      if (r.verdict !== "PASS") r.rerun = rerunCommand(t.source, r.id, report.seed!);
    }
  }
  return report;
}

/**
 * The wire log of the sample's failing echo: the tutorial message out, 16 bytes and then
 * a corrupted rest back, a long folded run of 16-byte reads, the server's lines and exit.
 */
function sampleWire(sent: Uint8Array, got: Uint8Array): Evidence {
  const evidence = new EvidenceRecorder(0);
  const at = (ms: number) => ms;
  evidence.wireEvent({ kind: "start", instance: 1, text: "pid 4242, ready" }, undefined, at(12.5));
  evidence.wireEvent(
    { kind: "stdout", instance: 1, text: "waiting for a connection" },
    undefined,
    at(12.6),
  );
  evidence.wireEvent({ kind: "connect", conn: 1, text: "127.0.0.1:10000" }, undefined, at(13));
  evidence.wireEvent({ kind: "write", conn: 1, dir: "out" }, sent, at(13.2));
  evidence.wireEvent(
    { kind: "stdout", instance: 1, text: "received b'This is the mess'" },
    undefined,
    at(13.3),
  );
  evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, got.subarray(0, 16), at(13.4));
  evidence.wireEvent({ kind: "read", conn: 1, dir: "in" }, got.subarray(16), at(13.5));
  for (let i = 0; i < 4096; i++) {
    evidence.wireEvent(
      { kind: "read", conn: 1, dir: "in" },
      sent.subarray(i % 26, 16 + (i % 26)),
      at(14 + i / 100),
    );
  }
  evidence.wireEvent({ kind: "eof", conn: 1, dir: "in" }, undefined, at(60));
  evidence.wireEvent({ kind: "close", conn: 1 }, undefined, at(60.1));
  evidence.wireEvent(
    { kind: "stderr", instance: 1, text: "OSError: [Errno 32] Broken pipe" },
    undefined,
    at(60.5),
  );
  evidence.wireEvent(
    { kind: "exit", instance: 1, text: "pid 4242, exited with code 1" },
    undefined,
    at(61),
  );
  evidence.diff(sent, got, "echo");
  const { wire, diffs } = evidence.toJSON();
  return { bytes: [], timings: {}, notes: [], wire, diffs };
}
