/**
 * Stream echo client cases (SPEC §1 and 2), for `stream-client` targets over TCP
 * (`client/tcp/N`) and Unix domain sockets (`client/unix/N`). sockspec plays the server: each
 * case starts one of the fake servers of src/harness/fake_servers.ts (or leaves nothing
 * listening), runs the client against it with `{host}` and `{port}`, or `{path}`, and judges
 * what the server received, what the client printed, its exit status, and whether it
 * ended within the target's `timeoutMs`.
 *
 * Cases 1-6 hold over both transports; 7 (SHOULD) is the early close the tutorial client
 * does not survive; 8 and 9 are the Unix connect failures (`[Errno 2]`, `[Errno 13]`).
 *
 * @example
 * ```ts
 * import { streamClientCases } from "./stream.ts";
 * for (const c of streamClientCases("unix")) console.log(c.id, c.level, c.requirement);
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
} from "../../src/case/case.ts";
import { bytesRepr } from "../../src/python/repr.ts";
import { equalBytes, formatAddress } from "../../src/net/sockets.ts";
import {
  closedPort,
  type ConnectionLog,
  type FakeStreamServer,
  joined,
  staleUnixNode,
  startStreamServer,
  type StreamBehaviour,
  type StreamServerOptions,
} from "../../src/harness/fake_servers.ts";
import {
  match,
  streamClientTranscript,
  TUTORIAL_MESSAGE,
} from "../../src/transcript/transcript.ts";
import {
  awaitClient,
  type ClientRun,
  type ClientWhere,
  describeEnd,
  expectGaveUp,
  expectTranscript,
  neverConnected,
  outputLines,
  outputTail,
  runClient,
  startClient,
  withClientTails,
} from "./_run.ts";

/** The stream transports a client case runs over. */
export type StreamTransport = "tcp" | "unix";

/**
 * The messages a tutorial client may send: SPEC §1's 42-byte message, and the 41-byte
 * variant one post prints (one space after the full stop).
 */
export const CLIENT_MESSAGES: readonly Uint8Array[] = [
  TUTORIAL_MESSAGE,
  new TextEncoder().encode("This is the message. It will be repeated."),
];

/** True when `data` is one of {@linkcode CLIENT_MESSAGES}. */
export function isClientMessage(data: Uint8Array): boolean {
  return CLIENT_MESSAGES.some((m) => equalBytes(m, data));
}

/** How long to wait for anything more once what was expected has arrived, in ms. */
const SETTLE_MS = 30;

/** The pause between two bytes of the 1-byte-at-a-time echo, in ms. */
const DRIP_MS = 1;

/** Starts a fake server for the case (closed after it) and returns where the client goes. */
function serve(
  ctx: CaseContext,
  t: StreamTransport,
  behaviour: StreamBehaviour,
  extra: Partial<StreamServerOptions> = {},
): { server: FakeStreamServer; where: ClientWhere } {
  const listen = t === "tcp"
    ? { transport: "tcp" as const, hostname: ctx.target.host, port: 0 }
    : { transport: "unix" as const, path: `${ctx.tmp}/server.sock` };
  let server: FakeStreamServer;
  try {
    server = startStreamServer({ listen, behaviour, ...extra });
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

/** Records the server's side of the first connection as evidence (the wire timeline). */
function record(ctx: CaseContext, conn: ConnectionLog | undefined): void {
  if (!conn) return;
  for (const r of conn.received) {
    ctx.evidence.bytes(`received from the client at ${r.at} ms`, r.data);
  }
  for (const s of conn.sent) ctx.evidence.bytes(`sent to the client at ${s.at} ms`, s.data);
  if (conn.end) {
    ctx.evidence.note(
      `connection from ${conn.peer} opened at ${conn.openedAt} ms, ended at ${conn.end.at} ms (${
        conn.end.how === "server" ? "sockspec's server closed it" : conn.end.how
      }${conn.end.message ? `: ${conn.end.message}` : ""})`,
    );
  }
}

/** The client's transcript lines (SPEC §1); anything else it prints is it saying something. */
const TRANSCRIPT_LINE = /^(connecting to .*|sending b.*|received b.*|closing socket)$/;

/** A connect error a client must name: the pattern of its line, and how a message names it. */
interface ConnectError {
  want: RegExp;
  text: string;
}

/** The connect errors of cases 6, 8 and 9. */
const CONNECT_ERRORS: Record<"refused" | "noent" | "acces", ConnectError> = {
  refused: {
    want: /\[Errno 111\]|ECONNREFUSED|Connection refused/,
    text: "[Errno 111] Connection refused, or ECONNREFUSED",
  },
  noent: {
    want: /\[Errno 2\]|ENOENT|No such file or directory/,
    text: "[Errno 2] No such file or directory, or ENOENT",
  },
  acces: {
    want: /\[Errno 13\]|EACCES|Permission denied/,
    text: "[Errno 13] Permission denied, or EACCES",
  },
};

const STREAM_HINTS = {
  refused:
    "on a failed connect, let the error show (Python's traceback ends in ConnectionRefusedError: [Errno 111] Connection refused) and exit 1",
};

/**
 * Judges a client run that must fail to connect: it ended within its time, printed a line
 * naming `error`, and exited with status 1.
 */
function connectFailure(run: ClientRun, what: string, error: ConnectError): Outcome {
  if (!run.status) {
    return fail(`${what}: the client ${describeEnd(run)} (it must give up): ${outputTail(run)}`);
  }
  const line = outputLines(run).find((l) => error.want.test(l));
  if (!line) {
    return fail(
      `${what}: the client ${
        describeEnd(run)
      } without naming the error (${error.text}); its output: ${outputTail(run)}`,
    );
  }
  if (run.status.code !== 1) {
    return fail(
      `${what}: the client printed ${JSON.stringify(line.trim())} but ${
        describeEnd(run)
      }, not exit status 1`,
    );
  }
  return pass(`${what}: the client printed ${JSON.stringify(line.trim())} and exited 1`);
}

/** A fake server for the case and the client run against it to its end. */
async function runAgainst(
  ctx: CaseContext,
  t: StreamTransport,
  behaviour: StreamBehaviour,
  extra: Partial<StreamServerOptions> = {},
): Promise<{ server: FakeStreamServer; where: ClientWhere; run: ClientRun }> {
  const { server, where } = serve(ctx, t, behaviour, extra);
  return { server, where, run: await runClient(ctx, where) };
}

/** The server's first connection, recorded as evidence; a FAIL when the client never connected. */
function firstConnection(
  ctx: CaseContext,
  server: FakeStreamServer,
  run: ClientRun,
): ConnectionLog {
  const conn = server.connections[0];
  record(ctx, conn);
  if (!conn) throw neverConnected(server.address, run);
  return conn;
}

/**
 * The stream client cases for one transport.
 *
 * @example
 * ```ts
 * import { streamClientCases } from "./stream.ts";
 * streamClientCases("tcp").map((c) => c.id); // ["client/tcp/1", ..., "client/tcp/7"]
 * ```
 */
export function streamClientCases(t: StreamTransport): Case[] {
  const base = { kind: "stream-client" as const, transport: t };
  const id = (n: number) => `client/${t}/${n}`;
  const cases: Case[] = [
    {
      ...base,
      id: id(1),
      level: "MUST",
      requirement:
        "The client sends the whole tutorial message at once: a server that never answers receives all of it, byte-exact, over one connection.",
      hint:
        "send the message with sendall (not one send, which may write part of it), before reading anything",
      async run(ctx) {
        return await expectWholeMessage(ctx, serve(ctx, t, "silent"));
      },
    },
    {
      ...base,
      id: id(2),
      level: "MUST",
      requirement:
        "The client reassembles an echo that comes back 1 byte at a time: it reads until it has as many bytes as it sent, then exits 0.",
      hint:
        "one recv may return fewer bytes than were sent: loop on recv until amount_received reaches len(message)",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "drip", { dripMs: DRIP_MS });
        await server.waitFor((s) => s.connections[0]?.end !== undefined, SETTLE_MS * 3);
        return expectDripRead(run, firstConnection(ctx, server, run));
      },
    },
    {
      ...base,
      id: id(3),
      level: "MUST",
      requirement:
        "The client stops reading once it has as many bytes as it sent: with the echo complete and the connection still open, it ends within its timeout, exit status 0.",
      hint:
        "do not read until end of stream: an echo server closes only after the client does, so count the bytes and stop at len(message)",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "echo");
        return expectStoppedAtEcho(run, firstConnection(ctx, server, run));
      },
    },
    {
      ...base,
      id: id(4),
      level: "MUST",
      requirement:
        "The client closes its socket once it has the echo: the server sees an orderly end of stream (not a reset, not a connection left open) within the client's timeout.",
      hint:
        "call sock.close() (the tutorial does it in finally:) and do not set SO_LINGER to 0, which turns the close into a reset",
      async run(ctx) {
        return await expectOrderlyClose(ctx, serve(ctx, t, "echo"));
      },
    },
    {
      ...base,
      id: id(5),
      level: "MUST",
      requirement:
        "The client's transcript matches SPEC §1 with its own chunking: `connecting to ...`, `sending b'...'`, one `received b'...'` per recv(16) whose bytes join to the echo, `closing socket`, and exit status 0.",
      hint:
        "print each line as the tutorial does, with Python's repr of the bytes (`received b'This is the mess'`), one line per recv",
      async run(ctx) {
        const { server, where, run } = await runAgainst(ctx, t, "burst");
        record(ctx, server.connections[0]);
        const address = t === "tcp" ? `${ctx.target.host} port ${where.port}` : where.path!;
        const sent = joined(server.connections[0]?.received ?? []);
        const message = isClientMessage(sent) ? sent : TUTORIAL_MESSAGE;
        const chunkSize = ctx.target.properties.chunkSize ?? 16;
        const spec = streamClientTranscript({ address, message, chunkSize });
        const result = expectTranscript(run, match(spec, run.stdout), "SPEC §1", false);
        const received = result.lines.filter((l) => l.text.startsWith("received ")).length;
        return pass(
          `the transcript matches SPEC §1 (connecting to ${address}, ${received} received line(s)), exit status 0`,
        );
      },
    },
    {
      ...base,
      id: id(6),
      level: "MUST",
      requirement: t === "tcp"
        ? "With nothing listening on the port, the client prints `[Errno 111] Connection refused` (or an equivalent naming ECONNREFUSED) and exits 1."
        : "With a stale socket node (nothing listening on it), the client prints `[Errno 111] Connection refused` (or an equivalent naming ECONNREFUSED) and exits 1.",
      hint: STREAM_HINTS.refused,
      async run(ctx) {
        const { where, what } = refusing(ctx, t);
        return connectFailure(await runClient(ctx, where), what, CONNECT_ERRORS.refused);
      },
    },
    {
      ...base,
      id: id(7),
      level: "SHOULD",
      requirement:
        "When the server closes before the whole echo has come back, the client ends within its timeout, says so, and exits with a non-zero status (the tutorial's recv loop never ends: recv returns b'' again and again).",
      hint:
        "treat an empty recv (b'') as the end: the server closed early; print what happened and exit non-zero instead of looping",
      async run(ctx) {
        const { server, run } = await runAgainst(ctx, t, "close-early", { closeAfter: 16 });
        const conn = firstConnection(ctx, server, run);
        const echoed = joined(conn.sent).length;
        const total = joined(conn.received).length;
        const what = `the server echoed ${echoed} of the ${total} bytes and closed the connection`;
        return expectGaveUp(run, what, {
          transcriptLine: TRANSCRIPT_LINE,
          stillRunning: "",
          asIf: "it had the whole echo",
        });
      },
    },
  ];
  if (t === "unix") {
    cases.push({
      ...base,
      id: id(8),
      level: "MUST",
      requirement:
        "With no socket node at the path, the client prints `[Errno 2] No such file or directory` (or an equivalent naming ENOENT) and exits 1.",
      hint: "catch the connect error, print it (`print(msg)`) and exit 1, as the UDS tutorial does",
      async run(ctx) {
        const path = `${ctx.tmp}/no-such.sock`;
        const run = await runClient(ctx, { path });
        return connectFailure(run, `connecting to ${path} (no node there)`, CONNECT_ERRORS.noent);
      },
    }, {
      ...base,
      id: id(9),
      level: "MUST",
      requirement:
        "Without write permission on the socket node, the client prints `[Errno 13] Permission denied` (or an equivalent naming EACCES) and exits 1; as root the client runs without the privilege to override file permissions.",
      hint:
        "catch the connect error, print it and exit 1; do not retry or fall back to another path",
      async run(ctx) {
        // A live server whose node (mode 0500: no write for anyone) denies the client.
        const { server, where } = serve(ctx, t, "echo", { mode: 0o500 });
        const run = await runClient(ctx, where, { unprivileged: true });
        if (server.connections.length > 0) throw new Skip(STILL_PRIVILEGED);
        const what = `connecting to ${where.path} (node mode 0500, the client may not write it)`;
        return connectFailure(run, what, CONNECT_ERRORS.acces);
      },
    });
  }
  return cases.map(withClientTails);
}

/** Why `client/unix/9` cannot judge a client that connected through mode 0500. */
const STILL_PRIVILEGED =
  `the node's mode 0500 did not stop the client (it connected): the client still has the privilege to override file permissions here`;

/** Where nothing listens for case 6 (a closed port, a stale node), and how a message says so. */
function refusing(ctx: CaseContext, t: StreamTransport): { where: ClientWhere; what: string } {
  if (t === "tcp") {
    const port = closedPort(ctx.target.host);
    const address = formatAddress({ transport: "tcp", hostname: ctx.target.host, port });
    return { where: { port }, what: `connecting to ${address} (nothing listening)` };
  }
  const path = `${ctx.tmp}/stale.sock`;
  staleUnixNode(path);
  return { where: { path }, what: `connecting to ${path} (a stale socket node)` };
}

/**
 * The verifier of case 1: starts the client against a server that never answers, waits
 * for the message (or the client's end), and judges that it came whole over one connection.
 */
async function expectWholeMessage(
  ctx: CaseContext,
  { server, where }: { server: FakeStreamServer; where: ClientWhere },
): Promise<Outcome> {
  const t0 = performance.now();
  const client = await startClient(ctx, where);
  const got = () => joined(server.connections[0]?.received ?? []);
  await server.waitFor(
    (s) =>
      isClientMessage(got()) || got().length >= TUTORIAL_MESSAGE.length || !client.running ||
      s.connections[0]?.end !== undefined,
    ctx.timeoutMs,
  );
  await server.waitFor(() => false, SETTLE_MS);
  const conn = server.connections[0];
  record(ctx, conn);
  if (!conn) throw neverConnected(server.address, await awaitClient(ctx, client, 0, t0));
  const data = got();
  if (!isClientMessage(data)) {
    const run = await awaitClient(ctx, client, 0, t0);
    return fail(
      `the server received ${data.length} bytes ${bytesRepr(data.subarray(0, 60))}${
        data.length > 60 ? "..." : ""
      } (the client ${describeEnd(run)}), not the ${TUTORIAL_MESSAGE.length}-byte message ${
        bytesRepr(TUTORIAL_MESSAGE)
      }`,
    );
  }
  if (server.connections.length > 1) {
    return fail(`the client opened ${server.connections.length} connections, not one`);
  }
  return pass(
    `the server received the whole ${data.length}-byte message in ${conn.received.length} read(s), without answering anything`,
  );
}

/** The verifier of case 2: the client read the whole echo sent 1 byte at a time, exit 0. */
function expectDripRead(run: ClientRun, conn: ConnectionLog): Outcome {
  const sent = joined(conn.sent).length;
  const expected = joined(conn.received).length;
  if (expected === 0) {
    return fail(`the client sent nothing; it ${describeEnd(run)}: ${outputTail(run)}`);
  }
  if (sent < expected || (conn.end && conn.end.at < (conn.sent.at(-1)?.at ?? 0))) {
    return fail(
      `the client closed the connection after ${sent} of the ${expected} echoed bytes had been sent (1 byte at a time, ${DRIP_MS} ms apart); it ${
        describeEnd(run)
      }: ${outputTail(run)}`,
    );
  }
  if (!run.status || run.status.code !== 0) {
    return fail(
      `all ${expected} bytes were echoed 1 byte at a time, but the client ${describeEnd(run)}: ${
        outputTail(run)
      }`,
    );
  }
  return pass(
    `the client read all ${expected} bytes of an echo sent 1 byte at a time and exited 0 after ${run.ms} ms`,
  );
}

/** The verifier of case 3: with the echo complete and the connection open, the client ended, exit 0. */
function expectStoppedAtEcho(run: ClientRun, conn: ConnectionLog): Outcome {
  const echoed = joined(conn.sent).length;
  if (!run.status) {
    const echoAt = conn.sent.at(-1)?.at;
    return fail(
      echoAt === undefined
        ? `the client sent nothing the server could echo and ${describeEnd(run)}: ${
          outputTail(run)
        }`
        : `the whole ${echoed}-byte echo had come back at ${echoAt} ms, but the client ${
          describeEnd(run)
        }, ${
          conn.end
            ? "though it had closed the connection"
            : /^closing socket$/m.test(run.stdout)
            ? "the connection still open, though it printed `closing socket`"
            : "the connection still open: it seems to wait for the end of the stream"
        }; its output ends with: ${outputTail(run)}`,
    );
  }
  if (run.status.code !== 0) {
    return fail(
      `with the ${echoed}-byte echo complete, the client ${describeEnd(run)}: ${outputTail(run)}`,
    );
  }
  return pass(
    `the client ended ${run.ms} ms after it started, exit status 0, once it had the ${echoed}-byte echo (the server never closed the connection)`,
  );
}

/**
 * The verifier of case 4: starts the client against an echo, waits for the connection's
 * end, and judges that it was an orderly end of stream.
 */
async function expectOrderlyClose(
  ctx: CaseContext,
  { server, where }: { server: FakeStreamServer; where: ClientWhere },
): Promise<Outcome> {
  const t0 = performance.now();
  const client = await startClient(ctx, where);
  await server.waitFor((s) => s.connections[0]?.end !== undefined, ctx.timeoutMs);
  const run = await awaitClient(ctx, client, 0, t0);
  const conn = server.connections[0];
  record(ctx, conn);
  if (!conn) throw neverConnected(server.address, await awaitClient(ctx, client, 500, t0));
  const echoed = joined(conn.sent).length;
  if (!conn.end) {
    return fail(
      `${echoed} bytes were echoed, but the connection was still open ${ctx.timeoutMs} ms after the client started (the client ${
        run.status ? describeEnd(run) : "was still running"
      }): ${outputTail(run)}`,
    );
  }
  if (conn.end.how !== "eof") {
    return fail(
      `the connection ended with a ${conn.end.how} (${
        conn.end.message ?? "no message"
      }), not an orderly close, after ${echoed} bytes were echoed`,
    );
  }
  return pass(
    `the client closed the connection ${
      Math.round(conn.end.at - (conn.sent.at(-1)?.at ?? conn.openedAt))
    } ms after the last echoed byte (an orderly end of stream)`,
  );
}
