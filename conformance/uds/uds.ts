/**
 * Unix socket lifecycle and permission cases (SPEC sections 2 and 3), for every stream
 * target that declares the `unix` transport:
 *
 * - `uds/lifecycle/N`: the node is created at the declared path; a stale node is cleaned up;
 *   a live server, a regular file or a directory at the path make the target refuse to
 *   start and stay untouched; the node is removed on SIGTERM and SIGINT but a node that
 *   replaced it is not; what the target does with a path over 107 bytes (INFO).
 * - `uds/perm/N`: a client without write permission on the node gets EACCES while the owner
 *   connects (as root the client runs as uid/gid 65534); a declared mode is never looser,
 *   not even for a moment.
 *
 * The lifecycle cases start the target themselves, so that they control what is at the
 * path beforehand, and check what is there afterwards. Nothing they create outlives the
 * case: every node lives in the case's temp dir.
 *
 * @example
 * ```ts
 * import { udsLifecycleCases } from "./uds.ts";
 * for (const c of udsLifecycleCases) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import {
  type Case,
  type CaseContext,
  Failure,
  inFamily,
  type Observed,
  pass,
  TargetError,
} from "../../src/case/case.ts";
import { howItEnded } from "../../src/checks/stream.ts";
import { waitUntil } from "../../src/checks/wait.ts";
import { errnoCode, errnoLine } from "../../src/python/errno.ts";
import { commandExists } from "../../src/harness/manifest.ts";
import { currentUid } from "../../src/net/proc.ts";
import { CLI_PATH } from "../../src/reference/targets.ts";
import { bytesRepr } from "../../src/python/repr.ts";
import {
  closeQuietly,
  connect,
  EofError,
  equalBytes,
  readExactly,
  readSome,
  TimeoutError,
  writeAll,
} from "../../src/net/sockets.ts";
import { type Instance, MAX_UNIX_PATH, unixListening } from "../../src/harness/target.ts";

/** The uid and gid an unprivileged probe client runs as when the suite runs as root. */
export const PROBE_UID = 65534;

const base = { kind: "stream-echo" as const, transport: "unix" as const };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------
// Small helpers: nodes, instances, exits.

function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

function kindOf(info: Deno.FileInfo | undefined): string {
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
function sameNode(a: Deno.FileInfo | undefined, b: Deno.FileInfo | undefined): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino && a.isFile === b.isFile &&
    a.isDirectory === b.isDirectory && a.isSocket === b.isSocket;
}

/** A fresh directory in the case's temp dir, for a path the case controls. */
async function caseDir(ctx: CaseContext, name: string): Promise<string> {
  const dir = `${ctx.tmp}/${name}`;
  await Deno.mkdir(dir);
  return dir;
}

/** True when a stream connect to `path` succeeds within `ms`. */
async function accepts(path: string, ms: number): Promise<boolean> {
  try {
    closeQuietly(await connect({ transport: "unix", path }, ms));
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until the target serves at `path` (a listening socket node there), exits, or
 * `ms` pass. Probe connections are made only when /proc/net/unix does not list the path
 * (a server that bound elsewhere and linked its node into place), at most every 100 ms.
 */
async function waitServing(
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
      if (unixListening(path)) state = "serving";
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
async function echoFailure(path: string, text: string, ms: number): Promise<string | undefined> {
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
async function makeStaleNode(path: string): Promise<Deno.FileInfo> {
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
function liveServer(ctx: CaseContext, path: string): Deno.FileInfo {
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
async function startAgainst(
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
async function settledNode(path: string, signal: AbortSignal): Promise<Deno.FileInfo | undefined> {
  await waitUntil(() => lstat(path) !== undefined, { timeoutMs: 200, signal });
  return lstat(path);
}

/** Throws the FAIL for a target that did not refuse: still running, or exited with 0. */
function requireRefusal(
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
interface Probe {
  code: number;
  errnoLine?: string;
  output: string;
  who: string;
}

/** The probe client (`fixtures/python/uds_probe_client.py`), passed with `-c` so that the
 * probe user needs no read access to the repo. */
const PY_CLIENT_PATH = new URL("../../fixtures/python/uds_probe_client.py", import.meta.url);
let pyClient: string | undefined;

/** The reference client's argv for `path` (run through the Deno running sockspec). */
function referenceClient(path: string, timeoutMs: number): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
    CLI_PATH,
    "client",
    "echo",
    "--unix",
    path,
    "--timeout",
    String(timeoutMs),
  ];
}

function asProbeUser(): Pick<Deno.CommandOptions, "uid" | "gid" | "clearEnv" | "env" | "cwd"> {
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
function python3ForProbe(): Promise<string | undefined> {
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
async function probe(ctx: CaseContext, path: string): Promise<Probe> {
  const root = currentUid() === 0;
  const python = root ? await python3ForProbe() : undefined;
  const argv = python
    ? [
      python,
      "-c",
      pyClient ??= Deno.readTextFileSync(PY_CLIENT_PATH),
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
async function searchable(ctx: CaseContext, path: string): Promise<void> {
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
type LongPathOutcome = "refused" | "crashed" | "truncated" | "served" | "ignored";

function classifyLongPath(
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
// The cases.

/**
 * The Unix socket lifecycle and permission cases.
 *
 * @example
 * ```ts
 * import { udsLifecycleCases } from "./uds.ts";
 * udsLifecycleCases.map((c) => c.id); // ["uds/lifecycle/1", ..., "uds/perm/2"]
 * ```
 */
export const udsLifecycleCases: Case[] = [
  ...inFamily("Unix socket node lifecycle", [
    {
      ...base,
      id: "uds/lifecycle/1",
      hint: "bind the exact path given, then listen",
      level: "MUST",
      requirement:
        "The server creates a socket node at the path it is given, and clients connect through it.",
      needs: { launch: true },
      async run(ctx) {
        const instance = await ctx.start({ wait: false });
        const path = instance.path!;
        const state = await waitServing(instance, path, ctx.target.ready.timeoutMs, ctx.signal);
        if (state === "serving") {
          const info = lstat(path)!;
          return pass(`${path} is a listening socket node (mode ${octal(info.mode!)})`, {
            mode: octal(info.mode!),
          });
        }
        const dir = path.slice(0, path.lastIndexOf("/"));
        const entries = [...Deno.readDirSync(dir)].map((e) =>
          `${e.name} (${kindOf(lstat(`${dir}/${e.name}`)).replace(/ \(.*/, "")})`
        );
        const found = `; at the path: ${kindOf(lstat(path))}; in ${dir}: ${
          entries.join(", ") || "nothing"
        }`;
        if (state === "exited") {
          throw new Failure(
            `the target ${howItEnded(instance)} without serving at ${path}${found}`,
          );
        }
        throw new Failure(
          `no listening socket node at ${path} after ${ctx.target.ready.timeoutMs} ms${found}`,
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/2",
      hint: "remove the path only after a connect to it is refused (ECONNREFUSED)",
      level: "MUST",
      requirement:
        "With a stale socket node at the path (connecting is refused), the server removes it, starts and serves.",
      needs: { launch: true },
      async run(ctx) {
        const path = `${await caseDir(ctx, "s")}/sock`;
        const stale = await makeStaleNode(path);
        ctx.evidence.note(`stale socket node at ${path}: inode ${stale.ino}, connect refused`);
        const instance = await ctx.start({ path, wait: false });
        const state = await waitServing(instance, path, ctx.target.ready.timeoutMs, ctx.signal);
        if (state === "exited") {
          throw new Failure(
            `with a stale socket node at ${path} the target ${
              howItEnded(instance)
            } instead of serving`,
          );
        }
        if (state === "timeout") {
          throw new Failure(
            `with a stale socket node at ${path} the target did not serve within ${ctx.target.ready.timeoutMs} ms; at the path: ${
              kindOf(lstat(path))
            }`,
          );
        }
        const now = lstat(path)!;
        const why = await echoFailure(path, "after the stale node", ctx.timeoutMs);
        if (why) throw new Failure(`the target listens at ${path} but did not echo: ${why}`);
        return pass(
          `removed the stale node (inode ${stale.ino}) and serves at ${path} (inode ${now.ino})`,
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/3",
      hint: "try to connect before removing the path: a live server answers, so refuse to start",
      level: "SHOULD",
      requirement:
        "With a live server listening at the path, the server refuses to start (exits non-zero) and the live server keeps its node and keeps serving.",
      needs: { launch: true },
      async run(ctx) {
        const path = `${await caseDir(ctx, "l")}/sock`;
        const live = liveServer(ctx, path);
        const { instance, outcome } = await startAgainst(ctx, path, live, () => true);
        if (outcome === "touched") {
          const now = await settledNode(path, ctx.signal);
          const reachable = !(await echoFailure(path, "live server?", ctx.timeoutMs));
          throw new Failure(
            `the target took the path from a live server: the live node at ${path} (inode ${live.ino}) was ${
              now ? `replaced by ${kindOf(now)}` : "deleted"
            }; new clients ${
              reachable ? "reach the target, not the live server" : "reach nothing"
            } (${instance.describe()})`,
          );
        }
        requireRefusal(ctx, instance, outcome, `a live server at ${path}`);
        const why = await echoFailure(path, "still the live server", ctx.timeoutMs);
        if (why) {
          throw new Failure(
            `the target refused to start, but the live server at ${path} no longer echoes: ${why}`,
          );
        }
        return pass(
          `refused to start (${
            howItEnded(instance)
          }); the live server kept its node (inode ${live.ino}) and still serves`,
          { exitCode: instance.status?.code ?? null },
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/4",
      hint: "remove the path only if it is a socket node (S_ISSOCK), never a file",
      level: "MUST",
      requirement:
        "With a regular file at the path, the server refuses to start (exits non-zero) and the file is left intact (same inode, same content).",
      needs: { launch: true },
      async run(ctx) {
        const path = `${await caseDir(ctx, "f")}/sock`;
        const content = `sockspec ${ctx.caseId}: a regular file that must survive ${
          ctx.random.next().toString(16)
        }\n`;
        await Deno.writeTextFile(path, content);
        // Held open, so that its inode number cannot be reused by a node made in its place.
        ctx.track(await Deno.open(path));
        const before = Deno.lstatSync(path);
        const sameContent = () => {
          try {
            return Deno.readTextFileSync(path) === content;
          } catch {
            return false;
          }
        };
        const { instance, outcome } = await startAgainst(ctx, path, before, sameContent);
        if (outcome === "touched") {
          const now = await settledNode(path, ctx.signal);
          if (!now) {
            throw new Failure(
              `regular file at ${path} was deleted (inode ${before.ino}, ${before.size} bytes); ${instance.describe()}`,
            );
          }
          if (!sameNode(now, before)) {
            throw new Failure(
              `regular file at ${path} was deleted (inode ${before.ino}, ${before.size} bytes) and replaced by ${
                kindOf(now)
              }`,
            );
          }
          throw new Failure(`regular file at ${path} was modified: its content changed`);
        }
        requireRefusal(ctx, instance, outcome, `a regular file at ${path}`);
        return pass(
          `refused to start (${
            howItEnded(instance)
          }); the file is intact (inode ${before.ino}, ${before.size} bytes)`,
          { exitCode: instance.status?.code ?? null },
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/5",
      hint: "never remove a directory at the path; exit non-zero instead",
      level: "MUST",
      requirement:
        "With a directory at the path, the server refuses to start (exits non-zero) and the directory and its contents are left intact.",
      needs: { launch: true },
      async run(ctx) {
        const path = `${await caseDir(ctx, "d")}/sock`;
        await Deno.mkdir(path);
        const inside = `${path}/keep`;
        await Deno.writeTextFile(inside, "sockspec: keep me\n");
        // Held open, so that their inode numbers cannot be reused by nodes made in their place.
        ctx.track(await Deno.open(path));
        ctx.track(await Deno.open(inside));
        const before = Deno.lstatSync(path);
        const keep = Deno.lstatSync(inside);
        const intact = () => sameNode(lstat(inside), keep);
        const { instance, outcome } = await startAgainst(ctx, path, before, intact);
        if (outcome === "touched") {
          const now = await settledNode(path, ctx.signal);
          throw new Failure(
            now && sameNode(now, before)
              ? `the directory at ${path} was changed: ${inside} is gone`
              : `directory at ${path} was deleted (inode ${before.ino}, with ${inside} in it)${
                now ? `; now ${kindOf(now)} is there` : ""
              }`,
          );
        }
        requireRefusal(ctx, instance, outcome, `a directory at ${path}`);
        return pass(
          `refused to start (${howItEnded(instance)}); the directory and ${inside} are intact`,
          { exitCode: instance.status?.code ?? null },
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/6",
      hint: "handle SIGTERM and SIGINT: close the socket and unlink its own node",
      level: "SHOULD",
      requirement:
        "On SIGTERM and on SIGINT (each sent after it has served a client) the server exits and removes its socket node.",
      needs: { launch: true },
      async run(ctx) {
        const dir = await caseDir(ctx, "t");
        const ended: Record<string, Observed> = {};
        const problems: string[] = [];
        for (const signal of ["SIGTERM", "SIGINT"] as const) {
          const path = `${dir}/${signal.toLowerCase()}`;
          const instance = await ctx.start({ path });
          const node = lstat(path);
          if (!node?.isSocket) throw new Failure(`no socket node at ${path} after start-up`);
          // Signal a server that has served a client, not one still setting up.
          const why = await echoFailure(path, "before the signal", ctx.timeoutMs);
          if (why) throw new Failure(`the target listens at ${path} but did not echo: ${why}`);
          instance.kill(signal);
          const status = await instance.waitExit(ctx.timeoutMs);
          if (!status) {
            problems.push(`did not exit within ${ctx.timeoutMs} ms after ${signal}`);
            ended[signal] = "still running";
            continue;
          }
          ended[signal] = instance.describe().replace(/^pid \d+, /, "");
          const left = lstat(path);
          if (sameNode(left, node)) {
            problems.push(`left its socket node at ${path} after ${signal} (${ended[signal]})`);
          }
        }
        if (problems.length) throw new Failure(problems.join("; "), ended);
        return pass(
          `removed its node on SIGTERM (${ended.SIGTERM}) and on SIGINT (${ended.SIGINT})`,
          ended,
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/7",
      hint: "before unlinking at exit, check the node at the path is still your own (same inode)",
      level: "SHOULD",
      requirement:
        "At exit the server does not remove a socket node that replaced its own at the path.",
      needs: { launch: true },
      async run(ctx) {
        const path = `${await caseDir(ctx, "r")}/sock`;
        const instance = await ctx.start({ path });
        const own = lstat(path);
        const why = await echoFailure(path, "before the replacement", ctx.timeoutMs);
        if (why) throw new Failure(`the target listens at ${path} but did not echo: ${why}`);
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
        const lost = await echoFailure(path, "the successor", ctx.timeoutMs);
        if (lost) {
          throw new Failure(`the successor at ${path} kept its node but no longer echoes: ${lost}`);
        }
        return pass(
          `left the successor's node (inode ${successor.ino}) alone and ${
            instance.describe().replace(/^pid \d+, /, "")
          }`,
        );
      },
    },
    {
      ...base,
      id: "uds/lifecycle/8",
      hint: "check the path's length (107 bytes) and refuse with a message",
      level: "INFO",
      requirement:
        `What the server does when given a path over the ${MAX_UNIX_PATH}-byte limit: refuses with a message, crashes, truncates it, or serves anyway.`,
      needs: { launch: true },
      async run(ctx) {
        const dir = await caseDir(ctx, "long");
        const bytes = MAX_UNIX_PATH + 23;
        if (dir.length + 10 > MAX_UNIX_PATH) {
          throw new TargetError(
            `the case's temp dir ${dir} is too long to build a path that is cut inside its last name; set TMPDIR to a shorter directory`,
          );
        }
        const path = `${dir}/${"x".repeat(bytes - dir.length - 1)}`;
        // Passed explicitly, the path is used as it is, over the limit (only paths the harness
        // invents are checked); the instance is stopped after the case like any other.
        const instance = await ctx.start({ path, wait: false });
        await waitUntil(() => !instance.running || [...Deno.readDirSync(dir)].length > 0, {
          timeoutMs: ctx.target.ready.timeoutMs,
          intervalMs: 20,
          signal: ctx.signal,
        });
        await instance.waitExit(100);
        const { outcome, detail } = classifyLongPath(instance, dir, path);
        const all = `${instance.stderr.text()}\n${instance.stdout.text()}`;
        return pass(`with a ${bytes}-byte path: ${outcome}: ${detail}`, {
          outcome,
          exitCode: instance.status?.code ?? null,
          namesPath: all.includes(path),
        });
      },
    },
  ]),
  ...inFamily("Unix socket node permissions", [{
    ...base,
    id: "uds/perm/1",
    hint: "do not chmod the node looser than asked; leave permission checks to the kernel",
    level: "MUST",
    requirement:
      "A client without write permission on the socket node gets EACCES ([Errno 13] Permission denied) while the owner connects; as root the client runs as uid/gid 65534.",
    needs: { launch: true },
    async run(ctx) {
      const root = currentUid() === 0;
      const path = `${await caseDir(ctx, "p")}/sock`;
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
    },
  }, {
    ...base,
    id: "uds/perm/2",
    hint:
      "set the mode before the node appears (umask before bind, or bind in a private directory)",
    level: "SHOULD",
    requirement:
      "When the target declares a mode for its socket node, the node has exactly that mode and never appears with a looser one, not even for a moment.",
    needs: { launch: true, properties: ["mode"] },
    async run(ctx) {
      const declared = parseInt(ctx.target.properties.mode!, 8);
      const dir = await caseDir(ctx, "m");
      const path = `${dir}/sock`;
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
          if (unixListening(path)) serving = true;
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
    },
  }]),
];
