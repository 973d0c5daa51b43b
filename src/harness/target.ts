/**
 * Target supervision: start a target from its manifest in a private temp dir with a free
 * port and a short socket path, wait until it is ready (with a timeout), capture its output
 * (bounded), and tear it down: SIGTERM to its process group, SIGKILL after a grace period,
 * then SIGKILL to anything left in its session.
 *
 * Targets run under `setsid`, so each one leads its own session and process group and
 * nothing it starts can outlive the case unnoticed.
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
import { substitute, type Target } from "./manifest.ts";
import { readProc, sessionMembers } from "../net/proc.ts";
import {
  closeQuietly,
  concat,
  connect,
  formatAddress,
  freePort,
  freeUdpPort,
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

/** Linux's limit on a Unix socket path, in bytes. */
export const MAX_UNIX_PATH = 107;

const HEAD_LIMIT = 1 << 20;
const TAIL_LIMIT = 8 << 10;
/** How many output lines an {@linkcode OutputCapture} keeps with their times. */
export const LINE_LIMIT = 1000;

/** Keeps the first MiB and the last 8 KiB of a stream, and counts the rest. */
export class OutputCapture {
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #tail = new Uint8Array(0);
  #total = 0;
  #listeners = new Set<() => void>();
  #partial = "";
  #decoder = new TextDecoder();
  /**
   * The output's lines (at most {@linkcode LINE_LIMIT}, each cut at 512 characters), each
   * with the `performance.now()` at which it ended: the wire log puts them on its clock.
   */
  readonly lines: { at: number; text: string }[] = [];
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
        this.#addLines(this.#decoder.decode(chunk, { stream: true }));
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
        for (const listener of this.#listeners) listener();
      }
    } catch {
      // the process went away; what we have is what there is
    } finally {
      this.#addLines(this.#decoder.decode() + (this.#partial ? "\n" : ""));
      for (const listener of this.#listeners) listener();
    }
  }

  #addLines(text: string): void {
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop()!.slice(0, 512);
    const at = performance.now();
    for (const line of parts) {
      if (this.lines.length < LINE_LIMIT) this.lines.push({ at, text: line.slice(0, 512) });
    }
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
  ) {
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
   * Processes still alive in the target's session (its own included while it runs):
   * anything left here after the target exits was left behind.
   *
   * @example
   * ```ts
   * import type { Instance } from "./target.ts";
   * async function stopClean(server: Instance): Promise<number[]> {
   *   await server.stop();
   *   return server.leftovers(); // pids; [] when nothing was left behind
   * }
   * ```
   */
  leftovers(): number[] {
    return this.pid === undefined ? [] : sessionMembers(this.pid);
  }

  /**
   * Tears the target down: SIGTERM to its group, SIGKILL after the manifest's grace period,
   * then SIGKILL to anything left in its session; waits for its output to end (bounded).
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
    if (this.running) {
      this.kill("SIGTERM");
      if (!(await this.waitExit(this.target.killGraceMs))) {
        this.kill("SIGKILL");
        await this.waitExit(2000);
      }
    }
    this.kill("SIGKILL");
    // Anything left in its session (other process groups included) is killed too; a few
    // rounds, in case something forked while the previous round was killing.
    for (let round = 0; round < 5; round++) {
      const left = this.leftovers();
      if (left.length === 0) break;
      if (round > 0) await sleep(20);
      for (const pid of left) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
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
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(target.env)) env[k] = substitute(v, values);
  const cwd = substitute(target.cwd, values);
  await writeFiles(target, tmp, values);
  const useSetsid = hasSetsid();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(useSetsid ? "setsid" : argv[0], {
      args: useSetsid ? argv : argv.slice(1),
      cwd,
      env: { ...env, ...opts.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    throw new TargetError(
      `target '${target.name}': cannot start ${argv[0]}: ${(err as Error).message}`,
    );
  }
  const instance = new Instance(target, tmp, { port, path }, child, argv);
  if (opts.wait !== false) {
    try {
      await waitReady(instance, signal);
    } catch (err) {
      await instance.stop();
      if (signal?.aborted) throw stopped();
      const tail = instance.stderr.tail(1024).trim();
      throw new TargetError(
        `${(err as Error).message}${tail ? ` Its stderr ends with:\n${tail}` : ""}`,
      );
    }
  }
  return instance;
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
    let onAbort = () => {};
    const aborted = new Promise<boolean>((resolve) => {
      onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    const ok = await Promise.race([
      instance.stdout.waitFor(new RegExp(pattern!, "m"), timeoutMs),
      instance.waitExit(timeoutMs).then((s) => (s ? false : new Promise<boolean>(() => {}))),
      aborted,
    ]).finally(() => signal?.removeEventListener("abort", onAbort));
    if (signal?.aborted) throw notReady("the case was stopped");
    if (!ok) throw notReady(instance.running ? "no matching line" : instance.describe());
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
      if (!portListening(instance.port!)) return false;
    } else if (kind === "listen" && t === "unix") {
      // A listening entry in /proc/net/unix needs no probe connection. Only a server that
      // bound elsewhere and renamed its node into place (so /proc shows another path) is
      // probed with a connection, and only after it has had time to show up in /proc: a
      // probe connection appears in the target's transcript, and kills one-shot servers.
      if (unixListening(instance.path!)) continue;
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
      if (!portBound(t, instance.port!)) return false;
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
 * unixListening("/tmp/uds_socket");
 * ```
 */
export function unixListening(path: string): boolean {
  try {
    return readProc("/proc/net/unix").split("\n").some((line) => {
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
 * portListening(10000);
 * ```
 */
export function portListening(port: number): boolean {
  return procNetHas("tcp", port, "0A");
}

/**
 * True when a socket of `protocol` is bound to local `port` (from /proc/net).
 *
 * @example
 * ```ts
 * import { portBound } from "./target.ts";
 * portBound("udp", 10000);
 * ```
 */
export function portBound(protocol: "udp" | "tcp", port: number): boolean {
  return procNetHas(protocol, port);
}

function procNetHas(protocol: "udp" | "tcp", port: number, state?: string): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    try {
      for (const line of readProc(file).split("\n").slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields[1]?.endsWith(hex) && (state === undefined || fields[3] === state)) return true;
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
