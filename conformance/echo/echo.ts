/**
 * Stream echo cases (SPEC sections 1 and 2), for TCP (`echo/tcp/N`) and Unix domain
 * sockets (`echo/unix/N`). Each case starts a fresh instance of the target.
 *
 * @example
 * ```ts
 * import { streamEchoCases } from "./echo.ts";
 * for (const c of streamEchoCases("unix")) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import { type Case, type CaseContext, fail, Failure, pass, Skip } from "../../src/case/case.ts";
import type { Instance } from "../../src/harness/target.ts";
import { bytesRepr } from "../../src/python/repr.ts";
import {
  closeQuietly,
  concat,
  equalBytes,
  readExactly,
  readSome,
  readUntilEof,
  sleep,
  TimeoutError,
  writeAll,
} from "../../src/net/sockets.ts";
import {
  line,
  match,
  optional,
  streamServerTranscript,
  type Transcript,
  transcript,
  TUTORIAL_MESSAGE,
} from "../../src/transcript/transcript.ts";

type StreamTransport = "tcp" | "unix";

/** Describes where two byte strings first differ, for FAIL messages. */
function difference(sent: Uint8Array, got: Uint8Array): string {
  const n = Math.min(sent.length, got.length);
  let i = 0;
  while (i < n && sent[i] === got[i]) i++;
  if (i === n) return `sent ${sent.length} bytes, got ${got.length}`;
  return `first difference at byte ${i}: sent ${bytesRepr(sent.subarray(i, i + 8))}, got ${
    bytesRepr(got.subarray(i, i + 8))
  }`;
}

/** Sends `data` on a new connection and reads exactly as many bytes back; FAIL on a mismatch. */
async function echoOnce(
  ctx: CaseContext,
  server: Instance,
  t: StreamTransport,
  data: Uint8Array,
  readChunk?: number,
) {
  const conn = await ctx.connect(server.address(t));
  await writeAll(conn, ctx.evidence.sent(data), ctx.timeoutMs);
  let got: Uint8Array;
  if (readChunk) {
    const parts: Uint8Array[] = [];
    let n = 0;
    while (n < data.length) {
      const part = await readSome(conn, ctx.timeoutMs, readChunk);
      if (part === null) {
        throw new Failure(`connection closed after ${n} of ${data.length} echoed bytes`);
      }
      parts.push(part.slice());
      n += part.length;
    }
    got = concat(parts);
  } else {
    got = await readExactly(conn, data.length, ctx.timeoutMs);
  }
  ctx.evidence.received(got);
  if (!equalBytes(data, got)) throw new Failure(`echo differs: ${difference(data, got)}`);
  return conn;
}

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
  const deadline = Date.now() + ctx.timeoutMs;
  while (Date.now() < deadline && server.running) {
    const out = server.stdout.text();
    const opened = out.match(/^connection from/gm)?.length ?? 0;
    const ended = out.match(/^no data from/gm)?.length ?? 0;
    if (opened === ended && out.endsWith("waiting for a connection\n")) return;
    await sleep(10);
  }
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
  closeQuietly(await echoOnce(ctx, server, t, message));
  await transcriptSettled(ctx, server);
  await server.stop();
  const output = server.stdout.text();
  ctx.evidence.transcript(output);
  return output;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
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
  return [
    {
      ...base,
      id: id(1),
      level: "MUST",
      requirement: "The tutorial message comes back byte-exact.",
      async run(ctx) {
        const server = await ctx.start();
        await echoOnce(ctx, server, t, TUTORIAL_MESSAGE);
        return pass(`${TUTORIAL_MESSAGE.length} bytes echoed exactly`);
      },
    },
    {
      ...base,
      id: id(2),
      level: "MUST",
      requirement:
        "The echo reassembles to the message whatever the client's read size (16 bytes at a time, and all at once).",
      async run(ctx) {
        const server = await ctx.start();
        closeQuietly(await echoOnce(ctx, server, t, TUTORIAL_MESSAGE, 16));
        closeQuietly(await echoOnce(ctx, server, t, TUTORIAL_MESSAGE, 65536));
        return pass("reassembled both with 16-byte reads and with one large read");
      },
    },
    {
      ...base,
      id: id(3),
      level: "MUST",
      requirement: "The echo is binary-safe: all 256 byte values come back unchanged.",
      async run(ctx) {
        const server = await ctx.start();
        const all = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));
        await echoOnce(ctx, server, t, all);
        return pass("all 256 byte values echoed unchanged, in both orders");
      },
    },
    {
      ...base,
      id: id(4),
      level: "MUST",
      requirement:
        "A 1 MiB random payload comes back exactly while the client writes and reads at the same time.",
      async run(ctx) {
        const server = await ctx.start();
        const conn = await ctx.connect(server.address(t));
        const data = randomBytes(1 << 20);
        let sent = 0;
        let received = 0;
        const t0 = performance.now();
        const writer = (async () => {
          for (; sent < data.length; sent += 65536) {
            await writeAll(conn, data.subarray(sent, sent + 65536), ctx.timeoutMs);
          }
          sent = data.length;
        })();
        writer.catch(() => {});
        const parts: Uint8Array[] = [];
        try {
          while (received < data.length) {
            const part = await readSome(conn, ctx.timeoutMs);
            if (part === null) {
              throw new Failure(
                `connection closed: sent ${sent} of ${data.length} bytes, received ${received}`,
              );
            }
            parts.push(part.slice());
            received += part.length;
          }
          await writer;
        } catch (err) {
          if (err instanceof TimeoutError) {
            throw new Failure(
              `the echo stalled for ${ctx.timeoutMs} ms: sent ${
                Math.min(sent, data.length)
              } of ${data.length} bytes, received ${received}`,
            );
          }
          throw err;
        }
        const got = concat(parts);
        ctx.evidence.timing("transferMs", performance.now() - t0);
        if (!equalBytes(data, got)) throw new Failure(`echo differs: ${difference(data, got)}`);
        return pass(`${data.length} bytes echoed exactly`, {
          mibPerSecond: Math.round(1000 / (performance.now() - t0)),
        });
      },
    },
    {
      ...base,
      id: id(5),
      level: "MUST",
      requirement:
        "After the client shuts down its write side, the rest of the echo arrives, then end of stream.",
      async run(ctx) {
        const server = await ctx.start();
        const conn = await ctx.connect(server.address(t));
        await writeAll(conn, ctx.evidence.sent(TUTORIAL_MESSAGE), ctx.timeoutMs);
        await conn.closeWrite();
        let got: Uint8Array;
        try {
          got = await readUntilEof(conn, { timeoutMs: ctx.timeoutMs, maxBytes: 1 << 16 });
        } catch (err) {
          if (err instanceof TimeoutError) {
            ctx.evidence.received(err.partial);
            throw new Failure(
              `no end of stream within ${ctx.timeoutMs} ms after shutdown(SHUT_WR); ${err.partial.length} bytes had come back`,
            );
          }
          throw err;
        }
        ctx.evidence.received(got);
        if (!equalBytes(TUTORIAL_MESSAGE, got)) {
          throw new Failure(`after the half-close: ${difference(TUTORIAL_MESSAGE, got)}`);
        }
        return pass("the whole echo arrived after the half-close, then end of stream");
      },
    },
    {
      ...base,
      id: id(6),
      level: "MUST",
      requirement: "The server serves the next client after one leaves (three clients in turn).",
      async run(ctx) {
        const server = await ctx.start();
        for (let i = 1; i <= 3; i++) {
          let conn: Deno.Conn;
          try {
            conn = await echoOnce(
              ctx,
              server,
              t,
              new TextEncoder().encode(`client ${i}: ${"x".repeat(20)}`),
            );
          } catch (err) {
            if (i > 1) {
              throw new Failure(
                `client ${i} was not served after client ${i - 1} left: ${(err as Error).message}`,
              );
            }
            throw err;
          }
          closeQuietly(conn);
          await sleep(20);
        }
        return pass("three clients in turn each got their echo");
      },
    },
    {
      ...base,
      id: id(7),
      level: "MUST",
      requirement:
        "A new connection never receives bytes sent on an earlier one, even by a client that left without reading its echo.",
      async run(ctx) {
        const server = await ctx.start();
        const first = await ctx.connect(server.address(t));
        await writeAll(
          first,
          ctx.evidence.bytes(
            "sent by the first client",
            new TextEncoder().encode("LEFTOVER-BYTES-FROM-THE-FIRST-CLIENT"),
          ),
          ctx.timeoutMs,
        );
        await sleep(50);
        closeQuietly(first);
        await sleep(50);
        const second = await ctx.connect(server.address(t));
        const mine = ctx.evidence.bytes(
          "sent by the second client",
          new TextEncoder().encode("second client's own payload"),
        );
        await writeAll(second, mine, ctx.timeoutMs);
        await second.closeWrite();
        const got = ctx.evidence.bytes(
          "received by the second client",
          await readUntilEof(second, { timeoutMs: ctx.timeoutMs, maxBytes: 1 << 16 }),
        );
        if (!equalBytes(mine, got)) {
          return fail(
            `the second connection received ${
              bytesRepr(got)
            } instead of its own ${mine.length} bytes`,
          );
        }
        return pass("the second connection received exactly its own bytes");
      },
    },
    {
      ...base,
      id: id(8),
      level: "MUST",
      requirement:
        "A client that resets the connection (closes with its echo unread) does not stop the server: the next client is served.",
      async run(ctx) {
        const server = await ctx.start();
        const rude = await ctx.connect(server.address(t));
        try {
          await writeAll(
            rude,
            ctx.evidence.bytes("sent by the resetting client", randomBytes(64 << 10)),
            500,
          );
        } catch {
          // the server may stop reading once its send buffer is full: that is fine
        }
        closeQuietly(rude);
        await sleep(100);
        if (!server.running) {
          throw new Failure(
            `the server exited after a client reset the connection (${server.describe()})`,
          );
        }
        try {
          await echoOnce(ctx, server, t, TUTORIAL_MESSAGE);
        } catch (err) {
          throw new Failure(
            `the next client was not served after a reset: ${(err as Error).message}`,
          );
        }
        return pass("the server survived the reset and served the next client");
      },
    },
    {
      ...base,
      id: id(9),
      level: "SHOULD",
      requirement: "Two clients are served at the same time.",
      async run(ctx) {
        const server = await ctx.start();
        const a = await ctx.connect(server.address(t));
        await writeAll(a, new TextEncoder().encode("first"), ctx.timeoutMs);
        await readExactly(a, 5, ctx.timeoutMs);
        try {
          await echoOnce(
            ctx,
            server,
            t,
            new TextEncoder().encode("second, while the first is still connected"),
          );
        } catch (err) {
          throw new Failure(
            `a second client was not served while the first stayed connected: ${
              (err as Error).message
            }`,
          );
        }
        return pass("a second client was served while the first stayed connected");
      },
    },
    {
      ...base,
      id: id(10),
      level: "INFO",
      requirement:
        "The server's read chunk size, from the largest `received` payload in its transcript.",
      needs: { properties: ["transcript"], launch: true },
      async run(ctx) {
        const message = randomBytes(4096);
        const output = await transcriptOfOneEcho(ctx, t, message);
        const result = match(serverTranscript(message, message.length), output);
        if (!result.ok) {
          throw new Failure(
            `cannot read the chunk size: the transcript does not match SPEC: ${result.message}`,
          );
        }
        const sizes = result.lines.filter((l) => l.pattern === "received {bytes}").map((l) =>
          (l.values[0] as Uint8Array).length
        );
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
        "Where the target prints the tutorial transcript, it matches SPEC: lines in order, `received` payloads concatenate to what was sent, each at most the declared chunk size.",
      needs: { properties: ["transcript"], launch: true },
      async run(ctx) {
        const output = await transcriptOfOneEcho(ctx, t, TUTORIAL_MESSAGE);
        const result = match(
          serverTranscript(TUTORIAL_MESSAGE, ctx.target.properties.chunkSize ?? 16),
          output,
        );
        if (!result.ok) return fail(`transcript does not match SPEC: ${result.message}`);
        return pass("the transcript matches SPEC");
      },
    },
  ];
}

/** Every stream echo case, TCP then UDS. */
export const streamEchoCasesAll: Case[] = [...streamEchoCases("tcp"), ...streamEchoCases("unix")];
