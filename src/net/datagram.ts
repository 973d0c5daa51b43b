/**
 * Datagram plumbing shared by the reference datagram programs and the datagram cases
 * (SPEC §4 and §5): addresses for UDP and Unix datagram sockets, the UDP payload limits,
 * Python-style printing of sender addresses, a receive with a timeout that never loses
 * a datagram, and the tutorial servers' receive loop.
 *
 * On Deno a Unix datagram socket (`AF_UNIX`, `SOCK_DGRAM`) is `transport: "unixpacket"`;
 * without a path it is left unbound (it can send but nobody can answer it).
 *
 * @example
 * ```ts
 * import { openDatagram, receiveWithin, toDenoAddr } from "./datagram.ts";
 * const server = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const client = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * await client.send(new TextEncoder().encode("ping"), server.addr);
 * const got = await receiveWithin(server, 1000);
 * console.log(got?.[0].length); // 4
 * client.close();
 * server.close();
 * ```
 * @module
 */

import { formatSockaddr } from "../python/addrinfo.ts";
import { errnoCode, errnoLine } from "../python/errno.ts";
import { bytesRepr } from "../python/repr.ts";
import { sleep } from "./sockets.ts";

/** Where a datagram socket is (or is bound): a UDP host and port, or a Unix socket path. */
export type DatagramAddress =
  | { transport: "udp"; hostname: string; port: number }
  | { transport: "unixgram"; path: string };

/**
 * The environment variable a declared datagram client reads its message size from, when the
 * case gives none on its command line (see the README's client contract).
 */
export const SIZE_ENV = "SOCKSPEC_MESSAGE_SIZE";

/** The largest UDP payload over IPv4: 65,535 − 8 (UDP header) − 20 (IPv4 header). */
export const UDP_MAX_IPV4 = 65507;
/** The largest UDP payload over IPv6: 65,535 − 8 (UDP header); the IPv6 header is not counted. */
export const UDP_MAX_IPV6 = 65527;

/**
 * The largest UDP payload for `host`: 65,527 for an IPv6 address, else 65,507.
 *
 * @example
 * ```ts
 * import { maxUdpPayload } from "./datagram.ts";
 * maxUdpPayload("::1"); // 65527
 * maxUdpPayload("127.0.0.1"); // 65507
 * ```
 */
export function maxUdpPayload(host: string): number {
  return host.includes(":") ? UDP_MAX_IPV6 : UDP_MAX_IPV4;
}

/**
 * The Deno address for a datagram address (`unixgram` is Deno's `unixpacket`).
 *
 * @example
 * ```ts
 * import { toDenoAddr } from "./datagram.ts";
 * toDenoAddr({ transport: "unixgram", path: "/tmp/s" }); // { transport: "unixpacket", path: "/tmp/s" }
 * ```
 */
export function toDenoAddr(addr: DatagramAddress): Deno.Addr {
  return addr.transport === "unixgram"
    ? { transport: "unixpacket", path: addr.path }
    : { transport: "udp", hostname: addr.hostname, port: addr.port };
}

/**
 * A datagram address for messages: `127.0.0.1:10000`, `[::1]:10000` or the path.
 *
 * @example
 * ```ts
 * import { describeDatagram } from "./datagram.ts";
 * describeDatagram({ transport: "udp", hostname: "::1", port: 10000 }); // "[::1]:10000"
 * ```
 */
export function describeDatagram(addr: DatagramAddress | Deno.Addr): string {
  if (
    addr.transport === "unixgram" || addr.transport === "unixpacket" || addr.transport === "unix"
  ) {
    return (addr as { path?: string | null }).path ?? "(unbound)";
  }
  const { hostname, port } = addr as Deno.NetAddr;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * A sender's address as the tutorial's `print('... {}'.format(address))` shows it: a
 * tuple for UDP (`('127.0.0.1', 57870)`, `('::1', 57870, 0, 0)`), the bare path for a Unix
 * datagram socket, `None` for an unbound Unix sender.
 *
 * @example
 * ```ts
 * import { pyAddress } from "./datagram.ts";
 * pyAddress({ transport: "udp", hostname: "127.0.0.1", port: 57870 }); // "('127.0.0.1', 57870)"
 * pyAddress({ transport: "unixpacket", path: "" }); // "None"
 * ```
 */
export function pyAddress(addr: Deno.Addr): string {
  if (addr.transport === "unixpacket" || addr.transport === "unix") {
    return addr.path ? addr.path : "None";
  }
  return formatSockaddr(addr);
}

/**
 * True when `addr` is a Unix sender that did not bind a path (nobody can answer it).
 *
 * @example
 * ```ts
 * import { isUnbound } from "./datagram.ts";
 * isUnbound({ transport: "unixpacket", path: "" }); // true
 * ```
 */
export function isUnbound(addr: Deno.Addr): boolean {
  return (addr.transport === "unixpacket" || addr.transport === "unix") && !addr.path;
}

/**
 * Opens a datagram socket bound to `bind`: a UDP host and port (0 picks one), a Unix path,
 * or `{ transport: "unixgram" }` without a path for an unbound Unix datagram socket.
 * Errors are the runtime's own (EADDRINUSE, EACCES, ...).
 *
 * @example
 * ```ts
 * import { openDatagram } from "./datagram.ts";
 * const unbound = openDatagram({ transport: "unixgram" });
 * unbound.close();
 * ```
 */
export function openDatagram(
  bind: DatagramAddress | { transport: "unixgram"; path?: undefined },
  opts: { loopback?: boolean; reuseAddress?: boolean } = {},
): Deno.DatagramConn {
  if (bind.transport === "unixgram") {
    return bind.path === undefined
      ? Deno.listenDatagram({ transport: "unixpacket" })
      : Deno.listenDatagram({ transport: "unixpacket", path: bind.path });
  }
  return Deno.listenDatagram({
    transport: "udp",
    hostname: bind.hostname,
    port: bind.port,
    ...opts,
  });
}

const pending = new WeakMap<Deno.DatagramConn, Promise<[Uint8Array, Deno.Addr]>>();

/**
 * The next datagram (up to `max` bytes: a longer one is truncated, as `recvfrom(max)`
 * does) and its sender, or undefined when none arrives within `timeoutMs`. After a timeout
 * the receive stays pending and the next call on `conn` returns its datagram, so none is
 * lost. Other errors (the socket was closed, ...) are thrown.
 *
 * @example
 * ```ts
 * import { openDatagram, receiveWithin } from "./datagram.ts";
 * const sock = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * console.log(await receiveWithin(sock, 50)); // undefined: nothing came
 * sock.close();
 * ```
 */
export async function receiveWithin(
  conn: Deno.DatagramConn,
  timeoutMs: number,
  max = 1 << 18,
): Promise<[Uint8Array, Deno.Addr] | undefined> {
  let receiving = pending.get(conn);
  if (!receiving) {
    receiving = conn.receive(new Uint8Array(max));
    receiving.catch(() => {});
    pending.set(conn, receiving);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((
    r,
  ) => (timer = setTimeout(() => r(undefined), timeoutMs)));
  try {
    const got = await Promise.race([receiving, timeout]);
    if (got !== undefined) pending.delete(conn);
    return got;
  } catch (err) {
    pending.delete(conn);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode receiveLoop}. */
export interface ReceiveLoopOptions {
  /** The receive buffer in bytes: a longer datagram is truncated to it, as `recvfrom(n)`. */
  buffer: number;
  /** Where transcript lines go. */
  print: (line: string) => void;
  /** Where problems go, one line each. */
  log: (line: string) => void;
  /** The program's name at the start of each problem line (`dgram: receive failed: ...`). */
  name: string;
  /** True once the server is closing: a failed receive then ends the loop, unlogged. */
  closing: () => boolean;
  /**
   * Deals with one datagram after its transcript lines (answers it, or not); `who` is the
   * sender as printed. It must not throw: it logs its own problems.
   */
  answer: (data: Uint8Array, from: Deno.Addr, who: string) => Promise<void>;
}

/**
 * The tutorial servers' loop (SPEC §4 and §5) until `closing()`: prints an empty line and
 * `waiting to receive message` (once per datagram), receives one datagram of up to
 * `buffer` bytes, prints `received N bytes from ADDR` (the sender as {@linkcode pyAddress}
 * shows it) and the data's repr, then hands it to `answer`. A failed receive is logged and
 * retried after 50 ms, unless the server is closing.
 *
 * @example
 * ```ts
 * import { openDatagram, receiveLoop } from "./datagram.ts";
 * const sock = openDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * let closing = false;
 * const finished = receiveLoop(sock, {
 *   buffer: 4096,
 *   print: console.log,
 *   log: console.error,
 *   name: "echo",
 *   closing: () => closing,
 *   answer: async (data, from) => void await sock.send(data, from),
 * });
 * closing = true;
 * sock.close();
 * await finished;
 * ```
 */
export async function receiveLoop(
  socket: Deno.DatagramConn,
  opts: ReceiveLoopOptions,
): Promise<void> {
  const { print } = opts;
  let waiting = false;
  while (!opts.closing()) {
    if (!waiting) {
      print("");
      print("waiting to receive message");
      waiting = true;
    }
    let data: Uint8Array;
    let from: Deno.Addr;
    try {
      [data, from] = await socket.receive(new Uint8Array(opts.buffer));
    } catch (err) {
      if (opts.closing()) break;
      opts.log(`${opts.name}: receive failed: ${errnoLine(err)}; retrying`);
      await sleep(50);
      continue;
    }
    waiting = false;
    const who = pyAddress(from);
    print(`received ${data.length} bytes from ${who}`);
    print(bytesRepr(data));
    await opts.answer(data, from, who);
  }
}

/**
 * True when `err` is EMSGSIZE ("Message too long"): the datagram does not fit.
 *
 * @example
 * ```ts
 * import { isMessageTooLong } from "./datagram.ts";
 * isMessageTooLong(new Error("Message too long (os error 90)")); // true
 * ```
 */
export function isMessageTooLong(err: unknown): boolean {
  return errnoCode(err) === "EMSGSIZE";
}

/**
 * `n` bytes of a recognisable pattern: the text `tag` repeated, cut to `n` (so a
 * truncated echo still shows where it came from).
 *
 * @example
 * ```ts
 * import { patterned } from "./datagram.ts";
 * new TextDecoder().decode(patterned(7, "ab")); // "abababa"
 * ```
 */
export function patterned(n: number, tag = "sockspec "): Uint8Array {
  const unit = new TextEncoder().encode(tag || " ");
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = unit[i % unit.length];
  return out;
}
