import assert from "node:assert/strict";
import { processesSync } from "../net/proc.ts";
import {
  createLan,
  createNetns,
  netnsMembers,
  netnsUnavailable,
  runBounded,
  withNetns,
} from "./netns.ts";

const why = netnsUnavailable();
const ignore = why !== undefined;
if (why) console.log(`netns tests skipped: ${why}`);

Deno.test("runBounded reports code and output, and kills what outlives its timeout", async () => {
  const ok = await runBounded(["sh", "-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 5000 });
  assert.equal(ok.code, 3);
  assert.equal(ok.stdout, "out\n");
  assert.equal(ok.stderr, "err\n");
  assert.equal(ok.timedOut, false);
  const slow = await runBounded(["sleep", "5"], { timeoutMs: 100 });
  assert.equal(slow.timedOut, true);
  assert.equal(slow.code, null);
  assert.ok(slow.durationMs < 2000, `took ${slow.durationMs} ms`);
  const fed = await runBounded(["cat"], { timeoutMs: 5000, stdin: "fed" });
  assert.equal(fed.stdout, "fed");
  await assert.rejects(
    runBounded(["sockspec-no-such-command"], { timeoutMs: 1000 }),
    Deno.errors.NotFound,
  );
});

/** Live processes whose session is `sid`, or whose pid is in `pids`. */
function alive(sid: number, pids: number[] = []): number[] {
  return processesSync().filter((p) =>
    p.state !== "Z" && (p.session === sid || pids.includes(p.pid))
  )
    .map((p) => p.pid);
}

Deno.test("runBounded on timeout kills the grandchildren too and returns in bounded time", async () => {
  // sh forks sleep, which holds stdout and stderr open: killing sh alone would leave both
  const r = await runBounded(["sh", "-c", "echo $$; sleep 6 & echo $!; wait; true"], {
    timeoutMs: 300,
  });
  assert.equal(r.timedOut, true);
  assert.ok(r.durationMs < 2000, `took ${r.durationMs} ms for a 300 ms timeout`);
  const [sh, sleeper] = r.stdout.trim().split("\n").map(Number);
  assert.equal(sh, r.pid, r.stdout);
  assert.ok(sleeper > 0, r.stdout);
  assert.deepEqual(alive(r.pid, [sleeper]), [], "processes left running after the timeout");
});

Deno.test("runBounded: a background process that keeps the output open is killed after exit", async () => {
  const r = await runBounded(["sh", "-c", "sleep 6 & echo $!; exit 2"], { timeoutMs: 5000 });
  assert.equal(r.code, 2);
  assert.equal(r.timedOut, false);
  assert.ok(r.durationMs < 2000, `took ${r.durationMs} ms`);
  const sleeper = Number(r.stdout.trim());
  assert.ok(sleeper > 0, r.stdout);
  assert.deepEqual(alive(r.pid, [sleeper]), [], "the background sleep was left running");
});

Deno.test("runBounded writes input while it reads output: 1 MiB through cat, no deadlock", async () => {
  const input = "0123456789abcdef".repeat(1 << 16);
  const r = await runBounded(["cat"], { timeoutMs: 10_000, stdin: input });
  assert.equal(r.timedOut, false, `stuck with ${r.stdout.length} bytes read`);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.length, input.length);
  assert.ok(r.stdout === input, "the output differs from the input");
  assert.equal(r.stdinError, undefined);
  // a command that reads nothing: the write fails, and says so
  const deaf = await runBounded(["true"], { timeoutMs: 5000, stdin: input });
  assert.equal(deaf.code, 0);
  assert.ok(deaf.stdinError, "a refused input must be reported");
});

Deno.test({
  name: "a namespace is private, has lo up, and is gone after close with what ran inside",
  ignore,
  async fn() {
    const ns = await createNetns("test-one");
    let inode: number;
    try {
      inode = ns.inode;
      const own = Number(
        (await runBounded(["stat", "-L", "-c", "%i", "/proc/self/ns/net"], { timeoutMs: 5000 }))
          .stdout,
      );
      assert.notEqual(inode, own, "the namespace must differ from ours");
      const links = await ns.run(["ip", "-o", "link"], { timeoutMs: 5000 });
      assert.equal(links.code, 0, links.stderr);
      assert.deepEqual(links.stdout.trim().split("\n").map((l) => l.split(":")[1].trim()), ["lo"]);
      assert.match(links.stdout, /<LOOPBACK,UP/);
      // something left running inside: close must end it
      const sleeper = new Deno.Command(ns.wrap(["sleep", "30"])[0], {
        args: ns.wrap(["sleep", "30"]).slice(1),
        stdout: "null",
        stderr: "null",
      }).spawn();
      for (let i = 0; i < 100 && !(await ns.members()).includes(sleeper.pid); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok((await ns.members()).includes(sleeper.pid), "the sleeper runs inside");
      await ns.close();
      const status = await sleeper.status;
      assert.equal(status.signal, "SIGKILL");
    } finally {
      await ns.close();
    }
    assert.deepEqual(await netnsMembers(inode), [], "no process holds the namespace any more");
  },
});

Deno.test({
  name: "withNetns removes the namespace when the function throws",
  ignore,
  async fn() {
    let inode = 0;
    await assert.rejects(
      withNetns("test-throw", (ns) => {
        inode = ns.inode;
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.ok(inode > 0);
    assert.deepEqual(await netnsMembers(inode), []);
  },
});

Deno.test({
  name: "a LAN: hosts reach each other over the bridge, group routes point at the segment",
  ignore,
  async fn() {
    const lan = await createLan(["a", "b"], { label: "test-lan" });
    const inodes = [lan.hub.ns.inode, lan.hosts.a.ns.inode, lan.hosts.b.ns.inode];
    try {
      assert.equal(lan.hosts.a.address, "10.203.0.2");
      assert.equal(lan.hosts.b.address, "10.203.0.3");
      assert.equal(lan.broadcast, "10.203.0.255");
      const route = await lan.hosts.b.ns.run(["ip", "route", "get", "224.3.29.71"], {
        timeoutMs: 5000,
      });
      assert.match(route.stdout, /dev eth0/);
      // a UDP datagram from host A to host B crosses the bridge
      const py = "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); " +
        "s.bind(('',9999)); s.settimeout(3); print('ready',flush=True); " +
        "d,a=s.recvfrom(100); print(d.decode(), a[0])";
      const argv = lan.hosts.b.ns.wrap(["python3", "-c", py]);
      const receiver = new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped" }).spawn();
      const reader = receiver.stdout.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /ready/);
      const send = await lan.hosts.a.ns.run([
        "python3",
        "-c",
        "import socket; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'over the bridge',('10.203.0.3',9999))",
      ], { timeoutMs: 5000 });
      assert.equal(send.code, 0, send.stderr);
      let rest = "";
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        rest += new TextDecoder().decode(chunk.value);
      }
      await receiver.status;
      assert.equal((first + rest).trim().split("\n").at(-1), "over the bridge 10.203.0.2");
    } finally {
      await lan.close();
    }
    for (const inode of inodes) assert.deepEqual(await netnsMembers(inode), []);
  },
});
