/**
 * Datagram echo cases (SPEC 4), for UDP over IPv4 or IPv6 (`dgram/udp/N`; the family
 * follows the target's host) and Unix datagram sockets (`dgram/unixgram/N`). Each case
 * starts a fresh instance of the target and talks to it from sockets of its own (UDP on the
 * target's host, or Unix sockets bound in the case's temp dir).
 *
 * Waits are short where silence is the expected answer ({@linkcode quietMs}), and the search
 * for the largest whole datagram takes few probes: a truncating server is found in three,
 * anything else by a bounded binary search.
 *
 * The UDP client case (`dgram/udp/10`) judges the target's declared client
 * (`properties.client`; `{host}` and `{port}` name where to send, and the environment
 * variable `SOCKSPEC_MESSAGE_SIZE=N` asks for one datagram of N bytes) and SKIPs without
 * one. The Unix bound-client case (`dgram/unixgram/10`) runs the declared client (`{path}`
 * is the server) or else sockspec's reference client against the target's server.
 *
 * @example
 * ```ts
 * import { dgramCases } from "./dgram.ts";
 * for (const c of dgramCases("udp")) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import { type Case, type CaseContext, fail, Failure, pass, Skip } from "../../src/case/case.ts";
import { errnoLine } from "../../src/python/errno.ts";
import { substitute } from "../../src/harness/manifest.ts";
import { type BoundedResult, runBounded } from "../../src/harness/netns.ts";
import { sockspecCommand } from "../../src/reference/targets.ts";
import { bytesRepr } from "../../src/python/repr.ts";
import { closeQuietly, equalBytes, sleep } from "../../src/net/sockets.ts";
import type { Instance } from "../../src/harness/target.ts";
import {
  type Item,
  line,
  literal,
  match,
  optional,
  type Transcript,
  transcript,
  TUTORIAL_MESSAGE,
  udpClientTranscript,
  udpServerTranscript,
} from "../../src/transcript/transcript.ts";
import { SIZE_ENV } from "../../src/net/datagram.ts";
import {
  type DatagramAddress,
  describeDatagram,
  maxUdpPayload,
  openDatagram,
  patterned,
  receiveWithin,
  toDenoAddr,
  UDP_MAX_IPV4,
} from "../../src/net/datagram.ts";

/** The datagram transports: UDP (IPv4 or IPv6, after the target's host) and Unix datagram. */
export type DgramTransport = "udp" | "unixgram";

/**
 * How long to wait when no (further) answer is the expected outcome, in ms: a quarter of
 * a second (or the target's whole wait, if shorter). Loopback answers take well under 5 ms.
 *
 * @example
 * ```ts
 * import { quietMs } from "./dgram.ts";
 * quietMs(5000); // 250
 * ```
 */
export function quietMs(timeoutMs: number): number {
  return Math.min(timeoutMs, 250);
}

/** How long to wait for anything arriving right behind answers already seen, in ms. */
function settleMs(timeoutMs: number): number {
  return Math.min(timeoutMs, 50);
}

function isPrefix(prefix: Uint8Array, of: Uint8Array): boolean {
  return prefix.length <= of.length && prefix.every((x, i) => x === of[i]);
}

/** A running server and where to reach it. */
interface Rig {
  ctx: CaseContext;
  t: DgramTransport;
  server: Instance;
  to: DatagramAddress;
  clients: number;
}

async function startRig(ctx: CaseContext, t: DgramTransport): Promise<Rig> {
  const server = await ctx.start();
  let to: DatagramAddress;
  if (t === "udp") {
    if (!server.port) throw new Failure(`target '${ctx.target.name}' has no UDP port`);
    to = { transport: "udp", hostname: ctx.target.host, port: server.port };
  } else {
    if (!server.path) throw new Failure(`target '${ctx.target.name}' has no socket path`);
    to = { transport: "unixgram", path: server.path };
  }
  return { ctx, t, server, to, clients: 0 };
}

/** A fresh client socket: UDP on the target's host, or a Unix socket bound in the case's tmp. */
function client(rig: Rig): Deno.DatagramConn {
  const n = ++rig.clients;
  const sock = rig.t === "udp"
    ? openDatagram({ transport: "udp", hostname: rig.ctx.target.host, port: 0 })
    : openDatagram({ transport: "unixgram", path: `${rig.ctx.tmp}/c${n}` });
  return rig.ctx.track(sock);
}

function label(sock: Deno.DatagramConn): string {
  return describeDatagram(sock.addr);
}

/** Sends `data` to the server from `sock`, recording it; a send error is a FAIL naming it. */
async function send(rig: Rig, sock: Deno.DatagramConn, data: Uint8Array, note = "sent") {
  rig.ctx.evidence.bytes(`${note} (${data.length} bytes from ${label(sock)})`, data);
  try {
    await sock.send(data, toDenoAddr(rig.to));
  } catch (err) {
    throw new Failure(
      `sending ${data.length} bytes to ${describeDatagram(rig.to)} failed: ${errnoLine(err)}`,
    );
  }
}

/** The next answer on `sock` within `ms`, recorded; undefined when none came. */
async function answer(
  rig: Rig,
  sock: Deno.DatagramConn,
  ms: number,
): Promise<Uint8Array | undefined> {
  const got = await receiveWithin(sock, ms);
  if (!got) return undefined;
  rig.ctx.evidence.bytes(`received (${got[0].length} bytes at ${label(sock)})`, got[0]);
  return got[0];
}

/** Sends `data` and returns the answer, or throws a FAIL saying none came. */
async function echo(rig: Rig, sock: Deno.DatagramConn, data: Uint8Array): Promise<Uint8Array> {
  await send(rig, sock, data);
  const got = await answer(rig, sock, rig.ctx.timeoutMs);
  if (!got) {
    throw new Failure(
      `no answer to a ${data.length}-byte datagram within ${rig.ctx.timeoutMs} ms${
        serverState(rig)
      }`,
    );
  }
  return got;
}

function serverState(rig: Rig): string {
  return rig.server.running ? "" : ` (the server is gone: ${rig.server.describe()})`;
}

/** Describes how an answer differs from what was sent. */
function difference(sent: Uint8Array, got: Uint8Array): string {
  if (got.length !== sent.length) {
    return isPrefix(got, sent)
      ? `came back truncated to ${got.length} of ${sent.length} bytes`
      : `came back as ${got.length} bytes (${
        bytesRepr(got.subarray(0, 24))
      }...) instead of ${sent.length}`;
  }
  const i = sent.findIndex((b, j) => b !== got[j]);
  return `differs at byte ${i}: sent ${bytesRepr(sent.subarray(i, i + 8))}, got ${
    bytesRepr(got.subarray(i, i + 8))
  }`;
}

/** Asserts an exact echo of `data`. */
async function echoExact(rig: Rig, sock: Deno.DatagramConn, data: Uint8Array): Promise<void> {
  const got = await echo(rig, sock, data);
  if (!equalBytes(got, data)) {
    throw new Failure(`the ${data.length}-byte datagram ${difference(data, got)}`);
  }
}

/** A datagram of `n` bytes whose first bytes say which one it is. */
function tagged(n: number, tag: string): Uint8Array {
  const out = patterned(n, `${tag}|`);
  return out;
}

/** What one probe of the size search saw. */
type Probe =
  | { kind: "whole"; ms: number }
  | { kind: "truncated"; length: number }
  | { kind: "none" }
  | { kind: "other"; length: number };

async function probe(rig: Rig, n: number, waitMs: number): Promise<Probe> {
  const sock = client(rig);
  const data = tagged(n, `probe ${n}`);
  try {
    await sock.send(data, toDenoAddr(rig.to));
  } catch (err) {
    throw new Failure(`sending a ${n}-byte probe failed: ${errnoLine(err)}`);
  }
  const t0 = performance.now();
  const got = (await receiveWithin(sock, waitMs))?.[0];
  const ms = performance.now() - t0;
  sock.close();
  if (!got) return { kind: "none" };
  if (equalBytes(got, data)) return { kind: "whole", ms };
  if (got.length < n && isPrefix(got, data)) return { kind: "truncated", length: got.length };
  return { kind: "other", length: got.length };
}

function describeProbe(p: Probe): string {
  switch (p.kind) {
    case "whole":
      return "whole";
    case "truncated":
      return `truncated to ${p.length} bytes`;
    case "none":
      return "no answer";
    case "other":
      return `a different ${p.length}-byte answer`;
  }
}

/** The search of case 5: the largest size echoed whole, and what happens just above it. */
async function largestWhole(
  rig: Rig,
  max: number,
): Promise<{ largest: number; above: string; probes: number }> {
  const waitMs = quietMs(rig.ctx.timeoutMs);
  let probes = 0;
  const at = async (n: number, ms = waitMs) => {
    probes++;
    return await probe(rig, n, ms);
  };
  const top = await at(max);
  if (top.kind === "whole") {
    return { largest: max, above: `nothing larger fits in one datagram`, probes };
  }
  if (top.kind === "truncated") {
    // A truncating server shows its buffer: confirm it with two more probes.
    const n = top.length;
    const [whole, over] = [await at(n, rig.ctx.timeoutMs), await at(n + 1)];
    if (whole.kind === "whole" && over.kind === "truncated" && over.length === n) {
      return { largest: n, above: `truncated to ${n} bytes`, probes };
    }
  }
  const first = await at(1, rig.ctx.timeoutMs);
  if (first.kind !== "whole") return { largest: 0, above: describeProbe(first), probes };
  // Binary search with short waits (ten round trips of the slowest whole answer seen, at
  // least 30 ms); a "no answer" at the boundary is confirmed with the quiet wait, and if
  // it was only slow, the search goes on above it.
  let slowest = first.ms;
  const fastMs = () => Math.min(waitMs, Math.max(30, 10 * slowest));
  let lo = 1;
  let hi = max;
  while (probes < 60) {
    while (hi - lo > 1 && probes < 60) {
      const mid = Math.floor((lo + hi) / 2);
      const p = await at(mid, fastMs());
      if (p.kind === "whole") {
        lo = mid;
        slowest = Math.max(slowest, p.ms);
      } else hi = mid;
    }
    const edge = hi === max ? top : await at(hi);
    if (edge.kind !== "whole") return { largest: lo, above: describeProbe(edge), probes };
    lo = hi;
    hi = max;
  }
  throw new Failure(
    `no stable answer after ${probes} probes: the largest whole datagram is between ${lo} and ${hi} bytes`,
  );
}

/**
 * The client program for client-side cases: the declared one, or (Unix datagram only) the
 * reference client, bound to a path in `tmp`.
 */
function clientArgv(
  ctx: CaseContext,
  to: DatagramAddress,
  opts: { size?: number; tmp: string },
): { argv: string[]; env: Record<string, string>; declared: boolean } {
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
    return { argv: declared.map((a) => substitute(a, values)), env, declared: true };
  }
  if (to.transport !== "unixgram") {
    // dgram/udp/10 needs a declared client: the runner skips it without one
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
  return { argv: argv.map((a) => substitute(a, values)), env, declared: false };
}

async function runClient(
  ctx: CaseContext,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<BoundedResult> {
  ctx.evidence.note(`client: ${argv.join(" ").slice(0, 400)}`);
  try {
    return await runBounded(argv, { timeoutMs: ctx.timeoutMs + 2000, env, cwd });
  } catch (err) {
    throw new Failure(`cannot run the client ${argv[0]}: ${(err as Error).message}`);
  }
}

function describeRun(r: BoundedResult): string {
  return r.timedOut
    ? "was killed after not finishing in time"
    : r.signal
    ? `was killed by ${r.signal}`
    : `exited with code ${r.code}`;
}

function outputTail(r: BoundedResult): string {
  const text = (r.stdout + r.stderr).trim().split("\n").slice(-3).join(" | ");
  return text.length > 300 ? `...${text.slice(-300)}` : text;
}

/** The server transcript for `datagrams`; Unix senders print as bare paths (`str.format`). */
function serverTranscript(t: DgramTransport, datagrams: Uint8Array[]): Transcript {
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

/** Sends a zero-length datagram, then `next`; reports what came back, in order. */
async function zeroThenNext(
  rig: Rig,
  checkLate: boolean,
): Promise<{ emptyEchoed: boolean; nextEcho?: Uint8Array; next: Uint8Array }> {
  const sock = client(rig);
  const next = new TextEncoder().encode("the datagram after the empty one");
  await send(rig, sock, new Uint8Array(0), "sent the zero-length datagram");
  await send(rig, sock, next, "sent next");
  let emptyEchoed = false;
  let got = await answer(rig, sock, rig.ctx.timeoutMs);
  if (got && got.length === 0) {
    emptyEchoed = true;
    got = await answer(rig, sock, rig.ctx.timeoutMs);
  }
  if (got && !emptyEchoed && checkLate) {
    // an empty echo overtaken by the next answer would still be an echo
    const late = await answer(rig, sock, settleMs(rig.ctx.timeoutMs));
    if (late && late.length === 0) emptyEchoed = true;
  }
  return { emptyEchoed, nextEcho: got, next };
}

/**
 * The datagram echo cases for one transport.
 *
 * @example
 * ```ts
 * import { dgramCases } from "./dgram.ts";
 * dgramCases("unixgram").map((c) => c.id); // ["dgram/unixgram/1", ...]
 * ```
 */
export function dgramCases(t: DgramTransport): Case[] {
  const base = { kind: "dgram-echo" as const, transport: t };
  const id = (n: number) => `dgram/${t}/${n}`;
  const cases: Case[] = [
    {
      ...base,
      id: id(1),
      level: "MUST",
      requirement:
        "A datagram is echoed to its sender, content exact (the tutorial message, then all 256 byte values), from the server's own address.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const sock = client(rig);
        const all = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));
        for (const data of [TUTORIAL_MESSAGE, all]) {
          await send(rig, sock, data);
          const got = await receiveWithin(sock, ctx.timeoutMs);
          if (!got) {
            throw new Failure(
              `no answer to a ${data.length}-byte datagram within ${ctx.timeoutMs} ms${
                serverState(rig)
              }`,
            );
          }
          const [echoed, from] = got;
          ctx.evidence.received(echoed);
          if (!equalBytes(echoed, data)) {
            throw new Failure(`the ${data.length}-byte datagram ${difference(data, echoed)}`);
          }
          const fromServer = rig.to.transport === "unixgram"
            ? from.transport === "unixpacket" && from.path === rig.to.path
            : from.transport === "udp" && from.port === rig.to.port &&
              (!/^[\d.]+$|:/.test(rig.to.hostname) || from.hostname === rig.to.hostname);
          if (!fromServer) {
            throw new Failure(
              `the echo came from ${describeDatagram(from)}, not from the server's ${
                describeDatagram(rig.to)
              }: a client that checks its answers would drop it`,
            );
          }
        }
        return pass(
          `${TUTORIAL_MESSAGE.length} and 512 bytes echoed exactly from ${
            describeDatagram(rig.to)
          }`,
        );
      },
    },
    {
      ...base,
      id: id(2),
      level: "MUST",
      requirement:
        "Boundaries are kept: a burst of 8 datagrams of different sizes, sent without waiting, gets 8 answers of the same sizes and contents.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const cap = Math.min(ctx.target.properties.bufferSize ?? 4096, 4096);
        const sizes = [1, 100, 7, 1400, 3, 4000, 42, 512].map((n) => Math.min(n, cap));
        const sent = sizes.map((n, i) => tagged(n, String.fromCharCode(65 + i)));
        const sock = client(rig);
        for (const data of sent) await send(rig, sock, data);
        const got: Uint8Array[] = [];
        while (got.length < 2 * sent.length) {
          const wait = got.length < sent.length ? ctx.timeoutMs : settleMs(ctx.timeoutMs);
          const a = await answer(rig, sock, wait);
          if (!a) break;
          got.push(a);
        }
        const left = [...sent];
        const unmatched: Uint8Array[] = [];
        for (const a of got) {
          const i = left.findIndex((s) => equalBytes(s, a));
          if (i >= 0) left.splice(i, 1);
          else unmatched.push(a);
        }
        const observed = {
          sentSizes: sizes.join(","),
          answerSizes: got.map((a) => a.length).join(","),
        };
        if (left.length || unmatched.length) {
          const parts = [
            `${sent.length} datagrams of ${sizes.join(", ")} bytes got ${got.length} answers of ${
              got.map((a) => a.length).join(", ") || "-"
            } bytes`,
          ];
          if (left.length) parts.push(`${left.length} never came back whole`);
          if (unmatched.length) {
            parts.push(
              `${unmatched.length} answers match no datagram sent (merged, split or altered)`,
            );
          }
          return fail(parts.join("; "), observed);
        }
        const inOrder = got.every((a, i) => equalBytes(a, sent[i]));
        return pass(
          `8 datagrams, 8 answers of the same sizes${inOrder ? ", in order" : " (reordered)"}`,
          observed,
        );
      },
    },
    {
      ...base,
      id: id(3),
      level: "MUST",
      requirement:
        "Answers go to the right sender: three clients interleaving their datagrams each get exactly their own back.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const socks = [client(rig), client(rig), client(rig)];
        const msg = (c: number, r: number) =>
          new TextEncoder().encode(`client ${c + 1} round ${r + 1} ${"-".repeat(10 * c + r)}`);
        for (let r = 0; r < 3; r++) {
          for (let c = 0; c < 3; c++) await send(rig, socks[c], msg(c, r));
          // One receive per client, in turn. (No receive may be left pending on a socket
          // that sends again: Deno refuses to send on a Unix datagram socket then.)
          const judge = (c: number, a: Uint8Array): Failure | undefined => {
            if (equalBytes(a, msg(c, r))) return undefined;
            const owner = /^client (\d) round (\d)/.exec(new TextDecoder().decode(a));
            const mine = owner && Number(owner[1]) === c + 1 && Number(owner[2]) === r + 1;
            return new Failure(
              owner && !mine
                ? `client ${c + 1} (${label(socks[c])}) received client ${owner[1]}'s round ${
                  owner[2]
                } datagram: answers go to the wrong sender`
                : `client ${c + 1}'s round ${r + 1} datagram ${difference(msg(c, r), a)}`,
            );
          };
          for (let c = 0; c < 3; c++) {
            const a = await answer(rig, socks[c], ctx.timeoutMs);
            if (a) {
              const wrong = judge(c, a);
              if (wrong) throw wrong;
              continue;
            }
            // Nothing came: did its answer go to one of the others?
            for (let o = 0; o < 3; o++) {
              if (o === c) continue;
              const stray = await answer(rig, socks[o], settleMs(ctx.timeoutMs));
              const wrong = stray && judge(o, stray);
              if (wrong) throw wrong;
            }
            throw new Failure(
              `in round ${r + 1}, client ${c + 1} (${
                label(socks[c])
              }) got no answer within ${ctx.timeoutMs} ms${serverState(rig)}`,
            );
          }
        }
        for (const [c, sock] of socks.entries()) {
          const extra = await answer(rig, sock, c === 0 ? settleMs(ctx.timeoutMs) : 5);
          if (extra) {
            throw new Failure(
              `client ${c + 1} received an extra ${extra.length}-byte datagram ${
                bytesRepr(extra.subarray(0, 40))
              }`,
            );
          }
        }
        return pass("3 clients × 3 rounds, each answer reached its own sender, nothing extra");
      },
    },
    {
      ...base,
      id: id(4),
      level: "MUST",
      requirement:
        "Datagrams up to the target's declared buffer size come back whole (exactly the buffer size, one byte less, half, and 1 byte).",
      needs: { properties: ["bufferSize"] },
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const size = ctx.target.properties.bufferSize!;
        const limit = t === "udp" ? maxUdpPayload(ctx.target.host) : UDP_MAX_IPV4;
        if (size > limit) throw new Skip(`the declared bufferSize ${size} is over ${limit}`);
        const sizes = [...new Set([size, Math.max(1, size - 1), Math.max(1, size >> 1), 1])];
        const sock = client(rig);
        for (const n of sizes) await echoExact(rig, sock, tagged(n, `whole ${n}`));
        return pass(`${sizes.join(", ")} bytes all came back whole`);
      },
    },
    {
      ...base,
      id: id(5),
      level: "INFO",
      requirement:
        "The largest datagram the target echoes whole, searched between 1 and 65,507 bytes (65,527 over IPv6), and what happens to one byte more.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const max = t === "udp" ? maxUdpPayload(ctx.target.host) : UDP_MAX_IPV4;
        const t0 = performance.now();
        const r = await largestWhole(rig, max);
        ctx.evidence.timing("searchMs", performance.now() - t0);
        const declared = ctx.target.properties.bufferSize;
        return pass(
          `largest whole datagram ${r.largest} bytes; ${
            r.largest + 1
          } bytes: ${r.above} (${r.probes} probes)${
            declared !== undefined && declared !== r.largest
              ? `; note: the target declares bufferSize ${declared}`
              : ""
          }`,
          { largestWhole: r.largest, above: r.above },
        );
      },
    },
    {
      ...base,
      id: id(6),
      level: "MUST",
      requirement:
        "Where a buffer size is declared, a longer datagram comes back truncated to exactly that size (the rest is lost), and the next datagram comes back whole.",
      needs: { properties: ["bufferSize"] },
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const size = ctx.target.properties.bufferSize!;
        const max = t === "udp" ? maxUdpPayload(ctx.target.host) : UDP_MAX_IPV4;
        if (size >= max) {
          throw new Skip(`the declared bufferSize ${size} leaves nothing to truncate`);
        }
        const sock = client(rig);
        for (const n of [...new Set([size + 1, max])]) {
          const data = tagged(n, `long ${n}`);
          const got = await echo(rig, sock, data);
          if (!(got.length === size && isPrefix(got, data))) {
            throw new Failure(
              `a ${n}-byte datagram ${
                equalBytes(got, data) ? "came back whole" : difference(data, got)
              }, not truncated to the declared ${size} bytes`,
            );
          }
        }
        const after = tagged(Math.min(100, size), "after");
        const got = await echo(rig, sock, after);
        if (!equalBytes(got, after)) {
          throw new Failure(
            `after the long datagrams, the next ${after.length}-byte one ${
              difference(after, got)
            } (the rest of a long datagram must be lost, not delivered later)`,
          );
        }
        return pass(`${size + 1} and ${max} bytes came back as exactly ${size}; the next whole`);
      },
    },
    {
      ...base,
      id: id(7),
      level: "INFO",
      requirement: "Whether a zero-length datagram is echoed or ignored.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const r = await zeroThenNext(rig, true);
        const zeroLength = r.emptyEchoed ? "echo" : "ignore";
        const declared = ctx.target.properties.zeroLength;
        const message = r.emptyEchoed
          ? "a zero-length datagram is echoed (an empty answer)"
          : "a zero-length datagram gets no answer";
        if (declared && declared !== zeroLength) {
          return fail(`${message}, but the target declares zeroLength "${declared}"`, {
            zeroLength,
          });
        }
        return pass(
          r.nextEcho ? message : `${message}; nothing answered the next datagram either`,
          { zeroLength },
        );
      },
    },
    {
      ...base,
      id: id(8),
      level: "MUST",
      requirement: "After a zero-length datagram the server still answers the next datagram.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const r = await zeroThenNext(rig, false);
        if (!r.nextEcho) {
          return fail(
            `no answer within ${ctx.timeoutMs} ms to the datagram sent after a zero-length one${
              serverState(rig)
            }`,
          );
        }
        if (!equalBytes(r.nextEcho, r.next)) {
          return fail(`the datagram after the zero-length one ${difference(r.next, r.nextEcho)}`);
        }
        return pass(
          `the next datagram came back whole (the zero-length one was ${
            r.emptyEchoed ? "echoed" : "ignored"
          })`,
        );
      },
    },
    {
      ...base,
      id: id(9),
      level: "MUST",
      requirement:
        "Where the target prints the tutorial transcript, it matches SPEC: waiting, `received N bytes from ADDR`, the data, `sent N bytes back to ADDR` for each datagram.",
      needs: { properties: ["transcript"], launch: true },
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const sock = client(rig);
        const datagrams = [TUTORIAL_MESSAGE, new TextEncoder().encode("second\x00\xff")];
        for (const d of datagrams) await echoExact(rig, sock, d);
        const deadline = Date.now() + ctx.timeoutMs;
        while (Date.now() < deadline) {
          const out = rig.server.stdout.text();
          if ((out.match(/^waiting to receive message$/gm)?.length ?? 0) > datagrams.length) break;
          await sleep(10);
        }
        await rig.server.stop();
        const output = rig.server.stdout.text();
        ctx.evidence.transcript(output);
        const result = match(serverTranscript(t, datagrams), output);
        if (!result.ok) return fail(`transcript does not match SPEC: ${result.message}`);
        return pass("the transcript matches SPEC");
      },
    },
  ];
  if (t === "udp") {
    cases.push({
      ...base,
      id: id(10),
      level: "MUST",
      requirement:
        "The declared client sends a 65,507-byte datagram whole over IPv4 and exits 0, and asked for 65,508 bytes prints `[Errno 90] Message too long` and exits 1 (65,527 and 65,528 over IPv6).",
      needs: { properties: ["client"] },
      async run(ctx) {
        const host = ctx.target.host;
        const max = maxUdpPayload(host);
        const family = host.includes(":") ? "IPv6" : "IPv4";
        // The client talks to a sink the case owns (an echo on the target's host), so what
        // it sends is seen exactly. (That the kernel itself allows 65,507 and refuses
        // 65,508 is checked by conformance/dgram/dgram_test.ts, not here: this case judges the
        // client.)
        let sink: Deno.DatagramConn;
        try {
          sink = ctx.track(openDatagram({ transport: "udp", hostname: host, port: 0 }));
        } catch (err) {
          throw new Skip(`cannot bind a UDP socket on ${host} for the client: ${errnoLine(err)}`);
        }
        const to = {
          transport: "udp" as const,
          hostname: (sink.addr as Deno.NetAddr).hostname,
          port: (sink.addr as Deno.NetAddr).port,
        };
        // The sink echoes what it gets, as a server would.
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
          closeQuietly(sink);
          await echoing;
        });
        const tmp = `${ctx.tmp}/client`;
        await Deno.mkdir(tmp, { recursive: true });
        const ok = clientArgv(ctx, to, { size: max, tmp });
        const who = "the declared client";
        const r1 = await runClient(ctx, ok.argv, ok.env, tmp);
        await sleep(20);
        const gotMax = received.splice(0);
        if (!gotMax.includes(max)) {
          return fail(
            `${who} asked for ${max} bytes delivered ${
              gotMax.length ? `datagrams of ${gotMax.join(", ")} bytes` : "nothing"
            } and ${describeRun(r1)}: ${outputTail(r1)}`,
          );
        }
        if (r1.code !== 0) {
          return fail(`${who} sent ${max} bytes but ${describeRun(r1)}: ${outputTail(r1)}`);
        }
        if (/Message too long/.test(r1.stdout + r1.stderr)) {
          return fail(
            `${who} printed "Message too long" for a ${max}-byte datagram, which fits in one ${family} datagram (it exited 0): ${
              outputTail(r1)
            }`,
          );
        }
        const over = clientArgv(ctx, to, { size: max + 1, tmp });
        const r2 = await runClient(ctx, over.argv, over.env, tmp);
        await sleep(settleMs(ctx.timeoutMs));
        const output = r2.stdout + r2.stderr;
        if (received.length) {
          return fail(
            `${who} asked for ${max + 1} bytes sent datagrams of ${
              received.join(", ")
            } bytes instead of failing with EMSGSIZE, and ${describeRun(r2)}`,
          );
        }
        if (!output.includes("[Errno 90] Message too long")) {
          return fail(
            `${who} asked for ${max + 1} bytes did not print "[Errno 90] Message too long"; it ${
              describeRun(r2)
            }: ${outputTail(r2)}`,
          );
        }
        if (r2.code !== 1) {
          return fail(
            `${who} printed "[Errno 90] Message too long" for ${max + 1} bytes but ${
              describeRun(r2)
            }, not exit code 1`,
          );
        }
        return pass(
          `${who} sent ${max} bytes whole over ${family} and exited 0; asked for ${
            max + 1
          } it printed "[Errno 90] Message too long" and exited 1`,
          { limit: max },
        );
      },
    });
  } else {
    cases.push({
      ...base,
      id: id(10),
      level: "MUST",
      requirement:
        "A client that bound a path of its own gets the echo there: the client program prints the tutorial's client transcript and exits 0.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        const tmp = `${ctx.tmp}/client`;
        await Deno.mkdir(tmp, { recursive: true });
        const c = clientArgv(ctx, rig.to, { tmp });
        const who = c.declared ? "the declared client" : "the reference client";
        const r = await runClient(ctx, c.argv, c.env, tmp);
        ctx.evidence.transcript(r.stdout);
        if (r.code !== 0) {
          return fail(
            `${who} (bound to its own path) ${describeRun(r)}${serverState(rig)}: ${outputTail(r)}`,
          );
        }
        const result = match(udpClientTranscript(), r.stdout);
        if (!result.ok) {
          return fail(`${who}'s transcript does not match SPEC: ${result.message}`);
        }
        return pass(`${who} bound its own path and received the echo`);
      },
    }, {
      ...base,
      id: id(11),
      level: "MUST",
      requirement:
        "Datagrams from a socket that did not bind a path (the server has no address to answer) do not stop the server: it goes on answering the next, bound client.",
      async run(ctx) {
        const rig = await startRig(ctx, t);
        // The case's own unbound socket: it can send, but nobody can answer it.
        const unbound = ctx.track(openDatagram({ transport: "unixgram" }));
        const datagrams = [TUTORIAL_MESSAGE, new TextEncoder().encode("second, also unbound")];
        for (const [i, data] of datagrams.entries()) {
          rig.ctx.evidence.bytes(`sent (${data.length} bytes from an unbound socket)`, data);
          try {
            await unbound.send(data, toDenoAddr(rig.to));
          } catch (err) {
            throw new Failure(
              i === 0
                ? `sending ${data.length} bytes from an unbound socket to ${
                  describeDatagram(rig.to)
                } failed: ${errnoLine(err)}${serverState(rig)}`
                : `after 1 datagram from an unbound socket, the server no longer receives: ` +
                  `sending the next to ${describeDatagram(rig.to)} failed: ${errnoLine(err)}${
                    serverState(rig)
                  }`,
            );
          }
        }
        await sleep(settleMs(ctx.timeoutMs));
        const bound = client(rig);
        try {
          await echoExact(rig, bound, TUTORIAL_MESSAGE);
        } catch (err) {
          throw new Failure(
            `after 2 datagrams from an unbound socket, the server gave a bound client no echo: ${
              (err as Error).message
            }`,
          );
        }
        return pass(
          "after 2 datagrams from an unbound socket, the server still echoed a bound client",
        );
      },
    });
  }
  return cases;
}

/** Every datagram echo case: UDP, then Unix datagram. */
export const dgramCasesAll: Case[] = [...dgramCases("udp"), ...dgramCases("unixgram")];
