/**
 * Python-compatible service and protocol look-ups (`getservbyname`, `getservbyport`,
 * `getprotobyname`) that read `/etc/services` and `/etc/protocols` the way glibc does:
 * the first matching line wins, names and aliases match exactly (case-sensitive).
 *
 * The files come from Debian's `netbase` package; if one is missing, the error names the
 * file and says to install `netbase`. Every function takes an optional file path for tests.
 *
 * @example
 * ```ts
 * import { getprotobyname, getservbyname, getservbyport } from "./netdb.ts";
 * getservbyname("http"); // 80
 * getservbyport(443); // "https"
 * getprotobyname("udp"); // 17
 * ```
 * @module
 */

import { SocketError } from "./inet.ts";
import { errnoMessage } from "./errno.ts";

/** Where glibc reads services from. */
export const SERVICES_PATH = "/etc/services";
/** Where glibc reads protocols from. */
export const PROTOCOLS_PATH = "/etc/protocols";

/** One line of `/etc/services`. */
export interface ServiceEntry {
  /** Official service name. */
  name: string;
  /** Port number. */
  port: number;
  /** Protocol name, e.g. `tcp`. */
  proto: string;
  /** Alias names. */
  aliases: string[];
}

/** One line of `/etc/protocols`. */
export interface ProtocolEntry {
  /** Official protocol name. */
  name: string;
  /** Protocol number. */
  number: number;
  /** Alias names. */
  aliases: string[];
}

/** Options of the look-ups: where the database file is. */
export interface NetdbOptions {
  /** The file to read instead of `/etc/services` or `/etc/protocols`. */
  path?: string;
}

function readTable(path: string, pyMessage: string, what: string): string[][] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    const hint = e instanceof Deno.errors.NotFound
      ? `${path} is missing; install Debian's netbase package (apt-get install netbase)`
      : `cannot read ${path} (${errnoMessage(e)}); run with --allow-read=${path}`;
    throw new SocketError("OSError", pyMessage, { detail: `${what}: ${hint}`, cause: e });
  }
  const rows: string[][] = [];
  for (const raw of text.split("\n")) {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/).filter((f) => f !== "");
    if (fields.length >= 2) rows.push(fields);
  }
  return rows;
}

/**
 * All entries of a services file, in file order (malformed lines skipped).
 *
 * @example
 * ```ts
 * import { readServices } from "./netdb.ts";
 * readServices().find((s) => s.name === "smtp"); // { name: "smtp", port: 25, proto: "tcp", ... }
 * ```
 */
export function readServices(path: string = SERVICES_PATH): ServiceEntry[] {
  return parseServices(readTable(path, "service/proto not found", "services database"));
}

function parseServices(rows: string[][]): ServiceEntry[] {
  const out: ServiceEntry[] = [];
  for (const [name, portProto, ...aliases] of rows) {
    const m = /^(\d+)\/(\S+)$/.exec(portProto);
    if (!m || Number(m[1]) > 65535) continue;
    out.push({ name, port: Number(m[1]), proto: m[2], aliases });
  }
  return out;
}

/**
 * All entries of a protocols file, in file order (malformed lines skipped).
 *
 * @example
 * ```ts
 * import { readProtocols } from "./netdb.ts";
 * readProtocols().find((p) => p.name === "tcp")?.number; // 6
 * ```
 */
export function readProtocols(path: string = PROTOCOLS_PATH): ProtocolEntry[] {
  return parseProtocols(readTable(path, "protocol not found", "protocols database"));
}

function parseProtocols(rows: string[][]): ProtocolEntry[] {
  const out: ProtocolEntry[] = [];
  for (const [name, num, ...aliases] of rows) {
    if (/^\d+$/.test(num)) out.push({ name, number: Number(num), aliases });
  }
  return out;
}

/** Like `readServices`, but errors carry `pyMessage` (each caller has its own). */
function services(path: string, pyMessage: string): ServiceEntry[] {
  return parseServices(readTable(path, pyMessage, "services database"));
}

/**
 * Python's `socket.getservbyname(name, proto=None)`: the port of a service name or alias,
 * for protocol `proto` (e.g. `"tcp"`) or, without it, the first match in the file.
 *
 * @throws {SocketError} `OSError: service/proto not found`, naming what was looked up.
 * @example
 * ```ts
 * import { getservbyname } from "./netdb.ts";
 * getservbyname("http"); // 80
 * getservbyname("www", "tcp"); // 80 (an alias)
 * ```
 */
export function getservbyname(name: string, proto?: string, options: NetdbOptions = {}): number {
  const path = options.path ?? SERVICES_PATH;
  const found = services(path, "service/proto not found").find((s) =>
    (s.name === name || s.aliases.includes(name)) && (proto === undefined || s.proto === proto)
  );
  if (!found) {
    throw new SocketError("OSError", "service/proto not found", {
      detail: `${JSON.stringify(name)}${proto === undefined ? "" : "/" + proto} is not in ${path}`,
    });
  }
  return found.port;
}

/**
 * Python's `socket.getservbyport(port, proto=None)`: the official name of the first
 * service on `port` (for protocol `proto`, if given).
 *
 * @throws {SocketError} `OverflowError: getservbyport: port must be 0-65535.` or
 * `OSError: port/proto not found`, naming what was looked up.
 * @example
 * ```ts
 * import { getservbyport } from "./netdb.ts";
 * getservbyport(80); // "http"
 * getservbyport(21, "udp"); // "fsp" on Debian
 * ```
 */
export function getservbyport(port: number, proto?: string, options: NetdbOptions = {}): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SocketError("OverflowError", "getservbyport: port must be 0-65535.", {
      detail: `got ${port}`,
    });
  }
  const path = options.path ?? SERVICES_PATH;
  const found = services(path, "port/proto not found").find((s) =>
    s.port === port && (proto === undefined || s.proto === proto)
  );
  if (!found) {
    throw new SocketError("OSError", "port/proto not found", {
      detail: `${port}${proto === undefined ? "" : "/" + proto} is not in ${path}`,
    });
  }
  return found.name;
}

/**
 * Python's `socket.getprotobyname(name)`: the number of a protocol name or alias.
 *
 * @throws {SocketError} `OSError: protocol not found`, naming what was looked up.
 * @example
 * ```ts
 * import { getprotobyname } from "./netdb.ts";
 * getprotobyname("tcp"); // 6
 * getprotobyname("ICMP"); // 1 (an alias)
 * ```
 */
export function getprotobyname(name: string, options: NetdbOptions = {}): number {
  const path = options.path ?? PROTOCOLS_PATH;
  const found = readProtocols(path).find((p) => p.name === name || p.aliases.includes(name));
  if (!found) {
    throw new SocketError("OSError", "protocol not found", {
      detail: `${JSON.stringify(name)} is not in ${path}`,
    });
  }
  return found.number;
}
