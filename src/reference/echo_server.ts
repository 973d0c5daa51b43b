/**
 * The reference stream echo server (SPEC sections 1 and 2): TCP or a Unix domain socket,
 * reads at most `chunk` bytes at a time (16 by default, the tutorial's `recv(16)`) and sends
 * each chunk straight back; an empty read ends the connection. Unlike the tutorial it serves
 * clients concurrently and survives clients that reset. With `transcript` it prints the
 * tutorial's server transcript exactly.
 *
 * @example
 * ```ts
 * import { serveEcho } from "./echo_server.ts";
 * const server = await serveEcho({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 } });
 * console.log(server.addr);
 * await server.close();
 * ```
 * @module
 */

import { formatSockaddr } from "../addrinfo.ts";
import { bytesRepr } from "../repr.ts";
import { closeQuietly, formatAddress, type StreamAddress, writeAll } from "../sockets.ts";
import { listenUnix } from "./unix_listen.ts";

/** Options of {@linkcode serveEcho}. */
export interface EchoServerOptions {
  /** Where to listen. A TCP port of 0 picks a free one. */
  listen: StreamAddress;
  /** Read at most this many bytes at a time (default 16). */
  chunk?: number;
  /** Print the tutorial transcript through `print`. */
  transcript?: boolean;
  /** Where transcript lines go (default `console.log`). */
  print?: (line: string) => void;
  /** Where problems go, one line each (default `console.error`). */
  log?: (line: string) => void;
  /** Octal mode for the Unix socket node. */
  mode?: number;
}

/** A running echo server. */
export interface EchoServer {
  /** The bound address (`getsockname`). */
  addr: Deno.Addr;
  /** Stops accepting, closes every connection, removes its own socket node, and waits. */
  close(): Promise<void>;
  /** Resolves when the accept loop has ended. */
  finished: Promise<void>;
}

/** How long a write to a client may stall before the connection is dropped. */
const WRITE_STALL_MS = 30_000;

/**
 * Starts an echo server.
 *
 * @example
 * ```ts
 * import { serveEcho } from "./echo_server.ts";
 * const server = await serveEcho({ listen: { transport: "unix", path: "/tmp/uds_socket" }, transcript: true });
 * await server.close();
 * ```
 */
export async function serveEcho(opts: EchoServerOptions): Promise<EchoServer> {
  const chunk = opts.chunk ?? 16;
  const print = opts.transcript ? (opts.print ?? console.log) : () => {};
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
  if (listen.transport === "unix") print(`starting up on ${listen.path}`);
  else {
    const bound = listener.addr as Deno.NetAddr;
    const shown = listen.port === 0 || listen.hostname === "0.0.0.0" || listen.hostname === "::" ||
        listen.hostname === ""
      ? bound.hostname
      : listen.hostname;
    print(`starting up on ${shown} port ${bound.port}`);
  }
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let closing = false;

  const serveConn = async (conn: Deno.Conn) => {
    const peer = conn.remoteAddr.transport === "unix"
      ? (conn.remoteAddr.path ?? "")
      : formatSockaddr(conn.remoteAddr);
    print(`connection from ${peer}`);
    const buf = new Uint8Array(chunk);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) {
          print("received b''");
          print(`no data from ${peer}`);
          break;
        }
        const data = buf.subarray(0, n);
        print(`received ${bytesRepr(data)}`);
        print("sending data back to the client");
        await writeAll(conn, data, WRITE_STALL_MS);
      }
    } catch (err) {
      if (!closing) {
        log(
          `echo: connection from ${peer || formatAddress(conn.remoteAddr)} ended: ${
            (err as Error).message
          }`,
        );
      }
    } finally {
      conns.delete(conn);
      closeQuietly(conn);
      if (!closing) print("waiting for a connection");
    }
  };

  // As in the tutorial, `waiting for a connection` follows start-up and the end of each
  // connection (not each accept), so one client at a time gives exactly SPEC's transcript.
  print("waiting for a connection");
  const finished = (async () => {
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing) break;
        // EMFILE and friends: say so, back off, keep serving.
        log(`echo: accept failed: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      conns.add(conn);
      const handler = serveConn(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  })();

  return {
    addr: listener.addr,
    finished,
    async close() {
      closing = true;
      if (unix) unix.close();
      else closeQuietly(listener);
      for (const conn of conns) closeQuietly(conn);
      await finished;
      await Promise.all([...handlers]);
    },
  };
}
