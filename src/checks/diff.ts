/**
 * The first difference between expected and received bytes, for messages and reports: the
 * offset, a few bytes of context on each side (hex and Python repr), and what is missing or
 * extra. Verifiers call it through `ctx.evidence.diff(expected, actual)`, which also puts it
 * in the report; {@linkcode describeDiff} gives the sentence for the message. The shared
 * verifier {@linkcode readExpected} reads what a connection must deliver and does all of it.
 *
 * @example
 * ```ts
 * import { describeDiff, firstDifference } from "./diff.ts";
 * const enc = new TextEncoder();
 * const d = firstDifference(enc.encode("repeated."), enc.encode("repeated"))!;
 * console.log(describeDiff(d)); // "9 bytes expected, 8 came: the last byte (b'.') is missing"
 * ```
 * @module
 */

import { bytesRepr, toHex } from "../python/repr.ts";
import { Failure } from "../case/verdict.ts";
import { EofError, readExactly, TimeoutError } from "../net/sockets.ts";

/** Bytes around the first difference, as hex and repr. */
export interface DiffSide {
  /** The offset of the first byte shown. */
  start: number;
  /** Hex of the bytes shown (up to `context` before the offset and twice that from it on). */
  hex: string;
  /** Python repr of the same bytes. */
  repr: string;
}

/** The first difference between expected and actual bytes. */
export interface ByteDiff {
  /** What was compared, such as `echo` or `reply to datagram 3`. */
  label: string;
  /** How many bytes were expected. */
  expectedLength: number;
  /** How many came. */
  actualLength: number;
  /** The offset of the first byte that differs (or the length of the shorter one). */
  offset: number;
  /**
   * `differ`: a byte differs at `offset`; `missing`: the actual bytes are a prefix of the
   * expected ones; `extra`: the expected bytes are a prefix of the actual ones.
   */
  kind: "differ" | "missing" | "extra";
  /** Bytes missing at the end (kind `missing`). */
  missing?: number;
  /** Bytes beyond the expected ones (kind `extra`). */
  extra?: number;
  /** The expected bytes around `offset`. */
  expected: DiffSide;
  /** The actual bytes around `offset`. */
  actual: DiffSide;
}

/** Bytes of context shown before the first difference (twice as many from it on). */
export const DIFF_CONTEXT = 8;

function side(data: Uint8Array, offset: number, context: number): DiffSide {
  const start = Math.max(0, offset - context);
  const shown = data.subarray(start, Math.min(data.length, offset + 2 * context));
  return { start, hex: toHex(shown), repr: bytesRepr(shown) };
}

/**
 * The first difference between `expected` and `actual`, or undefined when they are equal.
 *
 * @example
 * ```ts
 * import { firstDifference } from "./diff.ts";
 * firstDifference(new Uint8Array([1, 2, 3]), new Uint8Array([1, 9, 3]))?.offset; // 1
 * firstDifference(new Uint8Array([1]), new Uint8Array([1])); // undefined
 * ```
 */
export function firstDifference(
  expected: Uint8Array,
  actual: Uint8Array,
  label = "bytes",
  context = DIFF_CONTEXT,
): ByteDiff | undefined {
  const n = Math.min(expected.length, actual.length);
  let offset = 0;
  while (offset < n && expected[offset] === actual[offset]) offset++;
  if (offset === n && expected.length === actual.length) return undefined;
  const kind = offset < n ? "differ" : actual.length < expected.length ? "missing" : "extra";
  return {
    label,
    expectedLength: expected.length,
    actualLength: actual.length,
    offset,
    kind,
    ...(kind === "missing" ? { missing: expected.length - actual.length } : {}),
    ...(kind === "extra" ? { extra: actual.length - expected.length } : {}),
    expected: side(expected, offset, context),
    actual: side(actual, offset, context),
  };
}

/** Repr of the part of a side from `offset` on (at most `context` bytes). */
function from(s: DiffSide, offset: number): string {
  const bytes = (s.hex.slice(2 * (offset - s.start)).match(/../g) ?? []).map((h) =>
    parseInt(h, 16)
  );
  return bytesRepr(new Uint8Array(bytes));
}

/**
 * One sentence saying where and how the bytes differ, for a FAIL message.
 *
 * @example
 * ```ts
 * import { describeDiff, firstDifference } from "./diff.ts";
 * const enc = new TextEncoder();
 * describeDiff(firstDifference(enc.encode("abc"), enc.encode("abX"))!);
 * // "3 bytes expected, 3 came: the first difference is at offset 2: expected b'c', got b'X'"
 * ```
 */
export function describeDiff(d: ByteDiff): string {
  const head = `${d.expectedLength} bytes expected, ${d.actualLength} came`;
  if (d.kind === "missing") {
    const tail = from(d.expected, d.offset);
    const more = d.missing! > d.expected.start + d.expected.hex.length / 2 - d.offset ? "..." : "";
    return d.actualLength === 0
      ? `${head}: nothing came back`
      : `${head}: the last ${d.missing === 1 ? "byte" : `${d.missing} bytes`} (${tail}${more}) ${
        d.missing === 1 ? "is" : "are"
      } missing`;
  }
  if (d.kind === "extra") {
    return `${head}: ${d.extra} extra byte${d.extra === 1 ? "" : "s"} after the expected ones (${
      from(d.actual, d.offset)
    }...)`;
  }
  return `${head}: the first difference is at offset ${d.offset}: expected ${
    from(d.expected, d.offset)
  }, got ${from(d.actual, d.offset)}`;
}

/** What {@linkcode readExpected} needs from the case context. */
export interface ExpectContext {
  /** Records the bytes and the diff (`ctx.evidence`). */
  readonly evidence: {
    received(data: Uint8Array): Uint8Array;
    diff(expected: Uint8Array, actual: Uint8Array, label?: string): ByteDiff | undefined;
  };
  /** The longest wait (`ctx.timeoutMs`). */
  readonly timeoutMs: number;
}

/** "the last byte b'.' is missing", "the last 3 bytes (b'ed.') are missing", or where they differ. */
function shortfall(d: ByteDiff): string {
  if (d.kind === "differ") {
    return `they differ at offset ${d.offset}: expected ${from(d.expected, d.offset)}, got ${
      from(d.actual, d.offset)
    }`;
  }
  if (d.kind === "extra") return `${d.extra} more than expected came`;
  const tail = from(d.expected, d.offset);
  const cut = d.missing! > d.expected.start + d.expected.hex.length / 2 - d.offset ? "..." : "";
  return d.missing === 1
    ? `the last byte ${tail} is missing`
    : `the last ${d.missing} bytes (${tail}${cut}) are missing`;
}

/**
 * The shared verifier for "this connection must now deliver exactly `expected`": reads
 * `expected.length` bytes, records what came (`received`) and, when it is not `expected`,
 * the first difference, and throws a {@linkcode Failure} whose message names the step, what
 * came and what is missing:
 *
 * - `reading 42 bytes of the echo: 41 came back, then nothing for 1000 ms (the last byte b'.' is missing)`
 * - `reading 42 bytes of the echo: the target closed the connection after 16 (the last 26 bytes (b'age.  It') are missing)`
 * - `the echo differs: 42 bytes expected, 42 came: the first difference is at offset 16: ...`
 *
 * Other errors (a reset: the errno line) are left to the runner, which names them.
 *
 * @example
 * ```ts ignore
 * import { readExpected } from "../../src/checks/diff.ts";
 * const echo = await readExpected(ctx, conn, message, "the echo");
 * ```
 */
export async function readExpected(
  ctx: ExpectContext,
  conn: Deno.Conn,
  expected: Uint8Array,
  what = "the echo",
): Promise<Uint8Array> {
  const step = `reading ${expected.length} bytes of ${what}`;
  let got: Uint8Array;
  try {
    got = await readExactly(conn, expected.length, ctx.timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError || err instanceof EofError) {
      const partial = ctx.evidence.received(err.partial);
      const d = ctx.evidence.diff(expected, partial, what);
      const how = err instanceof TimeoutError
        ? partial.length === 0
          ? `nothing came back within ${err.ms} ms`
          : `${partial.length} came back, then nothing for ${err.ms} ms`
        : `the target closed the connection after ${partial.length}`;
      throw new Failure(`${step}: ${how}${d && partial.length ? ` (${shortfall(d)})` : ""}`);
    }
    throw err;
  }
  ctx.evidence.received(got);
  const d = ctx.evidence.diff(expected, got, what);
  if (d) throw new Failure(`${what} differs: ${describeDiff(d)}`);
  return got;
}
