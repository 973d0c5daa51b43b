/**
 * The reference record server (SPEC §6): over TCP or a Unix domain socket, reads exactly one
 * packed record per connection (format `I 2s f` by default, 12 bytes), reassembling it from
 * however many reads it takes, and prints the tutorial transcript:
 *
 * ```
 * received b'0100000061620000cdcc2c40'
 * unpacked: (1, b'ab', 2.700000047683716)
 * ```
 *
 * Unlike the tutorial's single `recv(unpacker.size)`, it never decodes a partial record:
 *
 * - a short record (the peer closes early) gets one clear line on stderr, and the server
 *   keeps serving; so does a record that is not complete within `timeoutMs` of the
 *   connection (trickled or stalled) and a reset;
 * - bytes after the record are read until the peer closes and reported on stderr (count and
 *   the first 16 bytes), never silently dropped (and never left unread, which would make
 *   the close send a reset that could destroy the reply);
 * - with `reply`, it answers each record with one JSON line (see record_codec.ts), or an
 *   `{"error": ...}` line when the record was short, so a client need not read stdout.
 *
 * Clients are served concurrently; close() stops it cleanly.
 *
 * @example
 * ```ts
 * import { serveRecords } from "./server.ts";
 * const server = await serveRecords({
 *   listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
 *   transcript: true,
 *   reply: true,
 * });
 * console.log(server.addr);
 * await server.close();
 * ```
 * @module
 */

import { bytesRepr, toHex } from "../../python/repr.ts";
import {
  EofError,
  readSome,
  type StreamAddress,
  TimeoutError,
  writeAll,
} from "../../net/sockets.ts";
import { errnoLine } from "../../python/errno.ts";
import { Struct } from "../../python/struct.ts";
import { TUTORIAL_FORMAT } from "../../transcript/tutorial.ts";
import { errorReply, recordReply } from "../../python/struct_codec.ts";
import { peerName, serveStream, startupLine } from "../stream/server.ts";

export { TUTORIAL_FORMAT };

/** Options of {@linkcode serveRecords}. */
export interface RecordServerOptions {
  /** Where to listen. A TCP port of 0 picks a free one. */
  listen: StreamAddress;
  /** The struct format of a record (default {@linkcode TUTORIAL_FORMAT}). */
  format?: string;
  /** Answer each record with one JSON line. */
  reply?: boolean;
  /** Print the tutorial transcript through `print`. */
  transcript?: boolean;
  /**
   * In ms (default 5000): the whole record must arrive within this of the connection's
   * start, and the peer must close within this after it (each wait for more excess bytes).
   */
  timeoutMs?: number;
  /** Where transcript lines go (default `console.log`). */
  print?: (line: string) => void;
  /** Where problems go, one line each (default `console.error`). */
  log?: (line: string) => void;
  /** Octal mode for the Unix socket node. */
  mode?: number;
}

/** A running record server. */
export interface RecordServer {
  /** The bound address (`getsockname`). */
  addr: Deno.Addr;
  /** The compiled record format. */
  struct: Struct;
  /** Stops accepting, closes every connection, removes its own socket node, and waits. */
  close(): Promise<void>;
  /** Resolves when the accept loop has ended. */
  finished: Promise<void>;
}

/** How many excess bytes a report line shows. */
const EXCESS_SHOWN = 16;
/** Excess bytes are counted up to this many, then the connection is closed. */
const EXCESS_LIMIT = 1 << 20;

/**
 * Starts a record server. Throws the codec's `StructError` for a bad format, and an error
 * naming the path or address when it cannot listen.
 *
 * @example
 * ```ts
 * import { serveRecords } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveRecords({
 *   listen: { transport: "unix", path: `${dir}/record.sock` },
 *   format: "!I 2s f",
 * });
 * await server.close();
 * await Deno.remove(dir);
 * ```
 */
export async function serveRecords(opts: RecordServerOptions): Promise<RecordServer> {
  const struct = new Struct(opts.format ?? TUTORIAL_FORMAT);
  const print = opts.transcript ? (opts.print ?? console.log) : () => {};
  const log = opts.log ?? console.error;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const { listen } = opts;
  const size = struct.size;
  const what = `${size}-byte '${struct.format}' record`;
  const waiting = () => {
    print("");
    print("waiting for a connection");
  };

  const server = await serveStream({
    listen,
    mode: opts.mode,
    label: "record",
    log,
    onListening(addr) {
      print(startupLine(listen, addr));
      waiting();
    },
  }, async (conn, server) => {
    const peer = peerName(conn) || "an unnamed Unix socket peer";
    const answer = async (line: string) => {
      if (opts.reply) await writeAll(conn, new TextEncoder().encode(line + "\n"), timeoutMs);
    };
    try {
      let record: Uint8Array;
      try {
        record = await readRecord(conn, size, timeoutMs);
      } catch (err) {
        if (server.closing) return;
        const got = err instanceof EofError || err instanceof TimeoutError
          ? err.partial
          : new Uint8Array();
        const problem = err instanceof EofError && got.length === 0
          ? `connection from ${peer} closed before sending a record (0 of ${size} bytes)`
          : err instanceof EofError
          ? `short record from ${peer}: the peer closed after ${got.length} of ${size} bytes` +
            `${got.length ? ` (${bytesRepr(got)})` : ""}; expected a ${what}`
          : err instanceof TimeoutError
          ? `incomplete record from ${peer}: ${got.length} of ${size} bytes within ${timeoutMs} ms ` +
            `(the whole record must arrive within --timeout); closing the connection`
          : `connection from ${peer} failed while reading a ${what}: ${errnoLine(err)}`;
        log(`record: ${problem}`);
        await answer(errorReply(problem, got)).catch(() => {});
        return;
      }
      print(`received b'${toHex(record)}'`);
      print(`unpacked: ${struct.repr(struct.unpack(record))}`);
      await answer(recordReply(struct, record));
      await drainExcess(conn, peer, size, timeoutMs, log);
    } finally {
      if (!server.closing) waiting();
    }
  });
  return {
    addr: server.addr,
    struct,
    finished: server.finished,
    close: () => server.close(),
  };
}

/**
 * Reads exactly `size` bytes, all of them within `timeoutMs` of the call (a limit on the
 * whole record, not on each wait: a record trickled a byte at a time is cut off too).
 * Throws `EofError` or `TimeoutError`, each with the bytes that came.
 */
async function readRecord(conn: Deno.Conn, size: number, timeoutMs: number): Promise<Uint8Array> {
  const deadline = performance.now() + timeoutMs;
  const out = new Uint8Array(size);
  let got = 0;
  while (got < size) {
    const left = Math.max(1, Math.ceil(deadline - performance.now()));
    let chunk: Uint8Array | null;
    try {
      chunk = await readSome(conn, left, size - got);
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new TimeoutError(`reading ${size} bytes`, timeoutMs, out.slice(0, got));
      }
      throw err;
    }
    if (chunk === null) throw new EofError(size, out.slice(0, got));
    out.set(chunk, got);
    got += chunk.length;
    if (got < size && performance.now() >= deadline) {
      throw new TimeoutError(`reading ${size} bytes`, timeoutMs, out.slice(0, got));
    }
  }
  return out;
}

/** Reads until the peer closes; reports any bytes after the record on one stderr line. */
async function drainExcess(
  conn: Deno.Conn,
  peer: string,
  size: number,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<void> {
  const shown: number[] = [];
  let excess = 0;
  let ending = "";
  try {
    while (excess <= EXCESS_LIMIT) {
      const chunk = await readSome(conn, timeoutMs);
      if (chunk === null) break;
      for (const b of chunk.subarray(0, EXCESS_SHOWN - shown.length)) shown.push(b);
      excess += chunk.length;
    }
    if (excess > EXCESS_LIMIT) ending = `stopped reading after ${excess} bytes`;
  } catch (err) {
    ending = err instanceof TimeoutError
      ? `the peer kept the connection open for ${timeoutMs} ms after its record; closing it`
      : `then ${errnoLine(err)}`;
  }
  if (excess > 0) {
    log(
      `record: ${excess} excess byte${excess === 1 ? "" : "s"} after the ${size}-byte record ` +
        `from ${peer}, ignored: ${bytesRepr(Uint8Array.from(shown))}` +
        `${excess > shown.length ? "..." : ""}${ending ? `; ${ending}` : ""}`,
    );
  } else if (ending) {
    log(`record: after the record from ${peer}: ${ending}`);
  }
}
