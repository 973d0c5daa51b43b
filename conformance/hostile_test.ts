/**
 * The harness against hostile targets (fixtures/hostile/): servers that never become ready,
 * exit, crash, never read, never write, write garbage or too much, drip, reset, flood,
 * ignore SIGTERM, start grandchildren, or print megabytes. Each one must get a FAIL or ERROR
 * within its configured timeout plus a small margin, with a message that says what
 * happened; the run goes on with the next case; captured output stays bounded; and
 * afterwards no process, socket file or temp dir is left.
 *
 * The runs go through the real CLI (`sockspec check`) in a child Deno with a private TMPDIR,
 * so that whatever is left in it, and every process whose argv names it, was left by the
 * run. The hostile fixtures pass `--tag {tmp}` on to every grandchild for this reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Verdict } from "../src/case/case.ts";
import { loadManifest } from "../src/harness/manifest.ts";
import { readProcSync } from "../src/net/proc.ts";
import type { RunReport } from "../src/reports/report.ts";
import { startInstance } from "../src/harness/target.ts";

const root = new URL("../", import.meta.url).pathname;
const cli = `${root}src/cli/main.ts`;
const hostileDir = `${root}fixtures/hostile`;
const PERMS = ["--allow-run", "--allow-read", "--allow-write", "--allow-net", "--allow-env"];
/** What a verdict may take beyond its configured limit: start-up and teardown on a busy box. */
const MARGIN_MS = 1500;

/** What one hostile fixture must give, per case number (1: tutorial message, 5: half-close). */
interface Expectation {
  verdicts: Record<"1" | "5", Verdict[]>;
  /** The message must match this, per case number. */
  messages: Record<"1" | "5", RegExp>;
  /** The configured limit the verdict must come within (plus {@linkcode MARGIN_MS}). */
  limitMs: number;
}

const TIMEOUT = 500; // timeoutMs of every fixture but drip
const GRACE = 300; // killGraceMs of every fixture
const FAILED = ["FAIL", "ERROR"] as Verdict[];
const both = (re: RegExp) => ({ "1": re, "5": re });
const waits = {
  "1": /reading 42 bytes: nothing came back for 500 ms \(the last 42 bytes are missing/,
  "5": /after shutdown\(SHUT_WR\): no end of stream within 500 ms; 0 of 42 bytes had come back/,
};

const EXPECTED: Record<string, Expectation> = {
  "never-ready": {
    verdicts: { "1": ["ERROR"], "5": ["ERROR"] },
    messages: both(/did not become ready within 1000 ms[^]*refusing to listen, on purpose/),
    limitMs: 1000 + GRACE,
  },
  "ready-then-exit": {
    verdicts: { "1": FAILED, "5": FAILED },
    messages: both(/exited with code 3/),
    limitMs: TIMEOUT,
  },
  crash: {
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: both(/the target stopped by itself: pid \d+, killed by SIGABRT/),
    limitMs: TIMEOUT,
  },
  silent: { verdicts: { "1": ["FAIL"], "5": ["FAIL"] }, messages: waits, limitMs: TIMEOUT },
  "read-no-write": {
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: waits,
    limitMs: TIMEOUT,
  },
  garbage: {
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: {
      "1": /the echo differs: expected b'This is the mess' at byte 0, actual b'\\xab\\x97/,
      "5": /after the half-close: expected b'This is the mess' at byte 0, actual b'\\xab\\x97/,
    },
    limitMs: TIMEOUT,
  },
  extra: {
    // Case 1 reads exactly 42 bytes, so it cannot see the extra ones; case 5 reads to the end.
    verdicts: { "1": ["PASS"], "5": ["FAIL"] },
    messages: {
      "1": /42 bytes echoed exactly/,
      "5":
        /after the half-close: 48 bytes came back for 42 sent: 6 bytes extra, starting b'\+EXTRA'/,
    },
    limitMs: TIMEOUT,
  },
  drip: {
    // Every byte is progress within the 400 ms wait: only the case's hard limit stops it
    // (4 × timeoutMs + the ready timeout = 3100 ms).
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: both(/the case did not finish within 3100 ms|no progress within 400 ms/),
    limitMs: 3100,
  },
  reset: {
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: both(/Connection reset by peer|Broken pipe|peer closed the connection/),
    limitMs: TIMEOUT,
  },
  "reset-tcp": {
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: both(/Connection reset by peer|Broken pipe|peer closed the connection/),
    limitMs: TIMEOUT,
  },
  flood: {
    verdicts: { "1": ["FAIL"], "5": FAILED },
    messages: {
      "1": /the echo differs: expected b'This is the mess' at byte 0, actual b'\\xaa\\xaa/,
      "5": /the peer sent more than 6\d{4} bytes without closing/,
    },
    limitMs: TIMEOUT,
  },
  "flood-tcp": {
    verdicts: { "1": ["FAIL"], "5": FAILED },
    messages: {
      "1": /the echo differs: expected b'This is the mess' at byte 0, actual b'\\xaa\\xaa/,
      "5": /the peer sent more than 6\d{4} bytes without closing/,
    },
    limitMs: TIMEOUT,
  },
  "ignore-sigterm": {
    verdicts: { "1": ["FAIL"], "5": ["FAIL"] },
    messages: waits,
    limitMs: TIMEOUT + GRACE,
  },
  grandchild: { verdicts: { "1": ["FAIL"], "5": ["FAIL"] }, messages: waits, limitMs: TIMEOUT },
  megabytes: { verdicts: { "1": ["FAIL"], "5": ["FAIL"] }, messages: waits, limitMs: TIMEOUT },
};

function sockspec(args: string[], tmpdir: string): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, cli, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { TMPDIR: tmpdir, NO_COLOR: "1" },
  });
}

/** Live processes whose command line mentions `marker` (zombies excluded). */
function processesMentioning(marker: string): string[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,stat=,args="], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes(marker) && !/^\s*\d+\s+Z/.test(l)
  );
}

/** Unix sockets still bound somewhere under `dir` (from /proc/net/unix). */
function socketsUnder(dir: string): string[] {
  return readProcSync("/proc/net/unix").split("\n").map((l) => l.trim().split(/\s+/)[7])
    .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`));
}

/** Asserts that nothing the run made is left: processes, sockets, files under `tmpdir`. */
async function assertNothingLeft(tmpdir: string): Promise<void> {
  // Killed processes may take a moment to leave the table: look again for up to 2 s.
  let procs = processesMentioning(tmpdir);
  for (let i = 0; i < 20 && procs.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    procs = processesMentioning(tmpdir);
  }
  assert.deepEqual(procs, [], "no target process (or grandchild) is left");
  assert.deepEqual(socketsUnder(tmpdir), [], "no socket under the run's TMPDIR is still open");
  const left = [...Deno.readDirSync(tmpdir)].map((e) => e.name);
  assert.deepEqual(left, [], "no temp dir or socket file is left in the run's TMPDIR");
}

/** Reads a child's stderr until `pattern` shows (or `ms` pass); returns what was read. */
async function stderrUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  ms: number,
): Promise<string> {
  let seen = "";
  const deadline = Date.now() + ms;
  while (!pattern.test(seen) && Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<null>((r) => (timer = setTimeout(() => r(null), deadline - Date.now()))),
    ]);
    clearTimeout(timer);
    if (next === null || next.done) break;
    seen += next.value;
  }
  return seen;
}

Deno.test("every hostile target gets FAIL or ERROR in time, the run goes on, nothing is left", async (t) => {
  const tmpdir = await Deno.makeTempDir({ prefix: "sockspec-hostile-" });
  const reportDir = await Deno.makeTempDir({ prefix: "sockspec-hostile-report-" });
  try {
    const names = Object.keys(EXPECTED);
    const args = ["check"];
    for (const name of names) args.push("--target", `${hostileDir}/${name}.json`);
    args.push("--json", `${reportDir}/report.json`);
    args.push("echo/unix/1", "echo/unix/5", "echo/tcp/1", "echo/tcp/5");
    for (const x of ["echo/unix/10", "echo/unix/11", "echo/tcp/10", "echo/tcp/11"]) {
      args.push("--exclude", x);
    }
    const t0 = performance.now();
    const child = sockspec(args, tmpdir).spawn();
    // The run is bounded by the cases' own limits; this only guards the test itself.
    const guard = setTimeout(() => child.kill("SIGKILL"), 50_000);
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    clearTimeout(guard);
    const tookMs = Math.round(performance.now() - t0);
    console.log(`hostile run: ${names.length} targets, 2 cases each, ${tookMs} ms`);
    assert.equal(status.code, 1, `exit 1 (conformance failure) expected\n${stdout}\n${stderr}`);
    assert.ok(tookMs < 45_000, `the whole hostile run took ${tookMs} ms`);
    const reportText = await Deno.readTextFile(`${reportDir}/report.json`);
    assert.ok(
      reportText.length < 256 << 10,
      `the JSON report stays small (${reportText.length} bytes) although targets printed 32 MiB`,
    );
    assert.ok(stdout.length < 256 << 10, `the console report is ${stdout.length} bytes`);
    const report = JSON.parse(reportText) as RunReport;
    assert.equal(report.interrupted, false);

    for (const name of names) {
      await t.step(name, () => {
        const want = EXPECTED[name];
        const target = report.targets.find((r) => r.name === `hostile-${name}`);
        assert.ok(target, `hostile-${name} is in the report`);
        // Both cases ran, in order: a hostile first case does not stop the run.
        assert.deepEqual(target.results.map((r) => r.id.split("/")[2]), ["1", "5"]);
        for (const r of target.results) {
          const n = r.id.split("/")[2] as "1" | "5";
          const where = `${target.name} ${r.id}: ${r.verdict} (${r.durationMs} ms): ${r.message}`;
          assert.ok(want.verdicts[n].includes(r.verdict), `${where}\nwant ${want.verdicts[n]}`);
          assert.match(r.message, want.messages[n], where);
          assert.ok(
            r.durationMs <= want.limitMs + MARGIN_MS,
            `${where}\nwant within ${want.limitMs} + ${MARGIN_MS} ms`,
          );
          const evidence = JSON.stringify(r.evidence);
          assert.ok(evidence.length < 32 << 10, `${where}\nevidence is ${evidence.length} bytes`);
        }
      });
    }
    await t.step("nothing is left: processes, sockets, temp dirs", async () => {
      await assertNothingLeft(tmpdir);
    });
  } finally {
    await Deno.remove(tmpdir, { recursive: true }).catch(() => {});
    await Deno.remove(reportDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a target printing megabytes: the capture keeps 1 MiB + 8 KiB, counts the rest", async () => {
  const target = await loadManifest(`${hostileDir}/megabytes.json`);
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-hostile-" });
  try {
    const server = await startInstance(target, { tmp });
    try {
      const want = 16 << 20;
      const deadline = Date.now() + 20_000;
      while ((server.stdout.total < want || server.stderr.total < want) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (
        const [name, capture] of [["stdout", server.stdout], ["stderr", server.stderr]] as const
      ) {
        console.log(`${name}: ${capture.total} bytes printed, ${capture.text().length} kept`);
        assert.ok(capture.total >= want, `${name}: ${capture.total} of ${want} bytes arrived`);
        const kept = capture.text();
        assert.ok(kept.length <= (1 << 20) + 100, `${name}: kept ${kept.length} bytes`);
        assert.match(kept, /\[\.\.\. \d+ more bytes not kept\]$/);
        assert.equal(capture.tail(8 << 10).length, 8 << 10);
      }
    } finally {
      await server.stop();
    }
    assert.deepEqual(await server.leftovers(), []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  assert.deepEqual(processesMentioning(tmp), []);
});

Deno.test("Ctrl-C with a target that ignores SIGTERM: torn down, partial report, exit 130", async () => {
  const tmpdir = await Deno.makeTempDir({ prefix: "sockspec-hostile-" });
  try {
    const child = sockspec(
      ["check", "--target", `${hostileDir}/ignore-sigterm.json`, "echo/unix"],
      tmpdir,
    ).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const seen = await stderrUntil(stderr, /\[1\/\d+\]/, 20_000);
    assert.match(seen, /\[1\/\d+\]/, "the run made progress before the interrupt");
    // Interrupt in the middle of the second case, while its target is up.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(processesMentioning(tmpdir).length > 0, "a target is running at the interrupt");
    const t0 = performance.now();
    child.kill("SIGINT");
    const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
    clearTimeout(guard);
    const tookMs = Math.round(performance.now() - t0);
    stderr.releaseLock();
    await child.stderr.cancel().catch(() => {});
    console.log(`exit ${status.code} ${tookMs} ms after SIGINT`);
    assert.equal(status.code, 130, stdout);
    assert.ok(tookMs < GRACE + 2000 + MARGIN_MS, `exited ${tookMs} ms after SIGINT`);
    assert.match(stdout, /the run was interrupted: this report is partial/);
    assert.match(stdout, /^\d+ passed, \d+ failed, \d+ skipped\b.*$/m);
    await assertNothingLeft(tmpdir);
  } finally {
    await Deno.remove(tmpdir, { recursive: true }).catch(() => {});
  }
});

Deno.test("Ctrl-C while a target is still starting: the start is given up, nothing is left", async () => {
  const tmpdir = await Deno.makeTempDir({ prefix: "sockspec-hostile-" });
  const manifestDir = await Deno.makeTempDir({ prefix: "sockspec-hostile-manifest-" });
  try {
    // never-ready with a long ready timeout: the interrupt comes during the wait for it.
    const manifest = JSON.parse(await Deno.readTextFile(`${hostileDir}/never-ready.json`));
    manifest.command[1] = `${hostileDir}/hostile.py`;
    manifest.ready.timeoutMs = 20_000;
    await Deno.writeTextFile(`${manifestDir}/slow.json`, JSON.stringify(manifest));
    const child = sockspec(["check", "--target", `${manifestDir}/slow.json`, "echo/unix/1"], tmpdir)
      .spawn();
    const deadline = Date.now() + 15_000;
    while (processesMentioning(tmpdir).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(processesMentioning(tmpdir).length > 0, "the target was started");
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    child.kill("SIGINT");
    const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    clearTimeout(guard);
    const tookMs = Math.round(performance.now() - t0);
    assert.equal(status.code, 130, `${stdout}\n${stderr}`);
    assert.ok(tookMs < 2000 + MARGIN_MS, `exited ${tookMs} ms after SIGINT, not after 20 s`);
    assert.match(stdout, /the run was interrupted: this report is partial/);
    await assertNothingLeft(tmpdir);
  } finally {
    await Deno.remove(tmpdir, { recursive: true }).catch(() => {});
    await Deno.remove(manifestDir, { recursive: true }).catch(() => {});
  }
});
