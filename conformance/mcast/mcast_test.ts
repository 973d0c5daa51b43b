import assert from "node:assert/strict";
import { liveNetns, netnsUnavailable } from "../../src/harness/netns.ts";
import { processesSync, readProcSync } from "../../src/net/proc.ts";
import { parseManifest } from "../../src/harness/manifest.ts";
import { referenceTargets } from "../../src/reference/targets.ts";
import { runCase } from "../../src/harness/runner.ts";
import { multicastCases, OBSERVER_PATH } from "./mcast.ts";

Deno.test("multicast cases: titled and hinted; the ones judging the sender need a declared one; the observer compiles", async () => {
  for (const c of multicastCases) {
    assert.equal(c.familyTitle, "Multicast group messages (SPEC §5)", c.id);
    assert.ok((c.hint ?? "").length > 10, `${c.id} has no hint`);
    // separate hosts are what make the checks honest: every case builds its own segment
    assert.deepEqual(
      { root: c.needs?.root, netns: c.needs?.netns, launch: c.needs?.launch },
      { root: true, netns: true, launch: true },
      c.id,
    );
    // a case whose requirement is about "the declared sender" runs only a declared one
    const judgesSender = /declared sender/.test(c.requirement);
    assert.equal(c.needs?.properties?.includes("client") ?? false, judgesSender, c.id);
  }
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
      OBSERVER_PATH,
    ],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});

Deno.test({
  name:
    "the multicast cases run against the reference receiver and leave no namespace or process behind",
  ignore: netnsUnavailable() !== undefined,
  async fn() {
    const before = await liveNetns();
    const target = referenceTargets().find((t) => t.name === "reference-mcast")!;
    for (const c of multicastCases) {
      const r = await runCase(target, c);
      assert.equal(r.verdict, "PASS", `${c.id}: ${r.message}`);
    }
    // (the `cat` that reads /proc for processesSync() is our child while it runs: skip the gone)
    const children = processesSync().filter((p) => p.ppid === Deno.pid && p.state !== "Z");
    const described = children.map((p) =>
      `${p.pid} ${readProcSync(`/proc/${p.pid}/cmdline`).replaceAll("\0", " ")}`
    ).filter((d) => !/^\d+ $/.test(d));
    assert.deepEqual(described, [], "processes left running");
    const left = [...await liveNetns()].filter((ns) => !before.has(ns));
    assert.deepEqual(left, [], "network namespaces left behind");
  },
});

Deno.test("mcast/2 and mcast/3 skip, naming properties.client, when the target declares no sender", async () => {
  const reference = referenceTargets().find((t) => t.name === "reference-mcast")!;
  assert.ok(reference.properties.client, "the reference receiver declares the reference sender");
  const { client: _, ...properties } = reference.properties;
  const target = parseManifest({
    name: "no-sender",
    kind: "multicast",
    transports: ["udp"],
    command: reference.command,
    properties,
  }, "multicast_test.json");
  for (const c of multicastCases.slice(1)) {
    const r = await runCase(target, c);
    assert.equal(r.verdict, "SKIP", `${c.id}: ${r.message}`);
    assert.match(r.message, /properties\.client/);
  }
});
