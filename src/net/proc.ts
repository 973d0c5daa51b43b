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
