/**
 * Verifiers and helpers for the packed binary record cases (`record/tcp/N`,
 * `record/unix/N`): the plan (what to send and expect, from the target's declared format),
 * one exchange (the reply line and the transcript lines it produced), and verifiers that
 * own the failure sentence, ending with the target's exit status and the last line of its
 * stderr.
 *
 * @example
 * ```ts
 * import { expectDecoded, planFor } from "./record.ts";
 * import type { CaseContext } from "../case/case.ts";
 * async function example(ctx: CaseContext) {
 *   const plan = planFor(ctx);
 *   const server = await ctx.start();
 *   await expectDecoded(ctx, server, "tcp", plan, [plan.record], "the record was not decoded");
 * }
 * ```
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import {
  type CaseContext,
  Failure,
  type Observed,
  type Outcome,
  pass,
  Skip,
  TargetError,
} from "../case/case.ts";
import { step, type StreamTransport } from "./stream.ts";
import { waitUntil } from "../case/wait.ts";
import { stepOf } from "../case/evidence.ts";
import { errnoCode, errnoLine } from "../python/errno.ts";
import { toHex } from "../python/repr.ts";
import {
  closeQuietly,
  readUntilEof,
  sleep,
  TimeoutError,
  withTimeout,
  writeAll,
} from "../net/sockets.ts";
import { Struct } from "../python/struct.ts";
import type { Instance } from "../harness/target.ts";
import {
  line,
  match,
  optional,
  structServerTranscript,
  transcript,
} from "../transcript/transcript.ts";
import { byteOrderOf, swapByteOrder, valuesJson } from "../python/struct_codec.ts";
import { readLine } from "../net/sockets.ts";
import { TUTORIAL_FORMAT, TUTORIAL_VALUES } from "../transcript/transcript.ts";

/** The pause between the writes of a split record. */
export const SPLIT_PAUSE_MS = 150;

/** What the cases send to a target and expect it to decode. */
export interface Plan {
  /** The struct format, `I 2s f` by default. */
  format: string;
  /** The tutorial's values packed with `format`. */
  record: Uint8Array;
  /** Python's repr of the values unpacked from `record`. */
  repr: string;
  /** The reply `values` they give (parsed JSON). */
  values: unknown;
  /** Read the target's reply line. */
  reply: boolean;
  /** Read the target's transcript (declared, and sockspec starts the target). */
  transcript: boolean;
}

/** What to send and expect, from the target's declared format; SKIP when nothing can be observed. */
export function planFor(ctx: CaseContext): Plan {
  const { properties, command, source } = ctx.target;
  const format = properties.format ?? TUTORIAL_FORMAT;
  let struct: Struct;
  try {
    struct = new Struct(format);
  } catch (err) {
    throw new TargetError(
      `${source}: properties.format '${format}' is not a struct format (${
        (err as Error).message
      }); fix the manifest`,
    );
  }
  let record: Uint8Array;
  try {
    record = struct.pack(...TUTORIAL_VALUES);
  } catch (err) {
    throw new Skip(
      `the declared format '${format}' cannot hold the tutorial's values (1, b'ab', 2.7): ${
        (err as Error).message
      }`,
    );
  }
  const unpacked = struct.unpack(record);
  const reply = properties.reply === true;
  const fromTranscript = properties.transcript === true && command !== undefined;
  if (!reply && !fromTranscript) {
    throw new Skip(
      "there is no way to see what the target decoded: declare properties.reply (a JSON reply " +
        "line per record), or properties.transcript with a command that starts the target",
    );
  }
  return {
    format,
    record,
    repr: struct.repr(unpacked),
    values: JSON.parse(valuesJson(format, unpacked)),
    reply,
    transcript: fromTranscript,
  };
}

/** What one connection showed of the target's decoding. */
export interface Seen {
  /** The reply line, `null` when the connection closed without one. */
  reply?: string | null;
  /** Why no reply could be read. */
  replyError?: string;
  /** The transcript's `received ...` line for this record. */
  received?: string;
  /** The transcript's `unpacked: ...` line for this record. */
  unpacked?: string;
  /** A write that failed (the target closed early). */
  writeError?: string;
  /** The target had exited by the time the transcript was read. */
  exited?: boolean;
}

/** Waits for the target's output to be read to its end, at most 500 ms. */
export async function outputRead(server: Instance): Promise<void> {
  await withTimeout(
    Promise.all([server.stdout.done, server.stderr.done]),
    500,
    "reading the target's output",
  ).catch(() => {});
}

/** How many lines of `text` start with `prefix`. */
export function countLines(text: string, prefix: string): number {
  return text.split("\n").filter((l) => l.startsWith(prefix)).length;
}

/** The `n`-th (0-based) line of `text` that starts with `prefix`. */
export function nthLine(text: string, prefix: string, n: number): string | undefined {
  return text.split("\n").filter((l) => l.startsWith(prefix))[n];
}

/**
 * Sends `parts` on a new connection (pausing `pauseMs` between writes), then reads the reply
 * and waits for the transcript lines, as the plan says.
 */
export async function exchange(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  plan: Plan,
  parts: Uint8Array[],
  pauseMs = SPLIT_PAUSE_MS,
): Promise<Seen> {
  const seen: Seen = {};
  const before = server.stdout.text();
  const receivedBefore = countLines(before, "received ");
  const unpackedBefore = countLines(before, "unpacked: ");
  const conn = await ctx.connect(server.address(t));
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(pauseMs);
    const label = parts.length === 1 ? "sent" : `sent (write ${i + 1} of ${parts.length})`;
    try {
      await writeAll(conn, ctx.evidence.bytes(label, part), ctx.timeoutMs);
    } catch (err) {
      seen.writeError = `write ${i + 1} of ${parts.length} failed: ${errnoLine(err)}`;
      break;
    }
  }
  if (plan.reply) {
    try {
      seen.reply = await readLine(conn, ctx.timeoutMs);
      if (seen.reply !== null) ctx.evidence.note(`reply line: ${seen.reply}`);
    } catch (err) {
      seen.replyError = err instanceof TimeoutError
        ? `no reply line within ${ctx.timeoutMs} ms`
        : errnoLine(err);
    }
  }
  if (plan.transcript) {
    await waitUntil(
      () => countLines(server.stdout.text(), "unpacked: ") > unpackedBefore || !server.running,
      { timeoutMs: ctx.timeoutMs, signal: ctx.signal },
    );
    if (!server.running) await outputRead(server);
    seen.exited = !server.running;
    const out = server.stdout.text();
    seen.received = nthLine(out, "received ", receivedBefore);
    seen.unpacked = nthLine(out, "unpacked: ", unpackedBefore);
  }
  closeQuietly(conn);
  return seen;
}

/**
 * Why `seen` is not the expected decoding (empty when it is). With `anyValues`, any
 * decoding will do: the reply has values (not an error) and the transcript an `unpacked:`
 * line, whatever they say (the record was served; record/N/1 checks the values).
 */
export function problems(plan: Plan, seen: Seen, ms: number, anyValues = false): string[] {
  const out: string[] = [];
  if (plan.reply) {
    if (seen.replyError) out.push(`no reply: ${seen.replyError}`);
    else if (seen.reply === null || seen.reply === undefined) {
      out.push("the connection closed without a reply line");
    } else {
      let reply: Record<string, unknown> | undefined;
      try {
        reply = JSON.parse(seen.reply);
      } catch {
        out.push(`the reply is not JSON: ${JSON.stringify(seen.reply.slice(0, 200))}`);
      }
      if (reply && typeof reply === "object") {
        if ("error" in reply) out.push(`the reply is an error: ${JSON.stringify(reply.error)}`);
        else if (!Array.isArray(reply.values)) out.push(`the reply has no values: ${seen.reply}`);
        else if (anyValues) {
          // served: what it decoded is record/N/1's business
        } else if (!isDeepStrictEqual(reply.values, plan.values)) {
          out.push(
            `the reply's values are ${JSON.stringify(reply.values)}, expected ${
              JSON.stringify(plan.values)
            }`,
          );
        } else if ("repr" in reply && reply.repr !== plan.repr) {
          out.push(`the reply's repr is ${JSON.stringify(reply.repr)}, expected "${plan.repr}"`);
        }
      } else if (reply !== undefined) out.push(`the reply is not a JSON object: ${seen.reply}`);
    }
  }
  if (plan.transcript) {
    const want = `unpacked: ${plan.repr}`;
    if (seen.unpacked === undefined) {
      out.push(
        `its transcript shows no 'unpacked:' line${seen.exited ? "" : ` within ${ms} ms`}` +
          (seen.received ? ` (it printed "${seen.received}")` : ""),
      );
    } else if (!anyValues && seen.unpacked !== want) {
      out.push(`its transcript says "${seen.unpacked}", expected "${want}"`);
    }
  }
  if (out.length > 0 && seen.writeError) out.push(seen.writeError);
  return out;
}

/** What the target decoded, as its transcript or reply shows it, for messages. */
export function decodedAs(seen: Seen): string {
  if (seen.unpacked) return seen.unpacked.slice("unpacked: ".length);
  try {
    const reply = JSON.parse(seen.reply ?? "");
    if (typeof reply?.repr === "string") return reply.repr;
    if (reply?.values) return JSON.stringify(reply.values);
  } catch {
    // not JSON: nothing decoded
  }
  return "nothing";
}

/**
 * `; the server exited with code 1; its stderr ends with: ...` for FAIL messages. Gives a
 * server that is going down a moment to finish, so that its last words are in.
 */
export async function context(server: Instance, seen?: Seen): Promise<string> {
  const nothing = seen === undefined || (seen.unpacked === undefined && !seen.reply);
  if (nothing && await server.waitExit(300)) {
    await outputRead(server);
  }
  const last = server.stderr.tail(1024).trim().split("\n").at(-1)?.trim();
  return `${server.running ? "" : `; the server ${server.describe().replace(/^pid \d+, /, "")}`}${
    last ? `; its stderr ends with: ${last}` : ""
  }`;
}

/** Records the transcript the case read in the evidence. */
export function finish(ctx: CaseContext, plan: Plan, server: Instance): void {
  if (plan.transcript) ctx.evidence.transcript(server.stdout.text());
}

/**
 * A PASS, with the last lines of the target's stderr in the evidence (on FAIL the runner
 * attaches the stderr tail itself).
 */
export function passed(
  ctx: CaseContext,
  server: Instance,
  message: string,
  observed?: Record<string, Observed>,
): Outcome {
  const lines = server.stderr.tail(2048).trim().split("\n").filter((l) => l.trim() !== "");
  for (const l of lines.slice(-5)) ctx.evidence.note(`server stderr: ${l}`);
  return pass(message, observed);
}

/** The record in three writes: cut at about 1/6 and 7/12 of its size (12 bytes: 2 + 5 + 5). */
export function split(record: Uint8Array): Uint8Array[] {
  const n = record.length;
  const cuts = [...new Set([Math.max(1, Math.floor(n / 6)), Math.floor((n * 7) / 12)])]
    .filter((c) => c > 0 && c < n);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, n]) {
    parts.push(record.subarray(at, c));
    at = c;
  }
  return parts;
}

/** `its reply`, `its transcript`, or both: how the decoding was seen, for messages. */
export function via(plan: Plan): string {
  return [plan.reply ? "its reply" : "", plan.transcript ? "its transcript" : ""].filter(Boolean)
    .join(" and ");
}

// ---------------------------------------------------------------------------------------
// Verifiers.

/**
 * Sends `parts` on a new connection (pausing between writes) and FAILs unless the target
 * decoded the plan's values (with `anyValues`: any values): `${lead}: why; how the server
 * is doing`. Returns what was seen.
 */
export async function expectDecoded(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  plan: Plan,
  parts: Uint8Array[],
  lead: string,
  anyValues = false,
): Promise<Seen> {
  let seen: Seen;
  try {
    seen = await exchange(ctx, server, t, plan, parts);
  } catch (err) {
    // The connect was refused or not answered: a server that died (on the record before, as
    // record/N/3's short one) gets the same account as when it died after this connect.
    if (errnoCode(err) === undefined && !(err instanceof TimeoutError)) throw err;
    const what = stepOf(err) ?? "its connect";
    throw new Failure(`${lead}: ${what} failed: ${errnoLine(err)}${await context(server)}`);
  }
  finish(ctx, plan, server);
  const why = problems(plan, seen, ctx.timeoutMs, anyValues);
  if (why.length > 0) {
    throw new Failure(`${lead}: ${why.join("; ")}${await context(server, seen)}`);
  }
  return seen;
}

/**
 * A first client sends the first third of the record, shuts down its write side and waits
 * (bounded) until the server is done with it. Returns the step for messages.
 */
export async function sendShortRecord(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  plan: Plan,
): Promise<string> {
  const short = plan.record.subarray(0, Math.max(1, Math.floor(plan.record.length / 3)));
  const first = await step(
    "the 1st client's connect",
    server,
    () => ctx.connect(server.address(t)),
  );
  await writeAll(first, ctx.evidence.bytes("sent by the first client", short), ctx.timeoutMs);
  await first.closeWrite();
  try {
    const answer = await readUntilEof(first, { timeoutMs: ctx.timeoutMs, maxBytes: 1 << 16 });
    if (answer.length > 0) {
      ctx.evidence.note(`answer to the short record: ${new TextDecoder().decode(answer).trim()}`);
    }
  } catch (err) {
    ctx.evidence.note(
      err instanceof TimeoutError
        ? `the server kept the short record's connection open for ${ctx.timeoutMs} ms`
        : `the short record's connection ended with ${errnoLine(err)}`,
    );
  }
  closeQuietly(first);
  return `a short record (${short.length} of ${plan.record.length} bytes, then close)`;
}

/**
 * The target's transcript (after one record and a stop) shows the record hexlified as
 * sent: SPEC's server transcript, with the unpacked values left to record/N/1 and one more
 * optional wait (a readiness probe's connection).
 */
export async function expectTranscriptShowsRecord(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  plan: Plan,
): Promise<string> {
  const hex = toHex(plan.record);
  await exchange(ctx, server, t, plan, [plan.record]);
  await server.stop();
  finish(ctx, plan, server);
  const [start, wait, received, , end] = structServerTranscript({ packedHex: hex }).items;
  const spec = transcript([start, wait, optional(wait), received, line("unpacked: {str}"), end]);
  const result = match(spec, server.stdout.text());
  if (!result.ok) {
    throw new Failure(
      `the transcript does not show the record as sent (b'${hex}'): ` +
        `${result.message}${await context(server)}`,
    );
  }
  return hex;
}

/** Which of the record and its byte-swapped twin the target decodes to the plan's values. */
export async function byteOrderSeen(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  plan: Plan,
): Promise<Outcome> {
  const order = byteOrderOf(plan.format);
  const other = order === "little" ? "big" : "little";
  const swapped = swapByteOrder(plan.format, plan.record);
  const seenAs = await exchange(ctx, server, t, plan, [plan.record]);
  const seenOther = await exchange(ctx, server, t, plan, [swapped]);
  finish(ctx, plan, server);
  const okAs = problems(plan, seenAs, ctx.timeoutMs).length === 0;
  const okOther = problems(plan, seenOther, ctx.timeoutMs).length === 0;
  const byteOrder = okAs === okOther ? (okAs ? "either" : "neither") : okAs ? order : other;
  const a = `the ${order}-endian record b'${toHex(plan.record)}' came out as ${decodedAs(seenAs)}`;
  const b = `the ${other}-endian one b'${toHex(swapped)}' as ${decodedAs(seenOther)}`;
  const message = byteOrder === "neither"
    ? `neither byte order decodes to ${plan.repr}: ${a}, ${b}${await context(server, seenOther)}`
    : `${byteOrder === "either" ? "both byte orders decode" : `${byteOrder}-endian`}: ${a}, ${b}`;
  return passed(ctx, server, message, { byteOrder, format: plan.format });
}
