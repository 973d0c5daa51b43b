import assert from "node:assert/strict";
import { OBSERVER_PATH } from "../../../conformance/mcast/mcast.ts";
import { createLan, type Netns, netnsUnavailable } from "../../harness/netns.ts";
import { readProcSync } from "../../net/proc.ts";
import { PROGRAMS_PATH } from "../targets.ts";
import {
  match,
  multicastReceiverTranscript,
  multicastSenderTranscript,
} from "../../transcript/transcript.ts";
import { isMulticastGroup } from "./multicast.ts";

const why = netnsUnavailable();
const ignore = why !== undefined;
if (why) console.log(`multicast tests skipped: ${why}`);

Deno.test("isMulticastGroup: 224.0.0.0/4 only", () => {
  for (const a of ["224.3.29.71", "224.0.0.1", "239.255.255.255"]) {
    assert.ok(isMulticastGroup(a), a);
  }
  for (const a of ["223.255.255.255", "240.0.0.1", "10.0.0.1", "224.3.29", "224.3.29.256", "::1"]) {
    assert.ok(!isMulticastGroup(a), a);
  }
});

function cli(ns: Netns, args: string[], piped = false): Deno.ChildProcess {
  const argv = ns.wrap([
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--unstable-net",
    "--allow-net",
    PROGRAMS_PATH,
    ...args,
  ]);
  return new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: piped ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function joined(pid: number): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (readProcSync(`/proc/${pid}/net/igmp`).includes("471D03E0")) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`pid ${pid} did not join 224.3.29.71 within 5 s`);
}

Deno.test({
  name: "reference receivers on two hosts each ack once; the sender prints SPEC's transcript",
  ignore,
  async fn() {
    const lan = await createLan(["a", "b"], { label: "test-mcast" });
    const receivers = [lan.hosts.a, lan.hosts.b].map((h) =>
      cli(h.ns, ["serve", "mcast", "--port", "10000", "--transcript"])
    );
    try {
      await Promise.all(receivers.map((r) => joined(r.pid)));
      const sender = await cli(lan.hub.ns, ["client", "mcast"]).output();
      const out = new TextDecoder().decode(sender.stdout);
      assert.equal(sender.code, 0, out + new TextDecoder().decode(sender.stderr));
      const result = match(multicastSenderTranscript({ acks: 2 }), out);
      assert.ok(result.ok, result.ok ? "" : `${result.message}\n${out}`);
      const from = [...out.matchAll(/^received b'ack' from \('([\d.]+)', 10000\)$/gm)]
        .map((m) => m[1]).sort();
      assert.deepEqual(from, ["10.203.0.2", "10.203.0.3"]);
    } finally {
      for (const r of receivers) r.kill("SIGTERM");
    }
    for (const r of receivers) {
      const done = await r.output();
      const text = new TextDecoder().decode(done.stdout);
      const result = match(multicastReceiverTranscript(), text);
      assert.ok(result.ok, result.ok ? "" : `${result.message}\n${text}`);
      assert.equal(done.code, 0);
    }
    await lan.close();
  },
});

Deno.test({
  name: "the sender's TTL is what reaches the wire (1 by default, --ttl 5 gives 5)",
  ignore,
  async fn() {
    const lan = await createLan(["c"], { label: "test-ttl" });
    try {
      for (const [args, ttl] of [[[], 1], [["--ttl", "5"], 5]] as const) {
        const argv = lan.hosts.c.ns.wrap(["python3", OBSERVER_PATH, "eth0", "10000", "10"]);
        const observer = new Deno.Command(argv[0], {
          args: argv.slice(1),
          stdin: "piped",
          stdout: "piped",
        }).spawn();
        const reader = observer.stdout.getReader();
        let text = new TextDecoder().decode((await reader.read()).value);
        assert.match(text, /^ready/);
        const sender = await cli(lan.hub.ns, ["client", "mcast", "--timeout", "50", ...args])
          .output();
        assert.equal(sender.code, 0);
        await observer.stdin.close();
        for (let c = await reader.read(); !c.done; c = await reader.read()) {
          text += new TextDecoder().decode(c.value);
        }
        await observer.status;
        const packets = text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
          .filter((v) => v.packet?.dst === "224.3.29.71").map((v) => v.packet);
        assert.equal(packets.length, 1, text);
        assert.equal(packets[0].ttl, ttl);
        assert.equal(packets[0].length, 19);
      }
    } finally {
      await lan.close();
    }
  },
});
