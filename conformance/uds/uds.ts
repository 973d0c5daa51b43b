/**
 * Unix socket lifecycle and permission cases (SPEC §2 and §3), for every stream
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
} from "../../src/case/case.ts";
import { MAX_UNIX_PATH } from "../../src/harness/target.ts";
import { howItEnded } from "../../src/checks/stream.ts";
import { waitUntil } from "../../src/case/wait.ts";
import * as node from "../../src/checks/node.ts";

export { PROBE_UID } from "../../src/checks/node.ts";

const base = { kind: "stream-echo" as const, transport: "unix" as const };

// ---------------------------------------------------------------------------------------
// The cases.

/** One way to occupy the path: the target must refuse to start and leave it alone. */
interface Refusal {
  n: number;
  level: "MUST" | "SHOULD";
  requirement: string;
  hint: string;
  occupy(ctx: CaseContext, path: string): Promise<node.Occupant>;
}

/** "Refuses to start with X at the path": one row per X. */
const refusals: Refusal[] = [
  {
    n: 3,
    level: "SHOULD",
    requirement:
      "With a live server listening at the path, the server refuses to start (exits non-zero) and the live server keeps its node and keeps serving.",
    hint: "try to connect before removing the path: a live server answers, so refuse to start",
    occupy: node.liveServerAt,
  },
  {
    n: 4,
    level: "MUST",
    requirement:
      "With a regular file at the path, the server refuses to start (exits non-zero) and the file is left intact (same inode, same content).",
    hint: "remove the path only if it is a socket node (S_ISSOCK), never a file",
    occupy: node.regularFileAt,
  },
  {
    n: 5,
    level: "MUST",
    requirement:
      "With a directory at the path, the server refuses to start (exits non-zero) and the directory and its contents are left intact.",
    hint: "never remove a directory at the path; exit non-zero instead",
    occupy: node.directoryAt,
  },
];

function refusalCase(row: Refusal): Case {
  return {
    ...base,
    id: `uds/lifecycle/${row.n}`,
    level: row.level,
    requirement: row.requirement,
    hint: row.hint,
    needs: { launch: true },
    async run(ctx) {
      const path = await node.casePath(ctx, `r${row.n}`);
      const occupant = await row.occupy(ctx, path);
      const instance = await node.expectRefusalToStart(ctx, path, occupant);
      const intact = await occupant.check();
      return pass(`refused to start (${howItEnded(instance)}); ${intact}`, {
        exitCode: instance.status?.code ?? null,
      });
    },
  };
}

const lifecycle: Case[] = [
  {
    ...base,
    id: "uds/lifecycle/1",
    level: "MUST",
    requirement:
      "The server creates a socket node at the path it is given, and clients connect through it.",
    hint: "bind the exact path given, then listen",
    needs: { launch: true },
    async run(ctx) {
      const instance = await ctx.start({ wait: false });
      const info = await node.expectServing(ctx, instance, instance.path!);
      const mode = node.octal(info.mode!);
      return pass(`${instance.path} is a listening socket node (mode ${mode})`, { mode });
    },
  },
  {
    ...base,
    id: "uds/lifecycle/2",
    level: "MUST",
    requirement:
      "With a stale socket node at the path (connecting is refused), the server removes it, starts and serves.",
    hint: "remove the path only after a connect to it is refused (ECONNREFUSED)",
    needs: { launch: true },
    async run(ctx) {
      const path = await node.casePath(ctx, "s");
      const stale = await node.makeStaleNode(path);
      ctx.evidence.note(`stale socket node at ${path}: inode ${stale.ino}, connect refused`);
      const instance = await ctx.start({ path, wait: false });
      const now = await node.expectServing(
        ctx,
        instance,
        path,
        `with a stale socket node at ${path}`,
      );
      await node.expectEchoAt(ctx, path, "after the stale node");
      return pass(
        `removed the stale node (inode ${stale.ino}) and serves at ${path} (inode ${now.ino})`,
      );
    },
  },
  ...refusals.map(refusalCase),
  {
    ...base,
    id: "uds/lifecycle/6",
    level: "SHOULD",
    requirement:
      "On SIGTERM and on SIGINT (each sent after it has served a client) the server exits and removes its socket node.",
    hint: "handle SIGTERM and SIGINT: close the socket and unlink its own node",
    needs: { launch: true },
    async run(ctx) {
      const dir = await node.casePath(ctx, "t");
      const ended: Record<string, Observed> = {};
      const problems: string[] = [];
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        const result = await node.signalAndWait(ctx, `${dir}-${signal.toLowerCase()}`, signal);
        ended[signal] = result.ended;
        if (result.problem) problems.push(result.problem);
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
    level: "SHOULD",
    requirement:
      "At exit the server does not remove a socket node that replaced its own at the path.",
    hint: "before unlinking at exit, check the node at the path is still your own (same inode)",
    needs: { launch: true },
    async run(ctx) {
      const path = await node.casePath(ctx, "r");
      return pass(await node.expectSuccessorKept(ctx, path));
    },
  },
  {
    ...base,
    id: "uds/lifecycle/8",
    level: "INFO",
    requirement:
      `What the server does when given a path over the ${MAX_UNIX_PATH}-byte limit: refuses with a message, crashes, truncates it, or serves anyway.`,
    hint: "check the path's length (107 bytes) and refuse with a message",
    needs: { launch: true },
    async run(ctx) {
      const { dir, path } = await node.longPath(ctx, MAX_UNIX_PATH + 23);
      // Passed explicitly, the path is used as it is, over the limit (only paths the harness
      // invents are checked); the instance is stopped after the case like any other.
      const instance = await ctx.start({ path, wait: false });
      await waitUntil(() => !instance.running || [...Deno.readDirSync(dir)].length > 0, {
        timeoutMs: ctx.target.ready.timeoutMs,
        intervalMs: 20,
        signal: ctx.signal,
      });
      await instance.waitExit(100);
      const { outcome, detail } = node.classifyLongPath(instance, dir, path);
      const all = `${instance.stderr.text()}\n${instance.stdout.text()}`;
      return pass(`with a ${path.length}-byte path: ${outcome}: ${detail}`, {
        outcome,
        exitCode: instance.status?.code ?? null,
        namesPath: all.includes(path),
      });
    },
  },
];

const permissions: Case[] = [
  {
    ...base,
    id: "uds/perm/1",
    level: "MUST",
    requirement:
      "A client without write permission on the socket node gets EACCES ([Errno 13] Permission denied) while the owner connects; as root the client runs as uid/gid 65534.",
    hint: "do not chmod the node looser than asked; leave permission checks to the kernel",
    needs: { launch: true },
    async run(ctx) {
      return await node.expectPermissionDenied(ctx, await node.casePath(ctx, "p"));
    },
  },
  {
    ...base,
    id: "uds/perm/2",
    level: "SHOULD",
    requirement:
      "When the target declares a mode for its socket node, the node has exactly that mode and never appears with a looser one, not even for a moment.",
    hint:
      "set the mode before the node appears (umask before bind, or bind in a private directory)",
    needs: { launch: true, properties: ["mode"] },
    async run(ctx) {
      const declared = parseInt(ctx.target.properties.mode!, 8);
      return await node.expectModeNeverLooser(ctx, await node.casePath(ctx, "m"), declared);
    },
  },
];

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
  ...inFamily("Unix socket node lifecycle", lifecycle),
  ...inFamily("Unix socket node permissions", permissions),
];
