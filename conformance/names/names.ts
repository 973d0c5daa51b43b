/**
 * Names, services, protocols and address forms (SPEC §9), checked on the runtime the
 * suite runs on: its services and protocols databases, its resolver, and the address-form
 * helpers (`names/services/N`, `names/protocols/N`, `names/inet/N`, `names/addrinfo/N`).
 *
 * These cases apply to targets of kind `runtime`. Such a target has no command and no
 * transports: the cases call sockspec's library directly (src/python/netdb.ts, src/python/addrinfo.ts,
 * src/python/inet.ts) and never start anything. A runtime manifest may point the look-ups
 * elsewhere with path properties (`{dir}` allowed): `servicesFile` and `protocolsFile`
 * replace `/etc/services` and `/etc/protocols`, `hostsFile` resolves names from a hosts
 * file instead of the system resolver, and `inetModule` is a module exporting `inetAton`,
 * `inetNtoa`, `inetPton` and `inetNtop` (the signatures of src/python/inet.ts) to check instead of
 * sockspec's own.
 *
 * Every case is INFO: it reports what it observed, and PASSes when that equals the SPEC,
 * else FAILs with a message naming each entry that differs (an INFO failure never fails a
 * run). On Debian, for example, `getservbyport(143)` is `'imap2'` (`imap` is an alias), so
 * `names/services/2` reports that difference.
 *
 * @example
 * ```ts
 * import { namesCases } from "./names.ts";
 * for (const c of namesCases) console.log(c.id, c.level, c.requirement);
 * ```
 * @module
 */

import { pathToFileURL } from "node:url";
import {
  type Case,
  type CaseContext,
  fail,
  inFamily,
  type Observed,
  pass,
  Skip,
  TargetError,
} from "../../src/case/case.ts";
import {
  type AddrInfo,
  AI_CANONNAME,
  getaddrinfo,
  type Resolver,
  SOCK_STREAM,
} from "../../src/python/addrinfo.ts";
import * as inet from "../../src/python/inet.ts";
import { AF_INET, AF_INET6 } from "../../src/python/inet.ts";
import {
  getprotobyname,
  getservbyname,
  getservbyport,
  PROTOCOLS_PATH,
  readServices,
  SERVICES_PATH,
} from "../../src/python/netdb.ts";
import { fromHex, pyRepr, toHex } from "../../src/python/repr.ts";
import { withTimeout } from "../../src/net/sockets.ts";
import { errnoLine } from "../../src/python/errno.ts";

/** SPEC §9: `getservbyname` values, in the SPEC's order. */
export const SPEC_SERVICES: readonly (readonly [name: string, port: number])[] = [
  ["http", 80],
  ["https", 443],
  ["ftp", 21],
  ["gopher", 70],
  ["smtp", 25],
  ["imap", 143],
  ["imaps", 993],
  ["pop3", 110],
  ["pop3s", 995],
];

/** SPEC §9: `getprotobyname` values. */
export const SPEC_PROTOCOLS: readonly (readonly [name: string, number: number])[] = [
  ["icmp", 1],
  ["udp", 17],
  ["tcp", 6],
];

/** The address-form helpers a runtime target is checked with. */
interface InetHelpers {
  inetAton(text: string): Uint8Array;
  inetNtoa(packed: Uint8Array): string;
  inetPton(family: number, text: string): Uint8Array;
  inetNtop(family: number, packed: Uint8Array): string;
}

const INET_EXPORTS = ["inetAton", "inetNtoa", "inetPton", "inetNtop"] as const;

/** sockspec's helpers, or the module the manifest's `inetModule` names. */
async function inetHelpers(ctx: CaseContext): Promise<{ lib: InetHelpers; from: string }> {
  const path = ctx.target.properties.inetModule;
  if (path === undefined) return { lib: inet, from: "sockspec's src/python/inet.ts" };
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new TargetError(
      `cannot import properties.inetModule ${path}: ${(e as Error).message}; check the path`,
    );
  }
  const missing = INET_EXPORTS.filter((name) => typeof mod[name] !== "function");
  if (missing.length) {
    throw new TargetError(
      `properties.inetModule ${path} does not export ${missing.join(", ")}; export ` +
        `${INET_EXPORTS.join(", ")} with the signatures of sockspec's src/python/inet.ts`,
    );
  }
  return { lib: mod as unknown as InetHelpers, from: path };
}

/** What one entry gave: a value, or the error it raised (as Python prints it). */
type Result<T> = { value: T } | { error: string };

function attempt<T>(fn: () => T): Result<T> {
  try {
    return { value: fn() };
  } catch (e) {
    if (e instanceof inet.SocketError) {
      return { error: `${e.pythonLine()}${e.detail ? ` (${e.detail})` : ""}` };
    }
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** One checked entry: its observed key, what the SPEC says and what was observed. */
interface Entry {
  key: string;
  want: Observed;
  got: Result<Observed>;
  /** Said after a differing value, e.g. that the SPEC's name is an alias. */
  hint?: string;
}

/**
 * The verdict of an INFO case from its entries: PASS when every value equals the SPEC's,
 * else FAIL naming each entry that differs. Observed values are reported either way (an
 * entry that raised is observed as `null`, its error in the message).
 */
function verdict(entries: Entry[], what: string, where: string) {
  const observed: Record<string, Observed> = {};
  const diffs: string[] = [];
  for (const { key, want, got, hint } of entries) {
    observed[key] = "value" in got ? got.value : null;
    if (!("value" in got)) diffs.push(`${key} raised ${got.error}, SPEC ${pyRepr(want)}`);
    else if (got.value !== want) {
      diffs.push(`${key} is ${pyRepr(got.value)}, SPEC ${pyRepr(want)}${hint ? ` (${hint})` : ""}`);
    }
  }
  if (diffs.length === 0) {
    return pass(`${what}: all ${entries.length} values are the SPEC's (${where})`, observed);
  }
  return fail(
    `${what} differs from the SPEC in ${diffs.length} of ${entries.length}: ${
      diffs.join("; ")
    } (${where})`,
    observed,
  );
}

/** A database file's path, and a note of it in the evidence. */
function database(ctx: CaseContext, which: "services" | "protocols"): string {
  const path = which === "services"
    ? ctx.target.properties.servicesFile ?? SERVICES_PATH
    : ctx.target.properties.protocolsFile ?? PROTOCOLS_PATH;
  ctx.evidence.note(`${which} database: ${path}`);
  return path;
}

/** Resolves names from a hosts file (its lines in order, names case-insensitive). */
function hostsFileResolver(path: string): Resolver {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new TargetError(
      `cannot read properties.hostsFile ${path} (${errnoLine(e)}); check the path`,
    );
  }
  return (host, family) => {
    const out: { address: string; family: number }[] = [];
    for (const line of text.split("\n")) {
      const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
      if (!names.some((n) => n.toLowerCase() === host.toLowerCase())) continue;
      const fam = address.includes(":") ? 6 : 4;
      if (family === 0 || family === fam) out.push({ address, family: fam });
    }
    if (out.length) return Promise.resolve(out);
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (in ${path})`), {
      code: "ENOTFOUND",
    });
    return Promise.reject(err);
  };
}

/**
 * The resolver of `names/addrinfo/1`: the manifest's hosts file, or (undefined) the system
 * resolver, which needs Deno's net permission (SKIP without it).
 */
async function resolverFor(ctx: CaseContext): Promise<Resolver | undefined> {
  const hostsFile = ctx.target.properties.hostsFile;
  if (hostsFile !== undefined) {
    ctx.evidence.note(`names resolve from ${hostsFile} (properties.hostsFile)`);
    return hostsFileResolver(hostsFile);
  }
  const net = await Deno.permissions.query({ name: "net", host: "localhost" });
  if (net.state !== "granted") {
    throw new Skip(
      "resolving localhost needs Deno's net permission; run sockspec with " +
        "--allow-net (or at least --allow-net=localhost)",
    );
  }
  ctx.evidence.note("names resolve through the system resolver (node:dns lookup)");
  return undefined;
}

/** True for 127.0.0.0/8, `::1` and IPv4-mapped 127.0.0.0/8. */
function isLoopback(family: number, address: string): boolean {
  if (family === AF_INET) return address.startsWith("127.");
  return address === "::1" || address.startsWith("::ffff:127.");
}

/** What is wrong with a `getaddrinfo('localhost', 80, ...)` answer, one line per fault. */
function addrinfoFaults(infos: AddrInfo[]): string[] {
  if (infos.length === 0) return ["it returned no tuples"];
  const faults: string[] = [];
  infos.forEach((info, i) => {
    const at = `tuple ${i} ${pyRepr(info)}`;
    if (!Array.isArray(info) || info.length !== 5) {
      faults.push(`${at} is not (family, type, proto, canonname, sockaddr)`);
      return;
    }
    const [family, type, proto, canonname, sockaddr] = info;
    if (family !== AF_INET && family !== AF_INET6) {
      faults.push(`${at}: family ${family} is neither AF_INET (2) nor AF_INET6 (10)`);
    }
    if (type !== SOCK_STREAM) faults.push(`${at}: type ${type}, not SOCK_STREAM (1)`);
    if (proto !== 6) faults.push(`${at}: proto ${proto}, not IPPROTO_TCP (6)`);
    if (i === 0 && canonname === "") faults.push(`${at}: AI_CANONNAME left canonname empty`);
    if (i > 0 && canonname !== "") faults.push(`${at}: canonname is set beyond the first tuple`);
    const size = family === AF_INET6 ? 4 : 2;
    if (sockaddr.length !== size) {
      faults.push(`${at}: the sockaddr has ${sockaddr.length} fields, not ${size}`);
    }
    if (sockaddr[1] !== 80) faults.push(`${at}: port ${sockaddr[1]}, not 80`);
    if (!isLoopback(family, sockaddr[0])) {
      faults.push(`${at}: ${sockaddr[0]} is not a loopback address`);
    }
  });
  return faults;
}

const SPEC_V4: readonly (readonly [text: string, hex: string])[] = [
  ["192.168.1.1", "c0a80101"],
  ["127.0.0.1", "7f000001"],
];
const SPEC_V6 = ["2002:ac10:10a:1234:21e:52ff:fe74:40e", "2002ac10010a1234021e52fffe74040e"];

const base = { level: "INFO", kind: "runtime" } as const;

/**
 * The names cases (SPEC §9), all INFO, for targets of kind `runtime`.
 *
 * @example
 * ```ts
 * import { namesCases } from "./names.ts";
 * namesCases.map((c) => c.id); // ["names/services/1", "names/services/2", ...]
 * ```
 */
export const namesCases: readonly Case[] = [
  ...inFamily("Services database (SPEC §9)", [{
    ...base,
    id: "names/services/1",
    hint: "the services database (/etc/services) should map each name of SPEC §9 to its port",
    requirement:
      "getservbyname gives http 80, https 443, ftp 21, gopher 70, smtp 25, imap 143, imaps 993, pop3 110, pop3s 995.",
    run(ctx) {
      const path = database(ctx, "services");
      const entries = SPEC_SERVICES.map(([name, port]): Entry => ({
        key: name,
        want: port,
        got: attempt(() => getservbyname(name, undefined, { path })),
      }));
      return Promise.resolve(verdict(entries, "getservbyname", `services database ${path}`));
    },
  }, {
    ...base,
    id: "names/services/2",
    hint:
      "the name SPEC §9 gives should be the primary name of its port in the services database, not an alias",
    requirement:
      "getservbyport is the reverse of getservbyname: 80 gives http, 443 https, ... 995 pop3s.",
    run(ctx) {
      const path = database(ctx, "services");
      const all = attempt(() => readServices(path));
      const entries = SPEC_SERVICES.map(([name, port]): Entry => {
        const got = attempt(() => getservbyport(port, undefined, { path }));
        const entry = "value" in all ? all.value.find((s) => s.port === port) : undefined;
        const hint = "value" in got && got.value !== name && entry?.aliases.includes(name)
          ? `${pyRepr(name)} is an alias of ${pyRepr(entry.name)} there`
          : undefined;
        return { key: String(port), want: name, got, hint };
      });
      return Promise.resolve(verdict(entries, "getservbyport", `services database ${path}`));
    },
  }]),
  ...inFamily("Protocols database (SPEC §9)", [{
    ...base,
    id: "names/protocols/1",
    hint: "the protocols database (/etc/protocols) should give each protocol of SPEC §9 its number",
    requirement:
      "getprotobyname gives icmp 1, udp 17, tcp 6 (IPPROTO_ICMP, IPPROTO_UDP, IPPROTO_TCP).",
    run(ctx) {
      const path = database(ctx, "protocols");
      const entries = SPEC_PROTOCOLS.map(([name, number]): Entry => ({
        key: name,
        want: number,
        got: attempt(() => getprotobyname(name, { path })),
      }));
      return Promise.resolve(verdict(entries, "getprotobyname", `protocols database ${path}`));
    },
  }]),
  ...inFamily("Address forms (SPEC §9)", [{
    ...base,
    id: "names/inet/1",
    hint: "inet_aton/inet_ntoa convert between dotted quads and 4 bytes in network order",
    requirement:
      "inet_aton('192.168.1.1') is c0a80101 and inet_aton('127.0.0.1') is 7f000001; inet_ntoa reverses them.",
    async run(ctx) {
      const { lib, from } = await inetHelpers(ctx);
      const entries: Entry[] = [];
      for (const [text, hex] of SPEC_V4) {
        entries.push({
          key: `inet_aton(${pyRepr(text)})`,
          want: hex,
          got: attempt(() => toHex(lib.inetAton(text))),
        });
      }
      for (const [text, hex] of SPEC_V4) {
        entries.push({
          key: `inet_ntoa(${hex})`,
          want: text,
          got: attempt(() => lib.inetNtoa(fromHex(hex))),
        });
      }
      return verdict(entries, "inet_aton/inet_ntoa", from);
    },
  }, {
    ...base,
    id: "names/inet/2",
    hint: "inet_pton/inet_ntop use the 16 bytes in network order and the shortest IPv6 text",
    requirement:
      "inet_pton(AF_INET6, '2002:ac10:10a:1234:21e:52ff:fe74:40e') is 2002ac10010a1234021e52fffe74040e; inet_ntop reverses it.",
    async run(ctx) {
      const { lib, from } = await inetHelpers(ctx);
      const [text, hex] = SPEC_V6;
      const entries: Entry[] = [
        {
          key: `inet_pton(AF_INET6, ${pyRepr(text)})`,
          want: hex,
          got: attempt(() => toHex(lib.inetPton(AF_INET6, text))),
        },
        {
          key: `inet_ntop(AF_INET6, ${hex})`,
          want: text,
          got: attempt(() => lib.inetNtop(AF_INET6, fromHex(hex))),
        },
      ];
      return verdict(entries, "inet_pton/inet_ntop", from);
    },
  }]),
  ...inFamily("Address info (SPEC §9)", [{
    ...base,
    id: "names/addrinfo/1",
    hint:
      "localhost should resolve to loopback addresses; AI_CANONNAME fills canonname in the first tuple only",
    requirement:
      "getaddrinfo('localhost', 80, 0, SOCK_STREAM, 0, AI_CANONNAME) returns (family, type, proto, canonname, sockaddr) tuples for loopback addresses, canonname filled in the first.",
    async run(ctx) {
      const resolve = await resolverFor(ctx);
      const call = "getaddrinfo('localhost', 80, 0, SOCK_STREAM, 0, AI_CANONNAME)";
      let infos: AddrInfo[];
      try {
        infos = await withTimeout(
          getaddrinfo("localhost", 80, { type: SOCK_STREAM, flags: AI_CANONNAME, resolve }),
          ctx.timeoutMs,
          "resolving localhost",
        );
      } catch (e) {
        if (!(e instanceof inet.SocketError)) throw e;
        const line = `${e.pythonLine()}${e.detail ? ` (${e.detail})` : ""}`;
        return fail(`${call} raised ${line}`, { [call]: e.pythonLine() });
      }
      const addresses = [...new Set(infos.map((i) => i[4][0]))].join(", ");
      const observed = {
        [call]: `[${infos.map((i) => pyRepr(i)).join(", ")}]`,
        addresses,
        canonname: infos[0]?.[3] ?? null,
      };
      const faults = addrinfoFaults(infos);
      if (faults.length) {
        return fail(`${call} is not as SPEC §9 describes: ${faults.join("; ")}`, observed);
      }
      return pass(
        `${infos.length} tuple(s) for ${addresses}, canonname ${pyRepr(infos[0][3])}`,
        observed,
      );
    },
  }]),
];
