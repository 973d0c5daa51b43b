/**
 * Multicast cases (SPEC 5), ids `mcast/N`, for targets of kind `multicast` (a receiver
 * that joins a group and acknowledges each message).
 *
 * Each case builds a private segment of network namespaces ({@linkcode createLan}): the
 * sender's host (the hub, with the bridge), hosts A and B, each running an instance of the
 * target, and host C, where a sockspec observer binds the group port without joining and
 * captures the link's packets with a raw socket (python3). The sender (the target's
 * declared client, else sockspec's reference sender) sends one group message from the hub.
 *
 * `mcast/1` judges the receivers, so any sender will do. `mcast/2` (TTL 1) and `mcast/3`
 * (nothing reaches a socket that did not join) judge what the sender puts on the wire, so
 * they need a declared sender (`properties.client`) and SKIP without one: with sockspec's
 * own sender they would pass whatever the target's receiver does.
 *
 * Separate hosts are what make the checks honest: on one host Linux delivers group traffic
 * to every socket bound to the port once any socket there joined (`IP_MULTICAST_ALL`), and
 * acks from two receivers on one host carry the same address. All namespaces, receivers,
 * observer and sender are removed after each case, whatever happens.
 *
 * In a declared client command, `{host}` stands for the group and `{port}` for its port.
 *
 * @example
 * ```ts
 * import { multicastCases } from "./mcast.ts";
 * for (const c of multicastCases) console.log(c.id, c.requirement);
 * ```
 * @module
 */

import {
  type Case,
  type CaseContext,
  fail,
  Failure,
  pass,
  TargetError,
} from "../../src/case/case.ts";
import { substitute, type Target } from "../../src/harness/manifest.ts";
import {
  type BoundedResult,
  createLan,
  type Lan,
  type Netns,
  runBounded,
} from "../../src/harness/netns.ts";
import { readProc } from "../../src/net/proc.ts";
import { sockspecCommand } from "../../src/reference/targets.ts";
import { sleep } from "../../src/net/sockets.ts";
import { type Instance, OutputCapture, startInstance } from "../../src/harness/target.ts";
import { match, multicastSenderTranscript } from "../../src/transcript/transcript.ts";
import { DEFAULT_GROUP, DEFAULT_PORT } from "../../src/reference/multicast/multicast.ts";

/**
 * The observer, run with python3 on host C: a UDP socket bound to ('', PORT) that does not
 * join, and an AF_PACKET socket on the link. Prints `ready`, then one JSON line per IPv4/UDP
 * packet to PORT seen arriving on the link (with its TTL) and per datagram the socket
 * receives (with the destination address from IP_PKTINFO); stops at end of stdin (after a
 * last drain) or after MAX seconds.
 */
export const OBSERVER_PY: string = String.raw`
import json, os, select, socket, struct, sys, time
iface, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
raw.bind((iface, 0))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.IPPROTO_IP, getattr(socket, 'IP_PKTINFO', 8), 1)
udp.bind(('', port))
def out(kind, value):
    sys.stdout.write(json.dumps({kind: value}) + '\n')
    sys.stdout.flush()
def packet():
    frame, addr = raw.recvfrom(65535)
    if addr[2] == socket.PACKET_OUTGOING or frame[12:14] != b'\x08\x00':
        return
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 17 or len(ip) < ihl + 8:
        return
    sport, dport, length = struct.unpack('!HHH', ip[ihl:ihl + 6])
    if dport == port:
        out('packet', {'src': socket.inet_ntoa(ip[12:16]), 'dst': socket.inet_ntoa(ip[16:20]),
                       'ttl': ip[8], 'sport': sport, 'dport': dport, 'length': length - 8})
def datagram():
    data, anc, flags, addr = udp.recvmsg(65535, 256)
    dst = None
    for level, kind, value in anc:
        if level == socket.IPPROTO_IP and len(value) >= 12:
            dst = socket.inet_ntoa(value[8:12])
    out('datagram', {'from': addr[0], 'sport': addr[1], 'to': dst, 'length': len(data)})
print('ready', flush=True)
deadline = time.monotonic() + limit
done = False
while not done and time.monotonic() < deadline:
    ready, _, _ = select.select([raw, udp, 0], [], [], 0.1)
    if 0 in ready and os.read(0, 4096) == b'':
        done = True
        time.sleep(0.02)
        ready, _, _ = select.select([raw, udp], [], [], 0)
    if raw in ready:
        packet()
    if udp in ready:
        datagram()
    while done:
        more, _, _ = select.select([raw, udp], [], [], 0)
        if not more:
            break
        for s in more:
            packet() if s is raw else datagram()
print('end', flush=True)
`;

/** A packet the observer captured on host C's link. */
interface Packet {
  src: string;
  dst: string;
  ttl: number;
  sport: number;
  dport: number;
  length: number;
}

/** A datagram host C's unjoined socket received. */
interface Received {
  from: string;
  sport: number;
  to: string | null;
  length: number;
}

/** What one run of the segment gave. */
interface Scenario {
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

/** Waits (bounded) until the receiver has bound the port and joined the group, in its namespace. */
async function waitReceiver(
  instance: Instance,
  target: Target,
  port: number,
  group: string,
): Promise<boolean> {
  const pid = instance.pid!;
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const deadline = Date.now() + target.ready.timeoutMs;
  let bound = false;
  let boundAt = 0;
  while (Date.now() < deadline) {
    if (!instance.running) {
      const tail = instance.stderr.tail(600).trim();
      throw new TargetError(
        `target '${target.name}' exited before it was ready in its namespace (${instance.describe()})${
          tail ? `; stderr tail:\n${tail}` : ""
        }`,
      );
    }
    if (!bound) {
      bound = readProc(`/proc/${pid}/net/udp`).split("\n").slice(1).some((l) =>
        l.trim().split(/\s+/)[1]?.endsWith(portHex)
      );
      if (bound) boundAt = Date.now();
    }
    if (bound) {
      if (readProc(`/proc/${pid}/net/igmp`).includes(groupHex(group))) return true;
      // bound but not (yet) joined: give it a second, then go on and let the case say so
      if (Date.now() - boundAt > 1000) return false;
    }
    await sleep(20);
  }
  throw new TargetError(
    `target '${target.name}' did not bind UDP port ${port} within ${target.ready.timeoutMs} ms in its namespace; ` +
      `check its command in ${target.source}`,
  );
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
  const joined = await waitReceiver(instance, ctx.target, port, group);
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

/** Builds the segment, starts receivers on A and B and the observer on C, runs the sender. */
async function runScenario(ctx: CaseContext): Promise<Scenario> {
  const group = ctx.target.properties.group ?? DEFAULT_GROUP;
  const port = DEFAULT_PORT;
  const t0 = performance.now();
  const lan = await createLan(["a", "b", "c"], {
    label: `sockspec-${Deno.pid}-${++lanCount}`,
  }).catch((err) => {
    throw new TargetError(`cannot build the test segment: ${(err as Error).message}`);
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

  const obsArgv = lan.hosts.c.ns.wrap(["python3", ...observerArgs(port, ctx.timeoutMs)]);
  const obs = new Deno.Command(obsArgv[0], {
    args: obsArgv.slice(1),
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
  const obsOut = new OutputCapture(obs.stdout);
  const obsErr = new OutputCapture(obs.stderr);
  if (!(await obsOut.waitFor(/^ready$/m, 5000))) {
    throw new TargetError(
      `the observer on host C did not start: ${obsErr.tail(400).trim() || "no output"}`,
    );
  }

  const tmp = `${ctx.tmp}/sender`;
  await Deno.mkdir(tmp, { recursive: true });
  const { argv, name } = senderArgv(ctx, group, port, tmp);
  ctx.evidence.note(`sender: ${argv.join(" ")}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.target.env)) {
    env[k] = substitute(v, { tmp, dir: ctx.target.dir, deno: Deno.execPath() });
  }
  let sender: BoundedResult;
  try {
    sender = await runBounded(lan.hub.ns.wrap(argv), {
      timeoutMs: ctx.timeoutMs + 2000,
      env,
      cwd: tmp,
    });
  } catch (err) {
    throw new TargetError(`cannot run ${name} (${argv[0]}): ${(err as Error).message}`);
  }
  ctx.evidence.timing("senderMs", sender.durationMs);
  ctx.evidence.transcript(sender.stdout);

  await obs.stdin.close().catch(() => {});
  await obsOut.waitFor(/^end$/m, 2000);
  const packets: Packet[] = [];
  const received: Received[] = [];
  for (const l of obsOut.text().split("\n")) {
    if (!l.startsWith("{")) continue;
    const v = JSON.parse(l);
    if (v.packet) packets.push(v.packet);
    if (v.datagram) received.push(v.datagram);
  }
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

function observerArgs(port: number, timeoutMs: number): string[] {
  return ["-c", OBSERVER_PY, "eth0", String(port), String((timeoutMs + 4000) / 1000)];
}

function senderRun(s: Scenario): string {
  const r = s.sender;
  return r.timedOut
    ? "did not finish in time and was killed"
    : r.signal
    ? `was killed by ${r.signal}`
    : `exited with code ${r.code}`;
}

function groupPackets(s: Scenario): Packet[] {
  return s.packets.filter((p) => p.dst === s.group);
}

const needs = { root: true, netns: true, launch: true, python3: true, commands: ["nsenter"] };
/** The cases that judge the sender: they run only the target's declared one. */
const senderNeeds = { ...needs, properties: ["client"] };

/**
 * The multicast cases.
 *
 * @example
 * ```ts
 * import { multicastCases } from "./mcast.ts";
 * multicastCases.map((c) => c.id); // ["mcast/1", "mcast/2", "mcast/3"]
 * ```
 */
export const multicastCases: Case[] = [
  {
    id: "mcast/1",
    level: "MUST",
    kind: "multicast",
    requirement:
      "Two receivers (hosts A and B on one segment) each acknowledge one group message: the sender gets exactly one `received b'ack'` from each, then `timed out, no more responses`.",
    needs,
    async run(ctx) {
      const s = await runScenario(ctx);
      const acks = [...s.sender.stdout.matchAll(/^received b'ack' from \('([^']*)', (\d+)\)$/gm)]
        .map((m) => m[1]);
      const count = (addr: string) => acks.filter((a) => a === addr).length;
      const observed = {
        acks: acks.length,
        fromA: count(s.receivers.A.address),
        fromB: count(s.receivers.B.address),
      };
      const problems: string[] = [];
      for (const [host, r] of Object.entries(s.receivers)) {
        const n = count(r.address);
        if (n !== 1) {
          problems.push(
            `${n} acks from host ${host} (${r.address})${
              r.joined ? "" : ", which never joined " + s.group
            }`,
          );
        }
      }
      const strangers = acks.filter((a) =>
        a !== s.receivers.A.address && a !== s.receivers.B.address
      );
      if (strangers.length) {
        problems.push(`acks from ${strangers.join(", ")}, which run no receiver`);
      }
      if (problems.length) {
        return fail(
          `${s.senderName} got ${acks.length} acks, want exactly one from each receiver: ${
            problems.join("; ")
          }`,
          observed,
        );
      }
      const result = match(multicastSenderTranscript({ acks: 2, port: s.port }), s.sender.stdout);
      if (!result.ok) {
        return fail(
          `${s.senderName}'s output does not match SPEC (it ${senderRun(s)}): ${result.message}`,
          observed,
        );
      }
      return pass(
        `one ack from ${s.receivers.A.address} and one from ${s.receivers.B.address}, then the sender timed out`,
        observed,
      );
    },
  },
  {
    id: "mcast/2",
    level: "MUST",
    kind: "multicast",
    requirement:
      "The declared sender's group message carries TTL 1 on the wire (read from the IP header of the packet captured on the segment), so it does not leave the local network.",
    needs: senderNeeds,
    async run(ctx) {
      const s = await runScenario(ctx);
      const mine = groupPackets(s);
      if (mine.length === 0) {
        throw new Failure(
          `no packet to ${s.group}:${s.port} was seen on the segment (${s.senderName} ${
            senderRun(s)
          }); cannot read its TTL`,
        );
      }
      const ttls = [...new Set(mine.map((p) => p.ttl))];
      if (ttls.some((t) => t !== 1)) {
        return fail(
          `the packet to ${s.group}:${s.port} from ${mine[0].src} carried TTL ${
            ttls.join(", ")
          }, not 1`,
          { ttl: ttls[0] },
        );
      }
      return pass(`${mine.length} packet(s) to ${s.group}:${s.port}, all with TTL 1`, { ttl: 1 });
    },
  },
  {
    id: "mcast/3",
    level: "MUST",
    kind: "multicast",
    requirement:
      "The declared sender reaches only sockets that joined: on host C, a socket bound to the group port without joining receives no datagram, though the group message reaches C's link.",
    needs: senderNeeds,
    async run(ctx) {
      const s = await runScenario(ctx);
      if (groupPackets(s).length === 0) {
        throw new Failure(
          `the group message never reached host C's link (${s.senderName} ${
            senderRun(s)
          }): nothing to compare with`,
        );
      }
      if (s.received.length) {
        const r = s.received[0];
        const to = r.to === s.lan.broadcast
          ? `${r.to}, the segment's broadcast address`
          : r.to === s.group
          ? `${r.to}, the group`
          : r.to ?? "an unknown address";
        return fail(
          `host C's socket, bound to ('', ${s.port}) without joining, received ${s.received.length} datagram(s): ` +
            `${r.length} bytes from ('${r.from}', ${r.sport}) sent to ${to}`,
          { received: s.received.length },
        );
      }
      return pass(
        `the group message reached host C's link, and its unjoined socket on port ${s.port} got nothing`,
        { received: 0 },
      );
    },
  },
];
