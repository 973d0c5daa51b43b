/**
 * Datagram verifiers: what the `dgram/*` cases share. A {@linkcode DgramRig} is a started
 * datagram server and where to reach it; a {@linkcode DgramClient} is one client socket
 * that records what it sends and receives. The verifiers ({@linkcode expectDatagramEcho},
 * {@linkcode expectAnswer}, {@linkcode expectNoAnswer}) own the waiting and the failure
 * sentence: each names the step and says what was expected and what came. How the server
 * died, if it did, the runner adds once to every FAIL ("the target stopped by itself: pid
 * 4242, exited with code 1"), so the verifiers never say it.
 *
 * One client socket serves all the probes of a case that measures one peer's behaviour
 * ({@linkcode largestWhole}), so a server that answers only its first peer is measured,
 * not confused; {@linkcode answersOnlyFirstPeer} then asks a second peer.
 *
 * @example
 * ```ts
 * import type { CaseContext } from "../case/case.ts";
 * import { expectDatagramEcho, openClient, startDgram } from "./dgram.ts";
 * async function firstEcho(ctx: CaseContext) {
 *   const rig = await startDgram(ctx, "udp");
 *   await expectDatagramEcho(rig, openClient(rig), new TextEncoder().encode("ping"), "the first datagram");
 * }
 * ```
 * @module
 */

import { type CaseContext, Failure } from "../case/case.ts";
import type { Instance } from "../harness/target.ts";
import { errnoCode, errnoLine } from "../python/errno.ts";
import { bytesRepr } from "../python/repr.ts";
import { equalBytes } from "../net/sockets.ts";
import {
  type DatagramAddress,
  describeDatagram,
  maxUdpPayload,
  openDatagram,
  patterned,
  receiveWithin,
  toDenoAddr,
} from "../net/datagram.ts";

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

/**
 * How long to wait for anything arriving right behind answers already seen, in ms.
 *
 * @example
 * ```ts
 * import { settleMs } from "./dgram.ts";
 * settleMs(5000); // 50
 * ```
 */
export function settleMs(timeoutMs: number): number {
  return Math.min(timeoutMs, 50);
}

/**
 * `n` and the unit, singular for one: `1 byte`, `2 bytes`.
 *
 * @example
 * ```ts
 * import { counted } from "./dgram.ts";
 * counted(1, "byte"); // "1 byte"
 * counted(65536, "byte"); // "65536 bytes"
 * ```
 */
export function counted(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** A started datagram server and where to reach it. */
export interface DgramRig {
  /** The case's context. */
  readonly ctx: CaseContext;
  /** The transport under test. */
  readonly transport: DgramTransport;
  /** The server instance. */
  readonly server: Instance;
  /** Its address. */
  readonly to: DatagramAddress;
  /** How many client sockets the case has opened (they are named c1, c2, ...). */
  clients: number;
}

/**
 * Starts the target and finds its datagram address (its port, or its socket path).
 *
 * @example
 * ```ts
 * import type { CaseContext } from "../case/case.ts";
 * import { startDgram } from "./dgram.ts";
 * async function unixgramRig(ctx: CaseContext) {
 *   return await startDgram(ctx, "unixgram");
 * }
 * ```
 */
export async function startDgram(ctx: CaseContext, transport: DgramTransport): Promise<DgramRig> {
  const server = await ctx.start();
  let to: DatagramAddress;
  if (transport === "udp") {
    if (!server.port) throw new Failure(`target '${ctx.target.name}' has no UDP port`);
    to = { transport: "udp", hostname: ctx.target.host, port: server.port };
  } else {
    if (!server.path) throw new Failure(`target '${ctx.target.name}' has no socket path`);
    to = { transport: "unixgram", path: server.path };
  }
  return { ctx, transport, server, to, clients: 0 };
}

/** One answer: its bytes and where it came from. */
export interface Answer {
  /** The datagram. */
  data: Uint8Array;
  /** Its sender. */
  from: Deno.Addr;
}

const WAKE = new TextEncoder().encode("sockspec: wake the pending receive");

/**
 * One client socket: UDP on the target's host, or a Unix datagram socket bound in the
 * case's temp dir. It records what it sends and receives in the case's evidence.
 *
 * Deno refuses to send on a Unix datagram socket while a receive is pending on it (a
 * receive that timed out stays pending, so that no datagram is lost). Before such a send,
 * the client wakes its own receive with a datagram from a private unbound socket, keeping
 * anything else that arrived meanwhile for the next {@linkcode DgramClient.receive}.
 */
export class DgramClient {
  /** The socket. */
  readonly socket: Deno.DatagramConn;
  /** Whether sends and answers go into the evidence (the size search's probes do not). */
  recording = true;
  #rig: DgramRig;
  #pending = false;
  #backlog: Answer[] = [];
  #waker?: Deno.DatagramConn;

  /**
   * A client of `rig` on `socket` (tracked by the case, closed after it).
   *
   * @example
   * ```ts
   * import type { DgramRig } from "./dgram.ts";
   * import { openClient } from "./dgram.ts";
   * function oneClient(rig: DgramRig) {
   *   return openClient(rig);
   * }
   * ```
   */
  constructor(rig: DgramRig, socket: Deno.DatagramConn) {
    this.#rig = rig;
    this.socket = rig.ctx.track(socket);
  }

  /** The client's own address, for messages. */
  get label(): string {
    return describeDatagram(this.socket.addr);
  }

  /**
   * Sends `data` to the server. Resolves `undefined`, or the errno line when the kernel
   * refused the send (for cases that report a refusal instead of failing).
   */
  async trySend(data: Uint8Array, note = "sent"): Promise<string | undefined> {
    await this.#unblock();
    if (this.recording) {
      this.#rig.ctx.evidence.bytes(
        `${note} (${counted(data.length, "byte")} from ${this.label})`,
        data,
      );
    }
    try {
      await this.socket.send(data, toDenoAddr(this.#rig.to));
      return undefined;
    } catch (err) {
      this.#rig.ctx.evidence.note(
        `${note}: the send of ${counted(data.length, "byte")} was refused: ${errnoLine(err)}`,
      );
      return errnoLine(err);
    }
  }

  /** Sends `data`; a refused send is a FAIL naming `step`, the errno and the server's state. */
  async send(data: Uint8Array, step: string): Promise<void> {
    const refused = await this.trySend(data);
    if (refused) {
      throw new Failure(
        `${step}: sending ${counted(data.length, "byte")} from ${this.label} to ${
          describeDatagram(this.#rig.to)
        } failed: ${refused}`,
      );
    }
  }

  /** The next answer within `ms`, recorded; undefined when none came. */
  async receive(ms: number): Promise<Answer | undefined> {
    const kept = this.#backlog.shift();
    if (kept) return kept;
    this.#pending = true;
    const got = await receiveWithin(this.socket, ms);
    if (!got) return undefined;
    this.#pending = false;
    const answer = { data: got[0], from: got[1] };
    if (!this.recording) return answer;
    this.#rig.ctx.evidence.bytes(
      `received (${counted(answer.data.length, "byte")} at ${this.label})`,
      answer.data,
    );
    return answer;
  }

  async #unblock(): Promise<void> {
    if (!this.#pending || this.#rig.transport !== "unixgram") return;
    this.#waker ??= this.#rig.ctx.track(openDatagram({ transport: "unixgram" }));
    await this.#waker.send(WAKE, this.socket.addr);
    for (let i = 0; i < 64; i++) {
      const got = await receiveWithin(this.socket, this.#rig.ctx.timeoutMs);
      if (!got) throw new Failure(`the case could not wake its own receive at ${this.label}`);
      if (equalBytes(got[0], WAKE)) break;
      this.#backlog.push({ data: got[0], from: got[1] });
    }
    this.#pending = false;
  }
}

/**
 * A fresh client socket of the case (`c1`, `c2`, ... in the case's temp dir for Unix), or
 * a client on `socket` (an unbound Unix socket, say).
 *
 * @example
 * ```ts
 * import type { DgramRig } from "./dgram.ts";
 * import { openClient } from "./dgram.ts";
 * function twoClients(rig: DgramRig) {
 *   return [openClient(rig), openClient(rig)];
 * }
 * ```
 */
export function openClient(rig: DgramRig, socket?: Deno.DatagramConn): DgramClient {
  if (socket) return new DgramClient(rig, socket);
  const n = ++rig.clients;
  socket = rig.transport === "udp"
    ? openDatagram({ transport: "udp", hostname: rig.ctx.target.host, port: 0 })
    : openDatagram({ transport: "unixgram", path: `${rig.ctx.tmp}/c${n}` });
  return new DgramClient(rig, socket);
}

function isPrefix(prefix: Uint8Array, of: Uint8Array): boolean {
  return prefix.length <= of.length && prefix.every((x, i) => x === of[i]);
}

/**
 * How an answer differs from what was sent, as the end of a sentence.
 *
 * @example
 * ```ts
 * import { datagramDifference } from "./dgram.ts";
 * datagramDifference(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2])); // "came back truncated to 2 of 3 bytes"
 * ```
 */
export function datagramDifference(sent: Uint8Array, got: Uint8Array): string {
  if (got.length !== sent.length) {
    return isPrefix(got, sent)
      ? `came back truncated to ${got.length} of ${counted(sent.length, "byte")}`
      : `came back as ${counted(got.length, "byte")} (${
        bytesRepr(got.subarray(0, 24))
      }...) instead of ${sent.length}`;
  }
  const i = sent.findIndex((b, j) => b !== got[j]);
  if (i < 0) return "came back whole";
  return `differs at byte ${i}: sent ${bytesRepr(sent.subarray(i, i + 8))}, got ${
    bytesRepr(got.subarray(i, i + 8))
  }`;
}

/**
 * Sends `data` from `client` and returns the first answer; no answer within the target's
 * wait is a FAIL: `STEP: expected an answer to the N-byte datagram from C, got no answer within T ms`.
 *
 * @example
 * ```ts
 * import type { DgramClient, DgramRig } from "./dgram.ts";
 * import { expectAnswer } from "./dgram.ts";
 * async function longAnswer(rig: DgramRig, client: DgramClient) {
 *   return await expectAnswer(rig, client, new Uint8Array(8), "the long datagram");
 * }
 * ```
 */
export async function expectAnswer(
  rig: DgramRig,
  client: DgramClient,
  data: Uint8Array,
  step: string,
): Promise<Answer> {
  await client.send(data, step);
  const got = await client.receive(rig.ctx.timeoutMs);
  if (!got) {
    throw new Failure(
      `${step}: expected an answer to the ${data.length}-byte datagram from ${client.label}, got no answer within ${rig.ctx.timeoutMs} ms`,
    );
  }
  return got;
}

/**
 * Sends `data` and expects it back exactly, from the server's own address when
 * `fromServer` is set. A FAIL names the step and how the answer differed.
 *
 * @example
 * ```ts
 * import type { DgramClient, DgramRig } from "./dgram.ts";
 * import { expectDatagramEcho } from "./dgram.ts";
 * async function firstDatagram(rig: DgramRig, client: DgramClient) {
 *   await expectDatagramEcho(rig, client, new TextEncoder().encode("ping"), "the first datagram");
 * }
 * ```
 */
export async function expectDatagramEcho(
  rig: DgramRig,
  client: DgramClient,
  data: Uint8Array,
  step: string,
  opts: { fromServer?: boolean } = {},
): Promise<Answer> {
  const got = await expectAnswer(rig, client, data, step);
  if (!equalBytes(got.data, data)) {
    throw new Failure(
      `${step}: expected the same ${counted(data.length, "byte")} back, but the datagram ${
        datagramDifference(data, got.data)
      }`,
    );
  }
  if (opts.fromServer && !fromServer(rig.to, got.from)) {
    throw new Failure(
      `${step}: expected the echo from the server's ${describeDatagram(rig.to)}, got it from ${
        describeDatagram(got.from)
      }, not from the server: a client that checks its answers would drop it`,
    );
  }
  return got;
}

function fromServer(to: DatagramAddress, from: Deno.Addr): boolean {
  return to.transport === "unixgram"
    ? from.transport === "unixpacket" && from.path === to.path
    : from.transport === "udp" && from.port === to.port &&
      (!/^[\d.]+$|:/.test(to.hostname) || from.hostname === to.hostname);
}

/**
 * Expects nothing (more) at `client` for `ms`: a datagram that comes is a FAIL naming it.
 *
 * @example
 * ```ts
 * import type { DgramClient } from "./dgram.ts";
 * import { expectNoAnswer } from "./dgram.ts";
 * async function quietAfter(client: DgramClient) {
 *   await expectNoAnswer(client, 50, "after the 3 rounds");
 * }
 * ```
 */
export async function expectNoAnswer(
  client: DgramClient,
  ms: number,
  step: string,
): Promise<void> {
  const extra = await client.receive(ms);
  if (extra) {
    throw new Failure(
      `${step}: expected nothing more at ${client.label}, got an extra ${
        counted(extra.data.length, "byte")
      } datagram ${bytesRepr(extra.data.subarray(0, 40))}`,
    );
  }
}

/**
 * A datagram of `n` bytes whose first bytes say which one it is (`tag|tag|...`).
 *
 * @example
 * ```ts
 * import { tagged } from "./dgram.ts";
 * new TextDecoder().decode(tagged(8, "A")); // "A|A|A|A|"
 * ```
 */
export function tagged(n: number, tag: string): Uint8Array {
  return patterned(n, `${tag}|`);
}

/** What one probe of the size search saw. */
export type Probe =
  | { kind: "whole"; ms: number }
  | { kind: "truncated"; length: number }
  | { kind: "none" }
  | { kind: "other"; length: number }
  | { kind: "refused"; errno: string };

/**
 * A probe as the report words it: `whole`, `truncated to 4096 bytes`, `no answer`, ...
 *
 * @example
 * ```ts
 * import { describeProbe } from "./dgram.ts";
 * describeProbe({ kind: "truncated", length: 1 }); // "truncated to 1 byte"
 * ```
 */
export function describeProbe(p: Probe): string {
  switch (p.kind) {
    case "whole":
      return "whole";
    case "truncated":
      return `truncated to ${counted(p.length, "byte")}`;
    case "none":
      return "no answer";
    case "other":
      return `a different ${counted(p.length, "byte")} answer`;
    case "refused":
      return `the send was refused: ${p.errno}`;
  }
}

/** One peer's probes: every probe from the same client socket, each payload tagged. */
export class Prober {
  /** How many probes were sent. */
  probes = 0;
  #rig: DgramRig;
  #client: DgramClient;

  /**
   * Probes `rig`'s server from `client`.
   *
   * @example
   * ```ts
   * import type { DgramRig } from "./dgram.ts";
   * import { openClient, Prober } from "./dgram.ts";
   * async function probeOnce(rig: DgramRig) {
   *   return await new Prober(rig, openClient(rig)).probe(100, 250);
   * }
   * ```
   */
  constructor(rig: DgramRig, client: DgramClient) {
    this.#rig = rig;
    this.#client = client;
  }

  /**
   * Sends one `n`-byte probe and waits up to `waitMs` for its answer; late answers to
   * earlier probes (their tag says so) are skipped.
   */
  async probe(n: number, waitMs: number): Promise<Probe> {
    const k = ++this.probes;
    const data = tagged(n, `p${k}:${n}`);
    this.#client.recording = false;
    try {
      return await this.#probe(k, data, waitMs);
    } finally {
      this.#client.recording = true;
    }
  }

  async #probe(k: number, data: Uint8Array, waitMs: number): Promise<Probe> {
    const n = data.length;
    const refused = await this.#client.trySend(data, `probe ${k}`);
    if (refused) return { kind: "refused", errno: refused };
    const t0 = performance.now();
    for (;;) {
      const left = waitMs - (performance.now() - t0);
      const got = left > 0 ? await this.#client.receive(left) : undefined;
      if (!got) return { kind: "none" };
      const tag = /^p(\d+):/.exec(new TextDecoder().decode(got.data.subarray(0, 16)));
      if (tag && Number(tag[1]) < k) continue; // a late answer to an earlier probe
      if (equalBytes(got.data, data)) return { kind: "whole", ms: performance.now() - t0 };
      if (got.data.length < n && isPrefix(got.data, data)) {
        return { kind: "truncated", length: got.data.length };
      }
      return { kind: "other", length: got.data.length };
    }
  }
}

/** The result of {@linkcode largestWhole}. */
export interface SizeSearch {
  /** The largest size that came back whole (0: not even 1 byte). */
  largest: number;
  /** What happens one byte above it. */
  above: string;
  /** How many probes it took. */
  probes: number;
  /** The top of the search: the largest datagram the client can send. */
  max: number;
}

/**
 * The largest datagram `client` can send: the UDP payload limit for the target's host, or,
 * for a Unix datagram socket, what the kernel accepts from this socket (its send buffer:
 * Deno cannot raise SO_SNDBUF, so this is `net.core.wmem_default` less the kernel's
 * overhead, 212,960 bytes with the default 212,992), found by sending to a sink of the
 * case's own and bounded at 1 MiB.
 *
 * @example
 * ```ts
 * import type { DgramRig } from "./dgram.ts";
 * import { clientCeiling, openClient } from "./dgram.ts";
 * async function ceiling(rig: DgramRig) {
 *   return await clientCeiling(rig, openClient(rig)); // 65507 over UDP on 127.0.0.1
 * }
 * ```
 */
export async function clientCeiling(rig: DgramRig, client: DgramClient): Promise<number> {
  if (rig.transport === "udp") return maxUdpPayload(rig.ctx.target.host);
  const sink = rig.ctx.track(openDatagram({ transport: "unixgram", path: `${rig.ctx.tmp}/sink` }));
  const fits = async (n: number) => {
    try {
      await client.socket.send(new Uint8Array(n), sink.addr);
    } catch (err) {
      if (errnoCode(err) === "EMSGSIZE") return false;
      throw err;
    }
    await receiveWithin(sink, rig.ctx.timeoutMs, n + 1);
    return true;
  };
  let lo = 1;
  let hi = 1 << 20;
  if (await fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await fits(mid)) lo = mid;
    else hi = mid;
  }
  sink.close();
  return lo;
}

/**
 * The size search of `dgram/N/5`, from one client socket: the largest size the server
 * echoes whole between 1 and what the client can send ({@linkcode clientCeiling}), and what
 * happens one byte above. A truncating server is found in three probes, anything else by a
 * bounded binary search (at most 60 probes). "nothing larger fits in one datagram" is said
 * only when the kernel refused the larger send.
 *
 * @example
 * ```ts
 * import type { DgramRig } from "./dgram.ts";
 * import { largestWhole, openClient } from "./dgram.ts";
 * async function largest(rig: DgramRig) {
 *   const r = await largestWhole(rig, openClient(rig));
 *   console.log(r.largest, r.above);
 * }
 * ```
 */
export async function largestWhole(rig: DgramRig, client: DgramClient): Promise<SizeSearch> {
  const max = await clientCeiling(rig, client);
  const prober = new Prober(rig, client);
  const waitMs = quietMs(rig.ctx.timeoutMs);
  const result = (largest: number, above: string) => ({
    largest,
    above,
    probes: prober.probes,
    max,
  });
  const at = (n: number, ms = waitMs) => prober.probe(n, ms);
  const top = await at(max, rig.ctx.timeoutMs);
  if (top.kind === "whole") {
    const over = await client.trySend(new Uint8Array(max + 1), "one byte over the limit");
    if (over && /\[Errno 90\]/.test(over)) {
      return result(max, "nothing larger fits in one datagram");
    }
    return result(max, over ? `the send was refused: ${over}` : describeProbe(await at(max + 1)));
  }
  if (top.kind === "truncated") {
    // A truncating server shows its buffer: confirm it with two more probes.
    const n = top.length;
    const [whole, over] = [await at(n, rig.ctx.timeoutMs), await at(n + 1)];
    if (whole.kind === "whole" && over.kind === "truncated" && over.length === n) {
      return result(n, `truncated to ${counted(n, "byte")}`);
    }
  }
  const first = await at(1, rig.ctx.timeoutMs);
  if (first.kind !== "whole") return result(0, describeProbe(first));
  // Binary search with short waits (ten round trips of the slowest whole answer seen, at
  // least 30 ms); a "no answer" at the boundary is confirmed with the quiet wait, and if
  // it was only slow, the search goes on above it.
  let slowest = first.ms;
  const fastMs = () => Math.min(waitMs, Math.max(30, 10 * slowest));
  let lo = 1;
  let hi = max;
  while (prober.probes < 60) {
    while (hi - lo > 1 && prober.probes < 60) {
      const mid = Math.floor((lo + hi) / 2);
      const p = await at(mid, fastMs());
      if (p.kind === "whole") {
        lo = mid;
        slowest = Math.max(slowest, p.ms);
      } else hi = mid;
    }
    const edge = hi === max ? top : await at(hi);
    if (edge.kind !== "whole") return result(lo, describeProbe(edge));
    lo = hi;
    hi = max;
  }
  return result(lo, `no stable answer between ${lo} and ${hi} bytes after ${prober.probes} probes`);
}

/**
 * Whether the server answers only its first peer: after `first` was answered, a second
 * client's small datagram gets no answer (or its send is refused: a Unix datagram socket
 * connected to its first peer refuses others with EPERM) while `first` is still answered.
 *
 * @example
 * ```ts
 * import type { DgramClient, DgramRig } from "./dgram.ts";
 * import { answersOnlyFirstPeer } from "./dgram.ts";
 * async function onlyFirst(rig: DgramRig, first: DgramClient) {
 *   return await answersOnlyFirstPeer(rig, first);
 * }
 * ```
 */
export async function answersOnlyFirstPeer(
  rig: DgramRig,
  first: DgramClient,
): Promise<{ only: boolean; second: string }> {
  const ms = quietMs(rig.ctx.timeoutMs);
  const second = new Prober(rig, openClient(rig));
  const seen = await second.probe(16, ms);
  if (seen.kind === "whole") return { only: false, second: "answered" };
  const again = await new Prober(rig, first).probe(16, rig.ctx.timeoutMs);
  return { only: again.kind === "whole", second: describeProbe(seen) };
}

/** The result of {@linkcode zeroThenNext}. */
export interface ZeroThenNext {
  /** An empty answer came. */
  emptyEchoed: boolean;
  /** The answer to the datagram after the empty one, if any came. */
  nextEcho?: Uint8Array;
  /** The datagram sent after the empty one. */
  next: Uint8Array;
  /** The errno line when the kernel refused to send the empty datagram (nothing else is tried). */
  refused?: string;
}

/**
 * Sends a zero-length datagram, then another; reports what came back, in order. With
 * `checkLate`, an empty echo overtaken by the next answer still counts. A refused send of
 * the empty datagram is reported (`refused`), not thrown: INFO cases say what they saw.
 *
 * @example
 * ```ts
 * import type { DgramRig } from "./dgram.ts";
 * import { zeroThenNext } from "./dgram.ts";
 * async function zeroLength(rig: DgramRig) {
 *   return await zeroThenNext(rig, true);
 * }
 * ```
 */
export async function zeroThenNext(rig: DgramRig, checkLate: boolean): Promise<ZeroThenNext> {
  const client = openClient(rig);
  const next = new TextEncoder().encode("the datagram after the empty one");
  const refused = await client.trySend(new Uint8Array(0), "the zero-length datagram");
  if (refused) return { emptyEchoed: false, next, refused };
  await client.send(next, "sending the datagram after the zero-length one");
  let emptyEchoed = false;
  let got = await client.receive(rig.ctx.timeoutMs);
  if (got && got.data.length === 0) {
    emptyEchoed = true;
    got = await client.receive(rig.ctx.timeoutMs);
  }
  if (got && !emptyEchoed && checkLate) {
    const late = await client.receive(settleMs(rig.ctx.timeoutMs));
    if (late && late.data.length === 0) emptyEchoed = true;
  }
  return { emptyEchoed, nextEcho: got?.data, next };
}

/**
 * Sends `data` (longer than `size`) and expects it back truncated to exactly its first
 * `size` bytes: a FAIL names the step and what came instead.
 *
 * @example
 * ```ts
 * import type { DgramClient, DgramRig } from "./dgram.ts";
 * import { expectTruncated } from "./dgram.ts";
 * async function truncated(rig: DgramRig, client: DgramClient) {
 *   await expectTruncated(rig, client, new Uint8Array(5000), 4096, "the 5000-byte datagram");
 * }
 * ```
 */
export async function expectTruncated(
  rig: DgramRig,
  client: DgramClient,
  data: Uint8Array,
  size: number,
  step: string,
): Promise<void> {
  const got = await expectAnswer(rig, client, data, step);
  if (!(got.data.length === size && equalBytes(got.data, data.subarray(0, size)))) {
    throw new Failure(
      `${step}: expected it truncated to the declared ${counted(size, "byte")}, but it ${
        datagramDifference(data, got.data)
      }`,
    );
  }
}

/**
 * Every answer at `client` after a burst of `n`: waits the target's whole wait for each of
 * the first `n`, then briefly for anything more (up to `2n` in all).
 *
 * @example
 * ```ts
 * import type { DgramClient, DgramRig } from "./dgram.ts";
 * import { answersTo } from "./dgram.ts";
 * async function eightBytes(rig: DgramRig, client: DgramClient) {
 *   return await answersTo(rig, client, 8);
 * }
 * ```
 */
export async function answersTo(
  rig: DgramRig,
  client: DgramClient,
  n: number,
): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  while (got.length < 2 * n) {
    const wait = got.length < n ? rig.ctx.timeoutMs : settleMs(rig.ctx.timeoutMs);
    const a = await client.receive(wait);
    if (!a) break;
    got.push(a.data);
  }
  return got;
}
