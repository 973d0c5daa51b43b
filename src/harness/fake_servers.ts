/**
 * The servers sockspec plays when it judges a client (`stream-client`, `dgram-client`,
 * `record-client` targets): small in-process servers, each with one behaviour a client case
 * needs, that record exactly what arrived, when, and how each connection ended.
 *
 * Stream behaviours ({@linkcode StreamBehaviour}): a correct echo; an echo that answers one
 * byte at a time with pauses; an echo that answers in one burst once the client has paused;
 * one that echoes a part and then closes; one that reads and never answers; one that only
 * records. Datagram behaviours ({@linkcode DgramBehaviour}): an echo, one that never
 * answers, one that truncates its answer, one that answers from another port. No listener
 * at all (a closed port, a missing path, a stale socket node) is made with
 * {@linkcode closedPort} and {@linkcode staleUnixNode}.
 *
 * Everything is bounded: at most {@linkcode MAX_CONNECTIONS} connections and
 * {@linkcode MAX_BYTES} bytes kept per connection (or datagrams in all); `close()` ends every
 * connection and waits (bounded) for the handlers to finish.
 *
 * @example
 * ```ts
 * import { startStreamServer } from "./fake_servers.ts";
 * import { connect, readExactly, writeAll } from "../net/sockets.ts";
 * const server = startStreamServer({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 }, behaviour: "echo" });
 * const client = await connect(server.address); // the client under test would do this
 * await writeAll(client, new TextEncoder().encode("hi"), 1000);
 * await readExactly(client, 2, 1000);
 * client.close();
 * await server.waitFor((s) => s.connections[0]?.end !== undefined, 1000);
 * console.log(server.connections[0].end?.how); // "eof"
 * await server.close();
 * ```
 * @module
 */

import {
  closeQuietly,
  concat,
  formatAddress,
  freePort,
  sleep,
  type StreamAddress,
} from "../net/sockets.ts";
import { type DatagramAddress, openDatagram } from "../net/datagram.ts";
import { errnoMessage } from "../python/errno.ts";
import { waitUntil } from "../case/wait.ts";

/** The most connections a fake stream server accepts; later ones are closed at once. */
export const MAX_CONNECTIONS = 8;
/** The most bytes a fake server keeps per connection (or datagrams, in all). */
export const MAX_BYTES = 1 << 20;

/**
 * What a fake stream server does with what a client sends:
 * - `echo`: sends each chunk straight back, keeps the connection open until the client ends it;
 * - `drip`: echoes one byte at a time, {@linkcode StreamServerOptions.dripMs} apart;
 * - `burst`: collects what arrives until the client pauses ({@linkcode BURST_QUIET_MS}),
 *   then echoes it in one write;
 * - `close-early`: once {@linkcode StreamServerOptions.expect} bytes arrived (or the client
 *   paused), echoes only the first {@linkcode StreamServerOptions.closeAfter} bytes and
 *   closes its side (an orderly close: the client reads end of stream);
 * - `silent`: reads and records, never answers;
 * - `record`: reads and records (with arrival times) until the client closes.
 */
export type StreamBehaviour = "echo" | "drip" | "burst" | "close-early" | "silent" | "record";

/** How long the client must be quiet before a `burst` or `close-early` server answers, in ms. */
export const BURST_QUIET_MS = 20;

/** Options of {@linkcode startStreamServer}. */
export interface StreamServerOptions {
  /** Where to listen: a TCP host (port 0 picks one) or a Unix socket path. */
  listen: StreamAddress;
  /** What the server does. */
  behaviour: StreamBehaviour;
  /** `drip`: the pause between two bytes, in ms (default 2). */
  dripMs?: number;
  /** `close-early`: how many bytes to echo before closing (default 16). */
  closeAfter?: number;
  /** `close-early`: answer as soon as this many bytes arrived (default: when the client pauses). */
  expect?: number;
  /** Unix: the socket node's mode, set before the server accepts anything (default: the umask's). */
  mode?: number;
}

/** Bytes that crossed the connection, and when (ms since the server started). */
export interface Timed {
  /** Milliseconds since the server started. */
  at: number;
  /** The bytes. */
  data: Uint8Array;
}

/** How a connection ended, as the server saw it. */
export interface ConnectionEnd {
  /** Milliseconds since the server started. */
  at: number;
  /**
   * `eof`: the client closed (end of stream); `reset`: it reset the connection; `error`:
   * another read error; `server`: the server closed it first (`close-early`, or `close()`).
   */
  how: "eof" | "reset" | "error" | "server";
  /** The error message, for `reset` and `error`. */
  message?: string;
}

/** One accepted connection, as the server saw it. */
export interface ConnectionLog {
  /** When it was accepted, ms since the server started. */
  openedAt: number;
  /** The client's address as the server saw it (`127.0.0.1:50412`, or a path or `''`). */
  peer: string;
  /** What arrived, chunk by chunk. */
  received: Timed[];
  /** What the server sent back, write by write. */
  sent: Timed[];
  /** How it ended; undefined while it is open. */
  end?: ConnectionEnd;
}

/** The total of `chunks` as one array. */
export function joined(chunks: readonly Timed[]): Uint8Array {
  return concat(chunks.map((c) => c.data));
}

/** A running fake stream server. */
export interface FakeStreamServer {
  /** Where it listens. */
  readonly address: StreamAddress;
  /** Every connection so far, in the order accepted. */
  readonly connections: readonly ConnectionLog[];
  /** Milliseconds since the server started. */
  now(): number;
  /**
   * Waits until `done(server)` is true (checked every 5 ms) or `timeoutMs` passed; resolves
   * with whether it became true.
   */
  waitFor(done: (server: FakeStreamServer) => boolean, timeoutMs: number): Promise<boolean>;
  /** Stops listening, ends every connection and waits (at most 1 s) for the handlers. */
  close(): Promise<void>;
}

/**
 * Starts a fake stream server.
 *
 * @example
 * ```ts
 * import { startStreamServer } from "./fake_servers.ts";
 * const dir = await Deno.makeTempDir();
 * const server = startStreamServer({ listen: { transport: "unix", path: `${dir}/x.sock` }, behaviour: "drip" });
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function startStreamServer(opts: StreamServerOptions): FakeStreamServer {
  const listener = opts.listen.transport === "unix"
    ? Deno.listen({ transport: "unix", path: opts.listen.path })
    : Deno.listen({ transport: "tcp", hostname: opts.listen.hostname, port: opts.listen.port });
  if (opts.listen.transport === "unix" && opts.mode !== undefined) {
    Deno.chmodSync(opts.listen.path, opts.mode);
  }
  const address: StreamAddress = opts.listen.transport === "unix" ? opts.listen : {
    transport: "tcp",
    hostname: opts.listen.hostname,
    port: (listener.addr as Deno.NetAddr).port,
  };
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 10) / 10;
  const connections: ConnectionLog[] = [];
  const open = new Set<Deno.Conn>();
  const handlers: Promise<void>[] = [];
  let closing = false;

  const accepting = (async () => {
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // the listener was closed
      }
      if (closing || connections.length >= MAX_CONNECTIONS) {
        closeQuietly(conn);
        continue;
      }
      const log: ConnectionLog = {
        openedAt: now(),
        peer: peerOf(conn.remoteAddr),
        received: [],
        sent: [],
      };
      connections.push(log);
      open.add(conn);
      if (opts.listen.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
      handlers.push(
        serve(conn, log, opts, now, () => closing).finally(() => {
          open.delete(conn);
          closeQuietly(conn);
        }),
      );
    }
  })();

  const server: FakeStreamServer = {
    address,
    connections,
    now,
    waitFor(done, timeoutMs) {
      return waitUntil(() => done(server), { timeoutMs, intervalMs: 5 });
    },
    async close() {
      if (closing) return;
      closing = true;
      closeQuietly(listener);
      for (const conn of open) closeQuietly(conn);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all([accepting, ...handlers]),
        new Promise((r) => (timer = setTimeout(r, 1000))),
      ]);
      clearTimeout(timer);
    },
  };
  return server;
}

function peerOf(addr: Deno.Addr): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") return addr.path || "''";
  return formatAddress(addr);
}

/** One connection's handler: reads (recording), answers as the behaviour says, records the end. */
async function serve(
  conn: Deno.Conn,
  log: ConnectionLog,
  opts: StreamServerOptions,
  now: () => number,
  closing: () => boolean,
): Promise<void> {
  const buf = new Uint8Array(64 << 10);
  let kept = 0;
  let pending: Uint8Array[] = [];
  let answered = false;
  let reading: Promise<number | null> | undefined;
  const send = async (data: Uint8Array) => {
    let written = 0;
    while (written < data.length) written += await conn.write(data.subarray(written));
    log.sent.push({ at: now(), data: data.slice() });
  };
  const answerPending = async () => {
    const data = concat(pending);
    pending = [];
    if (opts.behaviour === "burst") {
      await send(data);
    } else if (opts.behaviour === "close-early" && !answered) {
      answered = true;
      const part = data.subarray(0, Math.min(data.length, opts.closeAfter ?? 16));
      if (part.length > 0) await send(part);
      log.end = { at: now(), how: "server" };
      // An orderly close once everything sent is on its way: the client reads end of stream.
      closeQuietly(conn);
      return true;
    }
    return false;
  };
  try {
    while (!closing()) {
      reading ??= conn.read(buf);
      const waitsForQuiet = (opts.behaviour === "burst" || opts.behaviour === "close-early") &&
        pending.length > 0;
      const n = waitsForQuiet
        ? await Promise.race([reading, sleep(BURST_QUIET_MS).then(() => "quiet" as const)])
        : await reading;
      if (n === "quiet") {
        if (await answerPending()) return;
        continue;
      }
      reading = undefined;
      if (n === null) {
        if (pending.length > 0 && (await answerPending())) return;
        log.end ??= { at: now(), how: "eof" };
        return;
      }
      const data = buf.slice(0, n);
      if (kept < MAX_BYTES) {
        log.received.push({ at: now(), data: data.subarray(0, MAX_BYTES - kept) });
        kept += data.length;
      }
      switch (opts.behaviour) {
        case "echo":
          await send(data);
          break;
        case "drip":
          for (let i = 0; i < data.length && !closing(); i++) {
            if (i > 0 || log.sent.length > 0) await sleep(opts.dripMs ?? 2);
            await send(data.subarray(i, i + 1));
          }
          break;
        case "burst":
        case "close-early":
          pending.push(data);
          if (
            opts.behaviour === "close-early" && opts.expect !== undefined &&
            joined(log.received).length >= opts.expect && (await answerPending())
          ) return;
          break;
        case "silent":
        case "record":
          break;
      }
    }
  } catch (err) {
    if (log.end === undefined) {
      const reset = err instanceof Deno.errors.ConnectionReset ||
        err instanceof Deno.errors.BrokenPipe;
      log.end = closing()
        ? { at: now(), how: "server" }
        : { at: now(), how: reset ? "reset" : "error", message: errnoMessage(err) };
    }
  } finally {
    if (log.end === undefined) log.end = { at: now(), how: "server" };
  }
}

/**
 * A TCP port on `hostname` with nothing listening (free right now): a connect there is
 * refused (ECONNREFUSED).
 *
 * @example
 * ```ts
 * import { closedPort } from "./fake_servers.ts";
 * const port = closedPort("127.0.0.1");
 * ```
 */
export function closedPort(hostname: string): number {
  return freePort(hostname);
}

/**
 * Leaves a stale socket node at `path`: bound and listened on, then closed, so the node
 * stays and a connect to it is refused (ECONNREFUSED), as after a server that died.
 *
 * @example
 * ```ts
 * import { staleUnixNode } from "./fake_servers.ts";
 * const dir = await Deno.makeTempDir();
 * staleUnixNode(`${dir}/stale.sock`);
 * Deno.lstatSync(`${dir}/stale.sock`).isSocket; // true, and nothing listens there
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function staleUnixNode(path: string): void {
  // Deno removes the node when its listener closes, so the listener is bound elsewhere and
  // its node renamed into place first: the close then leaves the node behind.
  const bound = `${path}.bind`;
  const listener = Deno.listen({ transport: "unix", path: bound });
  try {
    Deno.renameSync(bound, path);
  } finally {
    listener.close();
  }
  if (!Deno.lstatSync(path).isSocket) throw new Error(`no socket node at ${path} after bind`);
}

/**
 * What a fake datagram server does with each datagram:
 * - `echo`: sends it back to its sender;
 * - `silent`: records it, never answers;
 * - `truncate`: sends back only its first {@linkcode DgramServerOptions.truncateTo} bytes;
 * - `other-port`: sends it back whole, but from a second socket (another port or path).
 */
export type DgramBehaviour = "echo" | "silent" | "truncate" | "other-port";

/** Options of {@linkcode startDgramServer}. */
export interface DgramServerOptions {
  /** Where to bind: a UDP host (port 0 picks one) or a Unix datagram path. */
  bind: DatagramAddress;
  /** What the server does. */
  behaviour: DgramBehaviour;
  /** `truncate`: how many bytes of each datagram to send back (default 16). */
  truncateTo?: number;
  /** `other-port` over a Unix socket: the second socket's path (default: `bind.path` + `.other`). */
  otherPath?: string;
}

/** One datagram that arrived, and what the server did with it. */
export interface DatagramLog {
  /** Milliseconds since the server started. */
  at: number;
  /** The datagram (up to 256 KiB). */
  data: Uint8Array;
  /** Its sender as the server saw it: `127.0.0.1:50412`, a path, or `''` (an unbound sender). */
  from: string;
  /** The sender's Unix path, if it had one. */
  fromPath?: string;
  /** What the server sent back, if anything. */
  answer?: Uint8Array;
  /** Why the answer failed, if it did. */
  answerError?: string;
}

/** A running fake datagram server. */
export interface FakeDgramServer {
  /** Where it is bound. */
  readonly address: DatagramAddress;
  /** Every datagram so far. */
  readonly datagrams: readonly DatagramLog[];
  /** Milliseconds since the server started. */
  now(): number;
  /** As {@linkcode FakeStreamServer.waitFor}. */
  waitFor(done: (server: FakeDgramServer) => boolean, timeoutMs: number): Promise<boolean>;
  /** Closes its sockets and waits (at most 1 s) for the loop to end. */
  close(): Promise<void>;
}

/**
 * Starts a fake datagram server.
 *
 * @example
 * ```ts
 * import { startDgramServer } from "./fake_servers.ts";
 * const server = startDgramServer({ bind: { transport: "udp", hostname: "127.0.0.1", port: 0 }, behaviour: "silent" });
 * await server.close();
 * ```
 */
export function startDgramServer(opts: DgramServerOptions): FakeDgramServer {
  const sock = openDatagram(opts.bind);
  let other: Deno.DatagramConn | undefined;
  if (opts.behaviour === "other-port") {
    other = opts.bind.transport === "udp"
      ? openDatagram({ transport: "udp", hostname: opts.bind.hostname, port: 0 })
      : openDatagram({ transport: "unixgram", path: opts.otherPath ?? `${opts.bind.path}.other` });
  }
  const address: DatagramAddress = opts.bind.transport === "udp"
    ? { transport: "udp", hostname: opts.bind.hostname, port: (sock.addr as Deno.NetAddr).port }
    : opts.bind;
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 10) / 10;
  const datagrams: DatagramLog[] = [];
  let closing = false;
  let kept = 0;
  const loop = (async () => {
    while (!closing) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await sock.receive(new Uint8Array(1 << 18));
      } catch {
        if (closing) return;
        await sleep(20);
        continue;
      }
      const [data, from] = got;
      const unix = from.transport === "unixpacket" || from.transport === "unix";
      const path = unix ? (from as Deno.UnixAddr).path || undefined : undefined;
      const entry: DatagramLog = {
        at: now(),
        data: kept < MAX_BYTES ? data : new Uint8Array(0),
        from: unix ? (path ?? "''") : peerOf(from),
        fromPath: path,
      };
      kept += data.length;
      if (datagrams.length < 10_000) datagrams.push(entry);
      if (opts.behaviour === "silent" || (unix && !path)) continue;
      const answer = opts.behaviour === "truncate"
        ? data.subarray(0, Math.min(data.length, opts.truncateTo ?? 16))
        : data;
      try {
        await (other ?? sock).send(answer, from);
        entry.answer = answer;
      } catch (err) {
        entry.answerError = (err as Error).message;
      }
    }
  })();
  const server: FakeDgramServer = {
    address,
    datagrams,
    now,
    waitFor(done, timeoutMs) {
      return waitUntil(() => done(server), { timeoutMs, intervalMs: 5 });
    },
    async close() {
      if (closing) return;
      closing = true;
      closeQuietly(sock);
      closeQuietly(other);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([loop, new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
      if (opts.bind.transport === "unixgram") {
        for (
          const p of [opts.bind.path, other ? (opts.otherPath ?? `${opts.bind.path}.other`) : ""]
        ) {
          if (p) await Deno.remove(p).catch(() => {});
        }
      }
    },
  };
  return server;
}
