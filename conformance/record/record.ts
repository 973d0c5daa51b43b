/**
 * Packed binary record cases (SPEC 6), for TCP (`record/tcp/N`) and Unix domain sockets
 * (`record/unix/N`), against any `record` target. Each case starts a fresh instance.
 *
 * The cases send the tutorial's values `(1, b'ab', 2.7)` packed with the target's declared
 * format (`properties.format`, default `I 2s f`: `0100000061620000cdcc2c40`) and look at what
 * the target decoded in two ways, each where the manifest declares it:
 *
 * - `properties.reply`: the target answers each record with one JSON line (the reference
 *   server's `--reply`, see src/reference/record/codec.ts); its `values` must equal the
 *   expected values (and its `repr`, if present, Python's repr of them);
 * - `properties.transcript` (for a target sockspec starts): its stdout shows
 *   `unpacked: (1, b'ab', 2.700000047683716)` for the record.
 *
 * A target that declares neither gives SKIP: there is no way to see what it decoded.
 * Failure messages end with the target's exit status and the last line of its stderr (a
 * Python server's `struct.error: unpack requires a buffer of 12 bytes`, for example).
 *
 * @example
 * ```ts
 * import { recordCases } from "./record.ts";
 * for (const c of recordCases("tcp")) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import {
  type Case,
  type CaseContext,
  fail,
  inFamily,
  type Observed,
  type Outcome,
  pass,
  Skip,
  TargetError,
} from "../../src/case/case.ts";
import { step } from "../../src/checks/stream.ts";
import { waitUntil } from "../../src/checks/wait.ts";
import { errnoLine } from "../../src/python/errno.ts";
import { toHex } from "../../src/python/repr.ts";
import {
  closeQuietly,
  readUntilEof,
  sleep,
  TimeoutError,
  withTimeout,
  writeAll,
} from "../../src/net/sockets.ts";
import { Struct } from "../../src/python/struct.ts";
import type { Instance } from "../../src/harness/target.ts";
import {
  line,
  match,
  optional,
  structServerTranscript,
  transcript,
} from "../../src/transcript/transcript.ts";
import { byteOrderOf, swapByteOrder, valuesJson } from "../../src/reference/record/codec.ts";
import { readLine, TUTORIAL_VALUES } from "../../src/reference/record/client.ts";
import { TUTORIAL_FORMAT } from "../../src/reference/record/server.ts";

type StreamTransport = "tcp" | "unix";

/** The pause between the writes of a split record. */
const SPLIT_PAUSE_MS = 150;

/** What the cases send to a target and expect it to decode. */
interface Plan {
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

function planFor(ctx: CaseContext): Plan {
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
interface Seen {
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
async function outputRead(server: Instance): Promise<void> {
  await withTimeout(
    Promise.all([server.stdout.done, server.stderr.done]),
    500,
    "reading the target's output",
  ).catch(() => {});
}

function countLines(text: string, prefix: string): number {
  return text.split("\n").filter((l) => l.startsWith(prefix)).length;
}

/** The `n`-th (0-based) line of `text` that starts with `prefix`. */
function nthLine(text: string, prefix: string, n: number): string | undefined {
  return text.split("\n").filter((l) => l.startsWith(prefix))[n];
}

/**
 * Sends `parts` on a new connection (pausing `pauseMs` between writes), then reads the reply
 * and waits for the transcript lines, as the plan says.
 */
async function exchange(
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
function problems(plan: Plan, seen: Seen, ms: number, anyValues = false): string[] {
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
function decodedAs(seen: Seen): string {
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
async function context(server: Instance, seen?: Seen): Promise<string> {
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
function finish(ctx: CaseContext, plan: Plan, server: Instance): void {
  if (plan.transcript) ctx.evidence.transcript(server.stdout.text());
}

/**
 * A PASS, with the last lines of the target's stderr in the evidence (on FAIL the runner
 * attaches the stderr tail itself).
 */
function passed(
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
function split(record: Uint8Array): Uint8Array[] {
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

function via(plan: Plan): string {
  return [plan.reply ? "its reply" : "", plan.transcript ? "its transcript" : ""].filter(Boolean)
    .join(" and ");
}

/**
 * The record cases for one transport.
 *
 * @example
 * ```ts
 * import { recordCases } from "./record.ts";
 * recordCases("unix").map((c) => c.id); // ["record/unix/1", ...]
 * ```
 */
export function recordCases(t: "tcp" | "unix"): Case[] {
  const base = { kind: "record" as const, transport: t };
  const id = (n: number) => `record/${t}/${n}`;
  const title = `Packed binary records over ${t === "tcp" ? "TCP" : "a Unix domain socket"}`;
  return inFamily(title, [
    {
      ...base,
      id: id(1),
      hint: "unpack with the format both sides agree on, byte order included",
      level: "MUST",
      requirement:
        "A record sent in one write is decoded to the tutorial's values: (1, b'ab', 2.700000047683716) for `I 2s f`.",
      async run(ctx) {
        const plan = planFor(ctx);
        const server = await ctx.start();
        const seen = await exchange(ctx, server, t, plan, [plan.record]);
        finish(ctx, plan, server);
        const why = problems(plan, seen, ctx.timeoutMs);
        if (why.length > 0) {
          return fail(
            `the record b'${toHex(plan.record)}' ('${plan.format}', sent in one write) was not ` +
              `decoded to ${plan.repr}: ${why.join("; ")}${await context(server, seen)}`,
          );
        }
        return passed(
          ctx,
          server,
          `decoded to ${plan.repr}, as ${via(plan)} ${
            plan.reply && plan.transcript ? "show" : "shows"
          }`,
        );
      },
    },
    {
      ...base,
      id: id(2),
      hint: "read until the whole record has arrived (loop on recv), not once",
      level: "MUST",
      requirement:
        "A record split across writes with a pause between them is decoded (a server that reads once fails this).",
      async run(ctx) {
        const plan = planFor(ctx);
        if (plan.record.length < 2) throw new Skip("a 1-byte record cannot be split");
        const parts = split(plan.record);
        const server = await ctx.start();
        const seen = await exchange(ctx, server, t, plan, parts);
        finish(ctx, plan, server);
        const how = `${parts.length} writes (${
          parts.map((p) => p.length).join(" + ")
        } bytes, ${SPLIT_PAUSE_MS} ms apart)`;
        const why = problems(plan, seen, ctx.timeoutMs);
        if (why.length > 0) {
          return fail(
            `the record b'${toHex(plan.record)}' sent in ${how} was not decoded to ${plan.repr}: ` +
              `${why.join("; ")}${await context(server, seen)}`,
          );
        }
        return passed(ctx, server, `the record sent in ${how} was decoded to ${plan.repr}`);
      },
    },
    {
      ...base,
      id: id(3),
      hint: "handle a short record (catch struct.error) and go back to accept()",
      level: "MUST",
      requirement:
        "After a short record (the client closes after part of it), the server serves the next client.",
      async run(ctx) {
        const plan = planFor(ctx);
        const short = plan.record.subarray(0, Math.max(1, Math.floor(plan.record.length / 3)));
        const what = `a short record (${short.length} of ${plan.record.length} bytes, then close)`;
        const server = await ctx.start();
        const first = await ctx.connect(server.address(t));
        await writeAll(first, ctx.evidence.bytes("sent by the first client", short), ctx.timeoutMs);
        await first.closeWrite();
        // The server sees end of stream; wait (bounded) until it is done with the connection.
        try {
          const answer = await readUntilEof(first, { timeoutMs: ctx.timeoutMs, maxBytes: 1 << 16 });
          if (answer.length > 0) {
            ctx.evidence.note(
              `answer to the short record: ${new TextDecoder().decode(answer).trim()}`,
            );
          }
        } catch (err) {
          ctx.evidence.note(
            err instanceof TimeoutError
              ? `the server kept the short record's connection open for ${ctx.timeoutMs} ms`
              : `the short record's connection ended with ${errnoLine(err)}`,
          );
        }
        closeQuietly(first);
        const seen = await step(
          `after ${what}, the next client's connect`,
          server,
          () => exchange(ctx, server, t, plan, [plan.record]),
        );
        finish(ctx, plan, server);
        const why = problems(plan, seen, ctx.timeoutMs, true);
        if (why.length > 0) {
          return fail(
            `after ${what}, the next client's record was not served: ` +
              `${why.join("; ")}${await context(server, seen)}`,
          );
        }
        return passed(
          ctx,
          server,
          `after ${what}, the next client's record was decoded (as ${decodedAs(seen)})`,
        );
      },
    },
    {
      ...base,
      id: id(4),
      hint: "print the record as the tutorial does: received {binascii.hexlify(data)}",
      level: "MUST",
      requirement:
        "The transcript shows the record hexlified as sent: `received b'0100000061620000cdcc2c40'` for `I 2s f`.",
      needs: { properties: ["transcript"], launch: true },
      async run(ctx) {
        const plan = planFor(ctx);
        const hex = toHex(plan.record);
        const server = await ctx.start();
        await exchange(ctx, server, t, plan, [plan.record]);
        await server.stop();
        finish(ctx, plan, server);
        // SPEC's server transcript, with the unpacked values left to record/*/1 and one
        // more optional wait (a readiness probe's connection).
        const [start, wait, received, , end] = structServerTranscript({ packedHex: hex }).items;
        const spec = transcript([
          start,
          wait,
          optional(wait),
          received,
          line("unpacked: {str}"),
          end,
        ]);
        const result = match(spec, server.stdout.text());
        if (!result.ok) {
          return fail(
            `the transcript does not show the record as sent (b'${hex}'): ` +
              `${result.message}${await context(server)}`,
          );
        }
        return passed(ctx, server, `the transcript shows received b'${hex}'`);
      },
    },
    {
      ...base,
      id: id(5),
      hint:
        "declare the byte order in the format ('<', '>' or '!') rather than relying on the host's",
      level: "INFO",
      requirement:
        "The byte order the target uses: which of the record and its byte-swapped twin it decodes to the tutorial's values.",
      async run(ctx) {
        const plan = planFor(ctx);
        const order = byteOrderOf(plan.format);
        const other = order === "little" ? "big" : "little";
        const swapped = swapByteOrder(plan.format, plan.record);
        const server = await ctx.start();
        const seenAs = await exchange(ctx, server, t, plan, [plan.record]);
        const seenOther = await exchange(ctx, server, t, plan, [swapped]);
        finish(ctx, plan, server);
        const okAs = problems(plan, seenAs, ctx.timeoutMs).length === 0;
        const okOther = problems(plan, seenOther, ctx.timeoutMs).length === 0;
        const byteOrder = okAs === okOther ? (okAs ? "either" : "neither") : okAs ? order : other;
        const observed = { byteOrder, format: plan.format };
        const a = `the ${order}-endian record b'${toHex(plan.record)}' came out as ${
          decodedAs(seenAs)
        }`;
        const b = `the ${other}-endian one b'${toHex(swapped)}' as ${decodedAs(seenOther)}`;
        return passed(
          ctx,
          server,
          byteOrder === "neither"
            ? `neither byte order decodes to ${plan.repr}: ${a}, ${b}${await context(
              server,
              seenOther,
            )}`
            : `${byteOrder === "either" ? "both byte orders decode" : `${byteOrder}-endian`}: ` +
              `${a}, ${b}`,
          observed,
        );
      },
    },
  ]);
}

/** Every record case, TCP then UDS. */
export const recordCasesAll: Case[] = [...recordCases("tcp"), ...recordCases("unix")];
