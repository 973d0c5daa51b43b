/**
 * The shared verifier for "this connection must now deliver exactly these bytes"
 * ({@linkcode readExpected}): it owns the waiting and the message that names the step, what
 * came and what is missing.
 *
 * @example
 * ```ts
 * import { readExpected } from "./expect.ts";
 * import { EvidenceRecorder } from "../case/evidence.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const peer = await listener.accept();
 * await peer.write(new TextEncoder().encode("hi"));
 * const ctx = { evidence: new EvidenceRecorder(), timeoutMs: 1000 };
 * await readExpected(ctx, conn, new TextEncoder().encode("hi"), "the greeting");
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 * @module
 */

import { type ByteDiff, describeDiff, from } from "../case/diff.ts";
import { Failure } from "../case/verdict.ts";
import { EofError, readExactly, TimeoutError } from "../net/sockets.ts";

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
 * ```ts
 * import { readExpected } from "./expect.ts";
 * import type { ExpectContext } from "./expect.ts";
 * async function readEcho(ctx: ExpectContext, conn: Deno.Conn, message: Uint8Array) {
 *   return await readExpected(ctx, conn, message, "the echo");
 * }
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
