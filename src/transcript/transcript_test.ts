import assert from "node:assert/strict";
import { bytesRepr } from "../python/repr.ts";
import {
  chunks,
  interleave,
  line,
  literal,
  match,
  type MatchFail,
  type MatchOk,
  multicastReceiverTranscript,
  multicastSenderTranscript,
  oneOf,
  optional,
  socketpairTranscript,
  streamClientTranscript,
  streamServerTranscript,
  structClientTranscript,
  structServerTranscript,
  type Transcript,
  transcript,
  TUTORIAL_MESSAGE,
  udpClientTranscript,
  udpServerTranscript,
} from "./transcript.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (...lines: string[]) => lines.map((l) => l + "\n").join("");

function ok(spec: Transcript, output: string | Record<string, string>): MatchOk {
  const result = match(spec, output);
  if (!result.ok) assert.fail(`expected a match, got: ${result.message}`);
  return result;
}

function fail(spec: Transcript, output: string | Record<string, string>): MatchFail {
  const result = match(spec, output);
  if (result.ok) assert.fail(`expected no match for ${JSON.stringify(output)}`);
  return result;
}

const one = (pattern: string) => transcript([line(pattern)]);

Deno.test("line: {bytes} decodes Python bytes literals in both quote styles", () => {
  const spec = one("got {bytes}");
  const cases: [string, number[]][] = [
    [String.raw`got b'ping'`, [...enc("ping")]],
    [String.raw`got b''`, []],
    [String.raw`got b'\x00\xff\x7f\n\t\r\\'`, [0, 255, 127, 10, 9, 13, 92]],
    [String.raw`got b'it\'s "q"'`, [...enc(`it's "q"`)]],
    [String.raw`got b"it's"`, [...enc("it's")]],
    [String.raw`got b"say \"hi\""`, [...enc('say "hi"')]],
    [String.raw`got b'\0\101'`, [0, 65]],
  ];
  for (const [input, bytes] of cases) {
    assert.deepEqual(ok(spec, input).lines[0].values, [Uint8Array.from(bytes)], input);
  }
  for (
    const bad of ["got 'ping'", "got b'unterminated", `got b'it's'`, "got b'tab\there'", "got"]
  ) {
    fail(spec, bad);
  }
});

Deno.test("line: {bytes} round-trips every byte value through bytesRepr", () => {
  const spec = one("{bytes}");
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const data of [all, enc(`'"`), enc("'"), enc('"'), all.subarray(0x20, 0x30)]) {
    assert.deepEqual(ok(spec, bytesRepr(data)).lines[0].values, [data], bytesRepr(data));
  }
});

Deno.test("line: {addr} takes IPv4 and IPv6 tuples, Unix paths and the empty address", () => {
  const spec = one("connection from {addr}");
  const cases: [string, unknown][] = [
    ["connection from ('127.0.0.1', 65141)", { host: "127.0.0.1", port: 65141 }],
    ["connection from ('::1', 10000, 0, 0)", { host: "::1", port: 10000, flowinfo: 0, scopeId: 0 }],
    ["connection from './uds_socket'", { path: "./uds_socket" }],
    [`connection from "/tmp/it's"`, { path: "/tmp/it's" }],
    ["connection from ''", { path: "" }],
    ["connection from ", { path: "" }],
  ];
  for (const [input, addr] of cases) assert.deepEqual(ok(spec, input).lines[0].values, [addr]);
  for (
    const bad of ["connection from 127.0.0.1:5", "connection from ('127.0.0.1')", "connection from"]
  ) {
    fail(spec, bad);
  }
});

Deno.test("line: {int}, {hex}, {str}; other text is literal, {{ and }} are braces", () => {
  assert.deepEqual(ok(one("n={int} h={hex} s={str}"), "n=-42 h=cafe s=a b. c").lines[0].values, [
    -42,
    "cafe",
    "a b. c",
  ]);
  fail(one("n={int}"), "n=4x");
  fail(one("h={hex}"), "h=xyz");
  const regexy = one("a.b (c) [d]* +? ^$ | \\ {{x}}");
  ok(regexy, "a.b (c) [d]* +? ^$ | \\ {x}");
  fail(regexy, "aXb (c) [d]* +? ^$ | \\ {x}");
  ok(one("sending " + literal("b'{json}'")), "sending b'{json}'");
  assert.throws(() => line("got {byte}"), /bad placeholder "\{byte\}".*use \{bytes\}/);
  assert.throws(() => line("got {bytes"), /bad placeholder/);
  assert.throws(() => line("got {bytes:}"), /bad placeholder/);
});

Deno.test("match: ordered lines; reports the first misfit, an early end, extra lines", () => {
  const spec = transcript([line("one"), line("two {int}"), line("three")]);
  ok(spec, "one\ntwo 2\nthree\n");
  ok(spec, "one\r\ntwo 2\r\nthree"); // CRLF and no final newline
  assert.deepEqual(fail(spec, "one\nthree\n"), {
    ok: false,
    lineNo: 2,
    line: "three",
    expected: ['"two {int}"'],
    message: 'line 2: "three" does not fit; expected "two {int}"',
  });
  const early = fail(spec, "one\ntwo 2\n");
  assert.equal(early.message, 'expected "three" but output ended after line 2');
  assert.equal(early.line, null);
  assert.equal(early.lineNo, 3);
  assert.equal(fail(spec, "").message, 'expected "one" but the output is empty');
  assert.equal(
    fail(spec, "one\ntwo 2\nthree\nfour\n").message,
    'line 4: "four" does not fit; expected the end of the output',
  );
});

Deno.test("match: optional lines and oneOf variants", () => {
  const spec = transcript([
    optional(line("starting up on {str}")),
    line("waiting"),
    oneOf([line("closing socket")], [line("closing"), line("closed")]),
    optional(line("bye"), line("really")),
  ]);
  ok(spec, text("starting up on x", "waiting", "closing socket"));
  ok(spec, text("waiting", "closing", "closed", "bye", "really"));
  assert.equal(
    fail(spec, text("waiting", "closing", "bye")).message,
    'line 3: "bye" does not fit; expected "closed"',
  );
  assert.equal(
    fail(spec, text("garbage")).message,
    'line 1: "garbage" does not fit; expected one of: "starting up on {str}", "waiting"',
  );
  assert.equal(
    fail(spec, text("waiting", "closing socket", "bye")).message,
    'expected "really" but output ended after line 3',
  );
});

Deno.test("match: named placeholders bind, and must agree when repeated", () => {
  const spec = transcript([line("from {addr:peer}"), line("to {addr:peer}")]);
  assert.deepEqual(ok(spec, text("from ('1.2.3.4', 5)", "to ('1.2.3.4', 5)")).captures, {
    peer: { host: "1.2.3.4", port: 5 },
  });
  ok(spec, text("from ", "to ''")); // the same empty Unix address, printed two ways
  assert.equal(
    fail(spec, text("from ('1.2.3.4', 5)", "to ('1.2.3.4', 6)")).message,
    `line 2: "to ('1.2.3.4', 6)" does not fit; expected "to {addr:peer}" ` +
      `({peer} is ('1.2.3.4', 6) here but was ('1.2.3.4', 5) on line 1)`,
  );
});

const SERVER_GROUP = () => [line("received {bytes}"), line("sending data back to the client")];

Deno.test("chunks: payloads must concatenate to the message, each at most maxChunk", () => {
  const message = TUTORIAL_MESSAGE;
  const spec = transcript([chunks(SERVER_GROUP(), { message, maxChunk: 16 }), line("end")]);
  const run = (parts: string[]) =>
    parts.flatMap((p) => [`received ${bytesRepr(enc(p))}`, "sending data back to the client"])
      .concat("end").join("\n");
  ok(spec, run(["This is the mess", "age.  It will be", " repeated."]));
  ok(spec, run([...new TextDecoder().decode(message)])); // 42 one-byte chunks
  ok(
    spec,
    run(
      ["This is the message.  It", " will be repeated."].flatMap((
        s,
      ) => [s.slice(0, 9), s.slice(9)]),
    ),
  );
  assert.equal(
    fail(spec, run(["This is the mess", "agX.  It will be", " repeated."])).message,
    `line 3: "received b'agX.  It will be'" does not fit; expected "received {bytes}" ` +
      `(chunk 2 b'agX.  It will be' does not continue the message: expected b'age.  It will be'; ` +
      "16 of 42 bytes so far)",
  );
  assert.match(
    fail(spec, run(["This is the message.  It will", " be repeated."])).message,
    /^line 1: .*chunk 1 b'This is the message. {2}It will' has 29 bytes, more than the chunk size 16;/,
  );
  assert.match(
    fail(spec, run(["This is the mess", "age.  It will be", "", " repeated."])).message,
    /^line 5: "received b''" does not fit; .*chunk 3 is empty, but the message is incomplete; 32 of 42/,
  );
  assert.match(
    fail(spec, run(["This is the mess", "age.  It will be"])).message,
    /^line 5: "end" does not fit; expected "received \{bytes\}"$/,
  );
  assert.match(
    fail(spec, run(["This is the mess", "age.  It will be", " repeated.", "x"])).message,
    /^line 7: "received b'x'" does not fit; expected "end"$/,
  );
  const half = fail(spec, "received b'This is the mess'\n");
  assert.equal(
    half.message,
    'expected "sending data back to the client" but output ended after line 1',
  );
  ok(transcript([chunks([line("r {bytes}")], { message: new Uint8Array(0), maxChunk: 4 })]), "");
  assert.throws(() => chunks([line("no payload")], { message, maxChunk: 16 }), /\{bytes\}/);
});

Deno.test("interleave: socketpair lines in both documented orders, message before response", () => {
  const spec = socketpairTranscript();
  const P = "in parent, sending message";
  const C = "in child, waiting for message";
  const M = "message from parent: b'ping'";
  const R = "response from child: b'pong'";
  const parentFirst = ok(spec, text(P, C, M, R));
  assert.deepEqual(parentFirst.lines.map((l) => l.process), ["parent", "child", "child", "parent"]);
  assert.deepEqual(parentFirst.lines.map((l) => l.name), [
    "parent-start",
    "child-start",
    "message",
    "response",
  ]);
  assert.deepEqual(parentFirst.buffering, { parent: "as printed", child: "as printed" });
  ok(spec, text(C, P, M, R));
  const notYet = `not yet: "${R}" (parent), after "${M}"`;
  const why = "; no stdout buffering of parent and child explains it";
  assert.equal(
    fail(spec, text(P, C, "garbage", M, R)).message,
    `line 3: "garbage" does not fit; expected "${M}" (child); ${notYet}${why}`,
  );
  // The response before the message, with the child's lines apart: no buffering explains it.
  for (const order of [text(P, C, R, M), text(C, P, R, M)]) {
    const responseFirst = fail(spec, order);
    assert.equal(
      responseFirst.message,
      `line 3: "${R}" does not fit; expected "${M}" (child); ${notYet}${why}`,
    );
    assert.deepEqual(responseFirst.expected, [`"${M}" (child)`]);
  }
  assert.equal(
    fail(spec, text(P, C, R)).message,
    `line 3: "${R}" does not fit; expected "${M}" (child); ${notYet}${why}`,
  );
  assert.equal(
    fail(spec, text(P, C, M)).message,
    `expected "${R}" (parent) but output ended after line 3`,
  );
  assert.match(fail(spec, text(P, P)).message, new RegExp(`^line 2: "${P}" does not fit`));
  assert.equal(
    fail(spec, text(P, C, M, R, R)).message,
    `line 5: "${R}" does not fit; expected the end of the output`,
  );
  assert.equal(
    fail(spec, text(P, C, "message from parent: b'pin'", R)).lineNo,
    3,
  );
  assert.equal(
    fail(spec, "").message,
    `expected one of: "${P}" (parent), "${C}" (child) but the output is empty`,
  );
});

Deno.test("interleave with buffering 'any': block-buffered and split outputs of a correct program fit", () => {
  const spec = socketpairTranscript();
  const P = "in parent, sending message";
  const C = "in child, waiting for message";
  const M = "message from parent: b'ping'";
  const R = "response from child: b'pong'";
  // PyMOTW's Python 2 order: the parent's block at exit, after the child's lines.
  assert.deepEqual(ok(spec, text(C, M, P, R)).buffering, {
    parent: "at exit",
    child: "as printed",
  });
  // Both block-buffered: either block first.
  assert.ok(ok(spec, text(P, R, C, M)).buffering);
  // python3 -u: print() writes the text and the newline apart; the other line lands between.
  const split = ok(spec, `${P}${C}\n\n${M}\n${R}\n`);
  assert.equal(split.split, true);
  assert.deepEqual(split.lines.map((l) => [l.name, l.lineNo]), [
    ["parent-start", 2],
    ["child-start", 1],
    ["message", 3],
    ["response", 4],
  ]);
  ok(spec, `${C}${P}\n\n${M}${R}\n`.replace(`${M}${R}`, `${M}\n${R}`));
  // ... but never the message before the parent's start line is complete, when the parent
  // writes as it prints and the child's lines are apart.
  fail(spec, `${P.slice(0, 9)}${C}\n${M}\n${P.slice(9)}\n${R}\n`);
  // a child block with another line inside is no block
  fail(spec, text(C, R, M, P));
  // a wrong payload is still wrong; a last line without its newline is a line, as elsewhere
  fail(spec, text(C, M, P, "response from child: b'pongg'"));
  ok(spec, `${text(P, C, M)}${R}`);
  fail(spec, `${text(P, C)}${M}${R}\n`);
  assert.throws(
    () => interleave({ a: [line("x {int}")] }, { buffering: "any" }),
    /literal lines only/,
  );
});

Deno.test("interleave: separate per-process outputs check each process's order", () => {
  const spec = socketpairTranscript();
  const result = ok(spec, {
    parent: text("in parent, sending message", "response from child: b'pong'"),
    child: text("in child, waiting for message", "message from parent: b'ping'"),
  });
  assert.equal(result.lines.length, 4);
  const bad = fail(spec, {
    parent: text("in parent, sending message", "response from child: b'pong'"),
    child: text("message from parent: b'ping'"),
  });
  assert.equal(bad.process, "child");
  assert.equal(
    bad.message,
    `child: line 1: "message from parent: b'ping'" does not fit; expected "in child, waiting for message"`,
  );
  assert.match(
    fail(spec, { parent: "in parent, sending message\n", child: "" }).message,
    /^parent: expected/,
  );
  assert.throws(() => match(one("x"), { a: "x" }), /single interleave/);
  assert.throws(() => match(spec, { parent: "", child: "", other: "" }), /unknown process other/);
});

Deno.test("interleave: constraints across processes and nested items", () => {
  const spec = transcript([
    line("start"),
    interleave({
      a: [line("a1", { name: "a1" }), optional(line("a-opt")), line("a2 {int}", { name: "a2" })],
      b: [line("b1", { name: "b1" }), line("b2", { name: "b2" })],
    }, { before: [["a1", "b2"], ["b1", "a2"]] }),
    line("end"),
  ]);
  ok(spec, text("start", "a1", "b1", "a2 1", "b2", "end"));
  ok(spec, text("start", "b1", "a1", "a-opt", "b2", "a2 1", "end"));
  assert.match(
    fail(spec, text("start", "b1", "b2")).message,
    /line 3: "b2" does not fit; expected "a1" \(a\)/,
  );
  assert.match(fail(spec, text("start", "a1", "b1", "end")).message, /line 4: "end" does not fit/);
  assert.throws(
    () => interleave({ a: [line("x")] }, { before: [["x", "y"]] }),
    /no line has that name/,
  );
});

Deno.test("ready-made: stream echo server over TCP and UDS, with chunk sizes and clients", () => {
  const tcp = text(
    "starting up on localhost port 10000",
    "waiting for a connection",
    "connection from ('127.0.0.1', 65141)",
    "received b'This is the mess'",
    "sending data back to the client",
    "received b'age.  It will be'",
    "sending data back to the client",
    "received b' repeated.'",
    "sending data back to the client",
    "received b''",
    "no data from ('127.0.0.1', 65141)",
    "waiting for a connection",
  );
  assert.deepEqual(ok(streamServerTranscript({ address: "localhost port 10000" }), tcp).captures, {
    peer1: { host: "127.0.0.1", port: 65141 },
  });
  ok(streamServerTranscript(), tcp);
  assert.match(
    fail(streamServerTranscript({ address: "./uds_socket" }), tcp).message,
    /^line 1: .* expected "starting up on .\/uds_socket"$/,
  );
  const uds = tcp.replace("localhost port 10000", "./uds_socket").replaceAll(
    "('127.0.0.1', 65141)",
    "",
  );
  ok(streamServerTranscript({ address: "./uds_socket" }), uds);
  ok(streamServerTranscript({ address: "./uds_socket" }), uds.replaceAll("from \n", "from ''\n"));
  assert.match(
    fail(streamServerTranscript({ chunkSize: 6 }), tcp).message,
    /more than the chunk size 6/,
  );
  const twice = tcp + tcp.split("\n").slice(2).join("\n").replaceAll("65141", "65142");
  assert.deepEqual(ok(streamServerTranscript({ connections: 2 }), twice).captures, {
    peer1: { host: "127.0.0.1", port: 65141 },
    peer2: { host: "127.0.0.1", port: 65142 },
  });
  assert.match(fail(streamServerTranscript(), twice).message, /^line 13: .* expected the end/);
});

Deno.test("ready-made: stream echo client, 42- and 41-byte messages", () => {
  const client = (m: string, parts: string[]) =>
    text(
      "connecting to localhost port 10000",
      `sending b'${m}'`,
      ...parts.map((p) => `received b'${p}'`),
      "closing socket",
    );
  const m42 = "This is the message.  It will be repeated.";
  ok(
    streamClientTranscript({ address: "localhost port 10000" }),
    client(m42, ["This is the mess", "age.  It will be", " repeated."]),
  );
  const m41 = "This is the message. It will be repeated.";
  ok(
    streamClientTranscript({ message: enc(m41) }),
    client(m41, ["This is the mess", "age. It will be ", "repeated."]),
  );
  assert.match(
    fail(
      streamClientTranscript(),
      client(m41, ["This is the mess", "age. It will be ", "repeated."]),
    ).message,
    /^line 2: "sending b'This is the message. It will be repeated.'" does not fit; expected "sending b'This is the message. {2}It/,
  );
});

Deno.test("ready-made: UDP echo server and client", () => {
  const server = text(
    "starting up on localhost port 10000",
    "",
    "waiting to receive message",
    "received 42 bytes from ('127.0.0.1', 57870)",
    "b'This is the message.  It will be repeated.'",
    "sent 42 bytes back to ('127.0.0.1', 57870)",
    "",
    "waiting to receive message",
  );
  ok(udpServerTranscript(), server);
  ok(udpServerTranscript(), server.split("\n").slice(1).join("\n")); // no start-up line
  assert.match(
    fail(
      udpServerTranscript(),
      server.replace("back to ('127.0.0.1', 57870)", "back to ('127.0.0.1', 1)"),
    ).message,
    /line 6: .*\{sender1\} is \('127.0.0.1', 1\) here but was \('127.0.0.1', 57870\) on line 4/,
  );
  const empty = text(
    "",
    "waiting to receive message",
    "received 0 bytes from ('127.0.0.1', 5)",
    "b''",
    "",
    "waiting to receive message",
  );
  ok(udpServerTranscript({ datagrams: [new Uint8Array(0)] }), empty);
  assert.match(
    fail(
      udpServerTranscript({ datagrams: [new Uint8Array(0)] }),
      empty.replace("b''\n", "b''\nsent 0 bytes back to ('127.0.0.1', 5)\n"),
    ).message,
    /^line 5: "sent 0 bytes/,
  );
  const client = text(
    "sending b'This is the message.  It will be repeated.'",
    "waiting to receive",
    "received b'This is the message.  It will be repeated.'",
    "closing socket",
  );
  ok(udpClientTranscript(), client);
  assert.match(
    fail(udpClientTranscript(), client.replace("received b'This", "received b'That")).message,
    /^line 3:/,
  );
});

Deno.test("ready-made: multicast sender and receiver", () => {
  const sender = (acks: number) =>
    text(
      "sending b'very important data'",
      ...Array.from(
        { length: acks },
        (_, i) => ["waiting to receive", `received b'ack' from ('192.168.1.${i + 10}', 10000)`],
      ).flat(),
      "waiting to receive",
      "timed out, no more responses",
      "closing socket",
    );
  ok(multicastSenderTranscript(), sender(1));
  ok(multicastSenderTranscript({ acks: 2 }), sender(2));
  ok(
    multicastSenderTranscript({ acks: 2 }),
    sender(2).replaceAll("waiting to receive\n", "").replace(/^sending.*\n/, ""),
  );
  assert.match(
    fail(multicastSenderTranscript({ acks: 2 }), sender(1)).message,
    /^line 5: "timed out, no more responses" does not fit; expected "received b'ack' from/,
  );
  assert.match(
    fail(multicastSenderTranscript(), sender(1).replace(", 10000)", ", 9999)")).message,
    /^line 3:/,
  );
  const receiver = text(
    "",
    "waiting to receive message",
    "received 19 bytes from ('192.168.1.17', 57870)",
    "b'very important data'",
    "sending acknowledgement to ('192.168.1.17', 57870)",
    "",
    "waiting to receive message",
  );
  ok(multicastReceiverTranscript(), receiver);
  assert.match(
    fail(multicastReceiverTranscript(), receiver.replace("19 bytes", "18 bytes")).message,
    /^line 3:/,
  );
});

Deno.test("ready-made: struct client and server", () => {
  const client = text(
    "values = (1, b'ab', 2.7)",
    "sending b'0100000061620000cdcc2c40'",
    "closing socket",
  );
  ok(structClientTranscript(), client);
  assert.match(
    fail(structClientTranscript({ packedHex: "000000016162cdcc402ccccd" }), client).message,
    /^line 2:/,
  );
  const server = text(
    "starting up on localhost port 10000",
    "",
    "waiting for a connection",
    "received b'0100000061620000cdcc2c40'",
    "unpacked: (1, b'ab', 2.700000047683716)",
    "",
    "waiting for a connection",
  );
  ok(structServerTranscript(), server);
  assert.match(
    fail(structServerTranscript(), server.replace("2.700000047683716", "2.7")).message,
    /^line 5:/,
  );
});
