/**
 * The listen / accept / close skeleton the reference stream servers share (echo, record):
 * listen on TCP or (safely, through {@linkcode listenUnix}) on a Unix socket path, accept
 * clients concurrently and hand each connection to a handler, keep serving when accept
 * fails (EMFILE and friends: logged, retried every 100 ms; a connection reset before it was
 * accepted is skipped without a pause), and on close stop accepting, close every connection, remove
 * the socket node only if it is still ours, and wait for every handler to finish.
 *
 * @example
 * ```ts
 * import { serveStream } from "./server.ts";
 * const server = await serveStream(
 *   { listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 }, label: "hello" },
 *   async (conn) => {
 *     await conn.write(new TextEncoder().encode("hello\n"));
 *   },
 * );
 * console.log(server.addr);
 * await server.close();
 * ```
 * @module
 */

import { formatSockaddr } from "../../python/addrinfo.ts";
import { errnoCode } from "../../python/errno.ts";
import { closeQuietly, formatAddress, sleep, type StreamAddress } from "../../net/sockets.ts";
import { listenUnix } from "./unix_listen.ts";

/**
 * Accept errors that concern one connection only: they never pause accepting. Any other
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...) is logged and retried every 100 ms.
 */
const PER_CONNECTION = new Set([
  "ENOTCONN",
  "ECONNABORTED",
  "ECONNRESET",
  "EPROTO",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPERM",
]);

/** Options of {@linkcode serveStream}. */
export interface StreamServerOptions {
  /** Where to listen. A TCP port of 0 picks a free one. */
  listen: StreamAddress;
  /** Octal mode for the Unix socket node. */
  mode?: number;
  /** The server's name in log lines (`echo`, `record`). */
  label: string;
  /** Where problems go, one line each (default `console.error`). */
  log?: (line: string) => void;
  /** Called once listening, before the first connection is handled (print banners here). */
  onListening?: (addr: Deno.Addr) => void;
}

/** A running stream server. */
export interface StreamServer {
  /** The bound address (`getsockname`). */
  readonly addr: Deno.Addr;
  /** True once {@linkcode StreamServer.close} has been called. */
  readonly closing: boolean;
  /** Resolves when the accept loop has ended. */
  readonly finished: Promise<void>;
  /** Stops accepting, closes every connection, removes its own socket node, and waits. */
  close(): Promise<void>;
}

/**
 * Handles one accepted connection. The connection is closed after the returned promise
 * settles; a rejection is logged (unless the server is closing) and never stops the server.
 */
export type ConnectionHandler = (conn: Deno.Conn, server: StreamServer) => Promise<void>;

/**
 * The peer of a connection as the tutorials print it: `('127.0.0.1', 52000)` for TCP, the
 * peer's path for a Unix socket (usually empty: clients rarely bind).
 *
 * @example
 * ```ts
 * import { peerName } from "./server.ts";
 * function greet(conn: Deno.Conn): string {
 *   return `connection from ${peerName(conn)}`; // "connection from ('127.0.0.1', 50412)"
 * }
 * ```
 */
export function peerName(conn: Deno.Conn): string {
  return conn.remoteAddr.transport === "unix"
    ? (conn.remoteAddr.path ?? "")
    : formatSockaddr(conn.remoteAddr);
}

/**
 * The tutorial's first server line: `starting up on localhost port 10000` (the host as given,
 * or as bound when it was a wildcard or port 0) or `starting up on ./uds_socket`.
 *
 * @example
 * ```ts
 * import { startupLine } from "./server.ts";
 * startupLine(
 *   { transport: "tcp", hostname: "localhost", port: 10000 },
 *   { transport: "tcp", hostname: "127.0.0.1", port: 10000 },
 * ); // "starting up on localhost port 10000"
 * ```
 */
export function startupLine(listen: StreamAddress, bound: Deno.Addr): string {
  if (listen.transport === "unix") return `starting up on ${listen.path}`;
  const addr = bound as Deno.NetAddr;
  const shown = listen.port === 0 || listen.hostname === "0.0.0.0" || listen.hostname === "::" ||
      listen.hostname === ""
    ? addr.hostname
    : listen.hostname;
  return `starting up on ${shown} port ${addr.port}`;
}

/**
 * Listens and serves every connection with `handle`, concurrently (see the module doc).
 * Throws when it cannot listen (the message names the path or address).
 *
 * @example
 * ```ts
 * import { serveStream } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveStream(
 *   { listen: { transport: "unix", path: `${dir}/example.sock` }, label: "example" },
 *   async (conn) => void (await conn.read(new Uint8Array(16))),
 * );
 * await server.close();
 * await Deno.remove(dir);
 * ```
 */
export async function serveStream(
  opts: StreamServerOptions,
  handle: ConnectionHandler,
): Promise<StreamServer> {
  const log = opts.log ?? console.error;
  const { listen } = opts;
  const unix = listen.transport === "unix"
    ? await listenUnix(listen.path, { mode: opts.mode })
    : undefined;
  const listener: Deno.Listener = unix?.listener ??
    Deno.listen({
      transport: "tcp",
      hostname: (listen as { hostname: string }).hostname,
      port: (listen as { port: number }).port,
    });
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let closing = false;
  let finished: Promise<void> = Promise.resolve();

  const server: StreamServer = {
    addr: listener.addr,
    get closing() {
      return closing;
    },
    get finished() {
      return finished;
    },
    async close() {
      closing = true;
      if (unix) unix.close();
      else closeQuietly(listener);
      for (const conn of conns) closeQuietly(conn);
      await finished;
      await Promise.all([...handlers]);
    },
  };

  const serveConn = async (conn: Deno.Conn) => {
    try {
      await handle(conn, server);
    } catch (err) {
      if (!closing) {
        log(
          `${opts.label}: connection from ${peerName(conn) || formatAddress(conn.remoteAddr)} ` +
            `ended: ${(err as Error).message}`,
        );
      }
    } finally {
      conns.delete(conn);
      closeQuietly(conn);
    }
  };

  opts.onListening?.(listener.addr);
  finished = (async () => {
    // EMFILE and friends: say so once (and once more when it changes or ends), back off,
    // keep serving; waiting clients stay queued and are accepted when descriptors free up.
    let failures = 0;
    let failingSince = 0;
    let problem = "";
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing) break;
        // One connection's trouble (it was reset or aborted before it was accepted, so
        // getpeername fails with ENOTCONN): skip it and accept the next at once.
        if (PER_CONNECTION.has(errnoCode(err) ?? "")) continue;
        const message = (err as Error).message;
        if (failures === 0 || message !== problem) {
          log(
            `${opts.label}: cannot accept connections: ${message}; waiting clients stay ` +
              `queued; retrying every 100 ms${
                /too many open files/i.test(message)
                  ? " (close idle clients or raise the limit with ulimit -n)"
                  : ""
              }`,
          );
        }
        if (failures === 0) failingSince = Date.now();
        failures++;
        problem = message;
        await sleep(100);
        continue;
      }
      if (failures > 0) {
        log(
          `${opts.label}: accepting connections again after ${
            Date.now() - failingSince
          } ms (${failures} failed attempts)`,
        );
        failures = 0;
      }
      if (closing) {
        closeQuietly(conn);
        break;
      }
      conns.add(conn);
      const handler = serveConn(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  })();
  return server;
}
