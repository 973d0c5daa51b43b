/**
 * Datagram echo client cases (SPEC §4), for `dgram-client` targets over UDP
 * (`client/udp/N`) and Unix datagram sockets (`client/unixgram/N`). sockspec plays the
 * server (src/harness/fake_servers.ts): an echo, or one that never answers.
 *
 * The 65,508-byte case asks the client for a datagram of N bytes through the environment
 * variable `SOCKSPEC_MESSAGE_SIZE=N` (as `dgram/udp/10` does for a server's declared client):
 * a `dgram-client` must send N bytes of anything when it is set.
 *
 * @example
 * ```ts
 * import { dgramClientCases } from "./dgram.ts";
 * for (const c of dgramClientCases("udp")) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import {
  type Case,
  type CaseContext,
  fail,
  Failure,
  type Outcome,
  pass,
  Skip,
} from "../../src/case/case.ts";
import { bytesRepr } from "../../src/python/repr.ts";
import { describeDatagram, maxUdpPayload } from "../../src/net/datagram.ts";
import {
  type DatagramLog,
  type DgramBehaviour,
  type FakeDgramServer,
  startDgramServer,
} from "../../src/harness/fake_servers.ts";
import { match, TUTORIAL_MESSAGE, udpClientTranscript } from "../../src/transcript/transcript.ts";
import { SIZE_ENV } from "../../src/net/datagram.ts";
import {
  awaitClient,
  type ClientRun,
  type ClientWhere,
  describeEnd,
  expectGaveUp,
  expectTranscript,
  outputLines,
  outputTail,
  runClient,
  startClient,
  withClientTails,
} from "./_run.ts";
import { isClientMessage } from "./stream.ts";

/** The datagram transports a client case runs over. */
export type DgramClientTransport = "udp" | "unixgram";

/** How long to wait for a datagram right behind one already seen, in ms. */
const SETTLE_MS = 50;

/**
 * How long to wait for the server to take in what a client sent before it exited, in ms:
 * on loopback a datagram is queued at the server's socket when sendto returns.
 */
const EXITED_SETTLE_MS = 10;

/** The client's transcript lines (SPEC §4); anything else it prints is it saying something. */
const TRANSCRIPT_LINE = /^(sending b.*|waiting to receive|received b.*|closing socket)$/;

function serve(
  ctx: CaseContext,
  t: DgramClientTransport,
  behaviour: DgramBehaviour,
): { server: FakeDgramServer; where: ClientWhere } {
  const bind = t === "udp"
    ? { transport: "udp" as const, hostname: ctx.target.host, port: 0 }
    : { transport: "unixgram" as const, path: `${ctx.tmp}/server.sock` };
  let server: FakeDgramServer;
  try {
    server = startDgramServer({ bind, behaviour });
  } catch (err) {
    throw new Skip(
      `cannot bind ${describeDatagram(bind)} for the client: ${(err as Error).message}`,
    );
  }
  ctx.defer(() => server.close());
  const where = server.address.transport === "udp"
    ? { port: server.address.port }
    : { path: server.address.path };
  return { server, where };
}

/** Records the server's side (the wire timeline) as evidence. */
function record(ctx: CaseContext, server: FakeDgramServer): void {
  for (const d of server.datagrams.slice(0, 8)) {
    ctx.evidence.bytes(`received from ${d.from} at ${d.at} ms`, d.data);
    if (d.answer) ctx.evidence.bytes(`sent back to ${d.from}`, d.answer);
    if (d.answerError) ctx.evidence.note(`answer to ${d.from} failed: ${d.answerError}`);
  }
}

function sizes(server: FakeDgramServer): string {
  return server.datagrams.map((d) => d.data.length).join(", ");
}

/** A fake server for the case, the client run against it to its end, the wire recorded. */
async function runAgainst(
  ctx: CaseContext,
  t: DgramClientTransport,
  behaviour: DgramBehaviour,
): Promise<{ server: FakeDgramServer; where: ClientWhere; run: ClientRun }> {
  const { server, where } = serve(ctx, t, behaviour);
  const run = await runClient(ctx, where);
  record(ctx, server);
  return { server, where, run };
}

/**
 * The datagram client cases for one transport.
 *
 * @example
 * ```ts
 * import { dgramClientCases } from "./dgram.ts";
 * dgramClientCases("unixgram").map((c) => c.id); // ["client/unixgram/1", ...]
 * ```
 */
export function dgramClientCases(t: DgramClientTransport): Case[] {
  const base = { kind: "dgram-client" as const, transport: t };
  const id = (n: number) => `client/${t}/${n}`;
  const cases: Case[] = [
    {
      ...base,
      id: id(1),
      level: "MUST",
      requirement:
        "The client sends the tutorial message as exactly one datagram (one sendto, one datagram).",
      hint: "send the whole message with one sendto: a datagram is never split or merged",
      async run(ctx) {
        const first = await expectOneDatagram(ctx, serve(ctx, t, "echo"));
        return pass(
          `one ${first.data.length}-byte datagram with the message arrived from ${first.from}`,
        );
      },
    },
    {
      ...base,
      id: id(2),
      level: "MUST",
      requirement:
        "The client's transcript matches SPEC §4: `sending b'...'`, `waiting to receive`, `received b'...'` with the echo, `closing socket`, and exit status 0.",
      hint: "print each line as the tutorial does, with Python's repr of the bytes",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "echo");
        const sent = server.datagrams[0]?.data;
        const message = sent && isClientMessage(sent) ? sent : TUTORIAL_MESSAGE;
        expectTranscript(run, match(udpClientTranscript({ message }), run.stdout), "SPEC §4");
        return pass("the transcript matches SPEC §4, exit status 0");
      },
    },
  ];
  if (t === "udp") {
    cases.push({
      ...base,
      id: id(3),
      level: "MUST",
      requirement:
        "Asked for a 65,507-byte datagram (SOCKSPEC_MESSAGE_SIZE) the client sends it whole over IPv4 and exits 0; asked for 65,508 bytes it prints `[Errno 90] Message too long` (or an equivalent naming EMSGSIZE), sends nothing and exits 1 (65,527 and 65,528 over IPv6).",
      hint:
        `send SOCKSPEC_MESSAGE_SIZE bytes when that variable is set, and let sendto's EMSGSIZE show (exit 1) rather than splitting or cutting the message`,
      async run(ctx) {
        const { server, where } = serve(ctx, t, "echo");
        const max = maxUdpPayload(ctx.target.host);
        const family = ctx.target.host.includes(":") ? "IPv6" : "IPv4";
        await expectSentWhole(ctx, server, where, max);
        const line = await expectTooLong(ctx, server, where, max + 1, family);
        return pass(
          `the client sent ${max} bytes whole over ${family} and exited 0; asked for ${
            max + 1
          } it printed ${JSON.stringify(line.trim())} and exited 1`,
          { limit: max },
        );
      },
    }, {
      ...base,
      id: id(4),
      level: "SHOULD",
      requirement:
        "With no answer, the client gives up within its timeout, says so, and exits with a non-zero status (the tutorial's client sets no timeout and waits in recvfrom forever).",
      hint:
        "set a timeout on the socket (sock.settimeout(...)) and on socket.timeout print that no answer came and exit non-zero",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "silent");
        return judgeGiveUp(run, server);
      },
    }, {
      ...base,
      id: id(5),
      level: "INFO",
      requirement:
        "Whether the client takes an answer that comes from another port than the one it sent to (the tutorial's unconnected socket and recvfrom take it; a connected socket drops it).",
      hint:
        "a client that must only trust its server connects its UDP socket (or checks the sender recvfrom returns)",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "other-port");
        return otherPortTaken(run, server);
      },
    }, {
      ...base,
      id: id(6),
      level: "INFO",
      requirement:
        "What the client does with an answer shorter than its message (the echo truncated to 16 bytes): prints it and exits 0, as the tutorial does, or reports the short answer.",
      hint: "a careful client compares the echo with what it sent",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "truncate");
        return shortAnswerTaken(run, server);
      },
    });
  } else {
    cases.push({
      ...base,
      id: id(3),
      level: "MUST",
      requirement:
        "The client binds a path of its own (otherwise the server has no address to answer), gets the echo there, exits 0, and removes that path when done.",
      hint:
        "bind the client socket to a path before sendto, and os.unlink(path) in finally: after closing it",
      async run(ctx) {
        const { server, where, run } = await runAgainst(ctx, t, "echo");
        return expectBoundAndRemoved(run, server, where);
      },
    });
  }
  return cases.map(withClientTails);
}

/**
 * The verifier of `client/udp/1` and `client/unixgram/1`: starts the client, waits for its
 * first datagram (and anything right behind it), and returns that datagram when it is the
 * only one and holds the message.
 */
async function expectOneDatagram(
  ctx: CaseContext,
  { server, where }: { server: FakeDgramServer; where: ClientWhere },
): Promise<DatagramLog> {
  const t0 = performance.now();
  const client = await startClient(ctx, where);
  await server.waitFor((s) => s.datagrams.length > 0 || !client.running, ctx.timeoutMs);
  // anything more it sends comes right behind the first, or before it exits
  await server.waitFor(() => !client.running, SETTLE_MS);
  await server.waitFor(() => false, EXITED_SETTLE_MS);
  record(ctx, server);
  const first = server.datagrams[0];
  if (!first) {
    const run = await awaitClient(ctx, client, 0, t0);
    throw new Failure(
      `no datagram reached ${describeDatagram(server.address)}; the client ${describeEnd(run)}: ${
        outputTail(run)
      }`,
    );
  }
  if (server.datagrams.length > 1) {
    throw new Failure(
      `the client sent ${server.datagrams.length} datagrams (of ${sizes(server)} bytes), not one`,
    );
  }
  if (!isClientMessage(first.data)) {
    throw new Failure(
      `the datagram holds ${first.data.length} bytes ${
        bytesRepr(first.data.subarray(0, 60))
      }, not the ${TUTORIAL_MESSAGE.length}-byte message ${bytesRepr(TUTORIAL_MESSAGE)}`,
    );
  }
  return first;
}

/** Runs the client asked for `size` bytes and waits for what it sent to arrive. */
async function runSized(
  ctx: CaseContext,
  server: FakeDgramServer,
  where: ClientWhere,
  size: number,
): Promise<ClientRun> {
  const run = await runClient(ctx, where, { env: { [SIZE_ENV]: String(size) } });
  await server.waitFor(() => false, run.status ? EXITED_SETTLE_MS : SETTLE_MS);
  return run;
}

/**
 * The verifier of `client/udp/3`'s first half: asked for `max` bytes, the client sends them
 * whole and exits 0.
 */
async function expectSentWhole(
  ctx: CaseContext,
  server: FakeDgramServer,
  where: ClientWhere,
  max: number,
): Promise<void> {
  const ok = await runSized(ctx, server, where, max);
  record(ctx, server);
  if (!server.datagrams.some((d) => d.data.length === max)) {
    throw new Failure(
      `asked for ${max} bytes (${SIZE_ENV}=${max}), the client delivered ${
        server.datagrams.length ? `datagrams of ${sizes(server)} bytes` : "nothing"
      } and ${describeEnd(ok)}: ${outputTail(ok)}`,
    );
  }
  if (!ok.status || ok.status.code !== 0) {
    throw new Failure(
      `the client sent ${max} bytes whole but ${describeEnd(ok)}: ${outputTail(ok)}`,
    );
  }
}

/**
 * The verifier of `client/udp/3`'s second half: asked for `size` bytes, one more than fit
 * in one `family` datagram, the client sends nothing, names EMSGSIZE and exits 1; returns
 * the line that names it.
 */
async function expectTooLong(
  ctx: CaseContext,
  server: FakeDgramServer,
  where: ClientWhere,
  size: number,
  family: string,
): Promise<string> {
  const before = server.datagrams.length;
  const over = await runSized(ctx, server, where, size);
  const late = server.datagrams.slice(before);
  if (late.length > 0) {
    throw new Failure(
      `asked for ${size} bytes, the client sent datagrams of ${
        late.map((d) => d.data.length).join(", ")
      } bytes instead of failing with EMSGSIZE (${size} bytes do not fit in one ${family} datagram)`,
    );
  }
  const line = outputLines(over).find((l) => /\[Errno 90\]|EMSGSIZE|Message too long/.test(l));
  if (!over.status) {
    throw new Failure(
      `asked for ${size} bytes, the client ${describeEnd(over)}: ${outputTail(over)}`,
    );
  }
  if (!line) {
    throw new Failure(
      `asked for ${size} bytes, the client did not name the error ([Errno 90] Message too long, or EMSGSIZE); it ${
        describeEnd(over)
      }: ${outputTail(over)}`,
    );
  }
  if (over.status.code !== 1) {
    throw new Failure(
      `asked for ${size} bytes, the client printed ${JSON.stringify(line.trim())} but ${
        describeEnd(over)
      }, not exit status 1`,
    );
  }
  return line;
}

/** Judges a client that got no answer: it must end in time, non-zero, saying something. */
function judgeGiveUp(run: ClientRun, server: FakeDgramServer): Outcome {
  const sent = server.datagrams.length
    ? `the client sent ${sizes(server)} bytes and no answer came`
    : "no answer came (nothing arrived from the client either)";
  return expectGaveUp(run, sent, {
    transcriptLine: TRANSCRIPT_LINE,
    stillRunning: ", still waiting (no timeout?)",
    asIf: "it had been answered",
  });
}

/** The first datagram the server answered; a FAIL when it answered none. */
function answered(run: ClientRun, server: FakeDgramServer): DatagramLog {
  const d = server.datagrams.find((d) => d.answer);
  if (!d) {
    throw new Failure(
      `no datagram was answered; the client ${describeEnd(run)}: ${outputTail(run)}`,
    );
  }
  return d;
}

/** `client/udp/5` (INFO): whether the client took the echo that came from another port. */
function otherPortTaken(run: ClientRun, server: FakeDgramServer): Outcome {
  const printed = run.stdout.includes(`received ${bytesRepr(answered(run, server).data)}`);
  const otherPort = printed && run.status?.code === 0 ? "accepted" : "ignored";
  return pass(
    otherPort === "accepted"
      ? `the client took the echo from another port and exited 0`
      : `the client did not take the echo from another port: it ${describeEnd(run)}: ${
        outputTail(run)
      }`,
    { otherPort },
  );
}

/** `client/udp/6` (INFO): what the client did with an answer shorter than its message. */
function shortAnswerTaken(run: ClientRun, server: FakeDgramServer): Outcome {
  const answer = answered(run, server).answer!;
  const printed = run.stdout.includes(`received ${bytesRepr(answer)}`);
  const shortAnswer = !run.status
    ? "waited"
    : run.status.code === 0
    ? (printed ? "printed" : "other")
    : "reported";
  return pass(
    `with a ${answer.length}-byte answer the client ${describeEnd(run)}: ${outputTail(run)}`,
    { shortAnswer },
  );
}

/**
 * The verifier of `client/unixgram/3`: the client sent from a path of its own, exited 0,
 * and removed that path.
 */
function expectBoundAndRemoved(
  run: ClientRun,
  server: FakeDgramServer,
  where: ClientWhere,
): Outcome {
  const first = server.datagrams[0];
  if (!first) {
    return fail(
      `no datagram reached ${where.path}; the client ${describeEnd(run)}: ${outputTail(run)}`,
    );
  }
  if (!first.fromPath) {
    return fail(
      `the client sent from an unbound socket (the server saw the sender as ''), so no answer can reach it; it ${
        describeEnd(run)
      }: ${outputTail(run)}`,
    );
  }
  if (!run.status || run.status.code !== 0) {
    return fail(
      `the client bound ${first.fromPath} and ${
        first.answer ? "was sent the echo" : "got no echo"
      }, but ${describeEnd(run)}: ${outputTail(run)}`,
    );
  }
  let left = false;
  try {
    Deno.lstatSync(first.fromPath);
    left = true;
  } catch {
    // removed: as it should be
  }
  if (left) {
    return fail(
      `the client bound ${first.fromPath} and got the echo, but left that node behind when it exited`,
    );
  }
  return pass(
    `the client bound ${first.fromPath}, got the echo there, exited 0 and removed the path`,
  );
}
