/**
 * Private helpers of the multicast cases: the segment of network namespaces, the receivers
 * on hosts A and B, the observer on host C (fixtures/python/mcast_observer.py) and the
 * sender on the hub; {@linkcode runScenario} runs one of each and returns what was seen;
 * the verifiers the cases end in ({@linkcode expectAcks}, {@linkcode expectOnLink}).
 *
 * @module
 */

import { type CaseContext, Failure, TargetError } from "../../src/case/case.ts";
import { describeRun } from "../../src/checks/run.ts";
import { match, multicastSenderTranscript } from "../../src/transcript/transcript.ts";
import { substitute, type Target } from "../../src/harness/manifest.ts";
import {
  type BoundedResult,
  createLan,
  type Lan,
  type Netns,
  runBounded,
} from "../../src/harness/netns.ts";
import { type Instance, OutputCapture, startInstance } from "../../src/harness/target.ts";
import { readProc } from "../../src/net/proc.ts";
import { waitUntil } from "../../src/case/wait.ts";
import { cacheOwnPrograms, ownText, sockspecCommand } from "../../src/harness/sockspec_command.ts";
import { errnoLine } from "../../src/python/errno.ts";

/** SPEC §5: the tutorial's group and port. */
export const SPEC_GROUP = "224.3.29.71";
/** SPEC §5: the tutorial's port. */
export const SPEC_PORT = 10000;

/** The observer program (python3), run on host C. */
const OBSERVER_URL = new URL("../../fixtures/python/mcast_observer.py", import.meta.url);

/** The observer's file, for tests in this checkout. */
export const OBSERVER_PATH: string = OBSERVER_URL.pathname;

/** A packet the observer captured on host C's link. */
export interface Packet {
  src: string;
  dst: string;
  ttl: number;
  sport: number;
  dport: number;
  length: number;
}

/** A datagram host C's unjoined socket received. */
export interface Received {
  from: string;
  sport: number;
  to: string | null;
  length: number;
}

/** What one run of the segment gave. */
export interface Scenario {
  lan: Lan;
  group: string;
  port: number;
  receivers: Record<"A" | "B", { instance: Instance; address: string; joined: boolean }>;
  sender: BoundedResult;
  senderName: string;
  packets: Packet[];
  received: Received[];
}

let lanCount = 0;

function groupHex(group: string): string {
  return group.split(".").reverse().map((o) => Number(o).toString(16).padStart(2, "0"))
    .join("").toUpperCase();
}

/** Waits (bounded) until the receiver has bound the port, then a second for it to join. */
async function waitReceiver(
  ctx: CaseContext,
  instance: Instance,
  port: number,
  group: string,
): Promise<boolean> {
  const target = ctx.target;
  const pid = instance.pid!;
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const exited = () =>
    new TargetError(
      `target '${target.name}' exited before it was ready in its namespace (${instance.describe()})${
        instance.stderr.tail(600).trim()
          ? `; stderr tail:\n${instance.stderr.tail(600).trim()}`
          : ""
      }`,
    );
  const bound = async () =>
    (await readProc(`/proc/${pid}/net/udp`)).split("\n").slice(1).some((l) =>
      l.trim().split(/\s+/)[1]?.endsWith(portHex)
    );
  const opts = { timeoutMs: target.ready.timeoutMs, intervalMs: 20, signal: ctx.signal };
  if (!(await waitUntil(async () => !instance.running || await bound(), opts))) {
    throw new TargetError(
      `target '${target.name}' did not bind UDP port ${port} within ${target.ready.timeoutMs} ms in its namespace; ` +
        `check its command in ${target.source}`,
    );
  }
  if (!instance.running) throw exited();
  // bound but not (yet) joined: give it a second, then go on and let the case say so
  const joined = async () => (await readProc(`/proc/${pid}/net/igmp`)).includes(groupHex(group));
  const ok = await waitUntil(async () => !instance.running || await joined(), {
    ...opts,
    timeoutMs: 1000,
  });
  if (!instance.running) throw exited();
  return ok;
}

async function startReceiver(
  ctx: CaseContext,
  ns: Netns,
  name: string,
  port: number,
  group: string,
): Promise<{ instance: Instance; joined: boolean }> {
  const tmp = `${ctx.tmp}/host-${name}`;
  await Deno.mkdir(tmp, { recursive: true });
  const inNs: Target = {
    ...ctx.target,
    command: ns.wrap(ctx.target.command!),
    ready: { ...ctx.target.ready, kind: "none" },
  };
  const instance = await startInstance(inNs, { tmp, port, wait: false });
  ctx.defer(() => instance.stop());
  const joined = await waitReceiver(ctx, instance, port, group);
  return { instance, joined };
}

function senderArgv(ctx: CaseContext, group: string, port: number, tmp: string): {
  argv: string[];
  name: string;
} {
  const values = {
    host: group,
    port: String(port),
    tmp,
    dir: ctx.target.dir,
    deno: Deno.execPath(),
  };
  const declared = ctx.target.properties.client;
  if (declared) {
    return { argv: declared.map((a) => substitute(a, values)), name: "the declared sender" };
  }
  // it binds 0.0.0.0:0 and sends only to the group (receiving needs no permission)
  const argv = sockspecCommand([`--allow-net=0.0.0.0,${group}`], [
    "client",
    "mcast",
    "--group",
    group,
    "--port",
    String(port),
  ]);
  return { argv: argv.map((a) => substitute(a, values)), name: "the reference sender" };
}

/** Starts the observer on host C; resolves once it is ready. */
async function startObserver(ctx: CaseContext, lan: Lan, port: number) {
  const argv = lan.hosts.c.ns.wrap([
    "python3",
    "-c",
    await ownText(OBSERVER_URL),
    "eth0",
    String(port),
    String((ctx.timeoutMs + 4000) / 1000),
  ]);
  const obs = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  ctx.defer(async () => {
    try {
      obs.kill("SIGKILL");
    } catch {
      // already gone
    }
    await obs.status;
  });
  const out = new OutputCapture(obs.stdout);
  const err = new OutputCapture(obs.stderr);
  if (!(await out.waitFor(/^ready$/m, 5000))) {
    throw new TargetError(
      `the observer on host C did not start: ${err.tail(400).trim() || "no output"}`,
    );
  }
  /** Ends the observer and returns what it saw. */
  return async (): Promise<{ packets: Packet[]; received: Received[] }> => {
    await obs.stdin.close().catch(() => {});
    await out.waitFor(/^end$/m, 2000);
    const packets: Packet[] = [];
    const received: Received[] = [];
    for (const l of out.text().split("\n")) {
      if (!l.startsWith("{")) continue;
      const v = JSON.parse(l);
      if (v.packet) packets.push(v.packet);
      if (v.datagram) received.push(v.datagram);
    }
    return { packets, received };
  };
}

async function runSender(ctx: CaseContext, lan: Lan, group: string, port: number) {
  const tmp = `${ctx.tmp}/sender`;
  await Deno.mkdir(tmp, { recursive: true });
  const { argv, name } = senderArgv(ctx, group, port, tmp);
  ctx.evidence.note(`sender: ${argv.join(" ")}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.target.env)) {
    env[k] = substitute(v, { tmp, dir: ctx.target.dir, deno: Deno.execPath() });
  }
  try {
    const timeoutMs = ctx.timeoutMs + 2000;
    return { sender: await runBounded(lan.hub.ns.wrap(argv), { timeoutMs, env, cwd: tmp }), name };
  } catch (err) {
    throw new TargetError(`cannot run ${name} (${argv[0]}): ${errnoLine(err)}`);
  }
}

/**
 * Builds the segment, starts receivers on A and B and the observer on C, runs the sender
 * on the hub, and returns what everyone saw. Everything is torn down after the case.
 */
export async function runScenario(ctx: CaseContext): Promise<Scenario> {
  const group = ctx.target.properties.group ?? SPEC_GROUP;
  const port = SPEC_PORT;
  // A receiver runs inside its namespace, where a URL sockspec was imported from is out of reach.
  await cacheOwnPrograms();
  const t0 = performance.now();
  const lan = await createLan(["a", "b", "c"], {
    label: `sockspec-${Deno.pid}-${++lanCount}`,
  }).catch((err) => {
    throw new TargetError(`cannot build the test segment: ${errnoLine(err)}`);
  });
  ctx.defer(() => lan.close()); // registered first: runs last, after every process is stopped
  ctx.evidence.timing("segmentMs", performance.now() - t0);
  ctx.evidence.note(
    `segment: sender ${lan.hub.address}, A ${lan.hosts.a.address}, B ${lan.hosts.b.address}, observer C ${lan.hosts.c.address}`,
  );
  const [a, b] = await Promise.all([
    startReceiver(ctx, lan.hosts.a.ns, "a", port, group),
    startReceiver(ctx, lan.hosts.b.ns, "b", port, group),
  ]);
  ctx.evidence.timing("receiversMs", performance.now() - t0);
  const observed = await startObserver(ctx, lan, port);
  const { sender, name } = await runSender(ctx, lan, group, port);
  ctx.evidence.timing("senderMs", sender.durationMs);
  ctx.evidence.transcript(sender.stdout);
  const { packets, received } = await observed();
  return {
    lan,
    group,
    port,
    receivers: {
      A: { ...a, address: lan.hosts.a.address },
      B: { ...b, address: lan.hosts.b.address },
    },
    sender,
    senderName: name,
    packets,
    received,
  };
}

/** The packets to the group that host C's link carried. */
export function groupPackets(s: Scenario): Packet[] {
  return s.packets.filter((p) => p.dst === s.group);
}

/** The acks the sender printed, by receiver, and what is wrong with them (empty: nothing). */
export function judgeAcks(s: Scenario): {
  problems: string[];
  observed: { acks: number; fromA: number; fromB: number };
} {
  const acks = [...s.sender.stdout.matchAll(/^received b'ack' from \('([^']*)', (\d+)\)$/gm)]
    .map((m) => m[1]);
  const count = (addr: string) => acks.filter((a) => a === addr).length;
  const { A, B } = s.receivers;
  const problems = Object.entries(s.receivers).filter(([, r]) => count(r.address) !== 1)
    .map(([host, r]) =>
      `${count(r.address)} acks from host ${host} (${r.address})${
        r.joined ? "" : ", which never joined " + s.group
      }`
    );
  const strangers = acks.filter((a) => a !== A.address && a !== B.address);
  if (strangers.length) problems.push(`acks from ${strangers.join(", ")}, which run no receiver`);
  return {
    problems,
    observed: { acks: acks.length, fromA: count(A.address), fromB: count(B.address) },
  };
}

/**
 * The verifier of `mcast/1`: exactly one ack from each receiver, and the sender's output
 * fits SPEC §5; returns what was observed (a {@linkcode Failure} carries it too).
 */
export function expectAcks(s: Scenario): { acks: number; fromA: number; fromB: number } {
  const { problems, observed } = judgeAcks(s);
  if (problems.length) {
    throw new Failure(
      `${s.senderName}: expected exactly one ack from each receiver, got ${observed.acks}: ${
        problems.join("; ")
      }`,
      observed,
    );
  }
  const result = match(multicastSenderTranscript({ acks: 2, port: s.port }), s.sender.stdout);
  if (!result.ok) {
    throw new Failure(
      `${s.senderName}'s output does not match SPEC (it ${
        describeRun(s.sender)
      }): ${result.message}`,
      observed,
    );
  }
  return observed;
}

/**
 * The group's packets on host C's link; a {@linkcode Failure} when there were none:
 * `<none> (<the sender> exited with code 0)<after>`.
 */
export function expectOnLink(s: Scenario, none: string, after: string): Packet[] {
  const mine = groupPackets(s);
  if (mine.length === 0) {
    throw new Failure(`${none} (${s.senderName} ${describeRun(s.sender)})${after}`);
  }
  return mine;
}

/** The first datagram host C's unjoined socket received, as a sentence's end. */
export function describeReceived(s: Scenario): string {
  const r = s.received[0];
  const to = r.to === s.lan.broadcast
    ? `${r.to}, the segment's broadcast address`
    : r.to === s.group
    ? `${r.to}, the group`
    : r.to ?? "an unknown address";
  return `${r.length} bytes from ('${r.from}', ${r.sport}) sent to ${to}`;
}
