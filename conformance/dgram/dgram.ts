/**
 * Datagram echo cases (SPEC §4), for UDP over IPv4 or IPv6 (`dgram/udp/N`; the family
 * follows the target's host) and Unix datagram sockets (`dgram/unixgram/N`), from one table
 * of transports. Each case starts a fresh instance of the target and talks to it from
 * sockets of its own (UDP on the target's host, or Unix sockets bound in the case's temp
 * dir); the verifiers of src/checks/dgram.ts own the waiting and the failure sentences.
 *
 * Waits are short where silence is the expected answer (`quietMs`). The size search
 * (`N/5`) probes from one client socket, so a server that answers only its first peer is
 * measured, and then says so (`answersOnlyFirstPeer`).
 *
 * UDP only: `dgram/udp/10` judges the target's declared client (`properties.client`;
 * `{host}` and `{port}` name where to send, and `SOCKSPEC_MESSAGE_SIZE=N` asks for one
 * datagram of N bytes) and SKIPs without one. Unix only: `dgram/unixgram/11` (datagrams
 * from an unbound sender) and `dgram/unixgram/12` (a client bound to a path of its own; it
 * was `dgram/unixgram/10` before; see docs/case-ids.md).
 *
 * @example
 * ```ts
 * import { dgramCases } from "./dgram.ts";
 * for (const c of dgramCases("udp")) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import { type Case, fail, inFamily, pass, Skip } from "../../src/case/case.ts";
import {
  answersOnlyFirstPeer,
  answersTo,
  clientCeiling,
  datagramDifference,
  type DgramTransport,
  expectDatagramEcho,
  expectTruncated,
  largestWhole,
  openClient,
  settleMs,
  startDgram,
  tagged,
  zeroThenNext,
} from "../../src/checks/dgram.ts";
import { describeRun, outputTail } from "../../src/checks/run.ts";
import { waitUntil } from "../../src/case/wait.ts";
import { equalBytes } from "../../src/net/sockets.ts";
import {
  describeDatagram,
  maxUdpPayload,
  openDatagram,
  UDP_MAX_IPV4,
} from "../../src/net/datagram.ts";
import { match, TUTORIAL_MESSAGE, udpClientTranscript } from "../../src/transcript/transcript.ts";
import {
  burst,
  clientProgram,
  clientRun,
  describeSearch,
  expectRefusedOverLimit,
  expectWholeAtLimit,
  finalTranscript,
  judgeBurst,
  runClient,
  serverTranscript,
  threeClients,
  udpSink,
} from "./_dgram.ts";

export type { DgramTransport } from "../../src/checks/dgram.ts";

/** What differs between the transports: the family's title and the search's ceiling. */
const TRANSPORTS: Record<DgramTransport, { title: string; ceiling: string }> = {
  udp: {
    title: "Datagram echo over UDP (SPEC §4)",
    ceiling: "65,507 bytes (65,527 over IPv6)",
  },
  unixgram: {
    title: "Datagram echo over Unix datagram sockets (SPEC §4)",
    ceiling: "the largest datagram the client's socket can send (its send buffer)",
  },
};

/** The long datagram of the truncation case: the UDP limit (IPv4's over Unix sockets). */
function longest(host: string, t: DgramTransport): number {
  return t === "udp" ? maxUdpPayload(host) : UDP_MAX_IPV4;
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
  const cases: Case[] = [{
    ...base,
    id: id(1),
    level: "MUST",
    requirement:
      "A datagram is echoed to its sender, content exact (the tutorial message, then all 256 byte values), from the server's own address.",
    hint: "answer with sendto(data, address) on the socket that received it, bytes unchanged",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const client = openClient(rig);
      const all = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));
      await expectDatagramEcho(rig, client, TUTORIAL_MESSAGE, "the tutorial message", {
        fromServer: true,
      });
      await expectDatagramEcho(rig, client, all, "the 512 bytes of all byte values", {
        fromServer: true,
      });
      const n = TUTORIAL_MESSAGE.length;
      return pass(`${n} and 512 bytes echoed exactly from ${describeDatagram(rig.to)}`);
    },
  }, {
    ...base,
    id: id(2),
    level: "MUST",
    requirement:
      "Boundaries are kept: a burst of 8 datagrams of different sizes, sent without waiting, gets 8 answers of the same sizes and contents.",
    hint: "answer each datagram with one datagram: never join, split or hold datagrams back",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const sent = burst(ctx);
      const client = openClient(rig);
      for (const [i, d] of sent.entries()) await client.send(d, `the burst's datagram ${i + 1}`);
      const got = await answersTo(rig, client, sent.length);
      const { wrong, inOrder, observed } = judgeBurst(sent, got);
      if (wrong) return fail(`the burst of ${sent.length}: ${wrong}`, observed);
      const order = inOrder ? ", in order" : " (reordered)";
      return pass(`8 datagrams, 8 answers of the same sizes${order}`, observed);
    },
  }, {
    ...base,
    id: id(3),
    level: "MUST",
    requirement:
      "Answers go to the right sender: three clients interleaving their datagrams each get exactly their own back.",
    hint: "answer to the address recvfrom() gave for this datagram; never connect() to one peer",
    async run(ctx) {
      await threeClients(await startDgram(ctx, t));
      return pass("3 clients × 3 rounds, each answer reached its own sender, nothing extra");
    },
  }, {
    ...base,
    id: id(4),
    level: "MUST",
    requirement:
      "Datagrams up to the target's declared buffer size come back whole (exactly the buffer size, one byte less, half, and 1 byte).",
    needs: { properties: ["bufferSize"] },
    hint: "receive with recvfrom(bufferSize) or more: a smaller buffer truncates",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const size = ctx.target.properties.bufferSize!;
      const client = openClient(rig);
      const limit = await clientCeiling(rig, client);
      if (size > limit) throw new Skip(`the declared bufferSize ${size} is over ${limit}`);
      const all = [...new Set([size, Math.max(1, size - 1), Math.max(1, size >> 1), 1])];
      for (const n of all) {
        await expectDatagramEcho(
          rig,
          client,
          tagged(n, `whole ${n}`),
          `the ${n}-byte datagram`,
        );
      }
      return pass(`${all.join(", ")} bytes all came back whole`);
    },
  }, {
    ...base,
    id: id(5),
    level: "INFO",
    requirement:
      `The largest datagram the target echoes whole to one client, searched between 1 byte and ${
        TRANSPORTS[t].ceiling
      }, what happens to one byte more, and whether the server answers only its first peer.`,
    hint: "the size the server receives with is the largest it can echo whole",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const client = openClient(rig);
      const t0 = performance.now();
      const r = await largestWhole(rig, client);
      ctx.evidence.timing("searchMs", performance.now() - t0);
      const peer = await answersOnlyFirstPeer(rig, client);
      return pass(describeSearch(r, peer, client, ctx.target.properties.bufferSize), {
        largestWhole: r.largest,
        above: r.above,
        answersOnlyFirstPeer: peer.only,
      });
    },
  }, {
    ...base,
    id: id(6),
    level: "MUST",
    requirement:
      "Where a buffer size is declared, a longer datagram comes back truncated to exactly that size (the rest is lost), and the next datagram comes back whole.",
    needs: { properties: ["bufferSize"] },
    hint: "receive with recvfrom(bufferSize) exactly; never deliver the rest of a datagram later",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const size = ctx.target.properties.bufferSize!;
      const max = longest(ctx.target.host, t);
      if (size >= max) throw new Skip(`the declared bufferSize ${size} leaves nothing to truncate`);
      const client = openClient(rig);
      for (const n of [...new Set([size + 1, max])]) {
        await expectTruncated(rig, client, tagged(n, `long ${n}`), size, `the ${n}-byte datagram`);
      }
      const after = tagged(Math.min(100, size), "after");
      await expectDatagramEcho(rig, client, after, "the datagram after the long ones");
      return pass(`${size + 1} and ${max} bytes came back as exactly ${size}; the next whole`);
    },
  }, {
    ...base,
    id: id(7),
    level: "INFO",
    requirement: "Whether a zero-length datagram is echoed or ignored.",
    hint: 'declare zeroLength as the server behaves: "echo" or "ignore"',
    async run(ctx) {
      const r = await zeroThenNext(await startDgram(ctx, t), true);
      if (r.refused) {
        return pass(`the zero-length datagram could not be sent: ${r.refused}`, {
          zeroLength: null,
        });
      }
      const zeroLength = r.emptyEchoed ? "echo" : "ignore";
      const declared = ctx.target.properties.zeroLength;
      const message = r.emptyEchoed
        ? "a zero-length datagram is echoed (an empty answer)"
        : "a zero-length datagram gets no answer";
      if (declared && declared !== zeroLength) {
        return fail(`${message}, but the target declares zeroLength "${declared}"`, { zeroLength });
      }
      const next = r.nextEcho ? "" : "; nothing answered the next datagram either";
      return pass(`${message}${next}`, { zeroLength });
    },
  }, {
    ...base,
    id: id(8),
    level: "MUST",
    requirement: "After a zero-length datagram the server still answers the next datagram.",
    hint: "an empty datagram is a datagram, not the end of anything: go on receiving",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const r = await zeroThenNext(rig, false);
      if (r.refused) return fail(`sending the zero-length datagram failed: ${r.refused}`);
      const step = "the datagram sent after a zero-length one";
      if (!r.nextEcho) {
        return fail(
          `${step}: expected its echo, got no answer within ${ctx.timeoutMs} ms`,
        );
      }
      if (!equalBytes(r.nextEcho, r.next)) {
        return fail(`${step} ${datagramDifference(r.next, r.nextEcho)}`);
      }
      return pass(
        `the next datagram came back whole (the zero-length one was ${
          r.emptyEchoed ? "echoed" : "ignored"
        })`,
      );
    },
  }, {
    ...base,
    id: id(9),
    level: "MUST",
    requirement:
      "Where the target prints the tutorial transcript, it matches SPEC §4: waiting, `received N bytes from ADDR`, the data, `sent N bytes back to ADDR` for each datagram.",
    needs: { properties: ["transcript"], launch: true },
    hint:
      "print the tutorial's lines: 'received {} bytes from {}', the data, 'sent {} bytes back to {}'",
    async run(ctx) {
      const rig = await startDgram(ctx, t);
      const client = openClient(rig);
      const datagrams = [TUTORIAL_MESSAGE, new TextEncoder().encode("second\x00\xff")];
      for (const [i, d] of datagrams.entries()) {
        await expectDatagramEcho(rig, client, d, `datagram ${i + 1}`);
      }
      const output = await finalTranscript(rig, datagrams.length);
      const result = match(serverTranscript(t, datagrams), output);
      if (!result.ok) return fail(`transcript does not match SPEC: ${result.message}`);
      return pass("the transcript matches SPEC §4");
    },
  }];
  return [...cases, ...(t === "udp" ? [udpClientLimit] : unixOnly)];
}

const udpClientLimit: Case = {
  kind: "dgram-echo",
  transport: "udp",
  id: "dgram/udp/10",
  level: "MUST",
  requirement:
    "The declared client sends a 65,507-byte datagram whole over IPv4 and exits 0, and asked for 65,508 bytes prints `[Errno 90] Message too long` and exits 1 (65,527 and 65,528 over IPv6).",
  needs: { properties: ["client"] },
  hint: "send the message in one sendto(); on OSError print it and exit 1; never split it",
  async run(ctx) {
    const max = maxUdpPayload(ctx.target.host);
    // The client talks to a sink the case owns, so what it sends is seen exactly.
    const sink = udpSink(ctx);
    const ok = await clientRun(ctx, sink, max);
    expectWholeAtLimit(ok, max);
    expectRefusedOverLimit(await clientRun(ctx, sink, max + 1), max + 1);
    return pass(
      `${ok.who} sent ${max} bytes whole and exited 0; asked for ${
        max + 1
      } it printed "[Errno 90] Message too long" and exited 1`,
      { limit: max },
    );
  },
};

const unixOnly: Case[] = [{
  kind: "dgram-echo",
  transport: "unixgram",
  id: "dgram/unixgram/11",
  level: "MUST",
  requirement:
    "Datagrams from a socket that did not bind a path (the server has no address to answer) do not stop the server: it goes on answering the next, bound client.",
  hint: "when recvfrom() gives no address, do not answer (or catch the error): never die of it",
  async run(ctx) {
    const rig = await startDgram(ctx, "unixgram");
    // The case's own unbound socket: it can send, but nobody can answer it.
    const unbound = openClient(rig, openDatagram({ transport: "unixgram" }));
    await unbound.send(TUTORIAL_MESSAGE, "the 1st datagram from an unbound socket");
    const second = new TextEncoder().encode("second, also unbound");
    await unbound.send(
      second,
      "after 1 datagram from an unbound socket, the server no longer receives",
    );
    const settle = { timeoutMs: settleMs(ctx.timeoutMs), signal: ctx.signal };
    await waitUntil(() => !rig.server.running, settle);
    const step = "after 2 datagrams from an unbound socket, the server gave a bound client no echo";
    await expectDatagramEcho(rig, openClient(rig), TUTORIAL_MESSAGE, step);
    return pass("after 2 datagrams from an unbound socket, the server still echoed a bound client");
  },
}, {
  kind: "dgram-echo",
  transport: "unixgram",
  id: "dgram/unixgram/12",
  level: "MUST",
  requirement:
    "A client that bound a path of its own gets the echo there: the client program prints the tutorial's client transcript and exits 0.",
  hint: "answer to the sender's own path, as recvfrom() gave it",
  async run(ctx) {
    const rig = await startDgram(ctx, "unixgram");
    const c = clientProgram(ctx, rig.to, { tmp: `${ctx.tmp}/client` });
    const r = await runClient(ctx, c);
    ctx.evidence.transcript(r.stdout);
    if (r.code !== 0) {
      return fail(
        `${c.who} (bound to its own path) ${describeRun(r)}: ${outputTail(r)}`,
      );
    }
    const result = match(udpClientTranscript(), r.stdout);
    if (!result.ok) return fail(`${c.who}'s transcript does not match SPEC: ${result.message}`);
    return pass(`${c.who} bound its own path and received the echo`);
  },
}];

/** Every datagram echo case: UDP, then Unix datagram, each family titled. */
export const dgramCasesAll: Case[] = [
  ...inFamily(TRANSPORTS.udp.title, dgramCases("udp")),
  ...inFamily(TRANSPORTS.unixgram.title, dgramCases("unixgram")),
];
