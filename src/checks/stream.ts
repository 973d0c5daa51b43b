/**
 * Verifiers for stream cases (echo, record, Unix socket lifecycle): each one does one step
 * against a target, owns its waiting, and on failure throws a {@linkcode Failure} whose
 * message names the step, says what was seen ("expected … actual …", how many bytes came
 * back and what is missing) and what the target was doing ({@linkcode serverState}).
 *
 * @example
 * ```ts
 * import { expectEcho } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance) {
 *   // "the 2nd client: reading 42 bytes: 41 came back, then nothing for 1000 ms (the last byte b'.' is missing); the server is still running"
 *   await expectEcho(ctx, server, "tcp", new TextEncoder().encode("hello"), { who: "the 2nd client" });
 * }
 * ```
 * @module
 */

import { type CaseContext, Failure, Skip, TargetError } from "../case/case.ts";
import type { Instance } from "../harness/target.ts";
import { errnoCode, errnoLine } from "../python/errno.ts";
import { bytesRepr } from "../python/repr.ts";
import {
  concat,
  EofError,
  equalBytes,
  OverflowError,
  readExactly,
  readSome,
  readUntilEof,
  TimeoutError,
  writeAll,
} from "../net/sockets.ts";
import { waitUntil } from "../case/wait.ts";
import { ordinal } from "../case/evidence.ts";

/** The stream transports. */
export type StreamTransport = "tcp" | "unix";

/**
 * `1 byte`, `42 bytes`.
 *
 * @example
 * ```ts
 * import { bytesCount } from "./stream.ts";
 * bytesCount(1); // "1 byte"
 * ```
 */
export function bytesCount(n: number): string {
  return `${n} ${n === 1 ? "byte" : "bytes"}`;
}

/** The last non-empty line the target printed (stderr first), at most 200 characters. */
export function lastWords(server: Instance): string {
  for (const text of [server.stderr.tail(4096), server.stdout.tail(4096)]) {
    const line = text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1);
    if (line) return line.length > 200 ? `${line.slice(0, 200)}...` : line;
  }
  return "";
}

/**
 * How the target ended, without its pid: `exited with code 1: "its last line"`, or
 * `killed by SIGSEGV`; `still running` while it runs.
 *
 * @example
 * ```ts
 * import { howItEnded } from "./stream.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(server: Instance) {
 *   howItEnded(server); // 'exited with code 1: "OSError: [Errno 98] Address already in use"'
 * }
 * ```
 */
export function howItEnded(server: Instance): string {
  if (server.running) return "still running";
  const words = lastWords(server);
  return `${server.describe().replace(/^pid \d+, /, "")}${words ? `: "${words}"` : ""}`;
}

/**
 * What the target was doing, said the same way in every message: `the server is still
 * running`, `the server had exited with code 0`, `the server had been killed by SIGKILL`
 * (with its last line when it had one); empty for an attached target.
 *
 * @example
 * ```ts
 * import { serverState } from "./stream.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(server: Instance) {
 *   serverState(server); // "the server had exited with code 0"
 * }
 * ```
 */
export function serverState(server: Instance | undefined): string {
  if (!server || server.describe() === "attached") return "";
  if (server.running) return "the server is still running";
  const s = server.status!;
  const words = lastWords(server);
  return `the server had ${s.signal ? `been killed by ${s.signal}` : `exited with code ${s.code}`}${
    words ? ` (its last line: "${words}")` : ""
  }`;
}

/** Gives a target that is going down a moment, so that its exit shows in the message. */
export async function settle(server: Instance | undefined, ms = 200): Promise<void> {
  if (server && server.running && server.describe() !== "attached") await server.waitExit(ms);
}

/**
 * Where `actual` first differs from `expected`, h2spec style: `expected b'…' at byte 16,
 * actual b'…'`, or what is missing or extra at the end.
 *
 * @example
 * ```ts
 * import { difference } from "./stream.ts";
 * const e = new TextEncoder();
 * difference(e.encode("abc."), e.encode("abc")); // "41 …" style: "3 of 4 bytes came back (the last byte b'.' is missing)"
 * ```
 */
export function difference(expected: Uint8Array, actual: Uint8Array): string {
  const n = Math.min(expected.length, actual.length);
  let i = 0;
  while (i < n && expected[i] === actual[i]) i++;
  if (i < n) {
    return `expected ${bytesRepr(expected.subarray(i, i + 16))} at byte ${i}, actual ${
      bytesRepr(actual.subarray(i, i + 16))
    }`;
  }
  if (actual.length < expected.length) {
    return `${actual.length} of ${bytesCount(expected.length)} came back (${missing(expected, i)})`;
  }
  if (actual.length > expected.length) {
    return `${bytesCount(actual.length)} came back for ${expected.length} sent: ${
      bytesCount(actual.length - expected.length)
    } extra, starting ${bytesRepr(actual.subarray(i, i + 16))}`;
  }
  return "the bytes are equal";
}

function missing(expected: Uint8Array, from: number): string {
  const rest = expected.subarray(from);
  const shown = bytesRepr(rest.subarray(-16));
  return rest.length === 1
    ? `the last byte ${shown} is missing`
    : `the last ${bytesCount(rest.length)} are missing${
      rest.length > 16 ? `, ending ${shown}` : `: ${shown}`
    }`;
}

/**
 * What a socket error during a step showed, in words: for a read, how much came back and
 * then what; for anything else the errno line once (`[Errno 111] Connection refused`).
 */
export function whatWasSeen(err: unknown, expected?: Uint8Array): string {
  if (err instanceof TimeoutError) {
    const { partial } = err;
    if (expected && partial.length < expected.length) {
      const came = partial.length === 0
        ? "nothing came back"
        : `${partial.length} came back, then nothing`;
      const tail = equalBytes(partial, expected.subarray(0, partial.length))
        ? missing(expected, partial.length)
        : difference(expected.subarray(0, partial.length), partial);
      return `${came} for ${err.ms} ms (${tail})`;
    }
    return partial.length > 0
      ? `${bytesCount(partial.length)} came back, then nothing for ${err.ms} ms`
      : err.transferred > 0
      ? `the peer stopped taking bytes after ${err.transferred}, for ${err.ms} ms`
      : `nothing happened for ${err.ms} ms`;
  }
  if (err instanceof EofError) {
    const { partial, wanted } = err;
    const tail = expected
      ? equalBytes(partial, expected.subarray(0, partial.length))
        ? ` (${missing(expected, partial.length)})`
        : ` (${difference(expected.subarray(0, partial.length), partial)})`
      : "";
    return `the server closed the connection after ${partial.length} of ${
      bytesCount(wanted)
    }${tail}`;
  }
  if (err instanceof OverflowError) return err.message;
  if (errnoCode(err)) return errnoLine(err);
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs one step of a case. A socket error in it (a timeout, an early end of stream, an
 * errno) becomes a {@linkcode Failure}: `${what}: ${what was seen}; ${serverState}`.
 * Failures, skips and target errors pass through unchanged. `expected` lets a read say
 * which bytes are missing; `context` ends the message ("after the 1st client left").
 *
 * @example
 * ```ts
 * import { step } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance) {
 *   const conn = await step("the 2nd client's connect", server, () => ctx.connect(server.address("tcp")));
 * }
 * ```
 */
export async function step<T>(
  what: string,
  server: Instance | undefined,
  fn: () => Promise<T>,
  expected?: Uint8Array,
  context?: string,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Failure || err instanceof Skip || err instanceof TargetError) throw err;
    if (err instanceof Error && err.name === "AssertionError") throw err;
    const socketError = err instanceof TimeoutError || err instanceof EofError ||
      err instanceof OverflowError || errnoCode(err) !== undefined;
    if (!socketError) throw err;
    await settle(server);
    const state = serverState(server);
    const refused = /connect$/.test(what) && errnoCode(err) === "ECONNREFUSED";
    throw new Failure(
      `${what}${refused ? " was refused" : ""}: ${whatWasSeen(err, expected)}${
        state ? `; ${state}` : ""
      }${context ? ` ${context}` : ""}`,
    );
  }
}

/** Options of {@linkcode expectEcho}. */
export interface EchoOptions {
  /** Who sends, for messages ("the 2nd client"); default "the client". */
  who?: string;
  /** Read at most this many bytes at a time (like `recv(16)`); default: all at once. */
  readSize?: number;
  /** Ends a failure message: what happened before ("after the 1st client left"). */
  context?: string;
}

/**
 * Connects, sends `data` and reads exactly as many bytes back. Returns the connection
 * (closed after the case). Fails naming the step: the connect, the write, the read (how
 * many bytes came back and what is missing), or where the echo differs.
 *
 * @example
 * ```ts
 * import { expectEcho } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance) {
 *   await expectEcho(ctx, server, "unix", new Uint8Array([0, 1, 2]), { readSize: 16 });
 * }
 * ```
 */
export async function expectEcho(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  data: Uint8Array,
  opts: EchoOptions = {},
): Promise<Deno.Conn> {
  const who = opts.who ?? "the client";
  const conn = await step(
    `${who}'s connect`,
    server,
    () => ctx.connect(server.address(t)),
    undefined,
    opts.context,
  );
  await expectEchoOn(ctx, server, conn, data, opts);
  return conn;
}

/**
 * {@linkcode expectEcho} on a connection that is already open.
 *
 * @example
 * ```ts
 * import { expectEchoOn } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance, conn: Deno.Conn) {
 *   await expectEchoOn(ctx, server, conn, new Uint8Array([1, 2, 3]), { who: "the 1st client" });
 * }
 * ```
 */
export async function expectEchoOn(
  ctx: CaseContext,
  server: Instance,
  conn: Deno.Conn,
  data: Uint8Array,
  opts: EchoOptions = {},
): Promise<void> {
  const who = opts.who ?? "the client";
  await step(
    `${who}: sending ${bytesCount(data.length)}`,
    server,
    () => writeAll(conn, ctx.evidence.sent(data), ctx.timeoutMs),
    undefined,
    opts.context,
  );
  const got = await step(
    `${who}: reading ${bytesCount(data.length)}${
      opts.readSize ? ` (${opts.readSize} at a time)` : ""
    }`,
    server,
    () => readEcho(ctx, conn, data.length, opts.readSize),
    data,
    opts.context,
  );
  if (!equalBytes(data, got)) {
    throw new Failure(`${who}: the echo differs: ${difference(data, got)}`);
  }
}

/** Reads `n` bytes, at most `readSize` at a time; records what came (partial too). */
async function readEcho(
  ctx: CaseContext,
  conn: Deno.Conn,
  n: number,
  readSize?: number,
): Promise<Uint8Array> {
  if (!readSize) {
    try {
      return ctx.evidence.received(await readExactly(conn, n, ctx.timeoutMs));
    } catch (err) {
      if (err instanceof TimeoutError || err instanceof EofError) {
        ctx.evidence.received(err.partial);
      }
      throw err;
    }
  }
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    let part: Uint8Array | null;
    try {
      part = await readSome(conn, ctx.timeoutMs, readSize);
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new TimeoutError("reading", ctx.timeoutMs, ctx.evidence.received(concat(parts)));
      }
      throw err;
    }
    if (part === null) throw new EofError(n, ctx.evidence.received(concat(parts)));
    parts.push(part.slice());
    got += part.length;
  }
  return ctx.evidence.received(concat(parts));
}

/**
 * After `shutdown(SHUT_WR)` on `conn`: the rest of the echo of `sent` arrives, then end of
 * stream.
 *
 * @example
 * ```ts
 * import { expectEchoThenEof } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance, conn: Deno.Conn) {
 *   await expectEchoThenEof(ctx, server, conn, new Uint8Array(42));
 * }
 * ```
 */
export async function expectEchoThenEof(
  ctx: CaseContext,
  server: Instance,
  conn: Deno.Conn,
  sent: Uint8Array,
): Promise<void> {
  let got: Uint8Array;
  try {
    got = await readUntilEof(conn, { timeoutMs: ctx.timeoutMs, maxBytes: sent.length + 65536 });
  } catch (err) {
    if (err instanceof TimeoutError) {
      ctx.evidence.received(err.partial);
      throw new Failure(
        `after shutdown(SHUT_WR): no end of stream within ${ctx.timeoutMs} ms; ${err.partial.length} of ${
          bytesCount(sent.length)
        } had come back; ${serverState(server)}`,
      );
    }
    return step("after shutdown(SHUT_WR), reading the echo", server, () => Promise.reject(err));
  }
  ctx.evidence.received(got);
  if (!equalBytes(sent, got)) {
    throw new Failure(`after the half-close: ${difference(sent, got)}, then end of stream`);
  }
}

/**
 * The target is still running after `after`, and a new client (`who`) gets `message`
 * echoed; otherwise a FAIL that says which of the two went wrong.
 *
 * @example
 * ```ts
 * import { expectStillServing } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance) {
 *   await expectStillServing(ctx, server, "tcp", "a client reset its connection", new Uint8Array(8));
 * }
 * ```
 */
export async function expectStillServing(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  after: string,
  message: Uint8Array,
  who = "the next client",
): Promise<Deno.Conn> {
  await settle(server, 100);
  if (!server.running) {
    throw new Failure(`after ${after}, ${serverState(server)}`);
  }
  return await expectEcho(ctx, server, t, message, { who: `after ${after}, ${who}` });
}

/**
 * The bounds of {@linkcode expectDuplexEcho}. On each of `connections` connections in turn
 * it writes in random sizes (1 to 64 KiB) while it reads, never more than `window` bytes
 * ahead of the echo, and every `pauseEvery` bytes read it stops reading until the writer
 * has made no progress for `stallMs` (every buffer on the path is full, in both
 * directions) or `maxPauseMs` pass. The first connection carries at least `minBytes` and
 * goes on for `firstBudgetMs` (up to `maxBytes`); each later one carries `laterBytes`, a
 * burst at connection start, where relays that pipe through a child process wedge most.
 * A relay that wedges when both directions are full (a pipe it writes and reads itself)
 * stops for good; each fresh connection (a fresh relay process) is a fresh chance to catch
 * one that wedges only now and then.
 */
export const DUPLEX = {
  connections: 6,
  minBytes: 1 << 20,
  firstBudgetMs: 300,
  maxBytes: 16 << 20,
  laterBytes: 256 << 10,
  window: 1 << 20,
  pauseEvery: 256 << 10,
  stallMs: 30,
  maxPauseMs: 200,
} as const;

/** What {@linkcode expectDuplexEcho} moved. */
export interface DuplexResult {
  /** Bytes echoed, all connections together. */
  bytes: number;
  /** Time spent streaming, in ms. */
  ms: number;
  /** How often the reader stopped until the writer stalled. */
  pauses: number;
}

/**
 * Streams random bytes through `server` with both directions saturated (see
 * {@linkcode DUPLEX}) and checks every byte of the echo. Fails with `the echo stalled for N
 * ms on the 2nd connection: sent S bytes, received R`, or where the echo first differs.
 *
 * @example
 * ```ts
 * import { expectDuplexEcho } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance) {
 *   const { bytes, ms } = await expectDuplexEcho(ctx, server, "tcp");
 * }
 * ```
 */
export async function expectDuplexEcho(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
): Promise<DuplexResult> {
  const block = ctx.random.bytes(1 << 20);
  const total: DuplexResult = { bytes: 0, ms: 0, pauses: 0 };
  for (let i = 1; i <= DUPLEX.connections; i++) {
    const who = `the ${ordinal(i)} connection`;
    const conn = await step(`${who}'s connect`, server, () => ctx.connect(server.address(t)));
    const [min, budget] = i === 1
      ? [DUPLEX.minBytes, DUPLEX.firstBudgetMs]
      : [DUPLEX.laterBytes, 0];
    const one = await duplexOnce(ctx, server, conn, block, min, budget, who);
    conn.close();
    total.bytes += one.bytes;
    total.ms += one.ms;
    total.pauses += one.pauses;
  }
  ctx.evidence.note(
    `streamed ${total.bytes} bytes both ways over ${DUPLEX.connections} connections with ${total.pauses} reader pauses`,
  );
  return total;
}

async function duplexOnce(
  ctx: CaseContext,
  server: Instance,
  conn: Deno.Conn,
  block: Uint8Array,
  minBytes: number,
  budget: number,
  who: string,
): Promise<DuplexResult> {
  const sizes = () => 1024 + ctx.random.int(64 * 1024 - 1024);
  const t0 = performance.now();
  let sent = 0, received = 0, pauses = 0, lastWrite = t0, writerDone = false;
  const writer = (async () => {
    while (sent < DUPLEX.maxBytes && (sent < minBytes || performance.now() - t0 < budget)) {
      await waitUntil(() => sent - received < DUPLEX.window, {
        timeoutMs: ctx.timeoutMs,
        intervalMs: 1,
        signal: ctx.signal,
      });
      const at = sent % block.length;
      const chunk = block.subarray(at, Math.min(at + sizes(), block.length));
      await writeAll(conn, chunk, ctx.timeoutMs);
      sent += chunk.length;
      lastWrite = performance.now();
    }
  })();
  writer.then(() => (writerDone = true), () => {});
  let nextPause = DUPLEX.pauseEvery;
  while (!(writerDone && received >= sent)) {
    let part: Uint8Array | null;
    try {
      part = await readSome(conn, ctx.timeoutMs);
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new Failure(
          `the echo stalled for ${ctx.timeoutMs} ms on ${who}: sent ${sent} bytes, received ${received}${
            server.running ? "" : `; ${serverState(server)}`
          }`,
        );
      }
      return step(`${who}: streaming the echo`, server, () => Promise.reject(err));
    }
    if (part === null) {
      throw new Failure(`${who}: the server closed it after echoing ${received} of ${sent} bytes`);
    }
    for (let i = 0; i < part.length; i++) {
      if (part[i] !== block[(received + i) % block.length]) {
        const at = (received + i) % block.length;
        throw new Failure(
          `${who}: the echo differs: ${
            difference(block.subarray(at, at + 16), part.subarray(i, i + 16))
          } (stream byte ${received + i})`,
        );
      }
    }
    received += part.length;
    if (received >= nextPause && !writerDone) {
      nextPause += DUPLEX.pauseEvery;
      pauses++;
      await waitUntil(() => writerDone || performance.now() - lastWrite > DUPLEX.stallMs, {
        timeoutMs: DUPLEX.maxPauseMs,
        intervalMs: 5,
        signal: ctx.signal,
      });
    }
  }
  await writer;
  return { bytes: received, ms: performance.now() - t0, pauses };
}

/**
 * Reads on `conn` (whose client sent `own`) until `own` has come back whole, the peer
 * closes, or nothing arrives for `quietMs`; fails when anything else came: `the second
 * client received N bytes sent by the first` when they are a run of `earlier`'s bytes.
 *
 * @example
 * ```ts
 * import { expectOwnBytesOnly } from "./stream.ts";
 * import type { CaseContext } from "../case/case.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function example(ctx: CaseContext, server: Instance, conn: Deno.Conn) {
 *   await expectOwnBytesOnly(ctx, server, conn, new Uint8Array(27), new Uint8Array(1 << 20));
 * }
 * ```
 */
export async function expectOwnBytesOnly(
  ctx: CaseContext,
  server: Instance,
  conn: Deno.Conn,
  own: Uint8Array,
  earlier: Uint8Array,
): Promise<void> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const cap = earlier.length + own.length + 65536;
  for (;;) {
    const got = concat(parts);
    const at = indexOf(got, own);
    if (at >= 0 || total > cap) break;
    let part: Uint8Array | null;
    try {
      part = await readSome(
        conn,
        total >= own.length ? Math.min(ctx.timeoutMs, 300) : ctx.timeoutMs,
      );
    } catch (err) {
      if (err instanceof TimeoutError && total > 0) break;
      if (err instanceof TimeoutError) {
        throw new Failure(
          `the second client: reading its ${
            bytesCount(own.length)
          }: nothing came back for ${ctx.timeoutMs} ms; ${serverState(server)}`,
        );
      }
      return step("the second client: reading its echo", server, () => Promise.reject(err));
    }
    if (part === null) break;
    parts.push(part.slice());
    total += part.length;
  }
  const got = ctx.evidence.bytes("received by the second client", concat(parts));
  if (equalBytes(got, own)) return;
  const at = indexOf(got, own);
  const foreign = at >= 0
    ? concat([got.subarray(0, at), got.subarray(at + own.length)])
    : got.length > own.length
    ? got.subarray(0, got.length - own.length)
    : got;
  const from = foreign.length > 0 ? indexOf(earlier, foreign.subarray(0, 32)) : -1;
  if (from >= 0) {
    throw new Failure(
      `the second client received ${
        bytesCount(foreign.length)
      } sent by the first (from its byte ${from}: ${bytesRepr(foreign.subarray(0, 16))}…)${
        at >= 0 ? ` besides its own ${bytesCount(own.length)}` : ""
      }`,
    );
  }
  throw new Failure(`the second client's echo: ${difference(own, got)}`);
}

/** The first index of `needle` in `hay`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  const first = needle[0];
  for (
    let i = hay.indexOf(first);
    i >= 0 && i <= hay.length - needle.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
