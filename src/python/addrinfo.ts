/**
 * Python-compatible `getaddrinfo`, `create_connection` and sockaddr printing.
 *
 * {@linkcode getaddrinfo} returns the tuples Python's `socket.getaddrinfo` returns on
 * Linux: `[family, type, proto, canonname, sockaddr]`, one per address and socket type in
 * glibc's order (with `type` 0: STREAM/TCP, DGRAM/UDP, RAW/0), with glibc's `gaierror`
 * codes and messages. Names go through the system resolver (`node:dns` `lookup`, which
 * calls the C library's `getaddrinfo`, so `/etc/hosts` counts); numeric hosts, a `null`
 * host, service names and socket types are handled here exactly as glibc handles them.
 *
 * Limits: an IPv6 scope must be numeric (`fe80::1%2`, not `%eth0`); `canonname` for a name
 * comes from `/etc/hosts` (the first name on the line that
 * holds the name), else it is the name as given (a DNS CNAME is not followed);
 * `AI_ADDRCONFIG` and the IDN flags are accepted and ignored.
 *
 * @example
 * ```ts
 * import { formatSockaddr, getaddrinfo, SOCK_STREAM } from "./addrinfo.ts";
 * const [[family, type, proto, canonname, sockaddr]] = await getaddrinfo("localhost", 10000, {
 *   type: SOCK_STREAM,
 * });
 * console.log(family, type, proto, canonname, formatSockaddr(sockaddr)); // 2 1 6  ('127.0.0.1', 10000)
 * ```
 * @module
 */

import { AF_INET, AF_INET6, inetAtonExact, inetNtop, inetPton, SocketError } from "./inet.ts";
import { readServices } from "./netdb.ts";
import { pyRepr } from "./repr.ts";

/** `socket.AF_UNSPEC`: any address family. */
export const AF_UNSPEC = 0;
/** `socket.SOCK_STREAM`. */
export const SOCK_STREAM = 1;
/** `socket.SOCK_DGRAM`. */
export const SOCK_DGRAM = 2;
/** `socket.SOCK_RAW`. */
export const SOCK_RAW = 3;
/** `socket.SOCK_SEQPACKET`. */
export const SOCK_SEQPACKET = 5;
/** `socket.IPPROTO_TCP`. */
export const IPPROTO_TCP = 6;
/** `socket.IPPROTO_UDP`. */
export const IPPROTO_UDP = 17;
/** `socket.AI_PASSIVE`: with a `null` host, give the wildcard addresses (for `bind`). */
export const AI_PASSIVE = 1;
/** `socket.AI_CANONNAME`: fill `canonname` in the first tuple. */
export const AI_CANONNAME = 2;
/** `socket.AI_NUMERICHOST`: the host must be a numeric address; never resolve it. */
export const AI_NUMERICHOST = 4;
/** `socket.AI_V4MAPPED`: with `AF_INET6`, return IPv4 addresses as `::ffff:a.b.c.d`. */
export const AI_V4MAPPED = 8;
/** `socket.AI_ALL`: with `AI_V4MAPPED`, return mapped IPv4 addresses as well as IPv6 ones. */
export const AI_ALL = 0x10;
/** `socket.AI_ADDRCONFIG` (accepted and ignored here). */
export const AI_ADDRCONFIG = 0x20;
/** `socket.AI_NUMERICSERV`: the port must be numeric; never look up a service name. */
export const AI_NUMERICSERV = 0x400;

/** All flag bits glibc accepts (the others give `EAI_BADFLAGS`). */
const KNOWN_FLAGS = 0x7ff;

/** A Python sockaddr: `(host, port)` for IPv4, `(host, port, flowinfo, scope_id)` for IPv6. */
export type Sockaddr = [host: string, port: number] | [
  host: string,
  port: number,
  flowinfo: number,
  scopeId: number,
];

/** One `getaddrinfo` result: `(family, type, proto, canonname, sockaddr)`. */
export type AddrInfo = [
  family: number,
  type: number,
  proto: number,
  canonname: string,
  sockaddr: Sockaddr,
];

/** The hints of {@linkcode getaddrinfo}; all default to 0 as in Python. */
export interface AddrInfoOptions {
  /** `AF_UNSPEC` (0), `AF_INET` (2) or `AF_INET6` (10). */
  family?: number;
  /** Socket type, e.g. {@linkcode SOCK_STREAM}; 0 for every type. */
  type?: number;
  /** Protocol, e.g. {@linkcode IPPROTO_TCP}; 0 for any. */
  proto?: number;
  /** Bitwise OR of the `AI_*` flags. */
  flags?: number;
  /**
   * The name resolver (for tests); defaults to `node:dns` `lookup` with `all: true`.
   * It rejects with an error whose `code` is a `node:dns` code such as `ENOTFOUND`.
   */
  resolve?: Resolver;
}

/** A name resolver: all addresses of `host` for `family` (0 for any, 4 or 6), in order. */
export type Resolver = (
  host: string,
  family: 0 | 4 | 6,
) => Promise<{ address: string; family: number }[]>;

/**
 * The default {@linkcode Resolver}: the system resolver (the C library's `getaddrinfo`,
 * so `/etc/hosts` counts) through `node:dns` `lookup`.
 *
 * @example
 * ```ts
 * import { systemResolver } from "./addrinfo.ts";
 * await systemResolver("localhost", 4); // [{ address: "127.0.0.1", family: 4 }]
 * ```
 */
export async function systemResolver(
  host: string,
  family: 0 | 4 | 6,
): Promise<{ address: string; family: number }[]> {
  // Loaded on first use: a reference server formats addresses but resolves none, and the
  // node:dns module costs every start of one a few ms.
  const { lookup } = await import("node:dns");
  return await new Promise((res, rej) => {
    lookup(host, { all: true, family, verbatim: true }, (err, addrs) => {
      if (err) rej(err);
      else res(addrs);
    });
  });
}

const GAI_MESSAGES: Record<number, string> = {
  [-1]: "Bad value for ai_flags",
  [-2]: "Name or service not known",
  [-3]: "Temporary failure in name resolution",
  [-4]: "Non-recoverable failure in name resolution",
  [-5]: "No address associated with hostname",
  [-6]: "ai_family not supported",
  [-7]: "ai_socktype not supported",
  [-8]: "Servname not supported for ai_socktype",
  [-9]: "Address family for hostname not supported",
  [-11]: "System error",
};

/**
 * A `socket.gaierror` with glibc's message for `code` (e.g. -2,
 * `Name or service not known`) and `detail` naming what was looked up.
 *
 * @example
 * ```ts
 * import { gaierror } from "./addrinfo.ts";
 * gaierror(-2, "host 'nope.invalid'").message;
 * // "[Errno -2] Name or service not known: host 'nope.invalid'"
 * ```
 */
export function gaierror(code: number, detail: string, cause?: unknown): SocketError {
  return new SocketError("socket.gaierror", GAI_MESSAGES[code] ?? `Unknown error ${code}`, {
    errno: code,
    detail,
    cause,
  });
}

/** glibc's `gaih_inet_typeproto` table (name, socktype, protocol, default, protoany+noserv). */
const TYPEPROTO: { name: string; type: number; proto: number; dflt: boolean; raw: boolean }[] = [
  { name: "tcp", type: SOCK_STREAM, proto: IPPROTO_TCP, dflt: true, raw: false },
  { name: "udp", type: SOCK_DGRAM, proto: IPPROTO_UDP, dflt: true, raw: false },
  { name: "dccp", type: 6, proto: 33, dflt: false, raw: false },
  { name: "udplite", type: SOCK_DGRAM, proto: 136, dflt: false, raw: false },
  { name: "sctp", type: SOCK_STREAM, proto: 132, dflt: false, raw: false },
  { name: "sctp", type: SOCK_SEQPACKET, proto: 132, dflt: false, raw: false },
  { name: "raw", type: SOCK_RAW, proto: 0, dflt: true, raw: true },
];

type ServTuple = { type: number; proto: number; port: number };

/** glibc's service handling: the (socktype, protocol, port) triples to return. */
function serviceTuples(
  service: string | null,
  type: number,
  proto: number,
  flags: number,
  what: string,
): ServTuple[] {
  let num = -1;
  if (service !== null) {
    const m = /^\s*([+-]?)(\d+)$/.exec(service);
    if (m) {
      // strtoul, then the C int cast: the low 32 bits, signed.
      let v = BigInt.asUintN(32, BigInt(m[2]));
      if (m[1] === "-") v = BigInt.asUintN(32, -v);
      num = Number(BigInt.asIntN(32, v));
    } else if (flags & AI_NUMERICSERV) {
      throw gaierror(-2, `${what}: service ${pyRepr(service)} is not numeric (AI_NUMERICSERV)`);
    }
  }
  let tp: (typeof TYPEPROTO)[number] | undefined;
  if (type !== 0 || proto !== 0) {
    tp = TYPEPROTO.find((t) =>
      (type === 0 || type === t.type) && (proto === 0 || t.raw || proto === t.proto)
    );
    if (!tp) {
      throw type !== 0
        ? gaierror(-7, `${what}: type ${type} with proto ${proto}`)
        : gaierror(-8, `${what}: proto ${proto}`);
    }
  }
  if (service !== null) {
    if (tp?.raw) throw gaierror(-8, `${what}: SOCK_RAW takes no service/port`);
    if (num < 0) {
      const all = readServicesForGai(what);
      const byProto = (t: (typeof TYPEPROTO)[number]): ServTuple | undefined => {
        const s = all.find((e) =>
          e.proto === t.name && (e.name === service || e.aliases.includes(service))
        );
        return s && { type: t.type, proto: t.raw ? proto : t.proto, port: s.port };
      };
      const out = (tp ? [tp] : TYPEPROTO.filter((t) => !t.raw))
        .map(byProto)
        .filter((s): s is ServTuple => s !== undefined);
      if (out.length === 0) {
        throw gaierror(
          -8,
          `${what}: service ${pyRepr(service)} is not in /etc/services for this type`,
        );
      }
      return out;
    }
  }
  const port = service === null ? 0 : num & 0xffff;
  if (tp) return [{ type: tp.type, proto: tp.raw ? proto : tp.proto, port }];
  return TYPEPROTO.filter((t) => t.dflt).map((t) => ({ type: t.type, proto: t.proto, port }));
}

function readServicesForGai(what: string) {
  try {
    return readServices();
  } catch (e) {
    throw gaierror(-8, `${what}: ${(e as SocketError).detail ?? (e as Error).message}`, e);
  }
}

type Addr = { family: number; host: string; scopeId: number };

/** A numeric IPv6 address with an optional `%scope` (a number or an interface name). */
function numericV6(host: string): Addr | undefined {
  const pct = host.indexOf("%");
  const text = pct < 0 ? host : host.slice(0, pct);
  let bytes: Uint8Array;
  try {
    bytes = inetPton(AF_INET6, text);
  } catch {
    return undefined;
  }
  let scopeId = 0;
  if (pct >= 0) {
    const scope = host.slice(pct + 1);
    if (!/^\d+$/.test(scope)) {
      // glibc maps an interface name with if_nametoindex; Deno cannot read /sys without
      // --allow-all, so only numeric scopes are supported here.
      throw gaierror(
        -2,
        `host ${pyRepr(host)}: scope ${pyRepr(scope)} is not a number; interface-name scopes ` +
          `are not supported here, use the interface index (see \`ip link\`), e.g. %1`,
      );
    }
    scopeId = Number(BigInt.asUintN(32, BigInt(scope)));
  }
  return { family: AF_INET6, host: inetNtop(AF_INET6, bytes), scopeId };
}

async function resolve(host: string, family: number, resolver: Resolver): Promise<Addr[]> {
  let addrs: { address: string; family: number }[];
  try {
    addrs = await resolver(host, family === AF_INET6 ? 6 : family === AF_INET ? 4 : 0);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined) throw err; // e.g. Deno.errors.NotCapable: not a look-up failure
    if (code === "EPERM") {
      throw new Deno.errors.NotCapable(
        `resolving ${host} needs net permission; run with --allow-net=${host}`,
      );
    }
    const gai = code === "EAI_AGAIN" ? -3 : code === "EAI_FAIL" ? -4 : code === "ENODATA" ? -5 : -2;
    const reason = err instanceof Error ? err.message : String(err);
    throw gaierror(gai, `host ${pyRepr(host)} (resolver: ${reason})`, err);
  }
  return addrs.map((a) => {
    if (a.family === 6) {
      try {
        return numericV6(a.address) ?? { family: AF_INET6, host: a.address, scopeId: 0 };
      } catch {
        return { family: AF_INET6, host: a.address, scopeId: 0 };
      }
    }
    return { family: AF_INET, host: a.address, scopeId: 0 };
  });
}

/** The first name of the `/etc/hosts` line that lists `host` (case-insensitive), if any. */
function hostsCanonname(host: string): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/etc/hosts");
  } catch {
    return undefined;
  }
  const want = host.toLowerCase();
  for (const line of text.split("\n")) {
    const [, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (names.some((n) => n.toLowerCase() === want)) return names[0];
  }
  return undefined;
}

const isV4Mapped = (host: string) => /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(host);

const mapped = (a: Addr): Addr => ({
  family: AF_INET6,
  host: inetNtop(
    AF_INET6,
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...a.host.split(".").map(Number)]),
  ),
  scopeId: 0,
});

/**
 * Python's `socket.getaddrinfo(host, port, family, type, proto, flags)` on Linux.
 *
 * `host` is a name, a numeric address (IPv4 in any `inet_aton` form, IPv6 with an
 * optional `%scope`) or `null` (the loopback addresses, or with {@linkcode AI_PASSIVE} the
 * wildcard ones). `port` is a number, a numeric string, a service name or `null`.
 *
 * @throws {SocketError} a `socket.gaierror` with glibc's code and message, e.g.
 * `[Errno -2] Name or service not known`, naming the host or service.
 * @example
 * ```ts
 * import { getaddrinfo } from "./addrinfo.ts";
 * await getaddrinfo("localhost", 10000);
 * // [[2, 1, 6, "", ["127.0.0.1", 10000]], [2, 2, 17, "", [...]], [2, 3, 0, "", [...]]]
 * ```
 */
export async function getaddrinfo(
  host: string | null,
  port: number | string | null,
  options: AddrInfoOptions = {},
): Promise<AddrInfo[]> {
  const { family = 0, type = 0, proto = 0, flags = 0, resolve: resolver = systemResolver } =
    options;
  if (typeof port === "number" && !Number.isInteger(port)) {
    throw new TypeError(`getaddrinfo: port must be an integer, a string or null, got ${port}`);
  }
  // glibc: a NULL service and an empty one differ only in the "host and port both missing" check.
  const rawService = port === null ? null : String(port);
  const service = rawService === "" ? null : rawService;
  const what = `getaddrinfo(${pyRepr(host)}, ${typeof port === "number" ? port : pyRepr(port)})`;
  if (flags & ~KNOWN_FLAGS) {
    throw gaierror(-1, `${what}: unknown flag bits ${flags & ~KNOWN_FLAGS}`);
  }
  if (host === null && flags & AI_CANONNAME) {
    throw gaierror(-1, `${what}: AI_CANONNAME needs a host name`);
  }
  if (host === null && rawService === null) throw gaierror(-2, `${what}: give a host or a port`);
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw gaierror(-6, `${what}: family ${family}; use 0, AF_INET (2) or AF_INET6 (10)`);
  }
  const servs = serviceTuples(service, type, proto, flags, what);

  let addrs: Addr[];
  let canonname = "";
  const v4mapped = family === AF_INET6 && (flags & AI_V4MAPPED) !== 0;
  if (host === null) {
    addrs = flags & AI_PASSIVE
      ? [{ family: AF_INET, host: "0.0.0.0", scopeId: 0 }, {
        family: AF_INET6,
        host: "::",
        scopeId: 0,
      }]
      : [{ family: AF_INET6, host: "::1", scopeId: 0 }, {
        family: AF_INET,
        host: "127.0.0.1",
        scopeId: 0,
      }];
    addrs = addrs.filter((a) => family === AF_UNSPEC || a.family === family);
  } else {
    const v4 = inetAtonExact(host);
    const numeric = v4
      ? { family: AF_INET, host: inetNtop(AF_INET, v4), scopeId: 0 }
      : numericV6(host);
    if (numeric) {
      if (family === AF_INET && numeric.family === AF_INET6 && isV4Mapped(numeric.host)) {
        // glibc turns a numeric IPv4-mapped address into plain IPv4 for AF_INET.
        addrs = [{ family: AF_INET, host: numeric.host.slice(7), scopeId: 0 }];
      } else if (family !== AF_UNSPEC && numeric.family !== family) {
        if (!(v4mapped && numeric.family === AF_INET)) {
          throw gaierror(-9, `${what}: ${pyRepr(host)} is not an address of family ${family}`);
        }
        addrs = [mapped(numeric)];
      } else {
        addrs = [numeric];
      }
      canonname = host;
    } else if (flags & AI_NUMERICHOST) {
      throw gaierror(-2, `${what}: host ${pyRepr(host)} is not a numeric address (AI_NUMERICHOST)`);
    } else if (host === "") {
      throw gaierror(-2, `${what}: the host name is empty`);
    } else {
      if (v4mapped) {
        const all = await resolve(host, AF_UNSPEC, resolver);
        const v6 = all.filter((a) => a.family === AF_INET6);
        const v4s = all.filter((a) => a.family === AF_INET).map(mapped);
        addrs = v6.length === 0 || flags & AI_ALL ? [...v6, ...v4s] : v6;
        if (addrs.length === 0) throw gaierror(-2, `${what}: host ${pyRepr(host)} has no address`);
      } else {
        addrs = await resolve(host, family, resolver);
      }
      if (addrs.length === 0) throw gaierror(-2, `${what}: host ${pyRepr(host)} has no address`);
      canonname = hostsCanonname(host) ?? host;
    }
  }

  const out: AddrInfo[] = [];
  for (const a of addrs) {
    for (const s of servs) {
      const sockaddr: Sockaddr = a.family === AF_INET6
        ? [a.host, s.port, 0, a.scopeId]
        : [a.host, s.port];
      out.push([
        a.family,
        s.type,
        s.proto,
        out.length === 0 && flags & AI_CANONNAME ? canonname : "",
        sockaddr,
      ]);
    }
  }
  return out;
}

/**
 * A socket address the way Python prints it: a sockaddr tuple such as
 * `('127.0.0.1', 65141)` or `('::1', 10000, 0, 0)`, a Unix socket path as a string repr
 * (`'./uds_socket'`, `''` for an unnamed socket). Also takes a Deno address.
 *
 * @example
 * ```ts
 * import { formatSockaddr } from "./addrinfo.ts";
 * formatSockaddr(["127.0.0.1", 65141]); // "('127.0.0.1', 65141)"
 * formatSockaddr(["::1", 10000, 0, 0]); // "('::1', 10000, 0, 0)"
 * formatSockaddr("./uds_socket"); // "'./uds_socket'"
 * formatSockaddr({ transport: "tcp", hostname: "::1", port: 80 }); // "('::1', 80, 0, 0)"
 * ```
 */
export function formatSockaddr(addr: Sockaddr | string | Deno.Addr): string {
  if (typeof addr === "string" || Array.isArray(addr)) return pyRepr(addr);
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return pyRepr(
      addr.hostname.includes(":") ? [addr.hostname, addr.port, 0, 0] : [addr.hostname, addr.port],
    );
  }
  if (addr.transport === "unix" || addr.transport === "unixpacket") return pyRepr(addr.path ?? "");
  throw new TypeError(`formatSockaddr: cannot show a ${addr.transport} address`);
}

/** Options of {@linkcode createConnection}. */
export interface CreateConnectionOptions {
  /** Timeout of each connection attempt in milliseconds; none if omitted. */
  timeoutMs?: number;
  /** The connect function (for tests); defaults to `Deno.connect`. */
  connect?: (options: Deno.ConnectOptions) => Promise<Deno.TcpConn>;
  /** The name resolver (for tests); see {@linkcode AddrInfoOptions.resolve}. */
  resolve?: Resolver;
}

/**
 * Python's `socket.create_connection((host, port), timeout)`: resolves `host` with
 * {@linkcode getaddrinfo} (`SOCK_STREAM`), tries each address in order, each with the
 * timeout, and returns the first connection. A connection that succeeds after its attempt
 * timed out is closed.
 *
 * @throws the last attempt's error (same class, e.g. `Deno.errors.ConnectionRefused` or
 * `Deno.errors.TimedOut`), its message naming `host:port` and every address tried; or the
 * `gaierror` of the look-up.
 * @example
 * ```ts
 * import { createConnection } from "./addrinfo.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await createConnection("localhost", listener.addr.port, { timeoutMs: 2000 });
 * conn.close();
 * listener.close();
 * ```
 */
export async function createConnection(
  host: string,
  port: number,
  options: CreateConnectionOptions = {},
): Promise<Deno.TcpConn> {
  const connect = options.connect ?? ((o: Deno.ConnectOptions) => Deno.connect(o));
  const infos = await getaddrinfo(host, port, { type: SOCK_STREAM, resolve: options.resolve });
  if (infos.length === 0) {
    throw new SocketError("OSError", "getaddrinfo returns an empty list", {
      detail: `${host}:${port}`,
    });
  }
  const tried: string[] = [];
  let last: unknown;
  for (const [, , , , sockaddr] of infos) {
    tried.push(formatSockaddr(sockaddr));
    try {
      return await attempt(
        connect,
        { hostname: sockaddr[0], port: sockaddr[1], transport: "tcp" },
        options.timeoutMs,
      );
    } catch (e) {
      last = e;
    }
  }
  const reason = last instanceof Error ? last.message : String(last);
  const message = `create_connection(${host}:${port}) failed; tried ${
    tried.join(", ")
  }; last error: ${reason}`;
  throw sameClassError(last, message);
}

/** An error of the same class as `last` (e.g. `Deno.errors.ConnectionRefused`) with `message`. */
function sameClassError(last: unknown, message: string): Error {
  if (last instanceof Error) {
    try {
      const Ctor = last.constructor as new (m: string, o: ErrorOptions) => Error;
      const err = new Ctor(message, { cause: last });
      if (err instanceof Error && err.message === message) return err;
    } catch {
      // Not constructible this way: fall back to a plain Error.
    }
  }
  return new Error(message, { cause: last });
}

function attempt(
  connect: (options: Deno.ConnectOptions) => Promise<Deno.TcpConn>,
  target: Deno.ConnectOptions,
  timeoutMs: number | undefined,
): Promise<Deno.TcpConn> {
  const pending = connect(target);
  if (timeoutMs === undefined) return pending;
  return new Promise((res, rej) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      rej(
        new Deno.errors.TimedOut(
          `timed out after ${timeoutMs} ms connecting to ${target.hostname}:${target.port}`,
        ),
      );
    }, timeoutMs);
    pending.then(
      (conn) => {
        clearTimeout(timer);
        if (timedOut) {
          try {
            conn.close();
          } catch { /* already closed */ }
        } else res(conn);
      },
      (err) => {
        clearTimeout(timer);
        if (!timedOut) rej(err);
      },
    );
  });
}
