/**
 * Target supervision: start a target from its manifest in a private temp dir with a free
 * port and a short socket path and a small environment, wait until it is ready (with a
 * timeout), capture its output (bounded), and tear it down: SIGTERM to its process group,
 * SIGKILL after a grace period, then SIGKILL to every descendant left, wherever it went.
 *
 * Targets run under `setsid`, so each one leads its own session and process group. Each
 * instance also gets a unique marker in its environment ({@linkcode INSTANCE_MARKER}),
 * which every descendant inherits and keeps through `setsid`, double forks and
 * re-parenting: teardown finds them by it in /proc/PID/environ, kills them, and names each
 * one it had to kill ({@linkcode Instance.leftBehindNotes}). See docs/lifecycle.md.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * import { startInstance } from "./target.ts";
 * const target = parseManifest({
 *   name: "py",
 *   kind: "stream-echo",
 *   transports: ["tcp"],
 *   command: ["python3", "-c", "import socket,sys; s=socket.create_server(('127.0.0.1', int(sys.argv[1]))); s.accept()", "{port}"],
 * }, "inline.json");
 * const dir = await Deno.makeTempDir({ prefix: "sockspec-" });
 * const server = await startInstance(target, { tmp: dir });
 * console.log(server.address("tcp")); // { transport: "tcp", hostname: "127.0.0.1", port: ... }
 * await server.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { TargetError } from "../case/verdict.ts";
import { literalMatcher, literalPattern, processMatcher } from "./_ready_match.ts";
import { substitute, type Target } from "./manifest.ts";
import {
  commandLine,
  markedProcesses,
  processes,
  readProc,
  tcpListeningPorts,
} from "../net/proc.ts";
import {
  closeQuietly,
  concat,
  connect,
  formatAddress,
  freePort,
  freeUdpPort,
  MAX_UNIX_PATH,
  sleep,
  type StreamAddress,
} from "../net/sockets.ts";

/** Options for one start of a target. */
export interface StartOptions {
  /**
   * Use this Unix socket path instead of a fresh one (for lifecycle cases). It is used as
   * given, even over {@linkcode MAX_UNIX_PATH} bytes; only a fresh path is checked.
   */
  path?: string;
  /** Use this port instead of a free one. */
  port?: number;
  /** Wait for readiness (default true). With false the caller checks the target itself. */
  wait?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * Aborting it gives up the start: the wait for readiness ends at once, the process is torn
   * down and {@linkcode startInstance} throws a {@linkcode TargetError}.
   */
  signal?: AbortSignal;
}

export { MAX_UNIX_PATH };

const HEAD_LIMIT = 1 << 20;
const TAIL_LIMIT = 8 << 10;
/** How many of its first output lines an {@linkcode OutputCapture} keeps with their times. */
export const LINE_LIMIT = 1000;

/** How many of its last output lines an {@linkcode OutputCapture} keeps with their times. */
export const TAIL_LINES = 100;

/** One line of a target's output, with the `performance.now()` at which it ended. */
export interface OutputLine {
  /** When the line ended (`performance.now()`). */
  at: number;
  /** The line, without its newline, cut at 512 characters. */
  text: string;
}

/**
 * The environment variable that marks every process of one instance: `NAME=<unique id>`.
 * Descendants inherit it, so teardown finds them even after `setsid`.
 */
export const INSTANCE_MARKER = "SOCKSPEC_INSTANCE";

/** The most of one output line that readiness looks at, in characters; the rest is cut. */
export const READY_LINE_MAX = 4096;

/**
 * A start that failed (not ready in time, exited, given up): the message says why and
 * names the command; the fields carry the command and the tails of its output, for evidence.
 */
export class StartError extends TargetError {
  /**
   * A failed start of the command `argv`, with the ends of its output.
   *
   * @example
   * ```ts
   * import { StartError } from "./target.ts";
   * const err = new StartError("target 'x' did not become ready", ["python3", "x.py"], "", "boom\n");
   * err.stderrTail; // "boom\n"
   * ```
   */
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly stdoutTail: string,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = "StartError";
  }
}

/** Keeps the first MiB and the last 8 KiB of a stream, and counts the rest. */
export class OutputCapture {
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #tail = new Uint8Array(0);
  #total = 0;
  #listeners = new Set<() => void>();
  #lineListeners = new Set<(line: string, complete: boolean) => void>();
  #decoder = new TextDecoder();
  #partial = "";
  #cut = false;
  #recent: OutputLine[] = [];
  /**
   * The output's first lines (at most {@linkcode LINE_LIMIT}, each cut at 512 characters),
   * each with the `performance.now()` at which it ended: the wire log puts them on its clock.
   * {@linkcode OutputCapture.lastLines} has the last ones.
   */
  readonly lines: OutputLine[] = [];
  /** How many lines the output has had, kept or not. */
  lineCount = 0;
  /** Resolves when the stream has ended. */
  readonly done: Promise<void>;

  /**
   * Drains `stream` (so the writer never blocks) into bounded memory.
   *
   * @example
   * ```ts
   * import { OutputCapture } from "./target.ts";
   * const capture = new OutputCapture(ReadableStream.from([new TextEncoder().encode("hi\n")]));
   * await capture.done;
   * capture.text(); // "hi\n"
   * ```
   */
  constructor(stream: ReadableStream<Uint8Array> | null) {
    this.done = stream ? this.#drain(stream) : Promise.resolve();
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream) {
        this.#total += chunk.length;
        if (this.#headBytes < HEAD_LIMIT) {
          const part = chunk.subarray(0, HEAD_LIMIT - this.#headBytes);
          this.#head.push(part.slice());
          this.#headBytes += part.length;
        }
        const joined = new Uint8Array(Math.min(TAIL_LIMIT, this.#tail.length + chunk.length));
        const fromChunk = chunk.subarray(Math.max(0, chunk.length - joined.length));
        const fromTail = this.#tail.subarray(
          this.#tail.length - (joined.length - fromChunk.length),
        );
        joined.set(fromTail, 0);
        joined.set(fromChunk, fromTail.length);
        this.#tail = joined;
        this.#splitLines(chunk);
        for (const listener of this.#listeners) listener();
      }
    } catch {
      // the process went away; what we have is what there is
    } finally {
      this.#splitLines(undefined);
      if (this.#partial.length > 0) this.#emitLine(true, performance.now());
      for (const listener of this.#listeners) listener();
    }
  }

  /**
   * The last `n` complete lines (at most {@linkcode TAIL_LINES}), as
   * {@linkcode OutputCapture.lines} keeps them: the end of a flood, however long it ran.
   *
   * @example
   * ```ts
   * import { OutputCapture } from "./target.ts";
   * const capture = new OutputCapture(ReadableStream.from([new TextEncoder().encode("a\nb\n")]));
   * await capture.done;
   * capture.lastLines(1).map((l) => l.text); // ["b"]
   * ```
   */
  lastLines(n: number): OutputLine[] {
    const want = Math.min(n, TAIL_LINES);
    const kept = this.#recent.length >= want
      ? this.#recent
      : [...this.lines.slice(-want), ...this.#recent];
    return kept.slice(-want);
  }

  /**
   * Splits the stream into lines for {@linkcode OutputCapture.onLine} (`undefined` flushes
   * the decoder at the end): at most {@linkcode READY_LINE_MAX} characters of each are kept
   * (the rest of a longer line is dropped), so memory stays bounded however long a line
   * runs. The unfinished last line of a chunk is offered as well (not complete), so a prompt
   * without a newline can be matched. The chunk is decoded once and split as text.
   */
  #splitLines(chunk: Uint8Array | undefined): void {
    const text = chunk ? this.#decoder.decode(chunk, { stream: true }) : this.#decoder.decode();
    const at = performance.now();
    let from = 0;
    while (from < text.length) {
      const nl = text.indexOf("\n", from);
      const end = nl < 0 ? text.length : nl;
      if (!this.#cut) {
        const room = READY_LINE_MAX - this.#partial.length;
        this.#partial += text.slice(from, Math.min(end, from + room));
        if (end - from > room) this.#cut = true;
      }
      if (nl < 0) break;
      this.#emitLine(true, at);
      from = nl + 1;
      if (this.#lineListeners.size === 0 && this.lineCount >= LINE_LIMIT) {
        from = this.#skim(text, from, at);
      }
    }
    // The unfinished last line, for readiness.
    if (chunk && this.#partial.length > 0 && this.#lineListeners.size > 0) {
      this.#emitLine(false, at);
    }
  }

  /**
   * With the first lines kept and nobody listening, the chunk's complete lines from `from`
   * are only counted, and the last of them kept: a flood costs a split, not a step per line.
   * Returns where the unfinished last line starts.
   */
  #skim(text: string, from: number, at: number): number {
    const last = text.lastIndexOf("\n");
    if (last < from) return from;
    let count = 0;
    for (let nl = text.indexOf("\n", from); nl >= 0; nl = text.indexOf("\n", nl + 1)) count++;
    // where the last TAIL_LINES complete lines begin (or `from`, for fewer)
    let begin = last;
    for (let k = 0; k < TAIL_LINES && begin >= from; k++) begin = text.lastIndexOf("\n", begin - 1);
    const kept = text.slice(Math.max(begin + 1, from), last).split("\n");
    this.lineCount += count - kept.length;
    for (const line of kept) this.#record(line.endsWith("\r") ? line.slice(0, -1) : line, at);
    return last + 1;
  }

  #record(text: string, at: number): void {
    const line = { at, text: text.slice(0, 512) };
    if (++this.lineCount <= LINE_LIMIT) this.lines.push(line);
    else {
      this.#recent.push(line);
      // Halved when it doubles: the last TAIL_LINES stay, at an amortized cost per line.
      if (this.#recent.length >= 2 * TAIL_LINES) this.#recent = this.#recent.slice(-TAIL_LINES);
    }
  }

  #emitLine(complete: boolean, at: number): void {
    const line = this.#partial.endsWith("\r") ? this.#partial.slice(0, -1) : this.#partial;
    if (complete) {
      this.#partial = "";
      this.#cut = false;
      this.#record(line, at);
    }
    for (const listener of this.#lineListeners) listener(line, complete);
  }

  /**
   * Calls `listener` with each line from now on (without its newline, cut at
   * {@linkcode READY_LINE_MAX} bytes; `complete` false for the unfinished last line, which
   * is offered again once it grows or ends), first with the lines already kept. Returns
   * the function that unsubscribes.
   *
   * @example
   * ```ts
   * import { OutputCapture } from "./target.ts";
   * const capture = new OutputCapture(ReadableStream.from([new TextEncoder().encode("a\nb\n")]));
   * const lines: string[] = [];
   * const off = capture.onLine((line) => lines.push(line));
   * await capture.done;
   * off(); // lines: ["a", "b"]
   * ```
   */
  onLine(listener: (line: string, complete: boolean) => void): () => void {
    if (this.#total > 0) {
      // What came before the subscription, from the kept head: its complete lines.
      const head = new TextDecoder().decode(concat(this.#head));
      const lines = head.split("\n");
      const unfinished = lines.pop();
      for (const line of lines) listener(line.slice(0, READY_LINE_MAX).replace(/\r$/, ""), true);
      if (unfinished) listener(unfinished.slice(0, READY_LINE_MAX), false);
    }
    this.#lineListeners.add(listener);
    return () => this.#lineListeners.delete(listener);
  }

  /** Total bytes seen, including those not kept. */
  get total(): number {
    return this.#total;
  }

  /**
   * The kept head of the output as text (the first MiB), with a marker if more was cut.
   *
   * @example
   * ```ts
   * import { OutputCapture } from "./target.ts";
   * new OutputCapture(null).text(); // ""
   * ```
   */
  text(): string {
    const head = new TextDecoder().decode(concat(this.#head));
    return this.#total > this.#headBytes
      ? `${head}\n[... ${this.#total - this.#headBytes} more bytes not kept]`
      : head;
  }

  /**
   * The last `bytes` of the output as text.
   *
   * @example
   * ```ts
   * import { OutputCapture } from "./target.ts";
   * new OutputCapture(null).tail(); // ""
   * ```
   */
  tail(bytes = 2048): string {
    return new TextDecoder().decode(this.#tail.subarray(Math.max(0, this.#tail.length - bytes)));
  }

  /**
   * Waits until the kept output matches `pattern` (or the stream ends, or time runs out).
   *
   * @example
   * ```ts
   * import { OutputCapture } from "./target.ts";
   * const capture = new OutputCapture(ReadableStream.from([new TextEncoder().encode("ready\n")]));
   * await capture.waitFor(/^ready$/m, 1000); // true
   * ```
   */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let ended = false;
      this.done.then(() => (ended = true));
      const check = () => {
        if (pattern.test(this.text())) finish(true);
        else if (ended) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(ok);
      };
      this.#listeners.add(check);
      this.done.then(check);
      check();
    });
  }
}

/** A started (or attached) target. Stop it with {@linkcode Instance.stop}. */
export class Instance {
  /** The port it was given (`{port}`), if any. */
  readonly port?: number;
  /** The Unix socket path it was given (`{path}`), if any. */
  readonly path?: string;
  /** Its captured stdout. */
  readonly stdout: OutputCapture;
  /** Its captured stderr. */
  readonly stderr: OutputCapture;
  /** Its exit status once it has exited (undefined while running or when attached). */
  status?: Deno.CommandStatus;
  /** When it exited (`performance.now()`), once it has. */
  exitedAt?: number;
  /** `NAME=VALUE` in the environment of this instance and of all it starts, if started here. */
  readonly marker?: string;
  /**
   * The processes teardown found still running after the target was sent SIGTERM (or had
   * exited by itself) and then killed: whatever the target left behind. Set by
   * {@linkcode Instance.stop}.
   */
  leftBehind: { pid: number; cmd: string }[] = [];
  #child?: Deno.ChildProcess;
  #exited: Promise<Deno.CommandStatus | undefined>;
  #signalled = false;

  /**
   * Wraps a spawned child (or none, for an attached target). Use {@linkcode startInstance}.
   *
   * @example
   * ```ts
   * import { Instance } from "./target.ts";
   * import { parseManifest } from "./manifest.ts";
   * const target = parseManifest({ name: "x", kind: "stream-echo", transports: ["tcp"], attach: { port: 10000 } }, "x.json");
   * const attached = new Instance(target, "/tmp", { port: 10000 });
   * ```
   */
  constructor(
    readonly target: Target,
    readonly tmp: string,
    where: { port?: number; path?: string },
    child?: Deno.ChildProcess,
    readonly argv?: readonly string[],
    marker?: string,
  ) {
    this.marker = marker;
    this.port = where.port;
    this.path = where.path;
    this.#child = child;
    this.stdout = new OutputCapture(child ? child.stdout : null);
    this.stderr = new OutputCapture(child ? child.stderr : null);
    this.#exited = child
      ? child.status.then((s) => {
        this.exitedAt = performance.now();
        this.status = s;
        return s;
      })
      : new Promise(() => {});
  }

  /** The process id (also its process group and session id), if sockspec started it. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True while the started process has not exited (always true when attached). */
  get running(): boolean {
    return this.status === undefined;
  }

  /**
   * True once sockspec has sent the target a signal ({@linkcode Instance.kill} or
   * {@linkcode Instance.stop}): an exit without it means the target stopped by itself.
   */
  get signalled(): boolean {
    return this.#signalled;
  }

  /**
   * The stream address for `transport` (`tcp` or `unix`).
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * function where(server: Instance) {
   *   return server.address("unix"); // { transport: "unix", path: "/tmp/sockspec-.../sock" }
   * }
   * ```
   */
  address(transport: "tcp" | "unix"): StreamAddress {
    if (transport === "unix") {
      if (!this.path) throw new TargetError(`target '${this.target.name}' has no Unix socket path`);
      return { transport: "unix", path: this.path };
    }
    if (!this.port) throw new TargetError(`target '${this.target.name}' has no port`);
    return { transport: "tcp", hostname: this.target.host, port: this.port };
  }

  /**
   * Waits up to `timeoutMs` for the process to exit; undefined if it is still running.
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * async function exitedByItself(server: Instance): Promise<boolean> {
   *   return (await server.waitExit(1000)) !== undefined;
   * }
   * ```
   */
  async waitExit(timeoutMs: number): Promise<Deno.CommandStatus | undefined> {
    if (!this.#child) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((
      r,
    ) => (timer = setTimeout(() => r(undefined), timeoutMs)));
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends `signal` to the target's whole process group.
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * function interrupt(server: Instance): void {
   *   server.kill("SIGINT"); // like Ctrl-C
   * }
   * ```
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    const pid = this.pid;
    if (pid === undefined) return;
    this.#signalled = true;
    try {
      Deno.kill(-pid, signal);
    } catch {
      try {
        if (this.running) Deno.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * Processes still alive that the target started: its session's members and every process
   * carrying its {@linkcode Instance.marker} (its own pid included while it runs). Anything
   * here after the target exits was left behind.
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * async function stopClean(server: Instance): Promise<number[]> {
   *   await server.stop();
   *   return await server.leftovers(); // pids; [] when nothing was left behind
   * }
   * ```
   */
  async leftovers(): Promise<number[]> {
    const sid = this.pid;
    if (sid === undefined) return [];
    const all = await processes();
    const found = new Set(
      all.filter((p) => p.session === sid && p.state !== "Z").map((p) => p.pid),
    );
    if (this.marker) {
      for (const pid of await markedProcesses(this.marker, all)) found.add(pid);
    }
    return [...found];
  }

  /**
   * One line per process teardown had to kill: "left pid N (`cmd`) running after SIGTERM".
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * async function notes(server: Instance): Promise<string[]> {
   *   await server.stop();
   *   return server.leftBehindNotes(); // [] for a target that cleans up after itself
   * }
   * ```
   */
  leftBehindNotes(): string[] {
    const after = this.#signalled ? "after SIGTERM" : "after the target exited";
    return this.leftBehind.map((p) => `left pid ${p.pid} (\`${p.cmd}\`) running ${after}`);
  }

  /**
   * Tears the target down: SIGTERM to its group, SIGKILL after the manifest's grace period,
   * then SIGKILL to every descendant still alive (its session's members, and every process
   * with its marker: a daemon that left the session with `setsid` too), noting each one in
   * {@linkcode Instance.leftBehind}; waits for its output to end (bounded).
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * async function done(server: Instance): Promise<void> {
   *   await server.stop();
   * }
   * ```
   */
  async stop(): Promise<void> {
    if (!this.#child) return;
    const pid = this.#child.pid;
    if (this.running) {
      this.kill("SIGTERM");
      if (!(await this.waitExit(this.target.killGraceMs))) {
        this.kill("SIGKILL");
        await this.waitExit(2000);
      }
    }
    // Members of its group got the SIGTERM too: a short, bounded moment to finish exiting.
    let left = (await this.leftovers()).filter((p) => p !== pid);
    for (let i = 0; i < 10 && left.length > 0; i++) {
      await sleep(25);
      left = (await this.leftovers()).filter((p) => p !== pid);
    }
    const named = new Map(this.leftBehind.map((p) => [p.pid, p]));
    this.kill("SIGKILL");
    // Everything left is killed; a few rounds, in case something forked meanwhile.
    for (let round = 0; round < 5; round++) {
      if (round > 0) left = (await this.leftovers()).filter((p) => p !== pid);
      if (left.length === 0) break;
      if (round > 0) await sleep(20);
      for (const p of left) {
        if (!named.has(p)) named.set(p, { pid: p, cmd: await commandLine(p) });
        try {
          Deno.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    this.leftBehind = [...named.values()];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([this.stdout.done, this.stderr.done]),
      new Promise((r) => (timer = setTimeout(r, 1000))),
    ]);
    clearTimeout(timer);
  }

  /**
   * A short account of the process for messages: pid and exit status.
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * function state(server: Instance): string {
   *   return server.describe(); // "pid 1234, exited with code 1"
   * }
   * ```
   */
  describe(): string {
    if (!this.#child) return "attached";
    const s = this.status;
    if (!s) return `pid ${this.pid}, running`;
    return `pid ${this.pid}, ${s.signal ? `killed by ${s.signal}` : `exited with code ${s.code}`}`;
  }
}

/**
 * Starts a target (or attaches to it) in `tmp` and waits until it is ready. Throws
 * {@linkcode TargetError} (with the stderr tail) when it exits early or is not ready in time;
 * the process is torn down before the error is thrown.
 *
 * @example
 * ```ts
 * import { loadManifest } from "./manifest.ts";
 * import { startInstance } from "./target.ts";
 * const target = await loadManifest("fixtures/targets/python-echo-unix.json");
 * const dir = await Deno.makeTempDir({ prefix: "sockspec-" });
 * const server = await startInstance(target, { tmp: dir });
 * await server.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function startInstance(
  target: Target,
  opts: StartOptions & { tmp: string },
): Promise<Instance> {
  const { tmp, signal } = opts;
  const stopped = () =>
    new TargetError(`target '${target.name}': the start was given up (the case was stopped)`);
  if (signal?.aborted) throw stopped();
  const needsPath = target.transports.some((t) => t === "unix" || t === "unixgram");
  const needsPort = target.transports.some((t) => t === "tcp" || t === "udp");
  if (!target.command) {
    const where = { port: target.attach?.port, path: target.attach?.path };
    const instance = new Instance(target, tmp, where);
    if (opts.wait !== false) await waitReady(instance, signal);
    return instance;
  }
  // A fixed port or path from the manifest (`port`, `path`) is used as given.
  const path = opts.path ?? target.path ?? (needsPath ? `${tmp}/sock` : undefined);
  // Only the path invented here is checked: a caller that passes one (a case testing what
  // the target does with an over-long path) gets it as it is.
  if (opts.path === undefined && path && new TextEncoder().encode(path).length > MAX_UNIX_PATH) {
    throw new TargetError(
      `socket path ${path} is longer than ${MAX_UNIX_PATH} bytes; set TMPDIR to a shorter directory`,
    );
  }
  const port = opts.port ?? target.port ??
    (needsPort
      ? (target.transports.includes("udp") && !target.transports.includes("tcp")
        ? freeUdpPort(target.host)
        : freePort(target.host))
      : undefined);
  const values: Record<string, string | undefined> = {
    port: port?.toString(),
    path,
    host: target.host,
    tmp,
    dir: target.dir,
    deno: Deno.execPath(),
    ...serviceValues(target, tmp, { port, path }),
  };
  const argv = target.command.map((arg) => substitute(arg, values));
  const marker = `${INSTANCE_MARKER}=${newInstanceId()}`;
  const env = targetEnvironment(target, values, tmp, marker, opts.env);
  const cwd = substitute(target.cwd, values);
  await writeFiles(target, tmp, values);
  const useSetsid = hasSetsid();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(useSetsid ? "setsid" : argv[0], {
      args: useSetsid ? argv : argv.slice(1),
      cwd,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    throw new TargetError(
      `target '${target.name}': cannot start ${argv[0]}: ${(err as Error).message}`,
    );
  }
  const instance = new Instance(target, tmp, { port, path }, child, argv, marker);
  if (opts.wait !== false) {
    try {
      await waitReady(instance, signal);
    } catch (err) {
      await instance.stop();
      if (signal?.aborted) throw stopped();
      const tail = instance.stderr.tail(1024).trim();
      const left = instance.leftBehindNotes();
      throw new StartError(
        `${(err as Error).message} Its command: ${argv.join(" ")}.${
          left.length ? ` Teardown: ${left.join("; ")}.` : ""
        }${tail ? ` Its stderr ends with:\n${tail}` : ""}`,
        argv,
        instance.stdout.tail(),
        instance.stderr.tail(),
      );
    }
  }
  return instance;
}

/** The variables every target gets from the caller's environment (when set there). */
export const BASE_ENV = ["PATH", "HOME", "LANG"] as const;

/**
 * The whole environment a target starts with: {@linkcode BASE_ENV} from the caller (PATH
 * defaults to /usr/local/bin:/usr/bin:/bin, LANG to C.UTF-8), the variables the manifest's
 * `inheritEnv` names (when set), `TMPDIR` set to the instance's temp dir, the manifest's
 * `env` (placeholders substituted), the caller's extra `env`, and last the instance marker.
 * Nothing else of the caller's environment reaches the target, so neither a variable such
 * as PYTHONUNBUFFERED nor a secret in the caller's shell can change what it does.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * import { targetEnvironment } from "./target.ts";
 * const target = parseManifest({ name: "x", kind: "stream-echo", transports: ["tcp"], command: ["true"] }, "x.json");
 * targetEnvironment(target, {}, "/tmp/sockspec-1", "SOCKSPEC_INSTANCE=1").TMPDIR; // "/tmp/sockspec-1"
 * ```
 */
export function targetEnvironment(
  target: Target,
  values: Record<string, string | undefined>,
  tmp: string,
  marker: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: Deno.env.get("LANG") ?? "C.UTF-8",
  };
  const home = Deno.env.get("HOME");
  if (home !== undefined) env.HOME = home;
  for (const name of target.inheritEnv ?? []) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  env.TMPDIR = tmp;
  for (const [k, v] of Object.entries(target.env)) env[k] = substitute(v, values);
  Object.assign(env, extra);
  const at = marker.indexOf("=");
  env[marker.slice(0, at)] = marker.slice(at + 1);
  return env;
}

let instances = 0;
function newInstanceId(): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  return `${Deno.pid}-${++instances}-${
    [...random].map((b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

async function waitReady(instance: Instance, signal?: AbortSignal): Promise<void> {
  const { target } = instance;
  const { kind, pattern, timeoutMs } = target.ready;
  const deadline = Date.now() + timeoutMs;
  const started = performance.now();
  const what = describeReadiness(instance);
  const notReady = (why: string) =>
    new TargetError(
      `target '${target.name}' did not become ready within ${timeoutMs} ms (waited for ${what}); ${why}. ` +
        `Check its command and the ready settings in ${target.source}.`,
    );
  if (kind === "none") return;
  if (kind === "stdout") {
    const found = await matchReadyLine(instance, pattern!, timeoutMs, signal);
    if (signal?.aborted) throw notReady("the case was stopped");
    if (found === "lagged") {
      throw notReady(
        "the target wrote output faster than its ready pattern could be tested; simplify the pattern",
      );
    }
    if (found !== "match") {
      throw notReady(instance.running ? "no matching line" : instance.describe());
    }
    return;
  }
  while (Date.now() < deadline) {
    if (signal?.aborted) throw notReady("the case was stopped");
    if (!instance.running) throw notReady(instance.describe());
    if (await isReady(instance, kind, started)) return;
    await sleep(20);
  }
  throw notReady(instance.running ? "still not ready" : instance.describe());
}

/** After the target exits, how long its output may take to end (a child can hold it open). */
const EXIT_SETTLE_MS = 300;

/**
 * Tests the target's stdout, line by line over the whole stream, against `pattern` in a
 * separate matcher process that is killed when time runs out or `signal` aborts: a slow or
 * catastrophic pattern can neither outlast the timeout nor delay an interrupt. Each line is
 * cut at {@linkcode READY_LINE_MAX} bytes; lines that pile up beyond
 * {@linkcode MATCHER_BACKLOG} bytes end the wait ("lagged").
 */
async function matchReadyLine(
  instance: Instance,
  pattern: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<"match" | "no match" | "timeout" | "aborted" | "lagged"> {
  let resolveLagged = () => {};
  const laggedNow = new Promise<"lagged">((r) => (resolveLagged = () => r("lagged")));
  const literal = literalPattern(pattern);
  const matcher = literal ? literalMatcher(literal) : processMatcher(pattern, resolveLagged);
  const off = instance.stdout.onLine((line) => matcher.offer(line));
  instance.stdout.done.then(() => matcher.end());
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settle: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  try {
    return await Promise.race([
      matcher.answer,
      laggedNow,
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
      new Promise<"aborted">((r) => {
        onAbort = () => r("aborted");
        if (signal?.aborted) onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
      // Once the target has exited, what it wrote is all there is (or soon: bounded).
      instance.waitExit(timeoutMs).then((s) => {
        if (s) settle = setTimeout(() => matcher.end(), EXIT_SETTLE_MS);
        return new Promise<never>(() => {});
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearTimeout(settle);
    signal?.removeEventListener("abort", onAbort);
    off();
    await matcher.stop();
  }
}

/** How long a socket node may exist without a listening entry before it is probed. */
const PROBE_AFTER_MS = 500;

async function isReady(
  instance: Instance,
  kind: "listen" | "bound",
  started: number,
): Promise<boolean> {
  const { transports } = instance.target;
  for (const t of transports) {
    if (kind === "listen" && t === "tcp") {
      if (!(await portListening(instance.port!))) return false;
    } else if (kind === "listen" && t === "unix") {
      // A listening entry in /proc/net/unix needs no probe connection. Only a server that
      // bound elsewhere and renamed its node into place (so /proc shows another path) is
      // probed with a connection, and only after it has had time to show up in /proc: a
      // probe connection appears in the target's transcript, and kills one-shot servers.
      if (await unixListening(instance.path!)) continue;
      if (performance.now() - started < PROBE_AFTER_MS || !(await unixAccepts(instance.path!))) {
        return false;
      }
    } else if (t === "unix" || t === "unixgram") {
      try {
        if (!Deno.lstatSync(instance.path!).isSocket) return false;
      } catch {
        return false;
      }
    } else if (t === "udp" || t === "tcp") {
      if (!(await portBound(t, instance.port!))) return false;
    }
  }
  return true;
}

function describeReadiness(instance: Instance): string {
  const { kind, pattern } = instance.target.ready;
  if (kind === "stdout") return `a stdout line matching /${pattern}/`;
  const where = instance.target.transports.map((t) =>
    t === "unix" || t === "unixgram" ? instance.path : formatAddress({
      transport: "tcp",
      hostname: instance.target.host,
      port: instance.port ?? 0,
    })
  );
  return `${kind === "listen" ? "a listening socket at" : "a socket bound at"} ${
    where.join(" and ")
  }`;
}

/**
 * With several services in one process: `{port.NAME}` and `{path.NAME}` for each. This
 * target's own service gets the port and path chosen for it; the others get fixed ones
 * from the manifest, or fresh ones (`{tmp}/NAME.sock`, a free port on their host).
 */
function serviceValues(
  target: Target,
  tmp: string,
  mine: { port?: number; path?: string },
): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const s of target.services ?? []) {
    const own = s.name === target.service;
    if (s.transports.some((t) => t === "tcp" || t === "udp")) {
      const port = own ? mine.port : s.port ??
        (s.transports.includes("tcp") ? freePort(s.host) : freeUdpPort(s.host));
      values[`port.${s.name}`] = port?.toString();
    }
    if (s.transports.some((t) => t === "unix" || t === "unixgram")) {
      values[`path.${s.name}`] = own ? mine.path : s.path ?? `${tmp}/${s.name}.sock`;
    }
  }
  return values;
}

/** Writes the manifest's `files` into the instance's temp dir, placeholders filled in. */
async function writeFiles(
  target: Target,
  tmp: string,
  values: Record<string, string | undefined>,
): Promise<void> {
  for (const [name, text] of Object.entries(target.files ?? {})) {
    const file = `${tmp}/${name}`;
    const slash = file.lastIndexOf("/");
    await Deno.mkdir(file.slice(0, slash), { recursive: true });
    await Deno.writeTextFile(file, substitute(text, values));
  }
}

/**
 * True when a Unix stream socket bound at `path` is listening (from /proc/net/unix).
 *
 * @example
 * ```ts
 * import { unixListening } from "./target.ts";
 * await unixListening("/tmp/uds_socket");
 * ```
 */
export async function unixListening(path: string): Promise<boolean> {
  try {
    return (await readProc("/proc/net/unix")).split("\n").some((line) => {
      const f = line.trim().split(/\s+/);
      // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 is __SO_ACCEPTCON.
      return f[7] === path && (parseInt(f[3], 16) & 0x10000) !== 0;
    });
  } catch {
    return false;
  }
}

async function unixAccepts(path: string): Promise<boolean> {
  try {
    if (!Deno.lstatSync(path).isSocket) return false;
    closeQuietly(await connect({ transport: "unix", path }, 500));
    return true;
  } catch {
    return false;
  }
}

/**
 * True when a TCP socket listens on local `port` (state LISTEN in /proc/net/tcp or tcp6).
 *
 * @example
 * ```ts
 * import { portListening } from "./target.ts";
 * await portListening(10000);
 * ```
 */
export async function portListening(port: number): Promise<boolean> {
  return (await tcpListeningPorts()).includes(port);
}

/**
 * True when a socket of `protocol` is bound to local `port` (from /proc/net).
 *
 * @example
 * ```ts
 * import { portBound } from "./target.ts";
 * await portBound("udp", 10000);
 * ```
 */
export function portBound(protocol: "udp" | "tcp", port: number): Promise<boolean> {
  return procNetHas(protocol, port);
}

async function procNetHas(protocol: "udp" | "tcp", port: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    try {
      for (const line of (await readProc(file)).split("\n").slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields[1]?.endsWith(hex)) return true;
      }
    } catch {
      // no such table (no IPv6)
    }
  }
  return false;
}

let setsidFound: boolean | undefined;
function hasSetsid(): boolean {
  if (setsidFound === undefined) {
    setsidFound = ["/usr/bin/setsid", "/bin/setsid"].some((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
  }
  return setsidFound;
}
