/**
 * Stream echo cases (SPEC §1 and §2), for TCP (`echo/tcp/N`) and Unix domain
 * sockets (`echo/unix/N`). Each case starts a fresh instance of the target, and ends in a
 * verifier of `src/checks/stream.ts` that owns the waiting and the failure sentence.
 *
 * @example
 * ```ts
 * import { streamEchoCases } from "./echo.ts";
 * for (const c of streamEchoCases("unix")) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import {
  type Case,
  type CaseContext,
  fail,
  Failure,
  inFamily,
  pass,
  Skip,
} from "../../src/case/case.ts";
import type { Instance } from "../../src/harness/target.ts";
import { closeQuietly, writeAll } from "../../src/net/sockets.ts";
import {
  expectDuplexEcho,
  expectEcho,
  expectEchoOn,
  expectEchoThenEof,
  expectOwnBytesOnly,
  expectStillServing,
  settle,
  step,
  type StreamTransport,
} from "../../src/checks/stream.ts";
import { abruptClient } from "../../src/checks/reset.ts";
import { ordinal } from "../../src/case/evidence.ts";
import { waitUntil } from "../../src/case/wait.ts";
import {
  line,
  match,
  optional,
  streamServerTranscript,
  type Transcript,
  transcript,
  TUTORIAL_MESSAGE,
} from "../../src/transcript/transcript.ts";

const encoder = new TextEncoder();

/**
 * What a client that leaves without reading sends first: up to this many bytes, or until the
 * server takes no more for {@linkcode STALL_MS} (its buffers and ours are full), so that a
 * backlog is left in the server when the client goes.
 */
const BACKLOG_BYTES = 1 << 20;
/** No progress for this long while writing a backlog means every buffer on the path is full. */
const STALL_MS = 200;

/**
 * The server transcript, allowing one empty connection right after start-up. Readiness
 * normally reads /proc/net and connects to nothing; only a Unix socket node that has shown
 * no listening entry for 500 ms (a server that bound elsewhere and renamed its node into
 * place) is probed with a connection that connects and closes, which SPEC's server prints
 * as `connection from`, `received b''`, `no data from`.
 */
function serverTranscript(message: Uint8Array, chunkSize: number): Transcript {
  const [startingUp, waiting, ...rest] = streamServerTranscript({ message, chunkSize }).items;
  const probe = optional(
    line("connection from {addr:probe}"),
    line("received b''"),
    line("no data from {addr:probe}"),
    line("waiting for a connection"),
  );
  return transcript([startingUp, waiting, probe, ...rest]);
}

/**
 * Waits (bounded) until every connection in a server transcript has ended and the server
 * waits again: the readiness probe's connection included, so lines cannot interleave.
 */
async function transcriptSettled(ctx: CaseContext, server: Instance): Promise<void> {
  await waitUntil(() => {
    if (!server.running) return true;
    const out = server.stdout.text();
    const opened = out.match(/^connection from/gm)?.length ?? 0;
    const ended = out.match(/^no data from/gm)?.length ?? 0;
    return opened === ended && out.endsWith("waiting for a connection\n");
  }, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
}

/** Starts the target, echoes `message` once, stops it, and returns what it printed. */
async function transcriptOfOneEcho(
  ctx: CaseContext,
  t: StreamTransport,
  message: Uint8Array,
): Promise<string> {
  if (ctx.target.transports.length > 1) {
    throw new Skip(
      `the target serves ${ctx.target.transports.join(" and ")} at once, so its transcript ` +
        "interleaves both; declare one transport to check its transcript",
    );
  }
  const server = await ctx.start();
  await transcriptSettled(ctx, server);
  closeQuietly(await expectEcho(ctx, server, t, message));
  await transcriptSettled(ctx, server);
  await server.stop();
  const output = server.stdout.text();
  ctx.evidence.transcript(output);
  return output;
}

/**
 * A client that sends a backlog (see {@linkcode BACKLOG_BYTES}), waits until its echo has
 * begun, and leaves abruptly with the rest unread. Returns what it sent.
 */
async function leaveWithoutReading(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
): Promise<Uint8Array> {
  const client = await step(
    "the 1st client's connect",
    server,
    () => abruptClient(ctx, server.address(t)),
  );
  const backlog = ctx.random.bytes(BACKLOG_BYTES);
  const sent = await step(
    "the 1st client: sending its backlog",
    server,
    () => client.send(backlog, STALL_MS),
  );
  await client.firstByte(ctx.timeoutMs);
  client.reset();
  ctx.evidence.note(
    `the 1st client sent ${sent} bytes, read 1 byte of the echo, and reset the connection`,
  );
  return ctx.evidence.bytes("sent by the 1st client", backlog.subarray(0, sent));
}

/**
 * The stream echo cases for one transport.
 *
 * @example
 * ```ts
 * import { streamEchoCases } from "./echo.ts";
 * streamEchoCases("tcp").map((c) => c.id); // ["echo/tcp/1", ...]
 * ```
 */
export function streamEchoCases(t: StreamTransport): Case[] {
  const base = { kind: "stream-echo" as const, transport: t };
  const id = (n: number) => `echo/${t}/${n}`;
  const title = `Stream echo over ${t === "tcp" ? "TCP" : "a Unix domain socket"}`;
  return inFamily(title, [
    {
      ...base,
      id: id(1),
      level: "MUST",
      requirement: "The tutorial message comes back byte-exact.",
      hint: "echo every byte of every read, the last short read included",
      async run(ctx) {
        const server = await ctx.start();
        await expectEcho(ctx, server, t, TUTORIAL_MESSAGE);
        return pass(`${TUTORIAL_MESSAGE.length} bytes echoed exactly`);
      },
    },
    {
      ...base,
      id: id(2),
      level: "MUST",
      requirement:
        "The echo reassembles to the message whatever the client's read size (16 bytes at a time, and all at once).",
      hint: "send each chunk back in the order it was read, once",
      async run(ctx) {
        const server = await ctx.start();
        for (const readSize of [16, 65536]) {
          closeQuietly(await expectEcho(ctx, server, t, TUTORIAL_MESSAGE, { readSize }));
        }
        return pass("reassembled both with 16-byte reads and with one large read");
      },
    },
    {
      ...base,
      id: id(3),
      level: "MUST",
      requirement: "The echo is binary-safe: all 256 byte values come back unchanged.",
      hint: "treat the data as bytes: no decoding, no newline or NUL handling",
      async run(ctx) {
        const server = await ctx.start();
        const all = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));
        await expectEcho(ctx, server, t, all);
        return pass("all 256 byte values echoed unchanged, in both orders");
      },
    },
    {
      ...base,
      id: id(4),
      level: "MUST",
      long: true,
      requirement:
        "Random bytes streamed with both directions saturated (1 MiB or more, then a 256 KiB burst on each of 5 more connections, the reader pausing until the writer stalls) come back exactly.",
      hint:
        "never block writing one direction while the other is full: poll both, or a thread each",
      async run(ctx) {
        const server = await ctx.start();
        const { bytes, ms, pauses } = await expectDuplexEcho(ctx, server, t);
        ctx.evidence.timing("transferMs", ms);
        return pass(`${bytes} bytes echoed exactly, both directions saturated ${pauses} times`, {
          mibPerSecond: Math.round(bytes / (1 << 20) / (ms / 1000)),
        });
      },
    },
    {
      ...base,
      id: id(5),
      level: "MUST",
      requirement:
        "After the client shuts down its write side, the rest of the echo arrives, then end of stream.",
      hint: "on end of stream, send what is still unsent before closing",
      async run(ctx) {
        const server = await ctx.start();
        const conn = await step(
          "the client's connect",
          server,
          () => ctx.connect(server.address(t)),
        );
        await writeAll(conn, ctx.evidence.sent(TUTORIAL_MESSAGE), ctx.timeoutMs);
        await conn.closeWrite();
        await expectEchoThenEof(ctx, server, conn, TUTORIAL_MESSAGE);
        return pass("the whole echo arrived after the half-close, then end of stream");
      },
    },
    {
      ...base,
      id: id(6),
      level: "MUST",
      requirement: "The server serves the next client after one leaves (three clients in turn).",
      hint: "go back to accept() after a client leaves; do not exit",
      async run(ctx) {
        const server = await ctx.start();
        for (let i = 1; i <= 3; i++) {
          const message = encoder.encode(`client ${i}: ${"x".repeat(20)}`);
          const context = i > 1 ? `after the ${ordinal(i - 1)} client left` : undefined;
          closeQuietly(
            await expectEcho(ctx, server, t, message, { who: `the ${ordinal(i)} client`, context }),
          );
          await settle(server, 20);
        }
        return pass("three clients in turn each got their echo");
      },
    },
    {
      ...base,
      id: id(7),
      level: "MUST",
      requirement:
        "A new connection never receives bytes sent on an earlier one, even when that client left without reading an echo backlog larger than the socket buffers.",
      hint:
        "keep each connection's data in that connection: no buffer, pipe or FIFO shared between them",
      async run(ctx) {
        const server = await ctx.start();
        const earlier = await leaveWithoutReading(ctx, server, t);
        const mine = ctx.evidence.bytes(
          "sent by the 2nd client",
          encoder.encode("second client's own payload"),
        );
        const after = "after the 1st client left without reading its echo";
        const second = await step(
          "the 2nd client's connect",
          server,
          () => ctx.connect(server.address(t)),
          undefined,
          after,
        );
        await step(
          "the 2nd client: sending",
          server,
          () => writeAll(second, mine, ctx.timeoutMs),
          undefined,
          after,
        );
        await expectOwnBytesOnly(ctx, server, second, mine, earlier);
        return pass(
          `the second connection received exactly its own bytes (the first left ${earlier.length} unread)`,
        );
      },
    },
    {
      ...base,
      id: id(8),
      level: "MUST",
      requirement:
        "A client that resets the connection (closes with its echo unread) does not stop the server: the next client is served.",
      hint: "catch ConnectionResetError and BrokenPipeError per connection, then accept the next",
      async run(ctx) {
        const server = await ctx.start();
        await leaveWithoutReading(ctx, server, t);
        await expectStillServing(ctx, server, t, "a client reset its connection", TUTORIAL_MESSAGE);
        return pass("the server survived the reset and served the next client");
      },
    },
    {
      ...base,
      id: id(9),
      level: "SHOULD",
      requirement:
        "Two clients are served at the same time: a second client gets its echo while the first is connected and idle, then the first gets its own.",
      hint:
        "serve each connection in its own thread or process, or multiplex them with select/poll",
      async run(ctx) {
        const server = await ctx.start();
        const first = await step(
          "the 1st client's connect",
          server,
          () => ctx.connect(server.address(t)),
        );
        const who = "the 2nd client, while the 1st stayed connected and idle";
        await expectEcho(ctx, server, t, encoder.encode("second, while the first is idle"), {
          who,
        });
        await expectEchoOn(ctx, server, first, encoder.encode("first, after the second"), {
          who: "the 1st client, after the 2nd was served",
        });
        return pass(
          "a second client was served while the first stayed connected and idle; then the first was",
        );
      },
    },
    {
      ...base,
      id: id(10),
      level: "INFO",
      requirement:
        "The server's read chunk size, from the largest `received` payload in its transcript.",
      hint: "print each read as the tutorial does: received {data!r}",
      needs: { properties: ["transcript"], launch: true },
      async run(ctx) {
        const message = ctx.random.bytes(4096);
        const output = await transcriptOfOneEcho(ctx, t, message);
        const result = match(serverTranscript(message, message.length), output);
        if (!result.ok) {
          throw new Failure(
            `cannot read the chunk size: the transcript does not match SPEC: ${result.message}`,
          );
        }
        const sizes = result.lines.filter((l) => l.pattern === "received {bytes}")
          .map((l) => (l.values[0] as Uint8Array).length);
        const chunkSize = Math.max(...sizes);
        return pass(
          `largest read was ${chunkSize} bytes over ${sizes.length} reads of a ${message.length}-byte message`,
          { chunkSize },
        );
      },
    },
    {
      ...base,
      id: id(11),
      level: "MUST",
      requirement:
        "Where the target prints the tutorial transcript, it matches SPEC §1: lines in order, `received` payloads concatenate to what was sent, each at most the declared chunk size.",
      hint: "print the lines of the transcript in SPEC §1, payloads as bytes repr (b'...')",
      needs: { properties: ["transcript"], launch: true },
      async run(ctx) {
        const output = await transcriptOfOneEcho(ctx, t, TUTORIAL_MESSAGE);
        const chunkSize = ctx.target.properties.chunkSize ?? 16;
        const result = match(serverTranscript(TUTORIAL_MESSAGE, chunkSize), output);
        if (!result.ok) return fail(`transcript does not match SPEC: ${result.message}`);
        return pass("the transcript matches SPEC §1");
      },
    },
  ]);
}

/** Every stream echo case, TCP then UDS. */
export const streamEchoCasesAll: Case[] = [...streamEchoCases("tcp"), ...streamEchoCases("unix")];
