/**
 * The `sockspec lookup` subcommand: Python's name, service, protocol and address-form
 * helpers from the command line, printing results the way Python's `repr()` shows them.
 *
 * Exit status: 0 on success, 1 when a look-up fails (the Python-style error goes to stderr),
 * 2 on a usage error (with a message saying what to do).
 *
 * @example
 * ```ts
 * import { lookupCommand } from "./lookup.ts";
 * const code = await lookupCommand(["service", "http"]); // prints 80
 * console.log(code); // 0
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import {
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_PASSIVE,
  getaddrinfo,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
} from "../python/addrinfo.ts";
import {
  AF_INET,
  AF_INET6,
  inetAton,
  inetNtoa,
  inetNtop,
  inetPton,
  SocketError,
} from "../python/inet.ts";
import { getprotobyname, getservbyname, getservbyport } from "../python/netdb.ts";
import { fromHex, pyRepr, toHex } from "../python/repr.ts";

/** The usage text of `sockspec lookup --help`. */
export const LOOKUP_USAGE = `Usage: sockspec lookup <what> ARGS [options]

Python's socket name, service, protocol and address-form helpers; results print as
Python's repr() shows them.

  service NAME [--proto P]    socket.getservbyname(NAME, P)       e.g. service http -> 80
  port PORT [--proto P]       socket.getservbyport(PORT, P)       e.g. port 80 -> 'http'
  proto NAME                  socket.getprotobyname(NAME)         e.g. proto tcp -> 6
  addr HOST [PORT]            socket.getaddrinfo(HOST, PORT, ...), one tuple a line
        [--family 4|6] [--type stream|dgram|raw] [--proto tcp|udp|N]
        [--canonname] [--passive] [--numeric]
        HOST '-' means None; PORT is a number or a service name
  aton TEXT                   socket.inet_aton(TEXT)              e.g. aton 127.1
  ntoa HEX                    socket.inet_ntoa(bytes.fromhex(HEX))
  pton4 TEXT | pton6 TEXT     socket.inet_pton(AF_INET/AF_INET6, TEXT)
  ntop4 HEX | ntop6 HEX       socket.inet_ntop(AF_INET/AF_INET6, bytes.fromhex(HEX))

Options:
  --hex        print packed bytes (aton, pton4, pton6) as hex instead of b'...'
  -h, --help   show this help

Exit status: 0 success, 1 look-up failed (Python's error on stderr), 2 usage error.`;

/** Where {@linkcode lookupCommand} writes; defaults to the console. */
export interface LookupIo {
  /** Writes one line of results. */
  stdout?: (line: string) => void;
  /** Writes one line of errors. */
  stderr?: (line: string) => void;
}

class UsageError extends Error {}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  proto: { type: "string" },
  family: { type: "string" },
  type: { type: "string" },
  canonname: { type: "boolean" },
  passive: { type: "boolean" },
  numeric: { type: "boolean" },
  hex: { type: "boolean" },
} as const;

/** Positional argument names and allowed options of each subcommand. */
const COMMANDS: Record<string, { args: string[]; optional?: number; options: string[] }> = {
  service: { args: ["NAME"], options: ["proto"] },
  port: { args: ["PORT"], options: ["proto"] },
  proto: { args: ["NAME"], options: [] },
  addr: {
    args: ["HOST", "PORT"],
    optional: 1,
    options: ["family", "type", "proto", "canonname", "passive", "numeric"],
  },
  aton: { args: ["TEXT"], options: ["hex"] },
  ntoa: { args: ["HEX"], options: [] },
  pton4: { args: ["TEXT"], options: ["hex"] },
  pton6: { args: ["TEXT"], options: ["hex"] },
  ntop4: { args: ["HEX"], options: [] },
  ntop6: { args: ["HEX"], options: [] },
};

/**
 * Runs `sockspec lookup ARGV...` and returns the exit status (it never calls `Deno.exit`).
 *
 * @example
 * ```ts
 * import { lookupCommand } from "./lookup.ts";
 * const lines: string[] = [];
 * await lookupCommand(["pton6", "::ffff:1.2.3.4", "--hex"], { stdout: (l) => lines.push(l) });
 * console.log(lines); // ["00000000000000000000ffff01020304"]
 * ```
 */
export async function lookupCommand(argv: string[], io: LookupIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  try {
    return await run(argv, out);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`sockspec lookup: ${e.message}; run \`sockspec lookup --help\` for usage`);
      return 2;
    }
    if (e instanceof SocketError) {
      err(e.pythonLine());
      if (e.detail) err(`  (${e.detail})`);
      return 1;
    }
    throw e;
  }
}

async function run(argv: string[], out: (line: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(LOOKUP_USAGE);
    return 0;
  }
  const [what, ...args] = positionals;
  if (what === undefined) {
    throw new UsageError("say what to look up (service, port, proto, addr, ...)");
  }
  const spec = COMMANDS[what];
  if (!spec) {
    throw new UsageError(
      `unknown lookup ${JSON.stringify(what)}; use one of ${Object.keys(COMMANDS).join(", ")}`,
    );
  }
  const min = spec.args.length - (spec.optional ?? 0);
  if (args.length < min || args.length > spec.args.length) {
    throw new UsageError(
      `\`lookup ${what}\` takes ${spec.args.join(" ")}${spec.optional ? " (PORT optional)" : ""}`,
    );
  }
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && name !== "help" && !spec.options.includes(name)) {
      throw new UsageError(`option --${name} does not apply to \`lookup ${what}\``);
    }
  }
  const arg = args[0];
  const packed = (bytes: Uint8Array) => out(values.hex ? toHex(bytes) : pyRepr(bytes));
  switch (what) {
    case "service":
      out(pyRepr(getservbyname(arg, values.proto)));
      return 0;
    case "port": {
      const port = parseInteger(arg, "PORT");
      out(pyRepr(getservbyport(port, values.proto)));
      return 0;
    }
    case "proto":
      out(pyRepr(getprotobyname(arg)));
      return 0;
    case "aton":
      packed(inetAton(arg));
      return 0;
    case "pton4":
      packed(inetPton(AF_INET, arg));
      return 0;
    case "pton6":
      packed(inetPton(AF_INET6, arg));
      return 0;
    case "ntoa":
      out(pyRepr(inetNtoa(hexArg(arg))));
      return 0;
    case "ntop4":
      out(pyRepr(inetNtop(AF_INET, hexArg(arg))));
      return 0;
    case "ntop6":
      out(pyRepr(inetNtop(AF_INET6, hexArg(arg))));
      return 0;
    case "addr":
      return await addr(args, values, out);
  }
  throw new Error(`unhandled lookup ${what}`);
}

async function addr(
  args: string[],
  values: {
    family?: string;
    type?: string;
    proto?: string;
    canonname?: boolean;
    passive?: boolean;
    numeric?: boolean;
  },
  out: (line: string) => void,
): Promise<number> {
  const host = args[0] === "-" ? null : args[0];
  const port = args[1] === undefined ? null : /^\d+$/.test(args[1]) ? Number(args[1]) : args[1];
  const families: Record<string, number> = { "4": AF_INET, "6": AF_INET6 };
  const types: Record<string, number> = { stream: SOCK_STREAM, dgram: SOCK_DGRAM, raw: SOCK_RAW };
  let family = 0;
  if (values.family !== undefined) {
    family = families[values.family];
    if (family === undefined) {
      throw new UsageError(`--family must be 4 or 6, not ${JSON.stringify(values.family)}`);
    }
  }
  let type = 0;
  if (values.type !== undefined) {
    type = types[values.type];
    if (type === undefined) {
      throw new UsageError(
        `--type must be stream, dgram or raw, not ${JSON.stringify(values.type)}`,
      );
    }
  }
  let proto = 0;
  if (values.proto !== undefined) {
    proto = /^\d+$/.test(values.proto) ? Number(values.proto) : getprotobyname(values.proto);
  }
  const flags = (values.canonname ? AI_CANONNAME : 0) | (values.passive ? AI_PASSIVE : 0) |
    (values.numeric ? AI_NUMERICHOST : 0);
  for (const info of await getaddrinfo(host, port, { family, type, proto, flags })) {
    out(pyRepr(info));
  }
  return 0;
}

function parseInteger(text: string, name: string): number {
  if (!/^-?\d+$/.test(text)) {
    throw new UsageError(`${name} must be a number, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function hexArg(text: string): Uint8Array {
  try {
    return fromHex(text);
  } catch {
    throw new UsageError(`expected hex bytes such as 7f000001, not ${JSON.stringify(text)}`);
  }
}
