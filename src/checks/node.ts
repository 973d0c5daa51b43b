/**
 * Verifiers and helpers for the Unix socket node cases (`uds/lifecycle/N`, `uds/perm/N`):
 * what is at a path (`lstat`, `kindOf`, `sameNode`), starting a target against a prepared
 * path and waiting (bounded, on the case's signal) until it serves, exits or touches the
 * node, the verifiers that own the failure sentence ({@linkcode expectServing},
 * {@linkcode expectEchoAt}, {@linkcode expectRefusalToStart}), and the permission probe
 * client (run as uid 65534 when the suite runs as root).
 *
 * @example
 * ```ts
 * import { expectEchoAt, expectServing } from "./node.ts";
 * import type { CaseContext } from "../case/case.ts";
 * async function example(ctx: CaseContext) {
 *   const instance = await ctx.start({ wait: false });
 *   await expectServing(ctx, instance, instance.path!, "with nothing at the path");
 *   await expectEchoAt(ctx, instance.path!, "hello");
 * }
 * ```
 * @module
 */

import { type CaseContext, Failure, type Outcome, pass, TargetError } from "../case/case.ts";
import { howItEnded } from "./stream.ts";
import { waitUntil } from "../case/wait.ts";
import { errnoCode, errnoLine } from "../python/errno.ts";
import { commandExists } from "../harness/manifest.ts";
import { currentUid } from "../net/proc.ts";
import { ownText, PROGRAMS_PATH } from "../harness/sockspec_command.ts";
import { bytesRepr } from "../python/repr.ts";
import {
  closeQuietly,
  connect,
  EofError,
  equalBytes,
  readExactly,
  readSome,
  TimeoutError,
  writeAll,
} from "../net/sockets.ts";
import { type Instance, MAX_UNIX_PATH, unixListening } from "../harness/target.ts";

/** The uid and gid an unprivileged probe client runs as when the suite runs as root. */
export const PROBE_UID = 65534;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------
// Small helpers: nodes, instances, exits.

/** `Deno.lstatSync`, or undefined when nothing is at `path`. */
export function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** A mode as four octal digits: `0755`. */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

/** What a node is, for messages: `a regular file (inode 12, 40 bytes)`, `nothing`. */
export function kindOf(info: Deno.FileInfo | undefined): string {
  if (!info) return "nothing";
  if (info.isSocket) return `a socket node (inode ${info.ino}, mode ${octal(info.mode!)})`;
  if (info.isFile) return `a regular file (inode ${info.ino}, ${info.size} bytes)`;
  if (info.isDirectory) return `a directory (inode ${info.ino})`;
  if (info.isSymlink) return `a symbolic link (inode ${info.ino})`;
  return `a special file (inode ${info.ino})`;
}

/**
 * Same device, inode and type. (An inode number is reused as soon as its file is gone, so
 * the cases hold the original open, or bound, while they compare.)
 */
export function sameNode(a: Deno.FileInfo | undefined, b: Deno.FileInfo | undefined): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino && a.isFile === b.isFile &&
    a.isDirectory === b.isDirectory && a.isSocket === b.isSocket;
}

/** A fresh directory in the case's temp dir, for a path the case controls. */
export async function caseDir(ctx: CaseContext, name: string): Promise<string> {
  const dir = `${ctx.tmp}/${name}`;
  await Deno.mkdir(dir);
  return dir;
}

/** True when a stream connect to `path` succeeds within `ms`. */
export async function accepts(path: string, ms: number): Promise<boolean> {
  try {
    closeQuietly(await connect({ transport: "unix", path }, ms));
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until the target serves at `path` (a listening socket node there), exits, or
 * `ms` pass. ClientProbe connections are made only when /proc/net/unix does not list the path
 * (a server that bound elsewhere and linked its node into place), at most every 100 ms.
 */
export async function waitServing(
  instance: Instance,
  path: string,
  ms: number,
  signal?: AbortSignal,
): Promise<"serving" | "exited" | "timeout"> {
  let lastProbe = 0;
  let state: "serving" | "exited" | undefined;
  await waitUntil(async () => {
    if (!instance.running) state = "exited";
    else if (lstat(path)?.isSocket) {
      if (await unixListening(path)) state = "serving";
      else if (performance.now() - lastProbe >= 100) {
        lastProbe = performance.now();
        if (await accepts(path, 500)) state = "serving";
      }
    }
    return state !== undefined;
  }, { timeoutMs: ms, intervalMs: 20, signal });
  if (state) return state;
  return instance.running ? "timeout" : "exited";
}

/**
 * Echoes `text` through `path` and checks the reply. Returns undefined when the echo came
 * back intact, else why not: the errno line, the timeout or early close with how many bytes
 * had arrived, or the wrong bytes.
 */
export async function echoFailure(
  path: string,
  text: string,
  ms: number,
): Promise<string | undefined> {
  const data = encoder.encode(text);
  let conn: Deno.Conn | undefined;
  try {
    conn = await connect({ transport: "unix", path }, ms);
    await writeAll(conn, data, ms);
    const got = await readExactly(conn, data.length, ms);
    if (equalBytes(got, data)) return undefined;
    return `sent ${bytesRepr(data)}, got ${bytesRepr(got)}`;
  } catch (err) {
    if (err instanceof TimeoutError || err instanceof EofError) {
      const { partial } = err;
      const arrived = partial.length ? `: ${bytesRepr(partial.subarray(0, 64))}` : "";
      return `${err.message}; ${partial.length} of ${data.length} bytes came back${arrived}`;
    }
    if (errnoCode(err)) return errnoLine(err);
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } finally {
    closeQuietly(conn);
  }
}

/**
 * A stale socket node at `path`: bound under another name in the same directory, hard
 * linked to `path` and to a third name (which keeps the inode, so that a new node at
 * `path` cannot reuse its number), then the listener closed (which removes only the name
 * it bound). Nothing listens on it any more: connecting is refused.
 */
export async function makeStaleNode(path: string): Promise<Deno.FileInfo> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const bound = `${dir}/.stale${crypto.randomUUID().slice(0, 6)}`;
  const listener = Deno.listen({ transport: "unix", path: bound });
  try {
    Deno.linkSync(bound, path);
    Deno.linkSync(bound, `${bound}.keep`);
  } finally {
    listener.close();
  }
  try {
    closeQuietly(await connect({ transport: "unix", path }, 1000));
    throw new TargetError(`sockspec could not make a stale socket node at ${path}: it accepts`);
  } catch (err) {
    if (errnoCode(err) !== "ECONNREFUSED") {
      if (err instanceof TargetError) throw err;
      throw new TargetError(
        `sockspec could not make a stale socket node at ${path}: ${errnoLine(err)}`,
      );
    }
  }
  return Deno.lstatSync(path);
}

/**
 * A live echo server run by sockspec itself at `path` (the "other server"), closed after
 * the case. Returns its node.
 */
export function liveServer(ctx: CaseContext, path: string): Deno.FileInfo {
  const listener = Deno.listen({ transport: "unix", path });
  let open = true;
  const conns = new Set<Deno.Conn>();
  ctx.defer(() => {
    open = false;
    for (const c of conns) closeQuietly(c);
    closeQuietly(listener);
  });
  (async () => {
    while (open) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      conns.add(conn);
      (async () => {
        try {
          for (let i = 0; i < 1000; i++) {
            const data = await readSome(conn, ctx.timeoutMs);
            if (data === null) break;
            await writeAll(conn, data, ctx.timeoutMs);
          }
        } catch {
          // the client went away
        } finally {
          conns.delete(conn);
          closeQuietly(conn);
        }
      })();
    }
  })();
  return Deno.lstatSync(path);
}

/**
 * Starts the target at `path` (which the case prepared) and waits until it exits, the
 * node at `path` stops being `before`, or the start-up time runs out.
 */
export async function startAgainst(
  ctx: CaseContext,
  path: string,
  before: Deno.FileInfo,
  intact: () => boolean,
): Promise<{ instance: Instance; outcome: "exited" | "touched" | "running" }> {
  const instance = await ctx.start({ path, wait: false });
  const touched = () => !sameNode(lstat(path), before) || !intact();
  await waitUntil(() => touched() || !instance.running, {
    timeoutMs: ctx.target.ready.timeoutMs,
    signal: ctx.signal,
  });
  if (touched()) return { instance, outcome: "touched" };
  await instance.waitExit(50);
  if (!sameNode(lstat(path), before) || !intact()) return { instance, outcome: "touched" };
  return { instance, outcome: instance.running ? "running" : "exited" };
}

/** After the path was touched: waits briefly (bounded) for what the target puts there. */
export async function settledNode(
  path: string,
  signal: AbortSignal,
): Promise<Deno.FileInfo | undefined> {
  await waitUntil(() => lstat(path) !== undefined, { timeoutMs: 200, signal });
  return lstat(path);
}

/** Throws the FAIL for a target that did not refuse: still running, or exited with 0. */
export function requireRefusal(
  ctx: CaseContext,
  instance: Instance,
  outcome: "exited" | "running",
  what: string,
): void {
  if (outcome === "running") {
    throw new Failure(
      `with ${what} the target did not refuse to start: still running after ${ctx.target.ready.timeoutMs} ms (it left the path alone but never exited)`,
    );
  }
  if (instance.status?.success) {
    throw new Failure(
      `with ${what} the target exited with code 0; refusing to start must exit non-zero`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Permission probe: a client run as another user (root) or as this user (not root).

/** What a probe client did: its exit code and the `[Errno N] ...` line it printed, if any. */
export interface ClientProbe {
  /** Its exit code. */
  code: number;
  /** The `[Errno N] ...` line it printed, if any. */
  errnoLine?: string;
  /** Everything it printed. */
  output: string;
  /** Who ran it, for messages: `uid 65534 (python3 client)`. */
  who: string;
}

/** The probe client (`fixtures/python/uds_probe_client.py`), passed with `-c` so that the
 * probe user needs no read access to the repo. */
const PY_CLIENT_URL = new URL("../../fixtures/python/uds_probe_client.py", import.meta.url);
let pyClient: string | undefined;

/** The reference client's argv for `path` (run through the Deno running sockspec). */
export function referenceClient(path: string, timeoutMs: number): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
    PROGRAMS_PATH,
    "client",
    "echo",
    "--unix",
    path,
    "--timeout",
    String(timeoutMs),
  ];
}

/** The process options that run a probe client as uid/gid 65534 with a clean environment. */
export function asProbeUser(): Pick<
  Deno.CommandOptions,
  "uid" | "gid" | "clearEnv" | "env" | "cwd"
> {
  return {
    uid: PROBE_UID,
    gid: PROBE_UID,
    cwd: "/",
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
  };
}

let python3ForProbeUser: Promise<string | undefined> | undefined;

/**
 * A python3 that uid 65534 can run (a pyenv shim or a copy under /root cannot be), found
 * once: each python3 on PATH, then /usr/bin/python3 and /usr/local/bin/python3.
 */
export function python3ForProbe(): Promise<string | undefined> {
  python3ForProbeUser ??= (async () => {
    const dirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
    const candidates = [
      ...new Set([...dirs, "/usr/bin", "/usr/local/bin"].map((d) => `${d}/python3`)),
    ]
      .filter((p) => commandExists(p));
    for (const python of candidates) {
      try {
        const out = await new Deno.Command(python, {
          args: ["-c", "print('ok')"],
          ...asProbeUser(),
          stdin: "null",
          stdout: "piped",
          stderr: "null",
          signal: AbortSignal.timeout(5000),
        }).output();
        if (out.code === 0 && decoder.decode(out.stdout).trim() === "ok") return python;
      } catch {
        // not runnable by that user: try the next one
      }
    }
    return undefined;
  })();
  return python3ForProbeUser;
}

/**
 * Runs a client that connects to `path`. As root: as uid/gid 65534, a Python client that
 * does what the tutorial's does on failure (`print(msg)`, exit 1), or sockspec's reference
 * client when no python3 is runnable by that user. Otherwise: sockspec's reference client,
 * as this user.
 */
export async function probe(ctx: CaseContext, path: string): Promise<ClientProbe> {
  const root = currentUid() === 0;
  const python = root ? await python3ForProbe() : undefined;
  const argv = python
    ? [
      python,
      "-c",
      pyClient ??= await ownText(PY_CLIENT_URL),
      path,
      String(Math.max(1, Math.round(ctx.timeoutMs / 1000))),
    ]
    : referenceClient(path, ctx.timeoutMs);
  const who = root
    ? `uid ${PROBE_UID} (${python ? "python3 client" : "sockspec client echo"})`
    : `uid ${currentUid()} (sockspec client echo)`;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      ...(root ? asProbeUser() : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(ctx.timeoutMs + 5000),
    }).output();
  } catch (err) {
    throw new TargetError(
      `cannot run a client as ${who}: ${(err as Error).message}${
        root ? `; install python3 where uid ${PROBE_UID} can run it (such as /usr/bin/python3)` : ""
      }`,
    );
  }
  const output = `${decoder.decode(out.stdout)}${decoder.decode(out.stderr)}`.trim();
  if (!python && !/^connecting to /m.test(output)) {
    throw new TargetError(
      `${who} could not run sockspec's client: ${output.split("\n").at(-1)}${
        root ? `; install python3 where uid ${PROBE_UID} can run it (such as /usr/bin/python3)` : ""
      }`,
    );
  }
  return { code: out.code, errnoLine: /^\[Errno \d+\] .*$/m.exec(output)?.[0], output, who };
}

/** Makes the directories from `path`'s up to the case's temp dir searchable by others. */
export async function searchable(ctx: CaseContext, path: string): Promise<void> {
  let dir = path.slice(0, path.lastIndexOf("/"));
  while (dir.length >= ctx.tmp.length && dir.startsWith(ctx.tmp)) {
    const mode = Deno.statSync(dir).mode! & 0o7777;
    await Deno.chmod(dir, mode | 0o111);
    dir = dir.slice(0, dir.lastIndexOf("/"));
  }
}

// ---------------------------------------------------------------------------------------
// Long paths (INFO).

/** What a target did with a path over the limit. */
export type LongPathOutcome = "refused" | "crashed" | "truncated" | "served" | "ignored";

/** What a target did with a path over the limit: refused, crashed, truncated, served or ignored. */
export function classifyLongPath(
  instance: Instance,
  dir: string,
  path: string,
): { outcome: LongPathOutcome; detail: string } {
  const name = path.slice(dir.length + 1);
  if (lstat(path)?.isSocket) return { outcome: "served", detail: `a socket node is at ${path}` };
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name !== name && name.startsWith(entry.name)) {
      const made = `${dir}/${entry.name}`;
      return {
        outcome: "truncated",
        detail: `it created ${kindOf(lstat(made))} at ${made} (${
          encoder.encode(made).length
        } bytes): the path cut short`,
      };
    }
  }
  const all = `${instance.stderr.text()}\n${instance.stdout.text()}`;
  if (instance.running) {
    return { outcome: "ignored", detail: "it is still running and created nothing at the path" };
  }
  const status = instance.status!;
  if (
    status.signal || /Traceback \(most recent call last\)|panicked at|Segmentation fault/.test(all)
  ) {
    return { outcome: "crashed", detail: howItEnded(instance) };
  }
  if (status.success) {
    return { outcome: "ignored", detail: `it exited with code 0 and created nothing` };
  }
  return { outcome: "refused", detail: howItEnded(instance) };
}

// ---------------------------------------------------------------------------------------
// Verifiers.

/** A fresh directory `name` in the case's temp dir, and the path `sock` in it. */
export async function casePath(ctx: CaseContext, name: string): Promise<string> {
  return `${await caseDir(ctx, name)}/sock`;
}

/** What is in the directory of `path`, for messages: `; at the path: …; in DIR: …`. */
function whatIsThere(path: string): string {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const entries = [...Deno.readDirSync(dir)].map((e) =>
    `${e.name} (${kindOf(lstat(`${dir}/${e.name}`)).replace(/ \(.*/, "")})`
  );
  return `; at the path: ${kindOf(lstat(path))}; in ${dir}: ${entries.join(", ") || "nothing"}`;
}

/**
 * Waits until `instance` serves at `path` (a listening socket node there); FAIL when it
 * exits first (`${what} the target exited with code 1: "…" without serving at PATH`) or
 * the start-up time runs out. Returns the node.
 */
export async function expectServing(
  ctx: CaseContext,
  instance: Instance,
  path: string,
  what = "",
): Promise<Deno.FileInfo> {
  const ms = ctx.target.ready.timeoutMs;
  const state = await waitServing(instance, path, ms, ctx.signal);
  if (state === "serving") return lstat(path)!;
  const lead = what ? `${what} ` : "";
  if (state === "exited") {
    throw new Failure(
      `${lead}the target ${howItEnded(instance)} without serving at ${path}${whatIsThere(path)}`,
    );
  }
  throw new Failure(
    `${lead}no listening socket node at ${path} after ${ms} ms${whatIsThere(path)}`,
  );
}

/**
 * Echoes `text` through the socket at `path`; FAIL `${what}: why` (the errno line, how many
 * bytes came back before the peer closed or went quiet, or the wrong bytes).
 */
export async function expectEchoAt(
  ctx: CaseContext,
  path: string,
  text: string,
  what = `the target listens at ${path} but did not echo`,
): Promise<void> {
  const why = await echoFailure(path, text, ctx.timeoutMs);
  if (why) throw new Failure(`${what}: ${why}`);
}

/** Something sockspec put at a path before starting the target there. */
export interface Occupant {
  /** `a regular file at PATH`, for messages. */
  what: string;
  /** Its node, held open (or bound) so that its inode cannot be reused. */
  before: Deno.FileInfo;
  /** True while what is inside is intact (a file's content, a directory's entries). */
  intact(): boolean;
  /** The FAIL message when the target touched it; `now` is what is at the path now. */
  touched(now: Deno.FileInfo | undefined, instance: Instance): string | Promise<string>;
  /** After a refusal: what is still true of it, for the PASS message (may FAIL). */
  check(): Promise<string>;
}

/**
 * Starts the target at `path` with `occupant` there. FAIL when it touches the occupant,
 * keeps running, or exits with code 0; returns the instance once it refused (exited
 * non-zero) and the occupant is intact.
 */
export async function expectRefusalToStart(
  ctx: CaseContext,
  path: string,
  occupant: Occupant,
): Promise<Instance> {
  const { instance, outcome } = await startAgainst(ctx, path, occupant.before, occupant.intact);
  if (outcome === "touched") {
    throw new Failure(await occupant.touched(await settledNode(path, ctx.signal), instance));
  }
  requireRefusal(ctx, instance, outcome, occupant.what);
  return instance;
}

/** A live server run by sockspec at `path` (uds/lifecycle/3). */
export function liveServerAt(ctx: CaseContext, path: string): Promise<Occupant> {
  const live = liveServer(ctx, path);
  return Promise.resolve({
    what: `a live server at ${path}`,
    before: live,
    intact: () => true,
    async touched(now, instance) {
      const reachable = !(await echoFailure(path, "live server?", ctx.timeoutMs));
      return `the target took the path from a live server: the live node at ${path} (inode ${live.ino}) was ${
        now ? `replaced by ${kindOf(now)}` : "deleted"
      }; new clients ${
        reachable ? "reach the target, not the live server" : "reach nothing"
      } (${instance.describe()})`;
    },
    async check() {
      await expectEchoAt(
        ctx,
        path,
        "still the live server",
        `the target refused to start, but the live server at ${path} no longer echoes`,
      );
      return `the live server kept its node (inode ${live.ino}) and still serves`;
    },
  });
}

/** A regular file at `path`, held open (uds/lifecycle/4). */
export async function regularFileAt(ctx: CaseContext, path: string): Promise<Occupant> {
  const content = `sockspec ${ctx.caseId}: a regular file that must survive ${
    ctx.random.next().toString(16)
  }\n`;
  await Deno.writeTextFile(path, content);
  ctx.track(await Deno.open(path));
  const before = Deno.lstatSync(path);
  const gone = `regular file at ${path} was deleted (inode ${before.ino}, ${before.size} bytes)`;
  return {
    what: `a regular file at ${path}`,
    before,
    intact() {
      try {
        return Deno.readTextFileSync(path) === content;
      } catch {
        return false;
      }
    },
    touched: (now, instance) =>
      !now
        ? `${gone}; ${instance.describe()}`
        : !sameNode(now, before)
        ? `${gone} and replaced by ${kindOf(now)}`
        : `regular file at ${path} was modified: its content changed`,
    check: () => Promise.resolve(`the file is intact (inode ${before.ino}, ${before.size} bytes)`),
  };
}

/** A directory at `path` with a file in it, both held open (uds/lifecycle/5). */
export async function directoryAt(ctx: CaseContext, path: string): Promise<Occupant> {
  await Deno.mkdir(path);
  const inside = `${path}/keep`;
  await Deno.writeTextFile(inside, "sockspec: keep me\n");
  ctx.track(await Deno.open(path));
  ctx.track(await Deno.open(inside));
  const before = Deno.lstatSync(path);
  const keep = Deno.lstatSync(inside);
  return {
    what: `a directory at ${path}`,
    before,
    intact: () => sameNode(lstat(inside), keep),
    touched: (now) =>
      now && sameNode(now, before)
        ? `the directory at ${path} was changed: ${inside} is gone`
        : `directory at ${path} was deleted (inode ${before.ino}, with ${inside} in it)${
          now ? `; now ${kindOf(now)} is there` : ""
        }`,
    check: () => Promise.resolve(`the directory and ${inside} are intact`),
  };
}

/**
 * Sends `signal` to a target serving at `path` (after it has served a client) and waits
 * for it to exit. Returns how it ended and, when it went wrong, why.
 */
export async function signalAndWait(
  ctx: CaseContext,
  path: string,
  signal: "SIGTERM" | "SIGINT",
): Promise<{ ended: string; problem?: string }> {
  const instance = await ctx.start({ path });
  const node = lstat(path);
  if (!node?.isSocket) throw new Failure(`no socket node at ${path} after start-up`);
  // Signal a server that has served a client, not one still setting up.
  await expectEchoAt(ctx, path, "before the signal");
  instance.kill(signal);
  if (!(await instance.waitExit(ctx.timeoutMs))) {
    return {
      ended: "still running",
      problem: `did not exit within ${ctx.timeoutMs} ms after ${signal}`,
    };
  }
  const ended = instance.describe().replace(/^pid \d+, /, "");
  return sameNode(lstat(path), node)
    ? { ended, problem: `left its socket node at ${path} after ${signal} (${ended})` }
    : { ended };
}

/**
 * Replaces the node of a target serving at `path` with a live server's, stops the target,
 * and checks the successor kept its node and still serves. Returns how the target ended.
 */
export async function expectSuccessorKept(ctx: CaseContext, path: string): Promise<string> {
  const instance = await ctx.start({ path });
  const own = lstat(path);
  await expectEchoAt(ctx, path, "before the replacement");
  await Deno.remove(path);
  const successor = liveServer(ctx, path);
  ctx.evidence.note(
    `replaced the target's node (inode ${own?.ino}) with a live server's (inode ${successor.ino})`,
  );
  instance.kill("SIGTERM");
  const status = await instance.waitExit(ctx.timeoutMs);
  const now = lstat(path);
  if (!sameNode(now, successor)) {
    throw new Failure(
      `the node that replaced the target's own at ${path} (inode ${successor.ino}) was ${
        now ? `replaced by ${kindOf(now)}` : "deleted"
      } when the target was stopped (${instance.describe()})`,
    );
  }
  if (!status) {
    throw new Failure(
      `the target did not exit within ${ctx.timeoutMs} ms after SIGTERM once its node had been replaced`,
    );
  }
  await expectEchoAt(
    ctx,
    path,
    "the successor",
    `the successor at ${path} kept its node but no longer echoes`,
  );
  return `left the successor's node (inode ${successor.ino}) alone and ${
    instance.describe().replace(/^pid \d+, /, "")
  }`;
}

/**
 * uds/perm/1's check: starts the target at `path`, shows the probe client connects with
 * node mode 0777 (a control), the owner connects and is served with 0755, and then the
 * probe client gets EACCES with a mode that gives it no write permission.
 */
export async function expectPermissionDenied(ctx: CaseContext, path: string): Promise<Outcome> {
  const root = currentUid() === 0;
  if (root) await searchable(ctx, path);
  await ctx.start({ path });
  const node = Deno.lstatSync(path);

  // Control: with a world-writable node the probe client connects, so every directory
  // above it is searchable and a later denial can only come from the node's own mode.
  await Deno.chmod(path, 0o777);
  const open = await probe(ctx, path);
  ctx.evidence.note(`mode 0777: ${open.who}: exit ${open.code}: ${open.output}`);
  if (open.code !== 0) {
    if (open.errnoLine?.startsWith("[Errno 13]")) {
      throw new TargetError(
        `${open.who} cannot reach ${path} even with node mode 0777: a directory above it is not searchable by that user; set TMPDIR to a directory others can search (such as /tmp)`,
      );
    }
    throw new Failure(
      `${open.who} could not connect to ${path} with node mode 0777: ${
        open.errnoLine ?? open.output.split("\n").at(-1)
      }`,
    );
  }

  // The owner connects and is served with the documented default mode, 0755. As root
  // that mode also denies the probe (uid 65534: others have r-x, no write), and the case
  // leaves it alone between the owner's connection and the probe's. As another user the
  // probe is the owner, so then the owner's write bit goes (0555).
  await Deno.chmod(path, 0o755);
  const why = await echoFailure(path, "the owner's message", ctx.timeoutMs);
  if (why) {
    throw new Failure(
      `the owner (uid ${node.uid}) could not connect to ${path} and echo with node mode 0755: ${why}`,
    );
  }
  const denyMode = root ? 0o755 : 0o555;
  if (!root) await Deno.chmod(path, denyMode);
  const denied = await probe(ctx, path);
  const modeAfter = lstat(path)?.mode ?? undefined;
  ctx.evidence.note(
    `mode ${octal(denyMode)}: ${denied.who}: exit ${denied.code}: ${denied.output}`,
  );
  const observed = { probeUid: root ? PROBE_UID : currentUid(), mode: octal(denyMode) };
  const changed = modeAfter !== undefined && (modeAfter & 0o777) !== denyMode
    ? `; the node's mode is now ${octal(modeAfter)}: the target changed it`
    : "";
  if (denied.code === 0) {
    throw new Failure(
      `${denied.who} connected to ${path} although node mode ${
        octal(denyMode)
      } (owner uid ${node.uid}) gives it no write permission${changed}`,
      observed,
    );
  }
  if (denied.errnoLine !== "[Errno 13] Permission denied" || denied.code !== 1) {
    throw new Failure(
      `${denied.who} was refused at ${path} with exit ${denied.code} and ${
        denied.errnoLine ?? `"${denied.output.split("\n").at(-1)}"`
      }, not [Errno 13] Permission denied and exit 1${changed}`,
      observed,
    );
  }
  return pass(
    `${denied.who} got [Errno 13] Permission denied and exited 1 with node mode ${
      octal(denyMode)
    }; it connected with mode 0777, and the owner (uid ${node.uid}) connected and got its echo`,
    observed,
  );
}

/**
 * uds/perm/2's check: samples the node's mode at `path` from the moment the target starts
 * (a file watcher plus polling) until it serves and 100 ms more; FAIL when any sample is
 * looser than `declared`, the final mode differs, or the target does not serve.
 */
export async function expectModeNeverLooser(
  ctx: CaseContext,
  path: string,
  declared: number,
): Promise<Outcome> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const samples: { ms: number; mode: number }[] = [];
  let t0 = 0;
  const sample = () => {
    const info = lstat(path);
    if (info) samples.push({ ms: performance.now() - t0, mode: info.mode! & 0o777 });
  };
  const watcher = ctx.track(Deno.watchFs(dir, { recursive: false }));
  let watching = true;
  const watched = (async () => {
    for await (const event of watcher) {
      if (!watching) break;
      if (event.paths.some((p) => p === path)) sample();
    }
  })().catch(() => {});
  t0 = performance.now();
  const instance = await ctx.start({ path, wait: false });
  let serving = false;
  let lastProbe = 0;
  await waitUntil(async () => {
    if (!instance.running) return true;
    sample();
    if (samples.length > 0 && lstat(path)?.isSocket) {
      if (await unixListening(path)) serving = true;
      else if (performance.now() - lastProbe > 100) {
        lastProbe = performance.now();
        serving = await accepts(path, 200);
      }
    }
    return serving;
  }, { timeoutMs: ctx.target.ready.timeoutMs, intervalMs: 1, signal: ctx.signal });
  // A little longer, so that a late chmod shows in the samples.
  await waitUntil(() => (sample(), false), {
    timeoutMs: 100,
    intervalMs: 5,
    signal: ctx.signal,
  });
  watching = false;
  closeQuietly(watcher);
  await watched;
  if (samples.length === 0) {
    throw new Failure(
      `no node appeared at ${path} within ${ctx.target.ready.timeoutMs} ms (${instance.describe()})`,
    );
  }
  const first = samples[0];
  const loose = samples.find((s) => (s.mode & ~declared) !== 0);
  const last = samples.at(-1)!;
  const observed = { firstMode: octal(first.mode), mode: octal(last.mode) };
  if (loose) {
    const fixed = samples.find((s) => s.ms > loose.ms && (s.mode & ~declared) === 0);
    throw new Failure(
      `the node at ${path} appeared with mode ${octal(loose.mode)}, looser than the declared ${
        octal(declared)
      } (seen ${loose.ms.toFixed(1)} ms after start)${
        fixed ? `; it had mode ${octal(fixed.mode)} ${fixed.ms.toFixed(0)} ms after start` : ""
      }`,
      observed,
    );
  }
  if (last.mode !== declared) {
    throw new Failure(
      `the node at ${path} has mode ${octal(last.mode)}, not the declared ${octal(declared)}`,
      observed,
    );
  }
  if (!serving) {
    throw new Failure(
      `the node at ${path} has the declared mode, but the target does not serve there (${instance.describe()})`,
      observed,
    );
  }
  return pass(
    `the node had mode ${octal(declared)} in all ${samples.length} samples, the first ${
      first.ms.toFixed(1)
    } ms after start`,
    observed,
  );
}

/**
 * A path of `bytes` bytes in a fresh directory of the case's temp dir, cut by the kernel's
 * limit inside its last name. TargetError when the temp dir is too long for that.
 */
export async function longPath(
  ctx: CaseContext,
  bytes: number,
): Promise<{ dir: string; path: string }> {
  const dir = await caseDir(ctx, "long");
  if (dir.length + 10 > MAX_UNIX_PATH) {
    throw new TargetError(
      `the case's temp dir ${dir} is too long to build a path that is cut inside its last name; set TMPDIR to a shorter directory`,
    );
  }
  return { dir, path: `${dir}/${"x".repeat(bytes - dir.length - 1)}` };
}
