/**
 * `sockspec check` under SIGTERM and SIGHUP (what CI runners send on cancel and timeout, and
 * what a closed terminal sends): like Ctrl-C, every target and namespace is torn down, the
 * partial report is printed and written, the exit code is 143 or 129, and the JSON report
 * records the signal and that exit code. A real `check` process gets the signal; afterwards
 * nothing it started may be left: no process, no temp dir, no socket file, no namespace.
 *
 * @module
 */

import assert from "node:assert/strict";
import { currentUid, processesSync, readProcSync } from "../net/proc.ts";
import { liveNetns } from "../harness/netns.ts";
import { CLI_PERMISSIONS, ROOT } from "../testdata/run_cli.ts";

const cli = `${ROOT}src/cli/main.ts`;

/** Every process descended from `pid` (by parent links), `pid` excluded. */
export function descendants(pid: number): number[] {
  const all = processesSync();
  const found = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!found.has(p.pid) && found.has(p.ppid) && p.state !== "Z") {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  found.delete(pid);
  return [...found];
}

/** The network namespace inode of `pid`, or undefined when it is gone. */
export function netnsOf(pid: number): number | undefined {
  try {
    const out = new Deno.Command("stat", {
      args: ["-L", "-c", "%i", `/proc/${pid}/ns/net`],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? Number(new TextDecoder().decode(out.stdout).trim()) : undefined;
  } catch {
    return undefined;
  }
}

/** Live processes whose command line mentions `marker`. */
function mentioning(marker: string): string[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,stat=,args="], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes(marker) && !/^\s*\d+\s+Z/.test(l)
  );
}

/** What {@linkcode signalled} saw. */
export interface SignalRun {
  code: number;
  stdout: string;
  json: Record<string, unknown> | undefined;
  /** What the run had started when the signal went out. */
  children: number[];
  namespaces: number[];
  tmp: string;
}

/**
 * Starts `check ARGS` with a private TMPDIR, waits until `ready(stderr, pid)` says the run is
 * in the middle of things, sends `signal`, and collects what came out.
 */
export async function signalled(
  args: string[],
  signal: Deno.Signal,
  ready: (stderr: string, pid: number) => boolean,
): Promise<SignalRun> {
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-sigtest-" });
  const json = `${tmp}/report.json`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...CLI_PERMISSIONS, cli, "check", ...args, "--report", `json=${json}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { TMPDIR: tmp, NO_COLOR: "1" },
  }).spawn();
  const stdoutText = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 60_000;
  let poll: ReturnType<typeof setInterval> | undefined;
  const isReady = new Promise<void>((resolve) => {
    poll = setInterval(() => ready(seen, child.pid) && resolve(), 50);
  });
  const reading = (async () => {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
  })();
  await Promise.race([isReady, new Promise((r) => setTimeout(r, 60_000))]);
  clearInterval(poll);
  const children = descendants(child.pid);
  const own = netnsOf(Deno.pid);
  const namespaces = [
    ...new Set(children.map(netnsOf).filter((n): n is number => n !== undefined && n !== own)),
  ];
  child.kill(signal);
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const status = await child.status;
  clearTimeout(killer);
  const stdout = await stdoutText;
  await reading.catch(() => {});
  let report: Record<string, unknown> | undefined;
  try {
    report = JSON.parse(await Deno.readTextFile(json));
  } catch {
    report = undefined;
  }
  await Deno.remove(json).catch(() => {});
  return { code: status.code, stdout, json: report, children, namespaces, tmp };
}

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    yield `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(`${dir}/${e.name}`);
  }
}

/** What a signalled run left: each list empty when nothing was left. */
export interface Leftovers {
  /** Processes the run had started that still run. */
  processes: number[];
  /** Processes whose command line mentions the run's TMPDIR. */
  mentioning: string[];
  /** Entries left in the run's TMPDIR (temp dirs, socket files). */
  files: string[];
  /** Unix sockets still bound under the run's TMPDIR. */
  sockets: string[];
  /** Network namespaces the run had made that still exist. */
  namespaces: number[];
}

/**
 * What the run left, after a bounded wait for its processes to be reaped; then kills any
 * such process and removes the private TMPDIR.
 */
export async function whatIsLeft(run: SignalRun): Promise<Leftovers> {
  let alive: number[] = [];
  for (let i = 0; i < 20; i++) {
    const live = new Set(processesSync().filter((p) => p.state !== "Z").map((p) => p.pid));
    alive = run.children.filter((pid) => live.has(pid));
    if (alive.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const files = [...walk(run.tmp)];
  const sockets = readProcSync("/proc/net/unix").split("\n").map((l) => l.trim().split(/\s+/)[7])
    .filter((p) => p?.startsWith(`${run.tmp}/`));
  const mention = mentioning(run.tmp);
  const live = await liveNetns();
  const namespaces = run.namespaces.filter((ns) => live.has(ns));
  for (const pid of alive) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await Deno.remove(run.tmp, { recursive: true }).catch(() => {});
  return { processes: alive, mentioning: mention, files, sockets, namespaces };
}

/** Asserts that nothing the run started is left (and removes the private TMPDIR). */
async function assertNothingLeft(run: SignalRun): Promise<void> {
  const left = await whatIsLeft(run);
  const context = ` (exit ${run.code}; stdout:\n${run.stdout})`;
  assert.deepEqual(left.processes, [], "no process the run started is left" + context);
  assert.deepEqual(left.mentioning, [], "no process mentions the run's temp dir");
  assert.deepEqual(left.files, [], "no temp dir or socket file is left" + context);
  assert.deepEqual(left.sockets, [], "no Unix socket is still bound under the run's temp dir");
  assert.deepEqual(left.namespaces, [], "no network namespace is left");
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`${signal} tears the targets down, writes the partial report and exits ${code}`, async () => {
    const run = await signalled(
      ["--target", "fixtures/targets/python-echo-unix.json"],
      signal,
      (stderr, pid) => /\[2\//.test(stderr) && descendants(pid).length > 0,
    );
    await assertNothingLeft(run);
    assert.ok(run.children.length > 0, "a target was running when the signal came");
    assert.equal(run.code, code, run.stdout);
    assert.match(run.stdout, /the run was interrupted by SIG(TERM|HUP): this report is partial/);
    assert.match(run.stdout, /\d+ passed, \d+ failed, \d+ skipped$/m);
    assert.ok(run.json, "the JSON report was written");
    assert.equal(run.json.interrupted, true);
    assert.deepEqual(run.json.interruption, { signal, exitCode: code });
  });
}

Deno.test({
  name: "SIGTERM during a multicast case leaves no network namespace or receiver behind",
  ignore: currentUid() !== 0,
  async fn() {
    const run = await signalled(["mcast/1"], "SIGTERM", (_stderr, pid) => {
      const own = netnsOf(Deno.pid);
      return descendants(pid).some((p) => {
        const ns = netnsOf(p);
        return ns !== undefined && ns !== own;
      });
    });
    await assertNothingLeft(run);
    assert.ok(run.namespaces.length > 0, "a namespace existed when the signal came");
    assert.equal(run.code, 143, run.stdout);
    assert.deepEqual(run.json?.interruption, { signal: "SIGTERM", exitCode: 143 });
  },
});

Deno.test("SIGHUP after the terminal is gone (stdout and stderr closed): reports still written, exit 129", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-sigtest-" });
  const json = `${tmp}/report.json`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...CLI_PERMISSIONS,
      cli,
      "check",
      "--target",
      "fixtures/targets/python-echo-unix.json",
      "--report",
      `json=${json}`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { TMPDIR: tmp, NO_COLOR: "1" },
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 30_000;
  while (!/\[2\//.test(seen) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  // the terminal goes away: both pipes are closed on the reading side
  await reader.cancel();
  await child.stdout.cancel();
  child.kill("SIGHUP");
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const status = await child.status;
  clearTimeout(killer);
  const report = JSON.parse(await Deno.readTextFile(json).catch(() => "null"));
  await Deno.remove(json).catch(() => {});
  const left = await whatIsLeft({
    code: status.code,
    stdout: "",
    json: report,
    children: [],
    namespaces: [],
    tmp,
  });
  assert.deepEqual(left.files, [], "no temp dir or socket file is left");
  assert.deepEqual(left.mentioning, [], "no target process is left");
  assert.equal(status.code, 129);
  assert.deepEqual(report?.interruption, { signal: "SIGHUP", exitCode: 129 });
});
