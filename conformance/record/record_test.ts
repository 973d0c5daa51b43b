import assert from "node:assert/strict";
import { parseManifest } from "../../src/harness/manifest.ts";
import { runCase } from "../../src/harness/runner.ts";
import { serveRecords } from "../../src/reference/record/server.ts";
import { recordCases } from "./record.ts";
import { familyOf } from "../../src/case/case.ts";

const cases = recordCases("tcp");

Deno.test("record cases: unique ids, one titled family per transport, a hint on every case", () => {
  for (const t of ["tcp", "unix"] as const) {
    const all = recordCases(t);
    const ids = all.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids}`);
    for (const c of all) {
      assert.equal(familyOf(c.id), `record/${t}`, `${c.id} is not in the record/${t} family`);
      assert.ok(c.familyTitle, `${c.id} has no family title`);
      assert.equal(c.familyTitle, all[0].familyTitle, `${c.id}: one title per family`);
      assert.ok(c.hint && c.hint.length < 120, `${c.id}: a short hint for its FAIL`);
      assert.equal(c.transport, t);
      assert.equal(c.kind, "record");
    }
  }
  assert.notEqual(recordCases("tcp")[0].familyTitle, recordCases("unix")[0].familyTitle);
});

Deno.test("record cases: SKIP or ERROR, saying why, when nothing can be observed or the format is unusable", async () => {
  const manifest = (properties: Record<string, unknown>) =>
    parseManifest({
      name: "never-started",
      kind: "record",
      transports: ["tcp"],
      attach: { port: 9 },
      properties,
    }, "/x/m.json");
  const none = await runCase(manifest({ transcript: true }), cases[0]);
  assert.equal(none.verdict, "SKIP");
  assert.match(none.message, /declare properties\.reply/);
  const small = await runCase(manifest({ reply: true, format: "HH" }), cases[0]);
  assert.equal(small.verdict, "SKIP");
  assert.match(small.message, /'HH' cannot hold the tutorial's values/);
  const bad = await runCase(manifest({ reply: true, format: "I 2 s" }), cases[0]);
  assert.equal(bad.verdict, "ERROR");
  assert.match(bad.message, /\/x\/m\.json: properties\.format 'I 2 s' is not a struct format/);
});

Deno.test("record cases: an attached reply-only server is checked through its replies", async () => {
  const server = await serveRecords({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    reply: true,
    log: () => {},
  });
  try {
    const target = parseManifest({
      name: "attached",
      kind: "record",
      transports: ["tcp"],
      attach: { port: (server.addr as Deno.NetAddr).port },
      properties: { reply: true },
      timeoutMs: 2000,
    }, "/x/attached.json");
    const verdicts = [];
    for (const c of cases) {
      const r = await runCase(target, c);
      verdicts.push(`${c.id} ${r.verdict}`);
      if (c.id.endsWith("/5")) {
        assert.deepEqual(r.observed, { byteOrder: "little", format: "I 2s f" });
      }
    }
    assert.deepEqual(verdicts, [
      "record/tcp/1 PASS",
      "record/tcp/2 PASS",
      "record/tcp/3 PASS",
      "record/tcp/4 SKIP",
      "record/tcp/5 PASS",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("record cases: an attached server that decodes big-endian fails the value cases", async () => {
  const server = await serveRecords({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    format: ">I 2s 2x f",
    reply: true,
    log: () => {},
  });
  try {
    const target = parseManifest({
      name: "attached-big",
      kind: "record",
      transports: ["tcp"],
      attach: { port: (server.addr as Deno.NetAddr).port },
      properties: { reply: true },
      timeoutMs: 2000,
    }, "/x/attached-big.json");
    const one = await runCase(target, cases[0]);
    assert.equal(one.verdict, "FAIL");
    assert.match(
      one.message,
      /the reply's values are \[16777216,\{"bytes":"6162"\},-428181504\]/,
    );
    const info = await runCase(target, cases[4]);
    assert.equal(info.observed.byteOrder, "big");
  } finally {
    await server.close();
  }
});

Deno.test("record/*/3: a server that dies on a short record is explained the same way when the next connect is refused", async () => {
  // It stops listening before it dies, so the case's next client is always refused (under
  // load the tutorial server's exit can beat that connect, which then read only "refused").
  const script = [
    "import socket, struct, sys",
    "s = socket.socket(socket.AF_UNIX if sys.argv[1] == 'unix' else socket.AF_INET)",
    "s.bind(sys.argv[2] if sys.argv[1] == 'unix' else ('127.0.0.1', int(sys.argv[2])))",
    "s.listen(1)",
    "print('waiting for a connection', flush=True)",
    "c, _ = s.accept()",
    "s.close()",
    "struct.unpack('I 2s f', c.recv(12))",
  ].join("\n");
  for (const t of ["tcp", "unix"] as const) {
    const target = parseManifest({
      name: `dies-closed-${t}`,
      kind: "record",
      transports: [t],
      command: ["python3", "-c", script, t, t === "unix" ? "{path}" : "{port}"],
      ready: { kind: "stdout", pattern: "^waiting for a connection$" },
      properties: { format: "I 2s f", transcript: true },
      timeoutMs: 1000,
    }, `/x/dies-closed-${t}.json`);
    const r = await runCase(target, recordCases(t)[2]);
    assert.equal(r.verdict, "FAIL", r.message);
    assert.match(r.message, /^after a short record \(4 of 12 bytes, then close\), the next client/);
    assert.match(r.message, /refused/);
    assert.match(r.message, /the server exited with code 1/);
    assert.match(
      r.message,
      /its stderr ends with: struct\.error: unpack requires a buffer of 12 bytes/,
    );
  }
});
