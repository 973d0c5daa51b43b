/**
 * Runs a command N times in a row (default: the test task, `deno task test`, 5 times) with K
 * CPU-bound busy loops running beside it (default 2, one per core of the 2-core CI machine),
 * and prints each run's verdict, time and `deno test` summary, then how many runs passed.
 * Exit 0 when every run exited 0, 1 when one did not, 2 on a usage error.
 *
 *     deno run --allow-run --allow-read scripts/under_load.ts [--runs N] [--busy K] [--timeout MIN] [-- COMMAND...]
 *
 * Each busy loop is `sh -c 'while :; do :; done'` in a process group of its own; they are
 * killed when the runs end, on SIGINT, SIGTERM and SIGHUP, and when a run outlasts its
 * timeout (default 45 minutes), which kills that run too. The figures go into
 * docs/performance.md; this is a measurement, not a test.
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    busy: { type: "string", default: "2" },
    timeout: { type: "string", default: "45" },
  },
  allowPositionals: true,
});
function whole(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    console.error(`--${name} must be a whole number from 0 to ${max}, not '${text}'`);
    Deno.exit(2);
  }
  return n;
}
const runs = whole("runs", values.runs, 100);
const busy = whole("busy", values.busy, 16);
const timeoutMs = whole("timeout", values.timeout, 600) * 60_000;
const command = positionals.length ? positionals : [Deno.execPath(), "task", "test"];

let loops: Deno.ChildProcess[] = [];
function stopLoops(): void {
  for (const loop of loops) {
    try {
      Deno.kill(-loop.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  loops = [];
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  Deno.addSignalListener(signal, () => {
    stopLoops();
    Deno.exit(signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 129);
  });
}

let passed = 0;
try {
  for (let i = 1; i <= runs; i++) {
    loops = Array.from({ length: busy }, () =>
      new Deno.Command("setsid", {
        args: ["sh", "-c", "while :; do :; done"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn());
    const t0 = performance.now();
    const run = new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const timer = setTimeout(() => run.kill("SIGKILL"), timeoutMs);
    const out = await run.output();
    clearTimeout(timer);
    stopLoops();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    // deno test ends with "ok | 540 passed (3 steps) | 0 failed | 1 ignored (8m)"
    const summary = text.split("\n")
      .filter((l) => /^(ok|FAILED) \| \d+ passed/.test(l)).at(-1) ?? "no deno test summary";
    const ok = out.success;
    if (ok) passed++;
    const minutes = ((performance.now() - t0) / 60_000).toFixed(1);
    console.log(
      `run ${i}/${runs}: ${
        ok ? "PASS" : `FAIL (exit ${out.code})`
      } in ${minutes} min with ${busy} busy loops: ${summary}`,
    );
    if (!ok) {
      for (const line of text.split("\n").filter((l) => /FAILED|FLAKY|=> /.test(l)).slice(0, 30)) {
        console.log(`  ${line}`);
      }
    }
  }
} finally {
  stopLoops();
}
console.log(`${passed} of ${runs} runs passed with ${busy} busy loops beside them`);
Deno.exit(passed === runs ? 0 : 1);
