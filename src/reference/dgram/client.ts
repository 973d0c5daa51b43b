/**
 * The reference datagram echo client (SPEC §4), over UDP or a Unix datagram socket: sends
 * one datagram, waits (with a timeout) for the answer and prints the tutorial's client
 * transcript: `sending b'...'`, `waiting to receive`, `received b'...'`, `closing socket`.
 *
 * A payload over the UDP limit (65,507 bytes over IPv4, 65,527 over IPv6) fails as
 * Python's `sendto` does: it prints `[Errno 90] Message too long` and returns 1. Every other
 * socket error is printed the same way (`[Errno N] message`), also returning 1.
 *
 * Over a Unix datagram socket the client binds a path of its own, as SPEC §4 says it must
 * (a fresh one in a private temp dir unless `bind` names one; it is removed afterwards).
 * With `unbound` it sends from an unbound socket instead, to show what happens: nobody can
 * answer a socket without an address, so it says so and returns 1 rather than wait forever.
 *
 * @example
 * ```ts
 * import { runDgramClient } from "./client.ts";
 * import { serveDgram } from "./server.ts";
 * const server = await serveDgram({ listen: { transport: "udp", hostname: "127.0.0.1", port: 0 } });
 * const { port } = server.addr as Deno.NetAddr;
 * const code = await runDgramClient({ to: { transport: "udp", hostname: "127.0.0.1", port } });
 * console.log(code); // 0, after the tutorial's client transcript
 * await server.close();
 * ```
 * @module
 */

import { getaddrinfo, SOCK_DGRAM } from "../../python/addrinfo.ts";
import { errnoLine } from "../../python/errno.ts";
import { bytesRepr } from "../../python/repr.ts";
import { closeQuietly } from "../../net/sockets.ts";
import { TUTORIAL_MESSAGE } from "../../transcript/tutorial.ts";
import {
  type DatagramAddress,
  openDatagram,
  receiveWithin,
  toDenoAddr,
} from "../../net/datagram.ts";

/** Options of {@linkcode runDgramClient}. */
export interface DgramClientOptions {
  /** The server. A UDP host may be a name; it is resolved as `sendto` would. */
  to: DatagramAddress;
  /** What to send (default {@linkcode TUTORIAL_MESSAGE}). */
  message?: Uint8Array;
  /** Unix datagram only: the client's own path (default: a fresh one in a private temp dir). */
  bind?: string;
  /** Unix datagram only: send from an unbound socket (then no answer can come back). */
  unbound?: boolean;
  /** The receive buffer, as in `recvfrom(4096)` (default 4096). */
  buffer?: number;
  /** Longest wait for the answer, in ms (default 5000). */
  timeoutMs?: number;
  /** Where transcript and error lines go (default `console.log`, as the tutorial prints). */
  print?: (line: string) => void;
}

/** What the unbound client prints instead of waiting for an answer that cannot come. */
export const UNBOUND_ERROR =
  "no answer can arrive: this client did not bind a path of its own, so the server has no address to send the echo to (SPEC §4: bind a path, e.g. --bind PATH)";

async function resolveUdp(
  to: { hostname: string; port: number },
): Promise<{ transport: "udp"; hostname: string; port: number }> {
  const infos = await getaddrinfo(to.hostname, to.port, { type: SOCK_DGRAM });
  const [host] = infos[0][4];
  return { transport: "udp", hostname: host, port: to.port };
}

/**
 * Runs the client; resolves with the exit status (0, or 1 after printing the error).
 *
 * @example
 * ```ts
 * import { runDgramClient } from "./client.ts";
 * import { serveDgram } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await serveDgram({ listen: { transport: "unixgram", path: `${dir}/s` } });
 * await runDgramClient({
 *   to: { transport: "unixgram", path: `${dir}/s` }, // the client binds a path of its own
 *   message: new TextEncoder().encode("ping"),
 *   timeoutMs: 1000,
 * }); // 0
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runDgramClient(opts: DgramClientOptions): Promise<number> {
  const print = opts.print ?? console.log;
  const message = opts.message ?? TUTORIAL_MESSAGE;
  const timeoutMs = opts.timeoutMs ?? 5000;
  let sock: Deno.DatagramConn | undefined;
  let tmpDir: string | undefined;
  let boundPath: string | undefined;
  try {
    let to: DatagramAddress;
    if (opts.to.transport === "unixgram") {
      to = opts.to;
      if (opts.unbound) {
        sock = openDatagram({ transport: "unixgram" });
      } else {
        let path = opts.bind;
        if (path === undefined) {
          tmpDir = await Deno.makeTempDir({ prefix: "sockspec-client-" });
          path = `${tmpDir}/client`;
        }
        sock = openDatagram({ transport: "unixgram", path });
        boundPath = path;
      }
    } else {
      to = await resolveUdp(opts.to);
      sock = openDatagram({
        transport: "udp",
        hostname: to.hostname.includes(":") ? "::" : "0.0.0.0",
        port: 0,
      });
    }
    print(`sending ${bytesRepr(message)}`);
    await sock.send(message, toDenoAddr(to));
    if (opts.to.transport === "unixgram" && opts.unbound) {
      print(UNBOUND_ERROR);
      return 1;
    }
    print("waiting to receive");
    const got = await receiveWithin(sock, timeoutMs, opts.buffer ?? 4096);
    if (!got) {
      print(`timed out: no answer within ${timeoutMs} ms`);
      return 1;
    }
    print(`received ${bytesRepr(got[0])}`);
    return 0;
  } catch (err) {
    print(errnoLine(err));
    return 1;
  } finally {
    if (sock) {
      print("closing socket");
      closeQuietly(sock);
    }
    if (boundPath) await Deno.remove(boundPath).catch(() => {});
    if (tmpDir) await Deno.remove(tmpDir).catch(() => {});
  }
}
