/**
 * The reference stream echo server (SPEC §1 and §2): TCP or a Unix domain socket,
 * handles the stream in `chunk`-byte pieces (16 by default, the tutorial's `recv(16)`) and
 * sends each straight back; an empty read ends the connection. Unlike the tutorial it serves
 * clients concurrently and survives clients that reset. With `transcript` it prints the
 * tutorial's server transcript exactly.
 *
 * @example
 * ```ts
 * import { serveEcho } from "./server.ts";
 * const server = await serveEcho({ listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 } });
 * console.log(server.addr);
 * await server.close();
 * ```
 * @module
 */

import { bytesRepr, writeBytesRepr } from "../../python/repr.ts";
import type { StreamAddress } from "../../net/sockets.ts";
import { peerName, serveStream, startupLine } from "../stream/server.ts";

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
  /**
   * A client whose echo cannot be written for this long (it reads nothing) is dropped,
   * with a line saying so (default {@linkcode WRITE_STALL_MS}).
   */
  stallMs?: number;
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

/** How long a write to a client may stall before the connection is dropped, by default. */
export const WRITE_STALL_MS = 30_000;

/**
 * The largest read over a Unix socket without a transcript. Measured with `sockspec bench`
 * (docs/performance.md): over a Unix socket two 64 KiB buffers echo faster and with less
 * CPU per byte than 256 KiB ones (they stay in the core's cache, like the C baseline's
 * 64 KiB buffer); over TCP larger reads cost less CPU per byte, so TCP keeps `chunk`.
 */
const UNIX_READ_MAX = 64 << 10;

/**
 * The largest read with a transcript. Each read is printed in `chunk`-byte pieces, exactly
 * the lines the tutorial's `recv(chunk)` loop prints for the same bytes, and written back
 * whole: reading 16 bytes at a time cost a read, a write and an event-loop turn per 16
 * bytes, which made a 2 MiB stream cost seconds of CPU.
 */
const TRANSCRIPT_READ_MAX = 64 << 10;

/**
 * Starts an echo server.
 *
 * Without a transcript each connection runs a pipelined loop over two buffers allocated
 * for the connection: while one chunk is being written back, the next is read into the
 * other buffer, and a chunk is written only after the one before it is out, so the echo
 * stays in order (reads are at most `chunk` bytes, and at most 64 KiB over a Unix socket,
 * where that is faster). One timer per connection (not one per write) drops a client that
 * stops reading for 30 s. With a transcript the loop is the tutorial's: read, print, write
 * back, read again; a read takes what has arrived (up to 64 KiB) and prints it in
 * `chunk`-byte pieces, the lines `recv(chunk)` in a loop prints for the same bytes. With a transcript written to
 * stdout (no `print` given), lines are buffered and written in order once per event-loop
 * turn (one `write` per turn rather than one per line), and always before a connection's
 * first echo byte is sent, before the connection is closed, and when the server closes;
 * so a client that has its echo, or its end of stream, sees the lines before it.
 *
 * @example
 * ```ts
 * import { serveEcho } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveEcho({ listen: { transport: "unix", path: `${dir}/uds_socket` }, transcript: true });
 * await server.close(); // removes its socket node
 * await Deno.remove(dir);
 * ```
 */
export async function serveEcho(opts: EchoServerOptions): Promise<EchoServer> {
  const chunk = opts.chunk ?? 16;
  const stallMs = opts.stallMs ?? WRITE_STALL_MS;
  const stdout = opts.transcript && !opts.print ? new LineBuffer() : undefined;
  const print = opts.transcript
    ? (opts.print ?? ((line: string) => stdout!.push(line)))
    : undefined;
  const { listen } = opts;
  // As in the tutorial, `waiting for a connection` follows start-up and the end of each
  // connection (not each accept), so one client at a time gives exactly SPEC's transcript.
  const server = await serveStream({
    listen,
    mode: opts.mode,
    label: "echo",
    log: opts.log,
    onListening(addr) {
      print?.(startupLine(listen, addr));
      print?.("waiting for a connection");
    },
  }, async (conn, server) => {
    if (!print) {
      return await echoPipelined(
        conn,
        listen.transport === "unix" ? Math.min(chunk, UNIX_READ_MAX) : chunk,
        stallMs,
      );
    }
    const peer = peerName(conn);
    print(`connection from ${peer}`);
    const buf = new Uint8Array(Math.max(chunk, TRANSCRIPT_READ_MAX));
    let first = true;
    try {
      await echoLoop(conn, buf, stallMs, (data) => {
        // The lines recv(chunk) in a loop would print for these bytes (it returns `chunk`
        // bytes while that many are waiting), so the transcript keeps the tutorial's chunks.
        if (stdout) stdout.pushChunks(data, chunk);
        else {
          for (let at = 0; at < data.length; at += chunk) {
            print(`received ${bytesRepr(data.subarray(at, at + chunk))}`);
            print(SENDING_BACK);
          }
        }
        if (first) stdout?.flush();
        first = false;
      });
      print("received b''");
      print(`no data from ${peer}`);
    } finally {
      if (!server.closing) print("waiting for a connection");
      stdout?.flush();
    }
  });
  return {
    addr: server.addr,
    finished: server.finished,
    async close() {
      try {
        await server.close();
      } finally {
        stdout?.flush();
      }
    },
  };
}

/**
 * Echoes until end of stream: reads into `buf`, calls `onChunk` (the transcript), writes
 * the bytes back. A write that makes no progress for `stallMs` closes the
 * connection and ends the loop with an error that says so.
 */
async function echoLoop(
  conn: Deno.Conn,
  buf: Uint8Array,
  stallMs: number,
  onChunk?: (data: Uint8Array) => void,
): Promise<void> {
  let writingSince = 0;
  let stalled = false;
  const guard = setInterval(() => {
    if (writingSince && performance.now() - writingSince > stallMs) {
      stalled = true;
      closeConn(conn);
    }
  }, Math.min(5000, stallMs / 2));
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) return;
      const data = n === buf.length ? buf : buf.subarray(0, n);
      onChunk?.(data);
      for (let off = 0; off < n;) {
        writingSince = performance.now();
        off += await conn.write(off ? data.subarray(off) : data);
      }
      writingSince = 0;
    }
  } catch (err) {
    if (stalled) {
      throw new Error(`the client read nothing for ${stallMs} ms; connection dropped`);
    }
    throw err;
  } finally {
    clearInterval(guard);
  }
}

/**
 * Echoes until end of stream with two buffers of `size` bytes: the next chunk is read
 * while the previous one is written back; at most one write is in flight, so the echo
 * keeps its order. A write that makes no progress for `stallMs` closes
 * the connection and ends the loop with an error that says so.
 */
async function echoPipelined(conn: Deno.Conn, size: number, stallMs: number): Promise<void> {
  const bufs = [new Uint8Array(size), new Uint8Array(size)];
  let writingSince = 0;
  let stalled = false;
  const guard = setInterval(() => {
    if (writingSince && performance.now() - writingSince > stallMs) {
      stalled = true;
      closeConn(conn);
    }
  }, Math.min(5000, stallMs / 2));
  const writeOut = async (data: Uint8Array) => {
    for (let off = 0; off < data.length;) {
      writingSince = performance.now();
      off += await conn.write(off ? data.subarray(off) : data);
    }
    writingSince = 0;
  };
  let writing: Promise<void> | undefined;
  let i = 0;
  try {
    while (true) {
      const n = await conn.read(bufs[i]);
      if (writing) await writing;
      if (n === null) return;
      writing = writeOut(n === size ? bufs[i] : bufs[i].subarray(0, n));
      // A failed write ends the pending read too (the loop then reports the write's error).
      writing.catch(() => closeConn(conn));
      i ^= 1;
    }
  } catch (err) {
    // The write's error, if it failed first, says more; unless the stall guard closed the
    // connection, which cancels the write ("operation canceled"): the stall says what happened.
    if (writing) {
      await writing.catch((writeErr) => {
        if (!stalled) throw writeErr;
      });
    }
    if (stalled) {
      throw new Error(`the client read nothing for ${stallMs} ms; connection dropped`);
    }
    throw err;
  } finally {
    clearInterval(guard);
  }
}

function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** The line the tutorial's server prints after each chunk it received. */
const SENDING_BACK = "sending data back to the client";
/** What the transcript prints around each chunk's repr, as LineBuffer.pushChunks writes it. */
const RECEIVED = "received ";
const TAIL = `\n${SENDING_BACK}\n`;

/** Transcript lines for stdout, written together once per event-loop turn (and on flush). */
class LineBuffer {
  #parts: Uint8Array[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #encoder = new TextEncoder();

  push(line: string): void {
    this.#parts.push(this.#encoder.encode(line + "\n"));
    this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  /** The two lines per `chunk` bytes of `data` (received, sending back), built as bytes. */
  pushChunks(data: Uint8Array, chunk: number): void {
    const pieces = Math.ceil(data.length / chunk);
    const out = new Uint8Array(pieces * (RECEIVED.length + TAIL.length + 3) + 4 * data.length);
    let end = 0;
    for (let at = 0; at < data.length; at += chunk) {
      end = writeBytesRepr(data.subarray(at, at + chunk), out, end, RECEIVED, TAIL);
    }
    this.#parts.push(out.subarray(0, end));
    this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const parts = this.#parts;
    this.#parts = [];
    try {
      for (const data of parts) {
        for (let off = 0; off < data.length;) off += Deno.stdout.writeSync(data.subarray(off));
      }
    } catch {
      // stdout is gone (the reader left): the transcript has nowhere to go
    }
  }
}
