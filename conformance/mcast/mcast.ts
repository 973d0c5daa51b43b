/**
 * Multicast cases (SPEC §5), ids `mcast/N`, for targets of kind `multicast` (a receiver
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
 * The segment, receivers, observer (fixtures/python/mcast_observer.py) and sender are in
 * the private `_lan.ts`.
 *
 * @example
 * ```ts
 * import { multicastCases } from "./mcast.ts";
 * for (const c of multicastCases) console.log(c.id, c.requirement);
 * ```
 * @module
 */

import { type Case, fail, inFamily, pass } from "../../src/case/case.ts";
import { describeReceived, expectAcks, expectOnLink, runScenario } from "./_lan.ts";

export { OBSERVER_PATH } from "./_lan.ts";

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
export const multicastCases: Case[] = inFamily("Multicast group messages (SPEC §5)", [{
  id: "mcast/1",
  level: "MUST",
  kind: "multicast",
  long: true,
  requirement:
    "Two receivers (hosts A and B on one segment) each acknowledge one group message: the sender gets exactly one `received b'ack'` from each, then `timed out, no more responses`.",
  needs,
  hint: "join the group with IP_ADD_MEMBERSHIP and send one b'ack' per message, to its sender",
  async run(ctx) {
    const s = await runScenario(ctx);
    const observed = expectAcks(s);
    const { A, B } = s.receivers;
    return pass(
      `one ack from ${A.address} and one from ${B.address}, then the sender timed out`,
      observed,
    );
  },
}, {
  id: "mcast/2",
  level: "MUST",
  kind: "multicast",
  long: true,
  requirement:
    "The declared sender's group message carries TTL 1 on the wire (read from the IP header of the packet captured on the segment), so it does not leave the local network.",
  needs: senderNeeds,
  hint: "set IP_MULTICAST_TTL to 1 (struct.pack('b', 1)) before sending",
  async run(ctx) {
    const s = await runScenario(ctx);
    const to = `${s.group}:${s.port}`;
    const mine = expectOnLink(
      s,
      `no packet to ${to} was seen on the segment`,
      "; cannot read its TTL",
    );
    const ttls = [...new Set(mine.map((p) => p.ttl))];
    if (ttls.some((t) => t !== 1)) {
      const got = `expected TTL 1, got TTL ${ttls.join(", ")}`;
      return fail(`the packet to ${to} from ${mine[0].src}: ${got}`, { ttl: ttls[0] });
    }
    return pass(`${mine.length} packet(s) to ${to}, all with TTL 1`, { ttl: 1 });
  },
}, {
  id: "mcast/3",
  level: "MUST",
  kind: "multicast",
  long: true,
  requirement:
    "The declared sender reaches only sockets that joined: on host C, a socket bound to the group port without joining receives no datagram, though the group message reaches C's link.",
  needs: senderNeeds,
  hint: "send only to the group address: no broadcast, no unicast copies",
  async run(ctx) {
    const s = await runScenario(ctx);
    expectOnLink(s, "the group message never reached host C's link", ": nothing to compare with");
    if (s.received.length) {
      const bound = `host C's socket, bound to ('', ${s.port}) without joining`;
      const got = `expected no datagram, got ${s.received.length}: ${describeReceived(s)}`;
      return fail(`${bound}: ${got}`, { received: s.received.length });
    }
    return pass(
      `the group message reached host C's link, and its unjoined socket on port ${s.port} got nothing`,
      { received: 0 },
    );
  },
}]);
