/**
 * Struct record client cases (SPEC §6), for `record-client` targets over TCP or a Unix
 * socket (`client/record/N`; each case uses the target's transport). sockspec plays a
 * server that records exactly what arrived and when, and never answers.
 *
 * @example
 * ```ts
 * import { recordClientCases } from "./record.ts";
 * for (const c of recordClientCases) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import {
  type Case,
  type CaseContext,
  fail,
  type Outcome,
  pass,
  Skip,
  TargetError,
} from "../../src/case/case.ts";
import { toHex } from "../../src/python/repr.ts";
import { equalBytes, formatAddress } from "../../src/net/sockets.ts";
import { Struct } from "../../src/python/struct.ts";
import {
  type FakeStreamServer,
  joined,
  startStreamServer,
} from "../../src/harness/fake_servers.ts";
import { TUTORIAL_FORMAT, TUTORIAL_VALUES } from "../../src/transcript/transcript.ts";
import { match, structClientTranscript } from "../../src/transcript/transcript.ts";
import {
  type ClientRun,
  type ClientWhere,
  describeEnd,
  expectTranscript,
  neverConnected,
  runClient,
  withClientTails,
} from "./_run.ts";

/** The tutorial record, `(1, b'ab', 2.7)` packed with `I 2s f` in this host's native order. */
export const TUTORIAL_RECORD: Uint8Array = new Struct(TUTORIAL_FORMAT).pack(...TUTORIAL_VALUES);

function serve(ctx: CaseContext): { server: FakeStreamServer; where: ClientWhere } {
  const t = ctx.target.transports[0];
  if (t !== "tcp" && t !== "unix") {
    throw new TargetError(
      `record-client target '${ctx.target.name}' must list tcp or unix as its transport, not ${t}`,
    );
  }
  const listen = t === "tcp"
    ? { transport: "tcp" as const, hostname: ctx.target.host, port: 0 }
    : { transport: "unix" as const, path: `${ctx.tmp}/server.sock` };
  let server: FakeStreamServer;
  try {
    server = startStreamServer({ listen, behaviour: "record" });
  } catch (err) {
    throw new Skip(
      `cannot listen on ${formatAddress(listen)} for the client: ${(err as Error).message}`,
    );
  }
  ctx.defer(() => server.close());
  const where = t === "tcp"
    ? { port: (server.address as { port: number }).port }
    : { path: listen.path as string };
  return { server, where };
}

const base = { kind: "record-client" as const };

/** The record client cases (any stream transport the target lists). */
export const recordClientCases: Case[] = ([
  {
    ...base,
    id: "client/record/1",
    level: "MUST",
    requirement:
      "The client sends exactly the 12 bytes `0100000061620000cdcc2c40` for `(1, b'ab', 2.7)` packed with `I 2s f` (native order, size and alignment; shown for a little-endian host), then closes the connection.",
    hint:
      "pack with struct.Struct('I 2s f') (native: 2 pad bytes before the float) and send the packed bytes with sendall, nothing else",
    async run(ctx) {
      const { server, where } = serve(ctx);
      const run = await runClient(ctx, where);
      await server.waitFor((s) => s.connections[0]?.end !== undefined, 100);
      return expectRecordSent(ctx, server, run);
    },
  },
  {
    ...base,
    id: "client/record/2",
    level: "MUST",
    requirement:
      "The client's transcript matches SPEC §6: `values = (1, b'ab', 2.7)`, `sending b'0100000061620000cdcc2c40'` (the hexlified record), `closing socket`, and exit status 0.",
    hint:
      "print('values =', values), then print('sending {!r}'.format(binascii.hexlify(packed_data))), as the tutorial does",
    async run(ctx) {
      const run = await runClient(ctx, serve(ctx).where);
      const spec = structClientTranscript({ packedHex: toHex(TUTORIAL_RECORD) });
      expectTranscript(run, match(spec, run.stdout), "SPEC §6");
      return pass("the transcript matches SPEC §6, exit status 0");
    },
  },
] as Case[]).map(withClientTails);

/**
 * The verifier of `client/record/1`: the server's first connection brought exactly
 * {@linkcode TUTORIAL_RECORD}, then an orderly end of stream.
 */
function expectRecordSent(ctx: CaseContext, server: FakeStreamServer, run: ClientRun): Outcome {
  const conn = server.connections[0];
  if (!conn) throw neverConnected(server.address, run);
  for (const r of conn.received) ctx.evidence.bytes(`received at ${r.at} ms`, r.data);
  ctx.evidence.bytes("expected", TUTORIAL_RECORD);
  const got = joined(conn.received);
  const arrived = `${got.length} bytes ${toHex(got.subarray(0, 64))}${
    got.length > 64 ? "..." : ""
  } in ${conn.received.length} read(s)`;
  if (!equalBytes(got, TUTORIAL_RECORD)) {
    return fail(
      `the server received ${arrived}, not the 12 bytes ${toHex(TUTORIAL_RECORD)}${
        conn.end ? "" : ` (the client ${describeEnd(run)})`
      }`,
    );
  }
  if (!conn.end || conn.end.how !== "eof") {
    return fail(
      `the record arrived whole, but the connection ${
        conn.end ? `ended with a ${conn.end.how}` : "was never closed"
      } (the client ${describeEnd(run)})`,
    );
  }
  return pass(`the server received exactly ${arrived}, then an orderly close`);
}
