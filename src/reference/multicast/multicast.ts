/**
 * The reference multicast receiver and sender (SPEC §5).
 *
 * The receiver binds `('', 10000)`, joins group 224.3.29.71 on every interface (Deno's
 * `joinMulticastV4(group, "0.0.0.0")`, the tutorial's `IP_ADD_MEMBERSHIP` with
 * `INADDR_ANY`), and answers each datagram (read as `recvfrom(1024)`) with `b'ack'` to its
 * sender, printing the tutorial's lines.
 *
 * The sender sends `b'very important data'` to the group with `IP_MULTICAST_TTL` 1 and
 * multicast loopback on, then prints each answer (`received b'ack' from (addr, 10000)`)
 * until no answer comes for 0.2 s: `timed out, no more responses`, `closing socket`.
 *
 * Why the sender uses `node:dgram`: Deno's own `DatagramConn` sets the multicast TTL only
 * through the membership that `joinMulticastV4` returns (`membership.setTTL`), so a Deno
 * socket would have to join the group it sends to just to set its TTL, which the tutorial's
 * sender does not do. `node:dgram` (in Deno 2.9) has `setMulticastTTL` and
 * `setMulticastLoopback` on a socket that joins nothing. Deno's `listenDatagram` leaves
 * multicast loopback off unless `loopback: true`; the sender turns it on, as the tutorial
 * (Linux's default) has it.
 *
 * @example
 * ```ts
 * import { serveMulticast } from "./multicast.ts";
 * const receiver = await serveMulticast({ port: 0, transcript: true });
 * await receiver.close();
 * ```
 * @module
 */

import dgram from "node:dgram";
import { formatSockaddr } from "../../python/addrinfo.ts";
import { errnoLine } from "../../python/errno.ts";
import { bytesRepr } from "../../python/repr.ts";
import { closeQuietly } from "../../net/sockets.ts";
import { MULTICAST_MESSAGE } from "../../transcript/tutorial.ts";
import { receiveLoop } from "../../net/datagram.ts";

/** The tutorial's group. */
export const DEFAULT_GROUP = "224.3.29.71";
/** The tutorial's port. */
export const DEFAULT_PORT = 10000;

/**
 * True when `address` is an IPv4 multicast group (224.0.0.0/4).
 *
 * @example
 * ```ts
 * import { isMulticastGroup } from "./multicast.ts";
 * isMulticastGroup("224.3.29.71"); // true
 * isMulticastGroup("10.0.0.1"); // false
 * ```
 */
export function isMulticastGroup(address: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m || m.slice(1).some((p) => Number(p) > 255)) return false;
  return Number(m[1]) >= 224 && Number(m[1]) <= 239;
}

/** Options of {@linkcode serveMulticast}. */
export interface MulticastReceiverOptions {
  /** The group to join (default 224.3.29.71). */
  group?: string;
  /** The port to bind on every address (default 10000; 0 picks one). */
  port?: number;
  /** The receive buffer, as in `recvfrom(1024)` (default 1024). */
  buffer?: number;
  /** Print the tutorial's receiver transcript through `print`. */
  transcript?: boolean;
  /** Where transcript lines go (default `console.log`). */
  print?: (line: string) => void;
  /** Where problems go (default `console.error`). */
  log?: (line: string) => void;
}

/** A running multicast receiver. */
export interface MulticastReceiver {
  /** The bound address. */
  addr: Deno.NetAddr;
  /** Leaves the group, closes the socket and waits for the loop to end. */
  close(): Promise<void>;
  /** Resolves when the receive loop has ended. */
  finished: Promise<void>;
}

/**
 * Starts a multicast receiver that acknowledges every datagram with `b'ack'`.
 *
 * @example
 * ```ts
 * import { serveMulticast } from "./multicast.ts";
 * const receiver = await serveMulticast({ group: "224.3.29.71", port: 0 }); // 0: a free port
 * console.log(receiver.addr.port > 0); // true
 * await receiver.close();
 * ```
 */
export async function serveMulticast(
  opts: MulticastReceiverOptions = {},
): Promise<MulticastReceiver> {
  const group = opts.group ?? DEFAULT_GROUP;
  if (!isMulticastGroup(group)) {
    throw new Error(
      `${group} is not an IPv4 multicast group (224.0.0.0/4); use e.g. ${DEFAULT_GROUP}`,
    );
  }
  const print = opts.transcript ? (opts.print ?? console.log) : () => {};
  const log = opts.log ?? console.error;
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "0.0.0.0",
    port: opts.port ?? DEFAULT_PORT,
  });
  let membership: Deno.MulticastV4Membership;
  try {
    membership = await socket.joinMulticastV4(group, "0.0.0.0");
  } catch (err) {
    closeQuietly(socket);
    throw new Error(`cannot join ${group} on every interface: ${errnoLine(err)}`);
  }
  const buffer = opts.buffer ?? 1024;
  const ack = new TextEncoder().encode("ack");
  let closing = false;
  const finished = receiveLoop(socket, {
    buffer,
    print,
    log,
    name: "mcast",
    closing: () => closing,
    async answer(_data, from, who) {
      print(`sending acknowledgement to ${who}`);
      try {
        await socket.send(ack, from);
      } catch (err) {
        if (closing) return;
        log(`mcast: cannot send the acknowledgement to ${who}: ${errnoLine(err)}`);
      }
    },
  });
  return {
    addr: socket.addr as Deno.NetAddr,
    finished,
    async close() {
      if (!closing) {
        closing = true;
        await membership.leave().catch(() => {});
        closeQuietly(socket);
      }
      await finished;
    },
  };
}

/** Options of {@linkcode runMulticastSender}. */
export interface MulticastSenderOptions {
  /** The group (default 224.3.29.71). */
  group?: string;
  /** The group's port (default 10000). */
  port?: number;
  /** What to send (default `b'very important data'`). */
  message?: Uint8Array;
  /** `IP_MULTICAST_TTL` (default 1: the packets stay on the local segment). */
  ttl?: number;
  /** Multicast loopback (default on). */
  loopback?: boolean;
  /** How long to wait for the next answer, in ms (default 200, the tutorial's settimeout(0.2)). */
  timeoutMs?: number;
  /** Stop after this many answers even if more come (default 1000: a bound). */
  maxAnswers?: number;
  /** Where transcript and error lines go (default `console.log`). */
  print?: (line: string) => void;
}

/**
 * Sends the message to the group and prints every answer until none comes within the
 * timeout; resolves with the exit status (0, or 1 after printing the error).
 *
 * @example
 * ```ts
 * import { runMulticastSender } from "./multicast.ts";
 * // Sends onto the local segment (TTL 1): run it where that is wanted, e.g. in a namespace.
 * function askGroup(port: number): Promise<number> {
 *   return runMulticastSender({ group: "224.3.29.71", port, ttl: 1, timeoutMs: 200 });
 * }
 * ```
 */
export function runMulticastSender(opts: MulticastSenderOptions = {}): Promise<number> {
  const print = opts.print ?? console.log;
  const group = opts.group ?? DEFAULT_GROUP;
  const port = opts.port ?? DEFAULT_PORT;
  const message = opts.message ?? MULTICAST_MESSAGE;
  const timeoutMs = opts.timeoutMs ?? 200;
  const maxAnswers = opts.maxAnswers ?? 1000;
  return new Promise((resolve) => {
    const sock = dgram.createSocket({ type: "udp4" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let answers = 0;
    let done = false;
    const finish = (code: number, last?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (last) print(last);
      print("closing socket");
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve(code);
    };
    const wait = () => {
      print("waiting to receive");
      clearTimeout(timer);
      timer = setTimeout(() => finish(0, "timed out, no more responses"), timeoutMs);
    };
    sock.on("error", (err) => finish(1, errnoLine(err)));
    sock.on("message", (data, rinfo) => {
      if (done) return;
      clearTimeout(timer);
      // recvfrom(16): a longer answer is cut to 16 bytes
      print(
        `received ${bytesRepr(new Uint8Array(data).subarray(0, 16))} from ${
          formatSockaddr([rinfo.address, rinfo.port])
        }`,
      );
      if (++answers >= maxAnswers) finish(0, `stopping after ${answers} answers`);
      else wait();
    });
    sock.bind(0, () => {
      try {
        sock.setMulticastTTL(opts.ttl ?? 1);
        sock.setMulticastLoopback(opts.loopback ?? true);
      } catch (err) {
        finish(1, errnoLine(err));
        return;
      }
      print(`sending ${bytesRepr(message)}`);
      sock.send(message, port, group, (err) => {
        if (err) finish(1, errnoLine(err));
      });
      wait();
    });
  });
}
