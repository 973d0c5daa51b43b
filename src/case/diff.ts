/**
 * The first difference between expected and received bytes, for messages and reports: the
 * offset, a few bytes of context on each side (hex and Python repr), and what is missing or
 * extra. Verifiers call it through `ctx.evidence.diff(expected, actual)`, which also puts it
 * in the report; {@linkcode describeDiff} gives the sentence for the message. The shared
 * verifier `readExpected` (`src/checks/expect.ts`) reads what a connection must deliver and
 * does all of it.
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
export function from(s: DiffSide, offset: number): string {
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
