/**
 * Private helpers of the datagram cases: the burst and three-client checks, the server
 * transcript, and the client programs of `dgram/udp/10` and `dgram/unixgram/12`.
 *
 * @module
 */

import { type CaseContext, Failure, type Observed, Skip } from "../../src/case/case.ts";
import {
  counted,
  datagramDifference,
  type DgramClient,
  type DgramRig,
  type DgramTransport,
  expectNoAnswer,
  openClient,
  settleMs,
  type SizeSearch,
  tagged,
} from "../../src/checks/dgram.ts";
import { describeRun, outputTail } from "../../src/checks/run.ts";
import { sockspecCommand } from "../../src/harness/sockspec_command.ts";
import { waitUntil } from "../../src/case/wait.ts";
import { substitute } from "../../src/harness/manifest.ts";
import { type BoundedResult, runBounded } from "../../src/harness/netns.ts";
import { bytesRepr } from "../../src/python/repr.ts";
import { errnoLine } from "../../src/python/errno.ts";
import { equalBytes } from "../../src/net/sockets.ts";
import {
  type DatagramAddress,
  openDatagram,
  receiveWithin,
  SIZE_ENV,
} from "../../src/net/datagram.ts";
import {
  type Item,
  line,
  literal,
  optional,
  type Transcript,
  transcript,
  udpServerTranscript,
} from "../../src/transcript/transcript.ts";

/** The 8 datagrams of the burst case: sizes up to the declared buffer (at most 4096). */
export function burst(ctx: CaseContext): Uint8Array[] {
  const cap = Math.min(ctx.target.properties.bufferSize ?? 4096, 4096);
  return [1, 100, 7, 1400, 3, 4000, 42, 512].map((n, i) =>
    tagged(Math.min(n, cap), String.fromCharCode(65 + i))
  );
}

/**
 * Judges the burst's answers: each sent datagram came back whole, nothing else came.
 * Returns the failure sentence (or undefined), the observed sizes, and whether in order.
 */
export function judgeBurst(sent: Uint8Array[], got: Uint8Array[]): {
  wrong?: string;
  inOrder: boolean;
  observed: Record<string, Observed>;
} {
  const left = [...sent];
  const unmatched: Uint8Array[] = [];
  for (const a of got) {
    const i = left.findIndex((s) => equalBytes(s, a));
    if (i >= 0) left.splice(i, 1);
    else unmatched.push(a);
  }
  const sizes = (ds: Uint8Array[]) => ds.map((d) => d.length).join(", ") || "-";
  const observed = {
    sentSizes: sent.map((d) => d.length).join(","),
    answerSizes: got.map((a) => a.length).join(","),
  };
  const inOrder = got.every((a, i) => equalBytes(a, sent[i]));
  if (!left.length && !unmatched.length) return { inOrder, observed };
  const parts = [
    `expected ${sent.length} answers of ${sizes(sent)} bytes, got ${got.length} of ${
      sizes(got)
    } bytes`,
  ];
  if (left.length) parts.push(`${left.length} never came back whole`);
  if (unmatched.length) {
    parts.push(`${unmatched.length} answers match no datagram sent (merged, split or altered)`);
  }
  return { wrong: parts.join("; "), inOrder, observed };
}

/** The three-client case: 3 clients, 3 rounds, every answer to its own sender. */
export async function threeClients(rig: DgramRig): Promise<void> {
  const clients = [openClient(rig), openClient(rig), openClient(rig)];
  const msg = (c: number, r: number) =>
    new TextEncoder().encode(`client ${c + 1} round ${r + 1} ${"-".repeat(10 * c + r)}`);
  const wait = rig.ctx.timeoutMs;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const step = `round ${r + 1}, client ${c + 1}`;
      const refused = await clients[c].trySend(msg(c, r));
      if (refused) {
        throw new Failure(
          `${step} (${clients[c].label}): the send was refused: ${refused}${
            onlyFirst(
              r,
              c,
              "client 1's was not: the server takes datagrams only from its first peer",
            )
          }`,
        );
      }
    }
    // One receive per client, in turn.
    for (let c = 0; c < 3; c++) {
      const a = await clients[c].receive(wait);
      if (a) {
        judgeOwn(clients, c, r, a.data, msg(c, r));
        continue;
      }
      // Nothing came: did its answer go to one of the others?
      for (let o = 0; o < 3; o++) {
        const stray = o === c ? undefined : await clients[o].receive(settleMs(wait));
        if (stray) judgeOwn(clients, o, r, stray.data, msg(o, r));
      }
      throw new Failure(
        `round ${r + 1}, client ${c + 1} (${
          clients[c].label
        }): expected its echo, got no answer within ${wait} ms${
          onlyFirst(r, c, "client 1 was answered: the server answers only its first peer")
        }`,
      );
    }
  }
  for (const [c, client] of clients.entries()) {
    await expectNoAnswer(client, c === 0 ? settleMs(wait) : 5, `after 3 rounds`);
  }
}

function onlyFirst(r: number, c: number, why: string): string {
  return r === 0 && c > 0 ? ` (${why})` : "";
}

function judgeOwn(
  clients: DgramClient[],
  c: number,
  r: number,
  got: Uint8Array,
  want: Uint8Array,
): void {
  if (equalBytes(got, want)) return;
  const owner = /^client (\d) round (\d)/.exec(new TextDecoder().decode(got));
  const mine = owner && Number(owner[1]) === c + 1 && Number(owner[2]) === r + 1;
  throw new Failure(
    owner && !mine
      ? `round ${r + 1}: client ${c + 1} (${clients[c].label}) received client ${
        owner[1]
      }'s round ${owner[2]} datagram: answers go to the wrong sender`
      : `round ${r + 1}: client ${c + 1}'s datagram ${datagramDifference(want, got)}`,
  );
}

/** The server transcript for `datagrams`; Unix senders print as bare paths (`str.format`). */
export function serverTranscript(t: DgramTransport, datagrams: Uint8Array[]): Transcript {
  if (t === "udp") return udpServerTranscript({ datagrams });
  const items: Item[] = [optional(line("starting up on {str}"))];
  datagrams.forEach((data, i) => {
    items.push(
      line(""),
      line("waiting to receive message"),
      line(`received ${data.length} bytes from {str:sender${i + 1}}`),
      line(literal(bytesRepr(data))),
    );
    if (data.length > 0) items.push(line(`sent ${data.length} bytes back to {str:sender${i + 1}}`));
  });
  items.push(line(""), line("waiting to receive message"));
  return transcript(items);
}

/** A UDP sink of the case's own on the target's host that echoes what it gets (8 at most). */
export function udpSink(ctx: CaseContext): { to: DatagramAddress; received: number[] } {
  const host = ctx.target.host;
  let sink: Deno.DatagramConn;
  try {
    sink = ctx.track(openDatagram({ transport: "udp", hostname: host, port: 0 }));
  } catch (err) {
    throw new Skip(`cannot bind a UDP socket on ${host} for the client: ${errnoLine(err)}`);
  }
  const addr = sink.addr as Deno.NetAddr;
  const received: number[] = [];
  const echoing = (async () => {
    for (let i = 0; i < 8; i++) {
      const got = await receiveWithin(sink, 60_000).catch(() => undefined);
      if (!got) return;
      received.push(got[0].length);
      await sink.send(got[0], got[1]).catch(() => {});
    }
  })();
  ctx.defer(async () => {
    try {
      sink.close();
    } catch {
      // closed
    }
    await echoing;
  });
  return { to: { transport: "udp", hostname: addr.hostname, port: addr.port }, received };
}

/** A client program and who it is. */
export interface ClientProgram {
  argv: string[];
  env: Record<string, string>;
  who: string;
}

/**
 * The client program for client-side cases: the declared one, or (Unix datagram only) the
 * reference client, bound to a path in `tmp`; `size` asks for one datagram of that size.
 */
export function clientProgram(
  ctx: CaseContext,
  to: DatagramAddress,
  opts: { size?: number; tmp: string },
): ClientProgram {
  const values = {
    host: to.transport === "udp" ? to.hostname : ctx.target.host,
    port: to.transport === "udp" ? String(to.port) : undefined,
    path: to.transport === "unixgram" ? to.path : undefined,
    tmp: opts.tmp,
    dir: ctx.target.dir,
    deno: Deno.execPath(),
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.target.env)) env[k] = substitute(v, values);
  if (opts.size !== undefined) env[SIZE_ENV] = String(opts.size);
  const declared = ctx.target.properties.client;
  if (declared) {
    return { argv: declared.map((a) => substitute(a, values)), env, who: "the declared client" };
  }
  if (to.transport !== "unixgram") {
    throw new Skip(`target '${ctx.target.name}' declares no client (properties.client)`);
  }
  const bind = `${opts.tmp}/client`;
  const argv = sockspecCommand([
    `--allow-read=${opts.tmp}`,
    `--allow-write=${opts.tmp},${to.path}`,
    `--allow-net=unix:${to.path},unix:${bind}`,
  ], [
    "client",
    "unixgram",
    to.path,
    "--bind",
    bind,
    "--timeout",
    String(ctx.timeoutMs),
    ...(opts.size === undefined ? [] : ["--size", String(opts.size)]),
  ]);
  return { argv: argv.map((a) => substitute(a, values)), env, who: "the reference client" };
}

/** Runs a client program to its end, bounded; a program that cannot start is a FAIL. */
export async function runClient(ctx: CaseContext, p: ClientProgram): Promise<BoundedResult> {
  const cwd = `${ctx.tmp}/client`;
  await Deno.mkdir(cwd, { recursive: true });
  ctx.evidence.note(`client: ${p.argv.join(" ").slice(0, 400)}`);
  try {
    return await runBounded(p.argv, { timeoutMs: ctx.timeoutMs + 2000, env: p.env, cwd });
  } catch (err) {
    throw new Failure(`cannot run ${p.who} ${p.argv[0]}: ${errnoLine(err)}`);
  }
}

/** What one run of the declared client did: who, how it ended, what the sink received. */
export interface ClientRun {
  who: string;
  code: number | null;
  /** `exited with code 1: <output tail>`. */
  ended: string;
  output: string;
  sent: number[];
}

/** Runs the client asked for `size` bytes against `sink`, and collects what it sent. */
export async function clientRun(
  ctx: CaseContext,
  sink: { to: DatagramAddress; received: number[] },
  size: number,
): Promise<ClientRun> {
  const program = clientProgram(ctx, sink.to, { size, tmp: `${ctx.tmp}/client` });
  const r = await runClient(ctx, program);
  await waitUntil(() => sink.received.includes(size), {
    timeoutMs: settleMs(ctx.timeoutMs),
    signal: ctx.signal,
  });
  return {
    who: program.who,
    code: r.code,
    ended: `${describeRun(r)}: ${outputTail(r)}`,
    output: r.stdout + r.stderr,
    sent: sink.received.splice(0),
  };
}

/**
 * The verifier of `dgram/udp/10`'s first half: asked for `max` bytes (as many as fit), the
 * client sent them as one datagram, exited 0, and did not call them too long.
 */
export function expectWholeAtLimit(ok: ClientRun, max: number): void {
  if (!ok.sent.includes(max)) {
    throw new Failure(
      `${ok.who} asked for ${max} bytes: expected one ${max}-byte datagram, got ${
        sizes(ok.sent)
      }; it ${ok.ended}`,
    );
  }
  if (ok.code !== 0) throw new Failure(`${ok.who} sent ${max} bytes but ${ok.ended}`);
  if (/Message too long/.test(ok.output)) {
    throw new Failure(
      `${ok.who} printed "Message too long" for a ${max}-byte datagram, which fits in one datagram (it exited 0): ${ok.ended}`,
    );
  }
}

/**
 * The verifier of `dgram/udp/10`'s second half: asked for `size` bytes (one too many), the
 * client sent nothing, printed `[Errno 90] Message too long` and exited 1.
 */
export function expectRefusedOverLimit(over: ClientRun, size: number): void {
  const asked = `${over.who} asked for ${size} bytes`;
  if (over.sent.length) {
    throw new Failure(
      `${asked} sent ${sizes(over.sent)} instead of failing with EMSGSIZE, and ${over.ended}`,
    );
  }
  if (!over.output.includes("[Errno 90] Message too long")) {
    throw new Failure(
      `${asked}: expected it to print "[Errno 90] Message too long"; it ${over.ended}`,
    );
  }
  if (over.code !== 1) {
    throw new Failure(
      `${asked} printed "[Errno 90] Message too long" but exited with code ${over.code}, not exit code 1`,
    );
  }
}

/** Waits for the server's next `waiting to receive message` after `n` datagrams, stops it,
 * and returns its whole stdout. */
export async function finalTranscript(rig: DgramRig, n: number): Promise<string> {
  const waiting = () =>
    rig.server.stdout.text().match(/^waiting to receive message$/gm)?.length ?? 0;
  await waitUntil(() => waiting() > n, { timeoutMs: rig.ctx.timeoutMs, signal: rig.ctx.signal });
  await rig.server.stop();
  const output = rig.server.stdout.text();
  rig.ctx.evidence.transcript(output);
  return output;
}

/** The message of the size search. */
export function describeSearch(
  r: SizeSearch,
  peer: { only: boolean; second: string },
  client: DgramClient,
  declared?: number,
): string {
  const only = peer.only
    ? `; the server answers only its first peer (a second client: ${peer.second})`
    : "";
  const note = declared !== undefined && declared !== r.largest
    ? `; note: the target declares bufferSize ${declared}`
    : "";
  return `largest whole datagram ${counted(r.largest, "byte")}; ${
    counted(r.largest + 1, "byte")
  }: ${r.above} (${r.probes} probes up to ${r.max} from ${client.label})${only}${note}`;
}

/** `N bytes` for each size, or `nothing`. */
export function sizes(received: number[]): string {
  return received.length ? `datagrams of ${received.join(", ")} bytes` : "nothing";
}
