/**
 * Packed binary record cases (SPEC §6), for TCP (`record/tcp/N`) and Unix domain sockets
 * (`record/unix/N`), against any `record` target. Each case starts a fresh instance.
 *
 * The cases send the tutorial's values `(1, b'ab', 2.7)` packed with the target's declared
 * format (`properties.format`, default `I 2s f`: `0100000061620000cdcc2c40`) and look at what
 * the target decoded in two ways, each where the manifest declares it:
 *
 * - `properties.reply`: the target answers each record with one JSON line (the reference
 *   server's `--reply`, see src/python/struct_codec.ts); its `values` must equal the
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

import { type Case, inFamily, Skip } from "../../src/case/case.ts";
import { toHex } from "../../src/python/repr.ts";
import * as rec from "../../src/checks/record.ts";

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
        const plan = rec.planFor(ctx);
        const server = await ctx.start();
        const lead = `the record b'${toHex(plan.record)}' ('${plan.format}', sent in one write)`;
        await rec.expectDecoded(
          ctx,
          server,
          t,
          plan,
          [plan.record],
          `${lead} was not decoded to ${plan.repr}`,
        );
        const show = plan.reply && plan.transcript ? "show" : "shows";
        return rec.passed(ctx, server, `decoded to ${plan.repr}, as ${rec.via(plan)} ${show}`);
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
        const plan = rec.planFor(ctx);
        if (plan.record.length < 2) throw new Skip("a 1-byte record cannot be split");
        const parts = rec.split(plan.record);
        const sizes = parts.map((p) => p.length).join(" + ");
        const how = `${parts.length} writes (${sizes} bytes, ${rec.SPLIT_PAUSE_MS} ms apart)`;
        const server = await ctx.start();
        const lead = `the record b'${toHex(plan.record)}' sent in ${how}`;
        await rec.expectDecoded(
          ctx,
          server,
          t,
          plan,
          parts,
          `${lead} was not decoded to ${plan.repr}`,
        );
        return rec.passed(ctx, server, `the record sent in ${how} was decoded to ${plan.repr}`);
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
        const plan = rec.planFor(ctx);
        const server = await ctx.start();
        const what = await rec.sendShortRecord(ctx, server, t, plan);
        const lead = `after ${what}, the next client's record was not served`;
        const seen = await rec.expectDecoded(ctx, server, t, plan, [plan.record], lead, true);
        const as = rec.decodedAs(seen);
        return rec.passed(
          ctx,
          server,
          `after ${what}, the next client's record was decoded (as ${as})`,
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
        const plan = rec.planFor(ctx);
        const server = await ctx.start();
        const hex = await rec.expectTranscriptShowsRecord(ctx, server, t, plan);
        return rec.passed(ctx, server, `the transcript shows received b'${hex}'`);
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
        const plan = rec.planFor(ctx);
        const server = await ctx.start();
        return await rec.byteOrderSeen(ctx, server, t, plan);
      },
    },
  ]);
}

/** Every record case, TCP then UDS. */
export const recordCasesAll: Case[] = [...recordCases("tcp"), ...recordCases("unix")];
