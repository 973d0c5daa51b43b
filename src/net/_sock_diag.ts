/**
 * The local ports of listening TCP sockets, asked of the kernel over netlink (sock_diag, as
 * `ss -lt` does) through libc by FFI. Asking for the LISTEN state alone makes the kernel walk
 * only its listening-sockets hash. Reading /proc/net/tcp instead walks the whole
 * established-connections hash as well: 5 ms of CPU a read on a machine with a large one
 * (262,144 buckets here), and readiness polls it hundreds of times a run.
 *
 * Needs `--allow-ffi` (the /proc reader has `--allow-all`) and a glibc `libc.so.6`; the
 * caller falls back to /proc/net/tcp when {@linkcode listeningTcpPorts} throws.
 *
 * @example
 * ```ts
 * import { listeningTcpPorts } from "./_sock_diag.ts";
 * try {
 *   listeningTcpPorts(); // e.g. [22, 10000]
 * } catch {
 *   // no FFI here: read /proc/net/tcp instead
 * }
 * ```
 * @module
 */

const AF_NETLINK = 16;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const IPPROTO_TCP = 6;
const TCP_LISTEN = 10;
/** A netlink message header's size; an inet_diag_msg's sport is 4 bytes into its body. */
const NLMSG_HDRLEN = 16;
/** How many reply buffers one dump may take before it is called broken. */
const MAX_REPLIES = 1000;

let libc:
  | Deno.DynamicLibrary<{
    socket: { parameters: ["i32", "i32", "i32"]; result: "i32" };
    sendto: {
      parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"];
      result: "isize";
    };
    recv: { parameters: ["i32", "buffer", "usize", "i32"]; result: "isize" };
    close: { parameters: ["i32"]; result: "i32" };
  }>
  | undefined;

function open() {
  libc ??= Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
    recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  });
  return libc.symbols;
}

/**
 * The local ports of every listening TCP socket, IPv4 and IPv6, in this network namespace.
 * Throws when FFI or libc is not there, or the kernel refuses the request.
 *
 * @example
 * ```ts
 * import { listeningTcpPorts } from "./_sock_diag.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * try {
 *   listeningTcpPorts().includes(listener.addr.port); // true
 * } catch {
 *   // no FFI here
 * } finally {
 *   listener.close();
 * }
 * ```
 */
export function listeningTcpPorts(): number[] {
  const c = open();
  const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) throw new Error("socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed");
  try {
    return [...dump(c, fd, AF_INET), ...dump(c, fd, AF_INET6)];
  } finally {
    c.close(fd);
  }
}

function dump(c: ReturnType<typeof open>, fd: number, family: number): number[] {
  // nlmsghdr (16 bytes) + inet_diag_req_v2 (56 bytes), host byte order but for the ports.
  const req = new Uint8Array(72);
  const view = new DataView(req.buffer);
  view.setUint32(0, req.length, true);
  view.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  view.setUint32(8, family, true); // sequence number
  req[16] = family;
  req[17] = IPPROTO_TCP;
  view.setUint32(20, 1 << TCP_LISTEN, true);
  const kernel = new Uint8Array(12); // sockaddr_nl: family AF_NETLINK, pid 0 (the kernel)
  new DataView(kernel.buffer).setUint16(0, AF_NETLINK, true);
  if (Number(c.sendto(fd, req, BigInt(req.length), 0, kernel, kernel.length)) !== req.length) {
    throw new Error("sending the sock_diag request failed");
  }
  const ports: number[] = [];
  const buf = new Uint8Array(32 << 10);
  const reply = new DataView(buf.buffer);
  for (let n = 0; n < MAX_REPLIES; n++) {
    const got = Number(c.recv(fd, buf, BigInt(buf.length), 0));
    if (got <= 0) throw new Error("reading the sock_diag reply failed");
    for (let at = 0; at + NLMSG_HDRLEN <= got;) {
      const len = reply.getUint32(at, true);
      const type = reply.getUint16(at + 4, true);
      if (type === NLMSG_DONE) return ports;
      if (type === NLMSG_ERROR || len < NLMSG_HDRLEN) {
        throw new Error(`the kernel refused the sock_diag request (type ${type})`);
      }
      ports.push(reply.getUint16(at + NLMSG_HDRLEN + 4, false));
      at += (len + 3) & ~3;
    }
  }
  throw new Error(`the sock_diag reply did not end after ${MAX_REPLIES} reads`);
}
