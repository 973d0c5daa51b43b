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
 * server goes on.
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
import { closeQuietly } from "../../net/sockets.ts";
import { MAX_UNIX_PATH } from "../../harness/target.ts";
import {
  type DatagramAddress,
  describeDatagram,
  isUnbound,
  openDatagram,
  receiveLoop,
} from "../../net/datagram.ts";

/** The tutorial's receive buffer, `recvfrom(4096)`. */
export const DEFAULT_BUFFER = 4096;

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
): Promise<{ socket: Deno.DatagramConn; release(): boolean }> {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_UNIX_PATH) {
    throw new UnixDatagramError(
      path,
      `the path is ${bytes} bytes, over the ${MAX_UNIX_PATH}-byte limit for Unix sockets; use a shorter path`,
    );
  }
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
  const socket = openDatagram({ transport: "unixgram", path });
  const node = Deno.lstatSync(path);
  let released = false;
  return {
    socket,
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
  let closing = false;
  const finished = receiveLoop(socket, {
    buffer,
    print,
    log,
    name: "dgram",
    closing: () => closing,
    async answer(data, from, who) {
      if (data.length === 0 && zeroLength === "ignore") return;
      if (isUnbound(from)) {
        log(
          `dgram: cannot answer the ${data.length}-byte datagram from an unbound Unix client: ` +
            "it did not bind a path of its own, so there is no address to send to " +
            "(SPEC §4: the client must bind a path to receive the answer)",
        );
        return;
      }
      try {
        const sent = await socket.send(data, from);
        print(`sent ${sent} bytes back to ${who}`);
      } catch (err) {
        if (closing) return;
        log(
          `dgram: cannot send ${data.length} bytes back to ${describeDatagram(from)}: ${
            errnoLine(err)
          }`,
        );
      }
    },
  });
  return {
    addr: socket.addr,
    finished,
    async close() {
      if (closing) return await finished;
      closing = true;
      closeQuietly(socket);
      release();
      await finished;
    },
  };
}
