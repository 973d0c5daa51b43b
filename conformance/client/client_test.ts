import assert from "node:assert/strict";
import {
  clientCasesAll,
  dgramClientCases,
  recordClientCases,
  streamClientCases,
} from "./client.ts";
import { allCases } from "../mod.ts";
import { parseManifest, type Target } from "../../src/harness/manifest.ts";
import { applicableCases, runCase } from "../../src/harness/runner.ts";
import { referenceTargets } from "../../src/reference/targets.ts";

/** Pids whose command line contains `text` (from ps: Deno reads /proc/PID only with -A). */
async function pidsRunning(text: string): Promise<number[]> {
  const out = await new Deno.Command("ps", { args: ["-eo", "pid=,args="], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.includes(text))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const byId = (id: string) => clientCasesAll.find((c) => c.id === id)!;

function shClient(kind: string, transport: string, script: string, timeoutMs = 800): Target {
  return parseManifest({
    name: "sh-client",
    kind,
    transports: [transport],
    command: ["bash", "-c", script, "bash", transport === "unix" ? "{path}" : "{port}"],
    timeoutMs,
    killGraceMs: 200,
  }, "/x/sh-client.json");
}

Deno.test("client cases: ids, levels, kinds and a hint on each", () => {
  assert.deepEqual(streamClientCases("tcp").map((c) => `${c.id} ${c.level}`), [
    "client/tcp/1 MUST",
    "client/tcp/2 MUST",
    "client/tcp/3 MUST",
    "client/tcp/4 MUST",
    "client/tcp/5 MUST",
    "client/tcp/6 MUST",
    "client/tcp/7 SHOULD",
  ]);
  assert.deepEqual(streamClientCases("unix").map((c) => c.id).slice(7), [
    "client/unix/8",
    "client/unix/9",
  ]);
  assert.deepEqual(dgramClientCases("udp").map((c) => `${c.id} ${c.level}`), [
    "client/udp/1 MUST",
    "client/udp/2 MUST",
    "client/udp/3 MUST",
    "client/udp/4 SHOULD",
    "client/udp/5 INFO",
    "client/udp/6 INFO",
  ]);
  assert.deepEqual(dgramClientCases("unixgram").map((c) => c.id), [
    "client/unixgram/1",
    "client/unixgram/2",
    "client/unixgram/3",
  ]);
  assert.deepEqual(recordClientCases.map((c) => c.id), ["client/record/1", "client/record/2"]);
  for (const c of clientCasesAll) {
    assert.ok(c.kind.endsWith("-client"), c.id);
    assert.ok(c.hint && c.hint.length > 10, `${c.id} has a hint`);
    assert.ok(allCases.includes(c), `${c.id} is in allCases`);
  }
});

Deno.test("client cases apply to client targets only, by kind and transport", () => {
  const [tcp] = referenceTargets().filter((t) => t.name === "reference-client-echo-tcp");
  assert.deepEqual(
    applicableCases(tcp, allCases).map((c) => c.id),
    streamClientCases("tcp").map((c) => c.id),
  );
  const [record] = referenceTargets().filter((t) => t.name === "reference-client-record-unix");
  assert.deepEqual(applicableCases(record, allCases).map((c) => c.id), [
    "client/record/1",
    "client/record/2",
  ]);
  const [server] = referenceTargets().filter((t) => t.name === "reference-echo-tcp");
  assert.ok(!applicableCases(server, allCases).some((c) => c.id.startsWith("client/")));
  assert.equal(tcp.ready.kind, "none", "a client target needs no readiness wait");
});

Deno.test("client cases: a client target without a command is an ERROR naming it; a placeholder it has no value for is a manifest error naming the field", async () => {
  const attached = parseManifest({
    name: "attached-client",
    kind: "stream-client",
    transports: ["tcp"],
    attach: { port: 9 },
  }, "/x/attached.json");
  const r1 = await runCase(attached, byId("client/tcp/6"));
  assert.equal(r1.verdict, "ERROR");
  assert.match(
    r1.message,
    /has no command: sockspec must start a client itself \(\/x\/attached\.json\)/,
  );
  assert.throws(
    () =>
      parseManifest({
        name: "tcp-with-path",
        kind: "stream-client",
        transports: ["tcp"],
        command: ["sh", "-c", "true", "{path}"],
      }, "/x/wrong.json"),
    /\/x\/wrong\.json: field 'command\[3\]': \{path\} has no value/,
  );
  const two = parseManifest({
    name: "two-transports",
    kind: "stream-client",
    transports: ["tcp", "unix"],
    command: ["sh", "-c", "true"],
  }, "/x/two.json");
  const r3 = await runCase(two, byId("client/unix/8"));
  assert.equal(r3.verdict, "ERROR");
  assert.match(r3.message, /lists 2 transports \(tcp, unix\); a client manifest lists exactly one/);
});

Deno.test("client cases: a client that never ends is judged within its timeout, its endless output summarised, and torn down with what it started", async () => {
  // The tutorial's early-close defect, in sh: a loop printing received b'' forever, plus a
  // child of its own that ignores SIGTERM.
  const marker = `sleep 47.${Math.floor(Math.random() * 1000)}`;
  const target = shClient(
    "stream-client",
    "tcp",
    `(trap '' TERM; ${marker}) & exec 3<>/dev/tcp/127.0.0.1/$1; printf 'This is the message.  It will be repeated.' >&3; while :; do echo "received b''"; done`,
  );
  const t0 = performance.now();
  const r = await runCase(target, byId("client/tcp/7"));
  const ms = performance.now() - t0;
  assert.equal(r.verdict, "FAIL", r.message);
  assert.match(
    r.message,
    /the client was still running after \d+ ms; its output ends with: received b'' \(×\d+\+?\)/,
  );
  assert.ok(ms < 800 + 2500, `judged in ${Math.round(ms)} ms`);
  assert.deepEqual(await pidsRunning(marker), [], "nothing the client started is left running");
});

Deno.test("client cases: connect failures need the errno named and exit status 1", async () => {
  const quiet = shClient("stream-client", "tcp", "echo 'could not connect'; exit 1");
  const r1 = await runCase(quiet, byId("client/tcp/6"));
  assert.equal(r1.verdict, "FAIL");
  assert.match(
    r1.message,
    /without naming the error \(\[Errno 111\] Connection refused, or ECONNREFUSED\); its output: could not connect/,
  );
  const two = shClient(
    "stream-client",
    "unix",
    "echo '[Errno 2] No such file or directory'; exit 2",
  );
  const r2 = await runCase(two, byId("client/unix/8"));
  assert.equal(r2.verdict, "FAIL");
  assert.match(
    r2.message,
    /printed "\[Errno 2\] No such file or directory" but exited with code 2/,
  );
  const ok = shClient("stream-client", "unix", "echo 'ENOENT: no such file'; exit 1");
  assert.equal((await runCase(ok, byId("client/unix/8"))).verdict, "PASS");
});
