/**
 * Safe Unix socket listening (SPEC sections 2 and 3), done the careful way the tutorial's
 * `unlink(path)` is not:
 *
 * - a stale socket node at the path (connect is refused) is removed; a live one (connect
 *   succeeds), a regular file, a directory or anything else makes start-up fail, untouched;
 * - a path over the 107-byte limit fails before bind;
 * - with a mode, the process umask is set for the bind, so the node is created with
 *   exactly that mode and never exists with a looser one; bind itself fails (AddrInUse)
 *   rather than replace anything that appeared at the path meanwhile;
 * - on close the node is removed only if the node at the path is still ours (same device
 *   and inode). Deno's `listener.close()` unlinks the bound path whatever is there, so when
 *   the node was replaced the listener is left open (the process is exiting) rather than
 *   closed: the replacement is never deleted.
 *
 * @example
 * ```ts
 * import { listenUnix } from "./unix_listen.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await listenUnix(`${dir}/uds_socket`, { mode: 0o600 });
 * console.log(Deno.lstatSync(`${dir}/uds_socket`).mode! & 0o777); // 384 (0o600)
 * server.close();
 * await Deno.remove(dir);
 * ```
 * @module
 */

import { errnoCode, errnoLine } from "../errno.ts";
import { closeQuietly, connect } from "../sockets.ts";
import { MAX_UNIX_PATH } from "../target.ts";

/** Why a Unix socket server refused to start; the message names the path. */
export class UnixListenError extends Error {
  /**
   * An error about `path`.
   *
   * @example
   * ```ts
   * import { UnixListenError } from "./unix_listen.ts";
   * throw new UnixListenError("/tmp/uds_socket", "a live server is listening there");
   * ```
   */
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "UnixListenError";
  }
}

/** A listening Unix socket that cleans up only what it owns. */
export interface UnixListening {
  /** The listener (accept from it; close it through {@linkcode UnixListening.close}). */
  listener: Deno.UnixListener;
  /** The device and inode of the node this server created. */
  node: { dev: number; ino: number };
  /** Stops listening and removes the node only if it is still ours. Returns whether it did. */
  close(): boolean;
}

/**
 * Listens on `path` safely (see the module doc).
 *
 * @example
 * ```ts
 * import { listenUnix } from "./unix_listen.ts";
 * const server = await listenUnix("/tmp/sockspec-example.sock");
 * server.close();
 * ```
 */
export async function listenUnix(
  path: string,
  opts: { mode?: number } = {},
): Promise<UnixListening> {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_UNIX_PATH) {
    throw new UnixListenError(
      path,
      `the path is ${bytes} bytes, over the ${MAX_UNIX_PATH}-byte limit for Unix sockets; use a shorter path`,
    );
  }
  await clearStale(path);
  // The umask gives the node its mode at bind time, so it never exists with a looser one.
  const oldUmask = opts.mode === undefined ? undefined : Deno.umask(0o777 & ~opts.mode);
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new UnixListenError(
        path,
        "something appeared at the path while binding; not replacing it",
      );
    }
    throw err;
  } finally {
    if (oldUmask !== undefined) Deno.umask(oldUmask);
  }
  const info = Deno.lstatSync(path);
  const node = { dev: info.dev, ino: info.ino! };
  if (opts.mode !== undefined && (info.mode! & 0o777) !== opts.mode) {
    closeQuietly(listener);
    throw new UnixListenError(
      path,
      `the node got mode ${(info.mode! & 0o777).toString(8)}, not ${opts.mode.toString(8)}`,
    );
  }
  let closed = false;
  return {
    listener,
    node,
    close() {
      if (closed) return false;
      closed = true;
      let ours = false;
      try {
        const now = Deno.lstatSync(path);
        ours = now.dev === node.dev && now.ino === node.ino;
      } catch {
        // nothing there any more: closing cannot delete anything
        closeQuietly(listener);
        return false;
      }
      // Deno's close() unlinks the bound path: only let it when the node is still ours.
      if (ours) closeQuietly(listener);
      return ours;
    },
  };
}

/**
 * Removes a stale socket node at `path`; throws {@linkcode UnixListenError} when the path
 * holds a live socket or something that is not a socket. Nothing at the path is fine.
 *
 * @example
 * ```ts
 * import { clearStale } from "./unix_listen.ts";
 * await clearStale("/tmp/sockspec-example.sock");
 * ```
 */
export async function clearStale(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!info.isSocket) {
    const what = info.isFile
      ? "a regular file"
      : info.isDirectory
      ? "a directory"
      : info.isSymlink
      ? "a symbolic link"
      : "not a socket";
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
  Deno.removeSync(path);
}

/**
 * True when a connect to the socket at `path` succeeds within 1 s (a live server); false
 * when it is refused (a stale node). Other errors (permission denied, ...) are thrown.
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
      `cannot tell whether a server is listening there: ${errnoLine(err)}`,
    );
  }
}
