/**
 * Socket plumbing with a timeout on every wait: connect, read some, read exactly n bytes,
 * read until EOF, write all, free ports. Every case and reference client uses these.
 *
 * A read that times out is not lost: the next read on the same connection picks it up, so a
 * timeout never drops bytes. Errors carry what was transferred before they happened.
 *
 * @example
 * ```ts
 * import { connect, readExactly, writeAll } from "./sockets.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const echo = (async () => {
 *   const conn = await listener.accept();
 *   await conn.readable.pipeTo(conn.writable);
 * })();
 * const conn = await connect({ transport: "tcp", hostname: "127.0.0.1", port: listener.addr.port });
 * await writeAll(conn, new TextEncoder().encode("hello"), 2000);
 * console.log(await readExactly(conn, 5, 2000)); // Uint8Array(5) [104, 101, 108, 108, 111]
 * conn.close();
 * listener.close();
 * await echo;
 * ```
 * @module
 */

/** Linux's limit on a Unix socket path, in bytes (`sun_path` is 108 bytes with its NUL). */
export const MAX_UNIX_PATH = 107;

/** Where a stream server listens: a TCP host and port, or a Unix socket path. */
export type StreamAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/**
 * A wait ran out of time. `partial` holds the bytes that did arrive (for reads) and
 * `transferred` how many bytes went through (for reads and writes).
 */
export class TimeoutError extends Error {
  /** Bytes received before the timeout (reads only). */
  readonly partial: Uint8Array;
  /**
   * Wraps a timeout of `what` after `ms` milliseconds.
   *
   * @example
   * ```ts
   * import { TimeoutError } from "./sockets.ts";
   * new TimeoutError("reading the echo", 2000).message; // "reading the echo: no progress within 2000 ms"
   * ```
   */
  constructor(what: string, readonly ms: number, partial?: Uint8Array, transferred?: number) {
    super(
      `${what}: no progress within ${ms} ms${
        transferred !== undefined ? ` (${transferred} bytes so far)` : ""
      }`,
    );
    this.name = "TimeoutError";
    this.partial = partial ?? new Uint8Array();
    this.transferred = transferred ?? this.partial.length;
  }
  /** How many bytes went through before the timeout. */
  readonly transferred: number;
}

/** The peer closed its side before `wanted` bytes arrived; `partial` holds what came. */
export class EofError extends Error {
  /**
   * Describes an early end of stream.
   *
   * @example
   * ```ts
   * import { EofError } from "./sockets.ts";
   * new EofError(12, new Uint8Array(4)).message; // "peer closed the connection after 4 of 12 bytes"
   * ```
   */
  constructor(readonly wanted: number, readonly partial: Uint8Array) {
    super(`peer closed the connection after ${partial.length} of ${wanted} bytes`);
    this.name = "EofError";
  }
}

/** The peer sent more than the reader allows (for example an echo longer than what was sent). */
export class OverflowError extends Error {
  /**
   * The peer sent more than `limit` bytes.
   *
   * @example
   * ```ts
   * import { OverflowError } from "./sockets.ts";
   * new OverflowError(65536).message; // "the peer sent more than 65536 bytes without closing"
   * ```
   */
  constructor(readonly limit: number) {
    super(`the peer sent more than ${limit} bytes without closing`);
    this.name = "OverflowError";
  }
}

/**
 * Resolves `promise`, or rejects with {@linkcode TimeoutError} after `ms`. A late rejection of
 * `promise` is swallowed so it cannot surface as an unhandled rejection.
 *
 * @example
 * ```ts
 * import { withTimeout } from "./sockets.ts";
 * await withTimeout(Promise.resolve(1), 100, "nothing"); // 1
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sleeps for `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { sleep } from "./sockets.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Formats a stream address for messages: `127.0.0.1:10000`, `[::1]:10000` or the path.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./sockets.ts";
 * formatAddress({ transport: "tcp", hostname: "::1", port: 80 }); // "[::1]:80"
 * ```
 */
export function formatAddress(addr: StreamAddress | Deno.Addr): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return (addr as { path?: string | null }).path ?? "(unnamed)";
  }
  const { hostname, port } = addr as Deno.NetAddr;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Connects to a stream address, giving up after `timeoutMs`. A connection that completes
 * after the timeout is closed, never leaked.
 *
 * @example
 * ```ts
 * import { connect } from "./sockets.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await connect({ transport: "tcp", hostname: "127.0.0.1", port: listener.addr.port }, 1000);
 * conn.close();
 * listener.close();
 * ```
 */
export async function connect(addr: StreamAddress, timeoutMs = 5000): Promise<Deno.Conn> {
  const pending: Promise<Deno.Conn> = addr.transport === "unix"
    ? Deno.connect({ transport: "unix", path: addr.path })
    : Deno.connect({ transport: "tcp", hostname: addr.hostname, port: addr.port });
  try {
    return await withTimeout(pending, timeoutMs, `connecting to ${formatAddress(addr)}`);
  } catch (err) {
    pending.then((conn) => closeQuietly(conn), () => {});
    throw err;
  }
}

const pendingReads = new WeakMap<Deno.Conn, Promise<Uint8Array | null>>();

/**
 * Reads what is available (up to `max` bytes), or `null` at EOF, waiting at most `timeoutMs`.
 * After a timeout the read stays pending and the next call on `conn` returns its result.
 *
 * @example
 * ```ts
 * import { readSome } from "./sockets.ts";
 * function recv16(conn: Deno.Conn): Promise<Uint8Array | null> {
 *   return readSome(conn, 2000, 16); // at most 16 bytes, like recv(16); null at EOF
 * }
 * ```
 */
export async function readSome(
  conn: Deno.Conn,
  timeoutMs: number,
  max = 65536,
): Promise<Uint8Array | null> {
  let pending = pendingReads.get(conn);
  if (!pending) {
    const buf = new Uint8Array(max);
    pending = conn.read(buf).then((n) => (n === null ? null : buf.subarray(0, n)));
    pendingReads.set(conn, pending);
  }
  try {
    const result = await withTimeout(pending, timeoutMs, "reading");
    pendingReads.delete(conn);
    return result;
  } catch (err) {
    if (!(err instanceof TimeoutError)) pendingReads.delete(conn);
    throw err;
  }
}

/**
 * Reads exactly `n` bytes. Throws {@linkcode EofError} if the peer closes first, or
 * {@linkcode TimeoutError} if no byte arrives for `timeoutMs`; both carry the partial data.
 *
 * @example
 * ```ts
 * import { readExactly } from "./sockets.ts";
 * function readRecord(conn: Deno.Conn): Promise<Uint8Array> {
 *   return readExactly(conn, 12, 2000); // 12 bytes, or EofError / TimeoutError
 * }
 * ```
 */
export async function readExactly(
  conn: Deno.Conn,
  n: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    let chunk: Uint8Array | null;
    try {
      chunk = await readSome(conn, timeoutMs, n - got);
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new TimeoutError(`reading ${n} bytes`, timeoutMs, out.slice(0, got));
      }
      throw err;
    }
    if (chunk === null) throw new EofError(n, out.slice(0, got));
    out.set(chunk, got);
    got += chunk.length;
  }
  return out;
}

/**
 * Reads until the peer closes, or until `maxBytes` (then throws: the peer sends too much).
 * Throws {@linkcode TimeoutError} with the partial data if no byte arrives for `timeoutMs`.
 *
 * @example
 * ```ts
 * import { readUntilEof } from "./sockets.ts";
 * function readRest(conn: Deno.Conn): Promise<Uint8Array> {
 *   return readUntilEof(conn, { timeoutMs: 2000, maxBytes: 1 << 20 });
 * }
 * ```
 */
export async function readUntilEof(
  conn: Deno.Conn,
  opts: { timeoutMs: number; maxBytes?: number },
): Promise<Uint8Array> {
  const max = opts.maxBytes ?? 16 << 20;
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    let chunk: Uint8Array | null;
    try {
      chunk = await readSome(conn, opts.timeoutMs);
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new TimeoutError("waiting for end of stream", opts.timeoutMs, concat(chunks));
      }
      throw err;
    }
    if (chunk === null) return concat(chunks);
    chunks.push(chunk.slice());
    total += chunk.length;
    if (total > max) throw new OverflowError(max);
  }
}

/**
 * Writes all of `data`, failing with {@linkcode TimeoutError} (with the count written) if the
 * peer stops taking bytes for `timeoutMs`.
 *
 * @example
 * ```ts
 * import { writeAll } from "./sockets.ts";
 * function sendMegabyte(conn: Deno.Conn): Promise<void> {
 *   return writeAll(conn, new Uint8Array(1 << 20), 2000);
 * }
 * ```
 */
export async function writeAll(
  conn: Deno.Conn,
  data: Uint8Array,
  timeoutMs: number,
): Promise<void> {
  let written = 0;
  while (written < data.length) {
    try {
      written += await withTimeout(conn.write(data.subarray(written)), timeoutMs, "writing");
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new TimeoutError(`writing ${data.length} bytes`, timeoutMs, undefined, written);
      }
      throw err;
    }
  }
}

/**
 * Closes a connection, listener or datagram socket, ignoring "already closed".
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./sockets.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(listener);
 * closeQuietly(listener); // no error
 * ```
 */
export function closeQuietly(resource: { close(): void } | undefined): void {
  try {
    resource?.close();
  } catch {
    // already closed
  }
}

/**
 * A TCP port that is free on `hostname` right now (bound to port 0, then released).
 *
 * @example
 * ```ts
 * import { freePort } from "./sockets.ts";
 * const port = freePort("127.0.0.1");
 * ```
 */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * A UDP port that is free on `hostname` right now.
 *
 * @example
 * ```ts
 * import { freeUdpPort } from "./sockets.ts";
 * const port = freeUdpPort("127.0.0.1");
 * ```
 */
export function freeUdpPort(hostname = "127.0.0.1"): number {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const { port } = socket.addr as Deno.NetAddr;
  socket.close();
  return port;
}

/**
 * Joins byte arrays into one.
 *
 * @example
 * ```ts
 * import { concat } from "./sockets.ts";
 * concat([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array(3) [1, 2, 3]
 * ```
 */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * True when two byte arrays have the same length and the same bytes.
 *
 * @example
 * ```ts
 * import { equalBytes } from "./sockets.ts";
 * equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * equalBytes(new Uint8Array([1, 2]), new Uint8Array([1])); // false
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reads one `\n`-terminated line (without the `\n`), or what came before the peer closed
 * (`null` if nothing came); throws {@linkcode TimeoutError} after `timeoutMs` without a byte, and an
 * error when the line exceeds `maxBytes`.
 *
 * @example
 * ```ts
 * import { readLine } from "./sockets.ts";
 * async function readReply(conn: Deno.Conn): Promise<string | null> {
 *   return await readLine(conn, 2000); // the server's JSON line, without its "\n"
 * }
 * ```
 */
export async function readLine(
  conn: Deno.Conn,
  timeoutMs: number,
  maxBytes = 1 << 16,
): Promise<string | null> {
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total <= maxBytes) {
    // One byte at a time would be slow; a server sends the line and nothing after it.
    const chunk = await readSome(conn, timeoutMs, 4096);
    if (chunk === null) break;
    const nl = chunk.indexOf(0x0a);
    parts.push(chunk.slice(0, nl < 0 ? chunk.length : nl));
    total += chunk.length;
    if (nl >= 0) break;
  }
  if (total > maxBytes) throw new Error(`the reply line is longer than ${maxBytes} bytes`);
  if (total === 0) return null;
  return new TextDecoder().decode(concat(parts));
}
