/**
 * The reference datagram echo server (SPEC §4), over UDP (IPv4 or IPv6) or a Unix datagram
 * socket. Like the tutorial it receives into a buffer of `buffer` bytes (4096 by default,
 * the tutorial's `recvfrom(4096)`), so a longer datagram is truncated to exactly that size
 * and the rest is lost; it sends each datagram back to its sender; a zero-length datagram
 * gets no answer unless `zeroLength` is `"echo"`. With `transcript` it prints the
 * tutorial's lines (`received 42 bytes from ('127.0.0.1', 57870)`, the data,
 * `sent 42 bytes back to (...)`).
 *
 * Unlike the tutorial it survives what the tutorial dies of: a Unix client that did not
 * bind a path (the tutorial's `sendto(data, None)` raises) gets no answer (there is no
 * address to send to) and a line on stderr says why; a failed send is logged and the
 * server goes on. A bound Unix client that never reads its answers cannot hold anyone up:
 * an answer whose send does not complete within {@linkcode SEND_WAIT_MS} (the client's
 * receive queue is full) is dropped, that client's answers are dropped for a second, and
 * the socket, which Deno can neither use nor un-stick meanwhile, is replaced by a fresh one
 * bound at the same path (datagrams already queued on the old one are lost). Log lines of
 * those two kinds (and about unbound clients) are rate-limited: at most 3 per 10 s, the next
 * one says how many were not shown.
 *
 * A Unix socket path is bound the careful way: a path over 107 bytes, a regular file, a
 * directory or a live socket there makes start-up fail untouched; a stale socket node is
 * removed first; on close the node is removed only if it is still this server's.
 *
 * @example
 * ```ts
 * import { serveDgram } from "./server.ts";
 * const server = await serveDgram({ listen: { transport: "udp", hostname: "127.0.0.1", port: 0 } });
 * console.log(server.addr);
 * await server.close();
 * ```
 * @module
 */

import { errnoCode, errnoLine } from "../../python/errno.ts";
import { closeQuietly, MAX_UNIX_PATH } from "../../net/sockets.ts";
import { withPathLock } from "../stream/unix_listen.ts";
import {
  type DatagramAddress,
  describeDatagram,
  isUnbound,
  openDatagram,
  receiveLoop,
} from "../../net/datagram.ts";

/** The tutorial's receive buffer, `recvfrom(4096)`. */
export const DEFAULT_BUFFER = 4096;

/** How long one answer's send may wait before it counts as stalled, in ms. */
export const SEND_WAIT_MS = 50;
/** After a stall, how long that client's answers are dropped without trying, in ms. */
const STALL_COOLDOWN_MS = 1000;
/** At most this many log lines of one kind per {@linkcode LOG_WINDOW_MS}. */
const LOG_BURST = 3;
const LOG_WINDOW_MS = 10_000;

/**
 * A logger that writes at most {@linkcode LOG_BURST} lines of each kind per window and
 * counts the rest; the next line written says how many were not.
 */
function rateLimited(log: (line: string) => void) {
  const kinds = new Map<string, { start: number; written: number; suppressed: number }>();
  return (kind: string, line: (suppressed: number) => string) => {
    const now = Date.now();
    let k = kinds.get(kind);
    if (!k || now - k.start >= LOG_WINDOW_MS) {
      k = { start: now, written: 0, suppressed: k?.suppressed ?? 0 };
      kinds.set(kind, k);
    }
    if (k.written >= LOG_BURST) {
      k.suppressed++;
      return;
    }
    k.written++;
    log(line(k.suppressed));
    k.suppressed = 0;
  };
}

function more(suppressed: number): string {
  return suppressed ? ` (and ${suppressed} more like it not logged)` : "";
}

/** Options of {@linkcode serveDgram}. */
export interface DgramServerOptions {
  /** Where to bind. A UDP port of 0 picks a free one. */
  listen: DatagramAddress;
  /** Receive buffer in bytes: longer datagrams are truncated to this (default 4096). */
  buffer?: number;
  /** What to do with a zero-length datagram: no answer (default, as the tutorial) or echo it. */
  zeroLength?: "ignore" | "echo";
  /** Print the tutorial transcript through `print`. */
  transcript?: boolean;
  /** Where transcript lines go (default `console.log`). */
  print?: (line: string) => void;
  /** Where problems go, one line each (default `console.error`). */
  log?: (line: string) => void;
}

/** A running datagram echo server. */
export interface DgramServer {
  /** The bound address. */
  addr: Deno.Addr;
  /** Stops receiving, closes the socket, removes its own socket node, and waits. */
  close(): Promise<void>;
  /** Resolves when the receive loop has ended. */
  finished: Promise<void>;
}

/** Why a Unix datagram server refused to start; the message names the path. */
export class UnixDatagramError extends Error {
  /**
   * An error about `path`.
   *
   * @example
   * ```ts
   * import { UnixDatagramError } from "./server.ts";
   * const err = new UnixDatagramError("/tmp/s", "a live socket is bound there");
   * console.log(err.message); // names the path
   * ```
   */
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "UnixDatagramError";
  }
}

/**
 * Binds a Unix datagram socket at `path` safely (see the module doc). Returns the socket
 * and a `release` that removes the node only if it is still the one this call created.
 *
 * A socket node already at the path is probed with a zero-length datagram from an unbound
 * socket: "Connection refused" means nobody is bound there (stale: removed); a delivered
 * probe means a live socket (start-up fails). Deno cannot `connect()` a datagram socket,
 * which would ask the same question without sending anything.
 *
 * @example
 * ```ts
 * import { bindUnixDatagram } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const { socket, release } = await bindUnixDatagram(`${dir}/s`);
 * socket.close();
 * release();
 * await Deno.remove(dir);
 * ```
 */
export async function bindUnixDatagram(
  path: string,
): Promise<{ socket: Deno.DatagramConn; release(): boolean; owns(): boolean }> {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_UNIX_PATH) {
    throw new UnixDatagramError(
      path,
      `the path is ${bytes} bytes, over the ${MAX_UNIX_PATH}-byte limit for Unix sockets; use a shorter path`,
    );
  }
  // under the path's lock, as listenUnix does: two servers starting at once cannot both
  // remove the stale node and bind
  return await withPathLock(path, () => bindChecked(path));
}

async function bindChecked(
  path: string,
): Promise<{ socket: Deno.DatagramConn; release(): boolean; owns(): boolean }> {
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (info) {
    if (!info.isSocket) {
      const what = info.isFile
        ? "a regular file"
        : info.isDirectory
        ? "a directory"
        : "not a socket";
      throw new UnixDatagramError(
        path,
        `the path exists and is ${what}; not touching it. Remove it or choose another path`,
      );
    }
    const probe = openDatagram({ transport: "unixgram" });
    try {
      await probe.send(new Uint8Array(0), { transport: "unixpacket", path });
      throw new UnixDatagramError(
        path,
        "a live socket is bound there (a probe datagram was delivered); stop it or choose another path",
      );
    } catch (err) {
      if (err instanceof UnixDatagramError) throw err;
      const code = errnoCode(err);
      if (code !== "ECONNREFUSED" && code !== "ENOENT") {
        throw new UnixDatagramError(
          path,
          `cannot tell whether a socket is bound there: ${errnoLine(err)}`,
        );
      }
    } finally {
      closeQuietly(probe);
    }
    Deno.removeSync(path);
  }
  return bindFresh(path);
}

/** Binds at `path` (nothing is there) and returns the socket and its owner-checked release. */
function bindFresh(
  path: string,
): { socket: Deno.DatagramConn; release(): boolean; owns(): boolean } {
  const socket = openDatagram({ transport: "unixgram", path });
  const node = Deno.lstatSync(path);
  let released = false;
  return {
    socket,
    owns() {
      try {
        const now = Deno.lstatSync(path);
        return now.isSocket === true && now.dev === node.dev && now.ino === node.ino;
      } catch {
        return false;
      }
    },
    release() {
      if (released) return false;
      released = true;
      try {
        const now = Deno.lstatSync(path);
        // the same inode number alone is not enough: a freed one is soon reused
        if (!now.isSocket || now.dev !== node.dev || now.ino !== node.ino) return false;
        Deno.removeSync(path);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Starts a datagram echo server.
 *
 * @example
 * ```ts
 * import { serveDgram } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveDgram({
 *   listen: { transport: "unixgram", path: `${dir}/s` },
 *   buffer: 4096,
 *   transcript: true,
 * });
 * await server.close(); // removes its socket node
 * await Deno.remove(dir);
 * ```
 */
export async function serveDgram(opts: DgramServerOptions): Promise<DgramServer> {
  const buffer = opts.buffer ?? DEFAULT_BUFFER;
  const zeroLength = opts.zeroLength ?? "ignore";
  const print = opts.transcript ? (opts.print ?? console.log) : () => {};
  const log = opts.log ?? console.error;
  const limited = rateLimited(log);
  const { listen } = opts;
  let socket: Deno.DatagramConn;
  let release = () => false;
  if (listen.transport === "unixgram") {
    ({ socket, release } = await bindUnixDatagram(listen.path));
    print(`starting up on ${listen.path}`);
  } else {
    socket = openDatagram(listen);
    const bound = socket.addr as Deno.NetAddr;
    print(
      `starting up on ${listen.port === 0 ? bound.hostname : listen.hostname} port ${bound.port}`,
    );
  }
  const addr = socket.addr;
  let closing = false;
  /** The socket answers go out on (and new datagrams come in on): replaced on a stall. */
  let current = socket;
  const loops = new Set<Promise<void>>();
  /** Unix clients that did not take an answer in time, until when their answers are dropped. */
  const stalled = new Map<string, number>();
  /** Sends are one at a time per socket (Deno allows no more): answers queue here. */
  let sending: Promise<unknown> = Promise.resolve();

  const dropped = (to: string) =>
    limited(
      `dropped`,
      (n) =>
        `dgram: ${to} is not reading its answers (its receive queue is full): answer dropped${
          more(n)
        }`,
    );

  const send = (data: Uint8Array, from: Deno.Addr, who: string, to: string) => {
    const turn = sending.then(async () => {
      if (closing) return;
      const key = (from as Deno.UnixAddr).path ?? to;
      if ((stalled.get(key) ?? 0) > Date.now()) return dropped(to);
      const via = current;
      const attempt = via.send(data, from).then((sent) => ({ sent }), (err) => ({ err }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        attempt,
        new Promise<"slow">((r) => (timer = setTimeout(() => r("slow"), SEND_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (outcome === "slow") {
        // A Unix client whose queue is full: the send would wait for it forever, and Deno
        // can neither use that socket meanwhile nor cancel the send. So the socket is
        // replaced by a fresh one bound at the same path, and the old one is closed.
        stalled.set(key, Date.now() + STALL_COOLDOWN_MS);
        dropped(to);
        if (listen.transport === "unixgram" && via === current) await rotate(via);
        return;
      }
      if ("sent" in outcome) print(`sent ${outcome.sent} bytes back to ${who}`);
      else if (!closing) {
        log(`dgram: cannot send ${data.length} bytes back to ${to}: ${errnoLine(outcome.err)}`);
      }
    });
    sending = turn.catch(() => {});
    return turn;
  };

  const answer = async (data: Uint8Array, from: Deno.Addr, who: string) => {
    if (data.length === 0 && zeroLength === "ignore") return;
    if (isUnbound(from)) {
      limited(
        "unbound",
        (n) =>
          `dgram: cannot answer the ${data.length}-byte datagram from an unbound Unix client: ` +
          "it did not bind a path of its own, so there is no address to send to " +
          `(SPEC §4: the client must bind a path to receive the answer)${more(n)}`,
      );
      return;
    }
    await send(data, from, who, describeDatagram(from));
  };

  /** Sockets no longer served (replaced, drained): their loops end. */
  const retired = new WeakSet<Deno.DatagramConn>();
  const open = new Set<Deno.DatagramConn>([socket]);
  const serve = (conn: Deno.DatagramConn) => {
    const loop = receiveLoop(conn, {
      buffer,
      print,
      log,
      name: "dgram",
      closing: () => closing || retired.has(conn),
      answer,
    }).finally(() => loops.delete(loop));
    loops.add(loop);
  };

  const rotate = async (old: Deno.DatagramConn) => {
    const path = (listen as { path: string }).path;
    let fresh: ReturnType<typeof bindFresh>;
    try {
      fresh = await withPathLock(path, () => {
        // Deno can neither receive on the old socket while its stuck send is pending nor
        // cancel that send, so the old socket is closed, which ends the send. What other
        // clients had queued on it (net.unix.max_dgram_qlen datagrams at most) is lost, as
        // datagrams may be. Then the node is removed (only if it is still this server's)
        // and bound afresh in one synchronous step: a client's send finds no node for a few
        // microseconds at most.
        retired.add(old);
        open.delete(old);
        closeQuietly(old);
        if (closing) throw new Error("the server is closing");
        if (!release()) throw new Error("the socket node is no longer this server's");
        return bindFresh(path);
      });
    } catch (err) {
      if (!closing) {
        log(`dgram: cannot replace the stalled socket at ${path}: ${(err as Error).message}`);
      }
      return;
    }
    if (closing) {
      // closed while the lock was being released: this socket is not served either
      closeQuietly(fresh.socket);
      fresh.release();
      return;
    }
    current = fresh.socket;
    release = fresh.release;
    open.add(current);
    serve(current);
  };

  serve(socket);
  const finished = (async () => {
    while (loops.size > 0) await Promise.all([...loops]);
  })();
  return {
    addr,
    finished,
    async close() {
      if (closing) return await finished;
      closing = true;
      for (const conn of open) closeQuietly(conn);
      release();
      await finished;
    },
  };
}
