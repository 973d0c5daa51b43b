/**
 * The three /proc queries sockspec makes, read directly. Deno 2.9 allows these reads only
 * with `--allow-all`, so they run either in a process that has it or in the /proc reader
 * (`_proc_reader.ts`), which runs with it and does nothing else. A leaf module: the reader
 * loads nothing but this.
 *
 * @example
 * ```ts
 * import { answer } from "./_proc_direct.ts";
 * try {
 *   answer({ op: "read", path: "/proc/self/status" }); // its text, with --allow-all
 * } catch (err) {
 *   err instanceof Deno.errors.NotCapable; // true without it
 * }
 * ```
 * @module
 */

import { listeningTcpPorts } from "./_sock_diag.ts";

/**
 * A /proc query: one file's text, the local ports of the listening TCP sockets, every
 * process's `stat` line, every process's network namespace, or those of `pids` whose
 * environment holds `marker` (`NAME=VALUE`) as a whole entry.
 */
export type ProcQuery =
  | { op: "read"; path: string }
  | { op: "tcpListening" }
  | { op: "stats" }
  | { op: "netns" }
  | { op: "marked"; marker: string; pids: number[] };

/**
 * What a {@linkcode ProcQuery} answers: a text (read, stats), numbers (ports, pids), or
 * `[namespace inode, pid]` pairs (netns).
 */
export type ProcAnswer = string | number[] | [number, number][];

/**
 * Answers `query` by reading /proc. A file that does not exist reads as ""; a process that
 * exits meanwhile, or whose environ is not ours to read, is skipped. Throws
 * `Deno.errors.NotCapable` without `--allow-all`.
 *
 * @example
 * ```ts
 * import { answer } from "./_proc_direct.ts";
 * try {
 *   answer({ op: "marked", marker: "SOCKSPEC_INSTANCE=none", pids: [Deno.pid] }); // []
 * } catch {
 *   // no --allow-all
 * }
 * ```
 */
export function answer(query: ProcQuery): ProcAnswer {
  switch (query.op) {
    case "read":
      try {
        return Deno.readTextFileSync(query.path);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return "";
        throw err;
      }
    case "tcpListening":
      try {
        return listeningTcpPorts();
      } catch {
        // no FFI or no glibc: the tables, at 5 ms of CPU each on a large hash (_sock_diag.ts)
        const tables = ["/proc/net/tcp", "/proc/net/tcp6"];
        return listeningPorts(tables.map((path) => answer({ op: "read", path })).join("\n"));
      }
    case "stats":
      return userStats();
    case "netns":
      return eachProcess((pid): [number, number] => [
        Deno.statSync(`/proc/${pid}/ns/net`).ino!,
        Number(pid),
      ]);
    case "marked": {
      const needle = new TextEncoder().encode(`\0${query.marker}\0`);
      return query.pids.filter((pid) => {
        let raw: Uint8Array;
        try {
          raw = Deno.readFileSync(`/proc/${pid}/environ`);
        } catch (err) {
          if (err instanceof Deno.errors.NotCapable) throw err;
          return false; // exited meanwhile, or not ours to read
        }
        const env = new Uint8Array(raw.length + 2);
        env.set(raw, 1);
        return indexOf(env, needle) >= 0;
      });
    }
  }
}

/** How long the set of kernel threads is trusted before a scan reads every process again. */
const KERNEL_THREADS_MS = 2000;
/** PF_KTHREAD in the flags of /proc/PID/stat. */
const PF_KTHREAD = 0x00200000;

let kernelThreads = new Set<string>();
let kernelThreadsAt = -Infinity;

/**
 * The `stat` lines of every process but the kernel threads, which are most processes on a
 * quiet machine and never a target's. A kernel thread is known by its flags; the ones seen
 * are not read again for {@linkcode KERNEL_THREADS_MS} (a pid is reused only after the
 * whole pid range has gone round).
 */
function userStats(): string {
  const rescan = performance.now() - kernelThreadsAt > KERNEL_THREADS_MS;
  if (rescan) kernelThreads = new Set();
  const lines = eachProcess((pid) => {
    if (kernelThreads.has(pid)) return "";
    const line = Deno.readTextFileSync(`/proc/${pid}/stat`);
    if (!isKernelThread(line)) return line;
    if (rescan) kernelThreads.add(pid);
    return "";
  });
  if (rescan) kernelThreadsAt = performance.now();
  return lines.filter(Boolean).join("\n");
}

/**
 * True for the `stat` line of a kernel thread (PF_KTHREAD in its flags).
 *
 * @example
 * ```ts
 * import { isKernelThread } from "./_proc_direct.ts";
 * isKernelThread("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0"); // true
 * isKernelThread("1 (init) S 0 1 1 0 -1 4194560 0 0"); // false
 * ```
 */
export function isKernelThread(statLine: string): boolean {
  const fields = statLine.slice(statLine.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[6]) & PF_KTHREAD) !== 0;
}

/**
 * The local ports of the LISTEN (state 0A) lines of /proc/net/tcp and tcp6 text.
 *
 * @example
 * ```ts
 * import { listeningPorts } from "./_proc_direct.ts";
 * listeningPorts("  sl  local_address rem_address   st\n   0: 0100007F:2710 00000000:0000 0A"); // [10000]
 * ```
 */
export function listeningPorts(text: string): number[] {
  const ports: number[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[3] === "0A" && f[1]?.includes(":")) ports.push(parseInt(f[1].split(":").at(-1)!, 16));
  }
  return ports;
}

/** `read(pid)` for every process in /proc, skipping those that fail (gone, not ours). */
function eachProcess<T>(read: (pid: string) => T): T[] {
  const out: T[] = [];
  // The listing is the read that needs --allow-all: its refusal propagates.
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      out.push(read(entry.name));
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable) throw err;
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (let i = haystack.indexOf(first); i >= 0; i = haystack.indexOf(first, i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
