// The library used from a user's own code run without --unstable-net (no deno.json of
// sockspec's to turn it on): datagram and multicast cases SKIP naming the flag, the stream
// cases still run.
import assert from "node:assert/strict";
import { ROOT, runCommand } from "../testdata/run_cli.ts";

const SCRIPT = `
import { allCases, referenceTargets, runAll } from "${ROOT}mod.ts";
const pick = ["reference-udp", "reference-unixgram", "reference-mcast", "reference-echo-tcp"];
const targets = referenceTargets().filter((t) => pick.includes(t.name));
const ids = ["dgram/udp/1", "dgram/unixgram/1", "mcast/1", "echo/tcp/1"];
const report = await runAll(targets, allCases, { select: (c) => ids.includes(c.id) });
console.log(JSON.stringify(report.targets.flatMap((t) =>
  t.results.map((r) => ({ target: t.name, id: r.id, verdict: r.verdict, message: r.message }))
)));
`;

Deno.test("without --unstable-net, datagram cases SKIP naming the flag", async () => {
  assert.equal(typeof Deno.listenDatagram, "function", "this test itself runs with the flag");
  const dir = await Deno.makeTempDir({ prefix: "sockspec-flag-" });
  try {
    const file = `${dir}/user_code.ts`;
    await Deno.writeTextFile(file, SCRIPT);
    const out = await runCommand(Deno.execPath(), [
      "run",
      "--quiet",
      "--no-config",
      "--allow-all",
      file,
    ], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const results: { target: string; id: string; verdict: string; message: string }[] = JSON
      .parse(out.stdout);
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    assert.deepEqual(Object.keys(byId).sort(), [
      "dgram/udp/1",
      "dgram/unixgram/1",
      "echo/tcp/1",
      "mcast/1",
    ]);
    for (const id of ["dgram/udp/1", "dgram/unixgram/1", "mcast/1"]) {
      assert.equal(byId[id].verdict, "SKIP", `${id}: ${byId[id].message}`);
      assert.match(byId[id].message, /run deno with --unstable-net/);
    }
    assert.equal(byId["echo/tcp/1"].verdict, "PASS", byId["echo/tcp/1"].message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
