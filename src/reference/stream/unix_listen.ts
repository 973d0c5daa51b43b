/**
 * Safe Unix socket listening (SPEC §2 and §3), done the careful way the tutorial's
 * `unlink(path)` is not:
 *
 * - a stale socket node at the path (connect is refused) is removed; a live one (connect
 *   succeeds), a regular file, a directory, a symbolic link or anything else makes start-up
 *   fail with an error naming the path, leaving it untouched;
 * - a path over the 107-byte limit fails before bind;
 * - the stale check, the removal and the bind happen under an exclusive lock on
 *   `PATH.lock` ({@linkcode withPathLock}; the file is removed again at once), so of two
 *   servers started at once on one stale path exactly one serves and the other refuses
 *   ("a live server is listening there"); the lock needs read and write access to
 *   `PATH.lock` too;
 * - with a mode, the process umask is set for the bind, so the node is created with
 *   exactly that mode and never exists with a looser one; the umask's effect is checked
 *   just before, on a file made at the path under it and removed again (a default ACL on the
 *   directory would override it), so nothing touches the node once it listens (a client may
 *   chmod it the moment it sees it listen); bind itself fails (EADDRINUSE) rather than
 *   replace anything that appeared at the path meanwhile;
 * - on close the node is removed only if the node at the path is still ours (same device
 *   and inode), and removed at once (Deno's own removal happens only when the listener
 *   resource is dropped, after a pending accept is cancelled, possibly after the process
 *   has exited). Deno removes the bound path at that drop whatever is there, so when the
 *   node was replaced, the replacement is kept under a hard link (`PATH.keep-PID`) while
 *   the real listener closes, and linked back at the path once Deno has removed it (never
 *   over anything new); so a replacement survives both `close()` and the end of a process
 *   that uses this as a library. Without write access beside the path the real listener
 *   is left open (unref'd) instead, which is safe when the process ends with `Deno.exit`
 *   (as the CLI does). The listener handed out rejects pending and later accepts as a
 *   closed one does.
 *
 * Every error is a {@linkcode UnixListenError} whose message starts with the path.
 * A mode needs Deno's `--allow-sys` (Deno 2.9 checks sys access "umask" but does not accept
 * `--allow-sys=umask`).
 *
 * @example
 * ```ts
 * import { listenUnix } from "./unix_listen.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await listenUnix(`${dir}/uds_socket`, { mode: 0o600 });
 * console.log(Deno.lstatSync(`${dir}/uds_socket`).mode! & 0o777); // 384 (0o600)
 * server.close(); // "removed": the node was ours and is gone
 * await Deno.remove(dir);
 * ```
 * @module
 */

import { errnoCode, errnoLine } from "../../python/errno.ts";
import { closeQuietly, connect, MAX_UNIX_PATH } from "../../net/sockets.ts";

/** Why a Unix socket server refused to start; the message starts with the path. */
export class UnixListenError extends Error {
  /**
   * An error about `path`.
   *
   * @example
   * ```ts
   * import { UnixListenError } from "./unix_listen.ts";
   * const err = new UnixListenError("/tmp/uds_socket", "a live server is listening there");
   * console.log(err.message); // names the path
   * ```
   */
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "UnixListenError";
  }
}

/** The identity of a file-system node: its device and inode numbers. */
export interface NodeId {
  /** Device number. */
  dev: number;
  /** Inode number. */
  ino: number;
}

/** What {@linkcode UnixListening.close} did with the node at the path. */
export type CloseResult = "removed" | "gone" | "replaced" | "already-closed";

/** A listening Unix socket that cleans up only what it owns. */
export interface UnixListening {
  /** The path it listens on. */
  path: string;
  /**
   * The listener: accept from it. Its `close()` is {@linkcode UnixListening.close}, so it
   * never deletes a node that is not this server's.
   */
  listener: Deno.UnixListener;
  /** The device and inode of the node this server created. */
  node: NodeId;
  /**
   * Stops listening and removes the node only if it is still ours. Returns what it found:
   * `removed` (it was ours), `gone` (nothing there any more), `replaced` (another node is
   * there now: left alone) or `already-closed`.
   */
  close(): CloseResult;
}

/** The guarded listener: closing goes through the owner check. */
class GuardedListener implements Deno.UnixListener {
  #inner: Deno.UnixListener;
  #close: () => void;
  #closed = false;
  #rejectPending = new Set<(err: Error) => void>();

  constructor(inner: Deno.UnixListener, close: () => void) {
    this.#inner = inner;
    this.#close = close;
  }

  get addr(): Deno.UnixAddr {
    return this.#inner.addr;
  }

  accept(): Promise<Deno.UnixConn> {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#rejectPending.add(reject);
      this.#inner.accept().then(
        (conn) => {
          this.#rejectPending.delete(reject);
          if (this.#closed) {
            closeQuietly(conn);
            reject(closedError());
          } else resolve(conn);
        },
        (err) => {
          this.#rejectPending.delete(reject);
          reject(this.#closed ? closedError() : err);
        },
      );
    });
  }

  /** Marks the listener closed and rejects pending accepts; `closeInner` says whether the
   * real listener may be closed (which unlinks the bound path). */
  shut(closeInner: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (closeInner) closeQuietly(this.#inner);
    else this.#inner.unref();
    for (const reject of this.#rejectPending) reject(closedError());
    this.#rejectPending.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#close();
  }

  ref(): void {
    if (!this.#closed) this.#inner.ref();
  }

  unref(): void {
    this.#inner.unref();
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<Deno.UnixConn> {
    while (true) {
      try {
        yield await this.accept();
      } catch (err) {
        if (this.#closed) return;
        throw err;
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function closedError(): Error {
  return new Deno.errors.BadResource("the listener is closed");
}

/**
 * The device and inode of the node at `path`, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { nodeId } from "./unix_listen.ts";
 * nodeId("/tmp"); // { dev: ..., ino: ... }
 * ```
 */
export function nodeId(path: string): NodeId | undefined {
  try {
    const info = Deno.lstatSync(path);
    return { dev: info.dev, ino: info.ino! };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Listens on `path` safely (see the module doc). Throws {@linkcode UnixListenError}.
 *
 * @example
 * ```ts
 * import { listenUnix } from "./unix_listen.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await listenUnix(`${dir}/sock`);
 * const client = await Deno.connect({ transport: "unix", path: `${dir}/sock` });
 * const conn = await server.listener.accept();
 * conn.close();
 * client.close();
 * server.close();
 * await Deno.remove(dir);
 * ```
 */
export async function listenUnix(
  path: string,
  opts: { mode?: number } = {},
): Promise<UnixListening> {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes === 0) throw new UnixListenError(path, "the path is empty; give a file-system path");
  if (bytes > MAX_UNIX_PATH) {
    throw new UnixListenError(
      path,
      `the path is ${bytes} bytes, over the ${MAX_UNIX_PATH}-byte limit for Unix sockets; use a shorter path`,
    );
  }
  if (
    opts.mode !== undefined &&
    !(Number.isInteger(opts.mode) && opts.mode >= 0 && opts.mode <= 0o777)
  ) {
    throw new UnixListenError(path, `mode ${opts.mode} is not a permission mode (0 to 0o777)`);
  }
  // The stale check, the removal and the bind are one step under the path's lock, so two
  // servers starting at once cannot both remove, bind and serve (one would be unreachable).
  const inner = await withPathLock(path, async () => {
    await clearStale(path);
    return bindAt(path, opts.mode);
  });
  let node: NodeId;
  try {
    const info = Deno.lstatSync(path);
    node = { dev: info.dev, ino: info.ino! };
  } catch (err) {
    // Our node vanished right after bind: closing cannot delete anything of anyone else's
    // except what appeared since, so leave the listener to the process exit.
    inner.unref();
    throw new UnixListenError(path, `the node disappeared right after bind: ${errnoLine(err)}`);
  }
  let result: CloseResult | undefined;
  const close = (): CloseResult => {
    if (result) return "already-closed";
    let now: NodeId | undefined;
    try {
      now = nodeId(path);
    } catch {
      now = undefined; // cannot look: treat as replaced, never delete blindly
      result = "replaced";
      guarded.shut(false);
      return result;
    }
    if (now === undefined) result = "gone";
    else if (now.dev === node.dev && now.ino === node.ino) result = "removed";
    else result = "replaced";
    // Deno removes the bound path when the listener resource is dropped, whatever is there
    // (on close, and at the end of the process for one never closed): when the node is
    // another's, it is kept under a second name meanwhile and put back.
    if (result === "replaced") {
      closeKeeping(path, now!, guarded);
      return result;
    }
    guarded.shut(true);
    if (result === "removed") {
      // The drop happens once a pending accept has been cancelled, which may be after the
      // process has exited: remove the node now, if it is still ours.
      const still = nodeId(path);
      if (still && still.dev === node.dev && still.ino === node.ino) {
        try {
          Deno.removeSync(path);
        } catch {
          // gone meanwhile
        }
      }
    }
    return result;
  };
  const guarded = new GuardedListener(inner, close);
  return { path, listener: guarded, node, close };
}

/** How long a start waits for another server's start on the same path, in ms. */
export const LOCK_WAIT_MS = 5000;

/**
 * Runs `fn` holding an exclusive lock (flock) on `PATH.lock`, created beside the path and
 * removed again before the lock is released, so no lock file is left behind. A start that
 * finds the lock file replaced after it got the lock (the holder removed it) tries again
 * with the new one. Throws {@linkcode UnixListenError} when the lock cannot be had within
 * {@linkcode LOCK_WAIT_MS} or the lock file cannot be made (it needs read and write access
 * to `PATH.lock` as well as to the path).
 *
 * @example
 * ```ts
 * import { withPathLock } from "./unix_listen.ts";
 * await withPathLock("/tmp/sockspec-example.sock", async () => {
 *   // check the path and bind it; no other sockspec server does the same meanwhile
 * });
 * ```
 */
export async function withPathLock<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; attempt < 50; attempt++) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(lockPath, { read: true, write: true, create: true, mode: 0o600 });
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable) {
        throw new UnixListenError(
          path,
          `${
            (err as Error).message
          }; run Deno with --allow-read=${path},${lockPath} --allow-write=${path},${lockPath}`,
        );
      }
      throw new UnixListenError(
        path,
        `cannot make the lock file ${lockPath}: ${errnoLine(err)}; the directory must be writable`,
      );
    }
    let locked = false;
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        file.lock(true).then(() => true),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), deadline - Date.now()))),
      ]).finally(() => clearTimeout(timer));
      if (!got) {
        throw new UnixListenError(
          path,
          `another server is starting at this path (it holds ${lockPath}) for over ${LOCK_WAIT_MS} ms; try again`,
        );
      }
      locked = true;
      // The holder before us removes the lock file before it unlocks: if ours is no longer
      // the file at lockPath, start over with the one there now.
      const mine = file.statSync();
      const now = nodeId(lockPath);
      if (!now || now.dev !== mine.dev || now.ino !== mine.ino) continue;
      try {
        return await fn();
      } finally {
        try {
          Deno.removeSync(lockPath);
        } catch {
          // already gone
        }
      }
    } finally {
      if (locked) await file.unlock().catch(() => {});
      file.close();
    }
  }
  throw new UnixListenError(path, `cannot get the lock ${lockPath}; try again`);
}

/** How long a replaced node may take to be put back after the listener is closed, in ms. */
const RESTORE_MS = 2000;

/**
 * Closes the real listener of a server whose node was replaced, without losing the
 * replacement: a hard link keeps the replacement's inode under `PATH.keep-PID`; once Deno
 * has removed the path (at once, or when the pending accept has been cancelled) the link
 * is put back at the path (never over anything that appeared there meanwhile) and the
 * extra name removed. When the link cannot be made (no write access beside the path), the
 * listener is left open (unref'd) instead, as before: safe under `Deno.exit`, which drops
 * nothing.
 */
function closeKeeping(path: string, replacement: NodeId, guarded: GuardedListener): void {
  const keep = `${path}.keep-${Deno.pid}`;
  try {
    Deno.linkSync(path, keep);
    const kept = nodeId(keep);
    if (!kept || kept.dev !== replacement.dev || kept.ino !== replacement.ino) {
      throw new Error("the node changed while keeping it");
    }
  } catch {
    try {
      const kept = nodeId(keep);
      if (kept && kept.dev === replacement.dev && kept.ino === replacement.ino) {
        Deno.removeSync(keep);
      }
    } catch {
      // nothing to undo
    }
    guarded.shut(false);
    return;
  }
  guarded.shut(true);
  const putBack = (): boolean => {
    const at = nodeId(path);
    if (at && at.dev === replacement.dev && at.ino === replacement.ino) return false; // not yet
    if (!at) {
      try {
        Deno.linkSync(keep, path);
      } catch {
        // something appeared at the path meanwhile: it is not ours to replace
      }
    }
    try {
      Deno.removeSync(keep);
    } catch {
      // gone
    }
    return true;
  };
  if (putBack()) return;
  const until = Date.now() + RESTORE_MS;
  const poll = () => {
    if (putBack()) return;
    if (Date.now() < until) setTimeout(poll, 5);
    else {
      // Deno has not removed it: the replacement is still at the path; drop the extra name
      try {
        Deno.removeSync(keep);
      } catch {
        // gone
      }
    }
  };
  setTimeout(poll, 0);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

function bindAt(path: string, mode: number | undefined): Deno.UnixListener {
  let oldUmask: number | undefined;
  if (mode !== undefined) {
    try {
      // The umask gives the node its mode at bind time, so it never exists with a looser one.
      oldUmask = Deno.umask(0o777 & ~mode);
    } catch (err) {
      throw new UnixListenError(
        path,
        `cannot set the umask for --mode (${(err as Error).message}); run Deno with --allow-sys`,
      );
    }
  }
  try {
    if (mode !== undefined) checkUmaskApplies(path, mode);
    return Deno.listen({ transport: "unix", path });
  } catch (err) {
    if (err instanceof UnixListenError) throw err;
    throw new UnixListenError(path, bindFailure(path, err));
  } finally {
    if (oldUmask !== undefined) Deno.umask(oldUmask);
  }
}

/**
 * Makes a file at the free `path` under the umask set for `mode`, reads its mode and removes
 * it: the mode the socket node will get. A default ACL on the directory overrides the umask;
 * then nothing is bound.
 */
function checkUmaskApplies(path: string, mode: number): void {
  let got: number;
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o777 }).close();
    got = Deno.lstatSync(path).mode! & 0o777;
    Deno.removeSync(path);
  } catch (err) {
    throw new UnixListenError(path, bindFailure(path, err));
  }
  if (got !== mode) {
    throw new UnixListenError(
      path,
      `a node made here gets mode ${octal(got)}, not ${
        octal(mode)
      } (a default ACL on the directory overrides the umask?); not serving`,
    );
  }
}

function bindFailure(path: string, err: unknown): string {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  if (err instanceof Deno.errors.NotCapable) {
    return `${
      (err as Error).message
    }; run Deno with --allow-read=${path},${path}.lock --allow-write=${path},${path}.lock --allow-net=unix:${path}`;
  }
  switch (errnoCode(err)) {
    case "EADDRINUSE":
    case "EEXIST":
      return "something appeared at the path while binding; not replacing it";
    case "ENOENT":
      return `cannot bind: ${errnoLine(err)}; does the directory ${dir} exist?`;
    case "EACCES":
      return `cannot bind: ${errnoLine(err)}; the directory ${dir} must be writable and searchable`;
    default:
      return `cannot bind: ${errnoLine(err)}`;
  }
}

/**
 * Removes a stale socket node at `path`; throws {@linkcode UnixListenError} when the path
 * holds a live socket or something that is not a socket. Nothing at the path is fine.
 *
 * @example
 * ```ts
 * import { clearStale } from "./unix_listen.ts";
 * const dir = await Deno.makeTempDir();
 * await clearStale(`${dir}/sock`); // nothing there: fine
 * await Deno.remove(dir);
 * ```
 */
export async function clearStale(path: string): Promise<void> {
  const info = lstatOrUndefined(path);
  if (info === undefined) return;
  if (!info.isSocket) {
    const what = info.isFile
      ? "a regular file"
      : info.isDirectory
      ? "a directory"
      : info.isSymlink
      ? "a symbolic link"
      : "something that is not a socket";
    throw new UnixListenError(
      path,
      `the path exists and is ${what}; not touching it. Remove it or choose another path`,
    );
  }
  if (await isLive(path)) {
    throw new UnixListenError(
      path,
      "a live server is listening there (connect succeeded); stop it or choose another path",
    );
  }
  // Remove it only if it is still the stale node we probed.
  const now = lstatOrUndefined(path);
  if (now === undefined) return;
  if (now.dev !== info.dev || now.ino !== info.ino) {
    throw new UnixListenError(
      path,
      "the node changed while checking whether it was stale; not touching it. Try again",
    );
  }
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new UnixListenError(path, `cannot remove the stale socket node: ${errnoLine(err)}`);
  }
}

function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (err instanceof Deno.errors.NotCapable) {
      throw new UnixListenError(
        path,
        `${
          (err as Error).message
        }; run Deno with --allow-read=${path},${path}.lock --allow-write=${path},${path}.lock`,
      );
    }
    throw new UnixListenError(path, `cannot look at the path: ${errnoLine(err)}`);
  }
}

/**
 * True when a connect to the socket at `path` succeeds within 1 s (a live server); false
 * when it is refused (a stale node) or nothing is there. Anything else (permission denied,
 * a datagram socket, a full backlog, ...) throws {@linkcode UnixListenError}: the caller
 * cannot tell, so it must not remove the node.
 *
 * @example
 * ```ts
 * import { isLive } from "./unix_listen.ts";
 * await isLive("/tmp/nothing-here.sock"); // false
 * ```
 */
export async function isLive(path: string): Promise<boolean> {
  try {
    closeQuietly(await connect({ transport: "unix", path }, 1000));
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ECONNREFUSED" || code === "ENOENT") return false;
    throw new UnixListenError(
      path,
      `cannot tell whether a server is listening there (${errnoLine(err)}); not touching it`,
    );
  }
}
