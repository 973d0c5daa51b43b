/**
 * Reading /proc without `--allow-all`: readiness without probe connections, the processes a
 * target left behind, and the effective uid.
 *
 * Deno 2.9 lets only `--allow-all` read /proc. With it, every query reads /proc directly.
 * Without it, a query goes to the /proc reader when one is held ({@linkcode holdProcReader}:
 * one child Deno that has `--allow-all`, does nothing but answer /proc queries, and ends with
 * its holder; `runAll` holds it for a whole run), and otherwise through `cat` (which
 * `--allow-run` allows; the harness needs that to start targets anyway). A run polls /proc
 * hundreds of times, and each `cat` costs a process start (about 7 ms of CPU); the reader
 * answers in well under a millisecond.
 *
 * Each query has an async form, which uses the reader, and a `Sync` form, which never does.
 *
 * @example
 * ```ts
 * import { holdProcReader, readProc } from "./proc.ts";
 * const release = holdProcReader();
 * try {
 *   const table = await readProc("/proc/net/tcp");
 *   console.log(table.split("\n")[0]);
 * } finally {
 *   await release();
 * }
 * ```
 * @module
 */

import {
  answer,
  isKernelThread,
  listeningPorts,
  type ProcAnswer,
  type ProcQuery,
} from "./_proc_direct.ts";
import { withTimeout } from "./sockets.ts";

/** Whether this process may read /proc itself (unknown until the first query). */
let direct: boolean | undefined;

function directly(query: ProcQuery): ProcAnswer | undefined {
  if (direct === false) return undefined;
  try {
    const value = answer(query);
    direct = true;
    return value;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    direct = false;
    return undefined;
  }
}

/** The query through `cat` or `sh`: one process start, blocking. */
function spawned(query: ProcQuery): ProcAnswer {
  const [program, args] = query.op === "read"
    ? ["cat", [query.path]]
    : query.op === "tcpListening"
    ? ["sh", ["-c", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; true"]]
    : query.op === "stats"
    ? ["sh", ["-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"]]
    : query.op === "netns"
    ? ["sh", ["-c", "stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null; true"]]
    // one grep over every environ (NUL-separated records, whole-record fixed match)
    : ["sh", [
      "-c",
      'm=$1; shift; grep -lzxF -- "$m" "$@" 2>/dev/null; true',
      "sh",
      query.marker,
      ...query.pids.map((pid) => `/proc/${pid}/environ`),
    ]];
  const out = new Deno.Command(program, { args, stdout: "piped", stderr: "null" }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  if (query.op === "tcpListening") return listeningPorts(text);
  if (query.op === "netns") {
    return [...text.matchAll(/^(\d+) \/proc\/(\d+)\/ns\/net$/gm)].map((
      m,
    ): [number, number] => [Number(m[1]), Number(m[2])]);
  }
  if (query.op !== "marked") return text;
  return [...text.matchAll(/^\/proc\/(\d+)\/environ$/gm)].map((m) => Number(m[1]));
}

function querySync(query: ProcQuery): ProcAnswer {
  return directly(query) ?? spawned(query);
}

async function query(query: ProcQuery): Promise<ProcAnswer> {
  const value = directly(query);
  if (value !== undefined) return value;
  if (reader && !reader.broken) {
    try {
      return await reader.ask(query);
    } catch {
      // the reader broke (it says why in `broken`): this and later queries spawn
    }
  }
  return spawned(query);
}

/** How long the reader may take to answer one query (its first answer includes its start). */
const READER_ANSWER_MS = 10_000;

/** The /proc reader child process (`_proc_reader.ts`) and its line protocol. */
class ProcReader {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Each waiting query's `settle`, by id, in the order sent, with when it was sent. */
  readonly #pending = new Map<
    number,
    { settle: (reply: { value?: ProcAnswer; error?: string }) => void; at: number }
  >();
  /** One timer for all waiting queries (not one per query): fires when the oldest is overdue. */
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  readonly #decoder = new TextDecoder();
  #next = 0;
  #buffered = "";
  #reading = false;
  /** Why the reader cannot be used any more, once it cannot. */
  broken?: string;

  constructor() {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--no-config",
        "--allow-all",
        new URL("./_proc_reader.ts", import.meta.url).href,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // A holder that never releases must not keep sockspec from exiting.
    this.#child.unref();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.getReader();
  }

  async ask(query: ProcQuery): Promise<ProcAnswer> {
    const id = ++this.#next;
    const replied = new Promise<{ value?: ProcAnswer; error?: string }>((settle) =>
      this.#pending.set(id, { settle, at: performance.now() })
    );
    this.#watch();
    try {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, ...query }) + "\n"));
      if (!this.#reading) this.#readReplies();
      const reply = await replied;
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply.value!;
    } catch (err) {
      this.#break(`${query.op}: ${err}`);
      throw err;
    } finally {
      this.#pending.delete(id);
      if (this.#pending.size === 0) {
        clearTimeout(this.#watchdog);
        this.#watchdog = undefined;
      }
    }
  }

  /** Breaks the reader when the oldest waiting query has had no answer for READER_ANSWER_MS. */
  #watch(): void {
    const oldest = this.#pending.values().next().value;
    if (this.#watchdog !== undefined || !oldest) return;
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      const first = this.#pending.values().next().value;
      if (first && performance.now() - first.at >= READER_ANSWER_MS) {
        this.#break(`no answer within ${READER_ANSWER_MS} ms`);
      } else this.#watch();
    }, Math.max(0, oldest.at + READER_ANSWER_MS - performance.now()));
  }

  /** Reads replies while queries wait for one (so an idle reader has no read pending). */
  async #readReplies(): Promise<void> {
    this.#reading = true;
    try {
      while (this.#pending.size > 0) {
        const { value, done } = await this.#reader.read();
        if (done) return this.#break("the /proc reader exited");
        this.#buffered += this.#decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.#buffered.indexOf("\n")) >= 0) {
          const reply = JSON.parse(this.#buffered.slice(0, end));
          this.#buffered = this.#buffered.slice(end + 1);
          this.#pending.get(reply.id)?.settle(reply);
        }
      }
    } catch (err) {
      this.#break(`reading its answers: ${err}`);
    } finally {
      this.#reading = false;
    }
  }

  #break(why: string): void {
    this.broken ??= why;
    for (const { settle } of this.#pending.values()) settle({ error: this.broken });
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Ends the reader (its stdin closes) and waits until it has exited, at most 2 s. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const drained = (async () => {
      while (!(await this.#reader.read()).done);
    })();
    try {
      await withTimeout(
        Promise.all([drained, this.#child.status]),
        2000,
        "the /proc reader's exit",
      );
    } catch {
      this.#break("it did not exit when its input ended");
      await this.#reader.cancel().catch(() => {});
      await this.#child.status;
    }
  }
}

let reader: ProcReader | undefined;
let holders = 0;

/**
 * Holds the /proc reader until the returned function is called (and awaited): while anyone
 * holds it, the async queries go through one child Deno instead of a `cat` each. The reader
 * starts with the first holder and ends with the last. Nothing starts when this process may
 * read /proc itself. Call it around a whole run, not around one query.
 *
 * @example
 * ```ts
 * import { holdProcReader, processes } from "./proc.ts";
 * const release = holdProcReader();
 * try {
 *   (await processes()).some((p) => p.pid === Deno.pid); // true
 * } finally {
 *   await release();
 * }
 * ```
 */
export function holdProcReader(): () => Promise<void> {
  holders++;
  directly({ op: "read", path: "/proc/self/stat" });
  if (!reader && direct === false) {
    try {
      reader = new ProcReader();
    } catch {
      // no --allow-run for Deno itself: queries spawn `cat`
    }
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--holders > 0 || !reader) return;
    const done = reader;
    reader = undefined;
    await done.close();
  };
}

/**
 * The text of a /proc file ("" if it does not exist).
 *
 * @example
 * ```ts
 * import { readProc } from "./proc.ts";
 * (await readProc("/proc/self/status")).includes("Uid:"); // true
 * ```
 */
export async function readProc(path: string): Promise<string> {
  return await query({ op: "read", path }) as string;
}

/**
 * The text of a /proc file ("" if it does not exist), without the reader.
 *
 * @example
 * ```ts
 * import { readProcSync } from "./proc.ts";
 * readProcSync("/proc/self/status").includes("Uid:"); // true
 * ```
 */
export function readProcSync(path: string): string {
  return querySync({ op: "read", path }) as string;
}

/**
 * The local ports of every listening TCP socket (IPv4 and IPv6) in this network namespace:
 * asked of the kernel over netlink where the reader or this process can (as `ss -lt` does:
 * reading /proc/net/tcp instead costs 5 ms of CPU on a machine with a large connection
 * hash), else read from /proc/net/tcp and tcp6.
 *
 * @example
 * ```ts
 * import { tcpListeningPorts } from "./proc.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * (await tcpListeningPorts()).includes(listener.addr.port); // true
 * listener.close();
 * ```
 */
export async function tcpListeningPorts(): Promise<number[]> {
  return await query({ op: "tcpListening" }) as number[];
}

/**
 * For every process, `[the inode of its network namespace, its pid]`.
 *
 * @example
 * ```ts
 * import { netnsOfProcesses } from "./proc.ts";
 * (await netnsOfProcesses()).some(([, pid]) => pid === Deno.pid); // true
 * ```
 */
export async function netnsOfProcesses(): Promise<[number, number][]> {
  return await query({ op: "netns" }) as [number, number][];
}

/** One process, from /proc/PID/stat. */
export interface ProcStat {
  /** Process id. */
  pid: number;
  /** State letter (R, S, Z, ...). */
  state: string;
  /** Parent process id. */
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Session id. */
  session: number;
}

function parseStats(text: string): ProcStat[] {
  const out: ProcStat[] = [];
  for (const line of text.split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0 || isKernelThread(line)) continue;
    const f = line.slice(close + 2).split(" ");
    out.push({
      pid: Number(line.slice(0, line.indexOf(" "))),
      state: f[0],
      ppid: Number(f[1]),
      pgrp: Number(f[2]),
      session: Number(f[3]),
    });
  }
  return out;
}

/**
 * Every process on the machine but the kernel threads (one read of the /proc/PID/stat files).
 *
 * @example
 * ```ts
 * import { processes } from "./proc.ts";
 * (await processes()).some((p) => p.pid === Deno.pid); // true
 * ```
 */
export async function processes(): Promise<ProcStat[]> {
  return parseStats(await query({ op: "stats" }) as string);
}

/**
 * Every process on the machine but the kernel threads, without the reader.
 *
 * @example
 * ```ts
 * import { processesSync } from "./proc.ts";
 * processesSync().some((p) => p.pid === Deno.pid); // true
 * ```
 */
export function processesSync(): ProcStat[] {
  return parseStats(querySync({ op: "stats" }) as string);
}

const liveIn = (all: ProcStat[], sid: number) =>
  all.filter((p) => p.session === sid && p.state !== "Z").map((p) => p.pid);

/**
 * The live (non-zombie) processes in session `sid`.
 *
 * @example
 * ```ts
 * import { sessionMembers } from "./proc.ts";
 * await sessionMembers(1);
 * ```
 */
export async function sessionMembers(sid: number): Promise<number[]> {
  return liveIn(await processes(), sid);
}

/**
 * The live (non-zombie) processes in session `sid`, without the reader.
 *
 * @example
 * ```ts
 * import { sessionMembersSync } from "./proc.ts";
 * sessionMembersSync(1);
 * ```
 */
export function sessionMembersSync(sid: number): number[] {
  return liveIn(processesSync(), sid);
}

/**
 * The live processes whose environment holds `NAME=VALUE` (`marker`), read from
 * /proc/PID/environ: the environment a process was started with survives `setsid`,
 * double forks and re-parenting, so this finds every descendant of a process started with a
 * unique marker, wherever it went. Root reads every process's environ; other users only
 * their own (which is all a target they start can be). A process that exec's itself with a
 * cleared environment drops the marker and is not found (docs/lifecycle.md).
 *
 * @example
 * ```ts
 * import { markedProcesses } from "./proc.ts";
 * await markedProcesses("SOCKSPEC_INSTANCE=1234-1-ab12cd"); // [] when none runs
 * ```
 */
export async function markedProcesses(
  marker: string,
  all?: ProcStat[],
): Promise<number[]> {
  // Live processes only (kernel threads are not in the list: they have no environment).
  const pids = (all ?? await processes()).filter((p) => p.state !== "Z" && p.pid !== Deno.pid)
    .map((p) => p.pid);
  return pids.length ? await query({ op: "marked", marker, pids }) as number[] : [];
}

/**
 * A process's command line for messages (arguments joined by spaces, at most `max`
 * characters), or its name from /proc/PID/stat for a process without one; "" once it is gone.
 *
 * @example
 * ```ts
 * import { commandLine } from "./proc.ts";
 * (await commandLine(Deno.pid)).length > 0; // true
 * ```
 */
export async function commandLine(pid: number, max = 120): Promise<string> {
  let text = (await readProc(`/proc/${pid}/cmdline`)).replace(/\0+$/, "").replace(/[\0\s]+/g, " ");
  if (!text) text = /\((.*)\)/.exec(await readProc(`/proc/${pid}/stat`))?.[1] ?? "";
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

let uid: number | undefined;

/**
 * The effective uid of this process.
 *
 * @example
 * ```ts
 * import { currentUid } from "./proc.ts";
 * currentUid(); // 0 as root
 * ```
 */
export function currentUid(): number {
  uid ??= Number(/^Uid:\s+\d+\s+(\d+)/m.exec(readProcSync("/proc/self/status"))?.[1] ?? -1);
  return uid;
}
