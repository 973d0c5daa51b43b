/**
 * Reading /proc without `--allow-all`. Deno 2.9 lets only `--allow-all` read /proc, so when
 * a direct read is refused this module reads through `cat` (which `--allow-run` allows; the
 * harness needs that to start targets anyway). Used for readiness without probe connections,
 * for finding processes a target left behind, and for the effective uid.
 *
 * @example
 * ```ts
 * import { readProc } from "./proc.ts";
 * const table = readProc("/proc/net/tcp");
 * console.log(table.split("\n")[0]);
 * ```
 * @module
 */

let direct: boolean | undefined;

function viaCat(args: string[], shell = false): string {
  const out = new Deno.Command(shell ? "sh" : "cat", { args, stdout: "piped", stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout);
}

/**
 * The text of a /proc file ("" if it does not exist).
 *
 * @example
 * ```ts
 * import { readProc } from "./proc.ts";
 * readProc("/proc/self/status").includes("Uid:"); // true
 * ```
 */
export function readProc(path: string): string {
  if (direct !== false) {
    try {
      const text = Deno.readTextFileSync(path);
      direct = true;
      return text;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "";
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
      direct = false;
    }
  }
  return viaCat([path]);
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

/**
 * Every process on the machine (one read of all /proc/PID/stat files).
 *
 * @example
 * ```ts
 * import { processes } from "./proc.ts";
 * processes().some((p) => p.pid === Deno.pid); // true
 * ```
 */
export function processes(): ProcStat[] {
  let text: string;
  if (direct !== false) {
    try {
      const parts: string[] = [];
      for (const entry of Deno.readDirSync("/proc")) {
        if (!/^\d+$/.test(entry.name)) continue;
        try {
          parts.push(Deno.readTextFileSync(`/proc/${entry.name}/stat`));
        } catch {
          // exited meanwhile
        }
      }
      direct = true;
      text = parts.join("\n");
    } catch (err) {
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
      direct = false;
      text = viaCat(["-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"], true);
    }
  } else {
    text = viaCat(["-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"], true);
  }
  const out: ProcStat[] = [];
  for (const line of text.split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
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
 * The live (non-zombie) processes in session `sid`.
 *
 * @example
 * ```ts
 * import { sessionMembers } from "./proc.ts";
 * sessionMembers(1);
 * ```
 */
export function sessionMembers(sid: number): number[] {
  return processes().filter((p) => p.session === sid && p.state !== "Z").map((p) => p.pid);
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
 * markedProcesses("SOCKSPEC_INSTANCE=1234-1-ab12cd"); // [] when none runs
 * ```
 */
export function markedProcesses(marker: string, all: ProcStat[] = processes()): number[] {
  const found: number[] = [];
  if (direct !== false) {
    try {
      const needle = new TextEncoder().encode(`\0${marker}\0`);
      for (const entry of Deno.readDirSync("/proc")) {
        if (!/^\d+$/.test(entry.name)) continue;
        try {
          const raw = Deno.readFileSync(`/proc/${entry.name}/environ`);
          const env = new Uint8Array(raw.length + 2);
          env.set(raw, 1);
          if (indexOf(env, needle) >= 0) found.push(Number(entry.name));
        } catch {
          // exited meanwhile, or not ours to read
        }
      }
      direct = true;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
      direct = false;
    }
  }
  if (direct === false) {
    // One grep over every environ (NUL-separated records, whole-record fixed match).
    const text = viaCat([
      "-c",
      'grep -lzxF -- "$1" /proc/[0-9]*/environ 2>/dev/null; true',
      "sh",
      marker,
    ], true);
    for (const line of text.split("\n")) {
      const m = /^\/proc\/(\d+)\/environ$/.exec(line);
      if (m) found.push(Number(m[1]));
    }
  }
  const live = new Set(all.filter((p) => p.state !== "Z").map((p) => p.pid));
  return found.filter((pid) => pid !== Deno.pid && live.has(pid));
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

/**
 * A process's command line for messages (arguments joined by spaces, at most `max`
 * characters), or its name from /proc/PID/stat for a process without one; "" once it is gone.
 *
 * @example
 * ```ts
 * import { commandLine } from "./proc.ts";
 * commandLine(Deno.pid).length > 0; // true
 * ```
 */
export function commandLine(pid: number, max = 120): string {
  let text = readProc(`/proc/${pid}/cmdline`).replace(/\0+$/, "").replace(/[\0\s]+/g, " ");
  if (!text) text = /\((.*)\)/.exec(readProc(`/proc/${pid}/stat`))?.[1] ?? "";
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
  uid ??= Number(/^Uid:\s+\d+\s+(\d+)/m.exec(readProc("/proc/self/status"))?.[1] ?? -1);
  return uid;
}
