// Tests for the reference socketpair program and the Python socketpair fixtures.
//
// Run with: deno test --allow-run --allow-read --allow-write --allow-net --allow-env
// Deno 2.9 refuses /proc reads without --allow-all, so /proc goes through src/net/proc.ts
// (which falls back to `cat`) and fd links through `find`. Uses deno, python3, setsid, find
// and ss (iproute2: it shows the peer of a Unix socket, which /proc/net/unix does not).

import assert from "node:assert/strict";
import { checkOrder } from "../../../conformance/program/program.ts";
import { processesSync, type ProcStat, readProcSync, sessionMembersSync } from "../../net/proc.ts";
import { match, type MatchResult, socketpairTranscript } from "../../transcript/transcript.ts";

const DENO = Deno.execPath();
const REFERENCE = new URL("./socketpair.ts", import.meta.url).pathname;
/** The permissions the reference documents; the tests prove they are enough. */
const REFERENCE_PERMS = [`--allow-run=${DENO}`, "--allow-env=NODE_V8_COVERAGE"];
const FIXTURE = new URL("../../../fixtures/python/socketpair.py", import.meta.url).pathname;
const BROKEN = new URL("../../../fixtures/broken/socketpair_broken.py", import.meta.url).pathname;
const SPEC = socketpairTranscript();
const C = "in child, waiting for message";
const M = "message from parent: b'ping'";
const R = "response from child: b'pong'";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (stdout closed and exited), killing it after `timeoutMs`. */
async function run(command: string, args: string[], timeoutMs = 10_000): Promise<Ran> {
  const out = await new Deno.Command(command, {
    args,
    stdin: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  if (out.signal === "SIGTERM") {
    assert.fail(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms`);
  }
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const runReference = (...args: string[]) =>
  run(DENO, ["run", "--no-prompt", ...REFERENCE_PERMS, REFERENCE, ...args]);

/** Reads a child's stdout line by line, each read bounded in time. */
class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  readonly lines: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads until a line equal to `want` arrives; fails on end of stream or after `ms`. */
  async until(want: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.lines.includes(want)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line ${JSON.stringify(want)} within ${ms} ms; got ${
                  JSON.stringify(this.lines)
                }`,
              ),
            ),
          Math.max(0, deadline - Date.now()),
        );
      });
      const { value, done } = await Promise.race([this.#reader.read(), timeout]).finally(() =>
        clearTimeout(timer)
      );
      if (done) {
        assert.fail(`output ended before ${JSON.stringify(want)}: ${JSON.stringify(this.lines)}`);
      }
      this.#buffer += value;
      const parts = this.#buffer.split("\n");
      this.#buffer = parts.pop()!;
      this.lines.push(...parts);
    }
  }

  /** The whole output: what was read so far plus the rest up to end of stream. */
  async rest(): Promise<string> {
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) break;
      this.#buffer += value;
    }
    return this.lines.map((l) => l + "\n").join("") + this.#buffer;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** The process `pid` as /proc shows it, or undefined once it is gone (or reaped). */
function procStat(pid: number): ProcStat | undefined {
  return processesSync().find((p) => p.pid === pid);
}

/** Socket inodes held by a process: fd number -> inode (the links in /proc/PID/fd). */
async function socketFds(pid: number): Promise<Map<number, string>> {
  const r = await run("find", [
    `/proc/${pid}/fd`,
    "-mindepth",
    "1",
    "-maxdepth",
    "1",
    "-printf",
    "%f %l\\n",
  ]);
  assert.equal(r.code, 0, `cannot list /proc/${pid}/fd: ${r.stderr}`);
  const out = new Map<number, string>();
  for (const row of r.stdout.split("\n")) {
    const m = /^(\d+) socket:\[(\d+)\]$/.exec(row);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

function assertMatches(result: MatchResult, output: string): void {
  if (!result.ok) assert.fail(`${result.message}\noutput:\n${output}`);
}

Deno.test("reference: both ends are an unnamed, connected AF_UNIX stream pair held by parent and child", async () => {
  const check = await run("ss", ["-V"]).catch((e) => ({ code: -1, stdout: "", stderr: String(e) }));
  assert.equal(check.code, 0, `needs ss from iproute2 to see Unix socket peers: ${check.stderr}`);
  const proc = new Deno.Command(DENO, {
    args: ["run", "--no-prompt", ...REFERENCE_PERMS, REFERENCE, "--hold-ms", "1500"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(10_000),
  }).spawn();
  const out = new LineReader(proc.stdout);
  try {
    await out.until(M, 5000); // the child now holds the exchange open for 1.5 s
    const children = processesSync().filter((p) => p.ppid === proc.pid).map((p) => p.pid);
    assert.equal(children.length, 1, `expected one child of ${proc.pid}, found ${children}`);
    const child = children[0];
    const childSocks = await socketFds(child);
    const childEnd = childSocks.get(3);
    assert.ok(childEnd, `child ${child} fd 3 is not a socket: ${JSON.stringify([...childSocks])}`);
    for (const fd of [0, 1, 2]) {
      assert.ok(!childSocks.has(fd), `child ${child} fd ${fd} should be stdio, not a socket`);
    }
    const ss = await run("ss", ["-x", "-n"]);
    const rows = new Map<string, string[]>(); // local inode -> [netid, state, local, peer inode]
    for (const row of ss.stdout.split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length >= 8) rows.set(f[5], [f[0], f[1], f[4], f[7]]);
    }
    const [netid, state, path, parentEnd] = rows.get(childEnd) ?? [];
    assert.equal(netid, "u_str", `child's end ${childEnd} in ss -x: ${rows.get(childEnd)}`);
    assert.equal(state, "ESTAB");
    assert.equal(path, "*", "the child's end must have no path");
    assert.deepEqual(
      rows.get(parentEnd),
      ["u_str", "ESTAB", "*", childEnd],
      "the peer must point back",
    );
    const parentFds = [...(await socketFds(proc.pid))].filter(([, inode]) => inode === parentEnd);
    assert.equal(
      parentFds.length,
      1,
      `parent ${proc.pid} must hold the peer ${parentEnd} of ${childEnd}`,
    );
    assert.ok(parentFds[0][0] > 2, "the parent's end must not be stdio");
    // /proc/net/unix: Num RefCount Protocol Flags Type St Inode [Path]
    const unix = readProcSync("/proc/net/unix").split("\n").map((l) => l.trim().split(/\s+/));
    for (const inode of [childEnd, parentEnd]) {
      const entry = unix.find((f) => f[6] === inode);
      assert.ok(entry, `inode ${inode} missing from /proc/net/unix`);
      assert.equal(entry[4], "0001", "type SOCK_STREAM");
      assert.equal(entry[5], "03", "state SS_CONNECTED");
      assert.equal(entry.length, 7, `inode ${inode} must have no path, has ${entry[7]}`);
    }
    const output = await out.rest();
    assert.equal((await proc.status).code, 0);
    assertMatches(match(SPEC, output), output);
  } finally {
    await out.cancel();
    try {
      proc.kill("SIGKILL");
    } catch { /* already exited */ }
    await proc.status;
  }
});

Deno.test("reference: 50 runs all pass the order check and exit 0", async () => {
  const runs = 50;
  const concurrency = 3;
  const orders = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < runs) {
      const i = next++;
      const r = await runReference();
      assert.equal(r.code, 0, `run ${i}: exit ${r.code}, stderr ${r.stderr}`);
      // The order check of case program/socketpair/3, exactly as the case runs it.
      const order = checkOrder(r.stdout);
      assert.equal(order.verdict, "PASS", `run ${i}: ${order.message}\noutput:\n${r.stdout}`);
      const first = String(order.observed?.firstLine);
      orders.set(first, (orders.get(first) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${runs} runs, ${concurrency} at a time, in ${seconds} s; first lines:`, orders);
});

Deno.test("reference: a wait that times out kills the child and exits 1", async () => {
  const r = await runReference("--hold-ms", "3000", "--timeout-ms", "300");
  assert.equal(r.code, 1);
  const m = /waiting for the child's answer: no progress within 300 ms; killed child (\d+)/
    .exec(r.stderr);
  assert.ok(m, `stderr: ${r.stderr}`);
  const killed = Number(m[1]);
  for (let i = 0; i < 50 && (procStat(killed)?.state ?? "Z") !== "Z"; i++) {
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.equal(procStat(killed)?.state ?? "Z", "Z", `child ${killed} still running`);
  const parsed = match(SPEC, r.stdout);
  assert.ok(!parsed.ok && parsed.line === null, "the transcript must stop before the response");
});

Deno.test("reference: without its permissions it says which to give", async () => {
  const r = await run(DENO, ["run", "--no-prompt", REFERENCE]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`run with --allow-run=${DENO} --allow-env=NODE_V8_COVERAGE`));
});

Deno.test("python fixture: the tutorial program fits the transcript and exits 0", async () => {
  for (let i = 0; i < 5; i++) {
    const r = await run("python3", [FIXTURE]);
    assert.equal(r.code, 0, r.stderr);
    assertMatches(match(SPEC, r.stdout), r.stdout);
  }
});

Deno.test("broken fixture: each output mode fails at the first line that does not fit", async () => {
  // The child's line that should come next, as the report names it.
  const child = (l: string) => [`"${l}" (child)`];
  const cases: [string, string, string[][]][] = [
    ["response-first", R, [child(C), child(M)]], // the response may come before the child's start
    ["missing-line", R, [child(M)]],
    ["garbage", "@@ garbage @@", [child(M)]],
  ];
  for (const [mode, culprit, expectations] of cases) {
    const r = await run("python3", [BROKEN, "--break", mode]);
    assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
    const result = match(SPEC, r.stdout);
    assert.ok(!result.ok, `${mode}: output should not fit:\n${r.stdout}`);
    const lineNo = r.stdout.split("\n").indexOf(culprit) + 1;
    assert.ok(lineNo > 0, `${mode}: no line ${JSON.stringify(culprit)} in:\n${r.stdout}`);
    assert.equal(result.lineNo, lineNo, `${mode}: ${result.message}`);
    assert.equal(result.line, culprit);
    assert.ok(
      result.message.startsWith(
        `line ${lineNo}: ${JSON.stringify(culprit)} does not fit; expected `,
      ),
      result.message,
    );
    assert.ok(
      expectations.some((e) => JSON.stringify(e) === JSON.stringify(result.expected)),
      `${mode}: expected ${JSON.stringify(result.expected)} in ${result.message}`,
    );
    console.log(`${mode}: ${result.message}`);
  }
});

Deno.test("broken fixture: child-exits-1 fits the transcript but exits 1", async () => {
  const r = await run("python3", [BROKEN, "--break", "child-exits-1"]);
  assertMatches(match(SPEC, r.stdout), r.stdout);
  assert.equal(r.code, 1);
});

Deno.test("broken fixture: child-left-running exits 0 with its child still running", async () => {
  // setsid makes the program lead a new session, so whatever it leaves behind is found by
  // session id (and killed below) even after it has been re-parented.
  const proc = new Deno.Command("setsid", {
    args: ["python3", BROKEN, "--break", "child-left-running"],
    stdin: "null",
    stdout: "piped",
    signal: AbortSignal.timeout(10_000),
  }).spawn();
  const out = new LineReader(proc.stdout);
  const sid = proc.pid;
  try {
    await out.until(R, 5000);
    await out.until(M, 1000);
    assert.equal((await proc.status).code, 0);
    const left = sessionMembersSync(sid);
    assert.equal(
      left.length,
      1,
      `expected the child left running in session ${sid}, found ${left}`,
    );
    assertMatches(match(SPEC, out.lines.join("\n")), out.lines.join("\n"));
  } finally {
    for (const pid of sessionMembersSync(sid)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await out.cancel();
    await proc.status;
  }
});
