/**
 * Target manifests: the JSON file that tells sockspec how to start (or reach) a server, how
 * to know it is ready, and what it declares about itself. Validation is strict: an unknown
 * key, a missing field, a wrong type, an unknown placeholder or a command that is not on
 * PATH is a {@linkcode ManifestError} naming the file and the field.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * const target = parseManifest({
 *   name: "my-echo",
 *   kind: "stream-echo",
 *   transports: ["unix"],
 *   command: ["python3", "{dir}/echo_server.py", "{path}"],
 *   properties: { chunkSize: 16, transcript: true },
 * }, "/srv/my-echo.json");
 * console.log(target.ready.kind); // listen
 * ```
 * @module
 */

import type { TargetKind, Transport } from "../case/verdict.ts";

/** How the harness knows a started target is ready. */
export interface Readiness {
  /**
   * `listen`: a TCP port is in LISTEN state (read from /proc/net, so no probe connection
   * shows in the target's transcript) and a Unix socket path accepts a probe connection;
   * `bound`: the datagram port is bound or the socket path exists; `stdout`: a stdout line
   * matches `pattern`; `none`: no wait.
   */
  kind: "listen" | "bound" | "stdout" | "none";
  /** The regular expression for `stdout` readiness. */
  pattern?: string;
  /** How long to wait, in ms. */
  timeoutMs: number;
}

/** What a target declares about itself. Cases that need a property skip without it. */
export interface Properties {
  /** The server reads at most this many bytes at a time (the tutorial's `recv(16)`). */
  chunkSize?: number;
  /** The server prints the tutorial transcript on stdout. */
  transcript?: boolean;
  /** The datagram server's receive buffer: longer datagrams are truncated to this size. */
  bufferSize?: number;
  /** What the datagram server does with a zero-length datagram. */
  zeroLength?: "echo" | "ignore";
  /** The mode its Unix socket node gets, as octal text (`"0600"`). */
  mode?: string;
  /** The struct format of its records (`"I 2s f"`). */
  format?: string;
  /** The record server answers each record with one JSON line of the decoded values. */
  reply?: boolean;
  /** A client program (argv with placeholders) that the client-side cases run. */
  client?: string[];
  /** The multicast group the target joins. */
  group?: string;
  /** A runtime target's services database, read instead of `/etc/services` (a path). */
  servicesFile?: string;
  /** A runtime target's protocols database, read instead of `/etc/protocols` (a path). */
  protocolsFile?: string;
  /** A runtime target's hosts file: names resolve from it, not the system resolver (a path). */
  hostsFile?: string;
  /** A module exporting `inetAton`, `inetNtoa`, `inetPton`, `inetNtop` to check (a path). */
  inetModule?: string;
}

/**
 * The type of each known property, used to validate manifests. A `path` may use `{dir}`
 * (only); a relative one is taken relative to the manifest's directory. Both are resolved
 * when the manifest is read.
 */
export const PROPERTY_TYPES: Readonly<
  Record<keyof Properties, "int" | "bool" | "string" | "argv" | "path" | string[]>
> = {
  chunkSize: "int",
  transcript: "bool",
  bufferSize: "int",
  zeroLength: ["echo", "ignore"],
  mode: "string",
  format: "string",
  reply: "bool",
  client: "argv",
  group: "string",
  servicesFile: "path",
  protocolsFile: "path",
  hostsFile: "path",
  inetModule: "path",
};

/** A validated manifest: everything the harness needs to run cases against a target. */
export interface Target {
  /** A short name, shown in every report. */
  name: string;
  /** One line saying what the target is. */
  description?: string;
  /** What the target does. */
  kind: TargetKind;
  /** How it is reached. */
  transports: Transport[];
  /** The argv that starts it, with placeholders. Absent: attach to `attach`. */
  command?: string[];
  /** Where an already running target listens (when there is no command). */
  attach?: { port?: number; path?: string };
  /** The host it binds and cases connect to (`{host}`); default `127.0.0.1`. */
  host: string;
  /** How to know it is ready. */
  ready: Readiness;
  /** What it declares about itself. */
  properties: Properties;
  /** Extra environment variables, with placeholders. */
  env: Record<string, string>;
  /**
   * Names of the caller's environment variables a started target also gets (it starts
   * with PATH, HOME, LANG and its TMPDIR only; see target.ts `targetEnvironment`).
   */
  inheritEnv?: string[];
  /** Working directory, with placeholders; default `{tmp}`. */
  cwd: string;
  /** The longest any single wait in a case may take, in ms. */
  timeoutMs: number;
  /** After SIGTERM, how long to wait before SIGKILL, in ms. */
  killGraceMs: number;
  /** The manifest file, or `built-in`. */
  source: string;
  /** The directory `{dir}` stands for: the manifest's own directory. */
  dir: string;
}

/** A manifest that cannot be used; the message names the file and the field. */
export class ManifestError extends Error {
  /**
   * An error in `file` at `field`.
   *
   * @example
   * ```ts
   * import { ManifestError } from "./manifest.ts";
   * throw new ManifestError("t.json", "kind", "missing; set it to one of stream-echo, ...");
   * ```
   */
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field ? `field '${field}': ` : ""}${detail}`);
    this.name = "ManifestError";
  }
}

/** The placeholders a command, env value or cwd may use. */
export const PLACEHOLDERS: Readonly<Record<string, string>> = {
  port: "a free port on {host}, chosen for each start",
  path: "a fresh Unix socket path in the target's temp dir, under the 107-byte limit",
  host: "the manifest's host (default 127.0.0.1)",
  tmp: "the target's private temp dir for this start",
  dir: "the manifest file's own directory",
  deno: "the Deno executable running sockspec",
};

const KINDS: readonly TargetKind[] = [
  "stream-echo",
  "dgram-echo",
  "multicast",
  "record",
  "program",
  "runtime",
];
const TRANSPORTS: readonly Transport[] = ["tcp", "unix", "udp", "unixgram"];
const TOP_KEYS = [
  "$schema",
  "name",
  "description",
  "kind",
  "transports",
  "command",
  "attach",
  "host",
  "ready",
  "properties",
  "env",
  "inheritEnv",
  "cwd",
  "timeoutMs",
  "killGraceMs",
];

/**
 * Reads and validates a manifest file.
 *
 * @example
 * ```ts
 * import { loadManifest } from "./manifest.ts";
 * const target = await loadManifest("fixtures/targets/python-echo-unix.json");
 * ```
 */
export async function loadManifest(file: string): Promise<Target> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new ManifestError(
      file,
      "",
      `cannot read the file (${(err as Error).message}); check the path`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, "", `invalid JSON: ${(err as Error).message}`);
  }
  const absolute = file.startsWith("/") ? file : `${Deno.cwd()}/${file}`;
  return parseManifest(json, absolute);
}

/**
 * Validates a parsed manifest object; `file` is used for `{dir}` and in error messages.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * parseManifest({ name: "x", kind: "stream-echo", transports: ["tcp"], attach: { port: 10000 } }, "x.json");
 * ```
 */
export function parseManifest(json: unknown, file: string): Target {
  const err = (field: string, detail: string) => new ManifestError(file, field, detail);
  if (!isObject(json)) throw err("", "the manifest must be a JSON object");
  for (const key of Object.keys(json)) {
    if (!TOP_KEYS.includes(key)) {
      throw err(key, `unknown key; known keys: ${TOP_KEYS.slice(1).join(", ")}`);
    }
  }
  const name = json.name;
  if (typeof name !== "string" || !/^[A-Za-z0-9._-]+$/.test(name)) {
    throw err("name", "missing or not a simple name (letters, digits, . _ -)");
  }
  const kind = json.kind as TargetKind;
  if (!KINDS.includes(kind)) throw err("kind", `missing or unknown; one of ${KINDS.join(", ")}`);
  const transports = json.transports ?? [];
  if (!Array.isArray(transports) || transports.some((t) => !TRANSPORTS.includes(t))) {
    throw err("transports", `must be an array of ${TRANSPORTS.join(", ")}`);
  }
  if (transports.length === 0 && kind !== "program" && kind !== "runtime") {
    throw err("transports", 'missing; list how the target is reached, for example ["tcp"]');
  }
  const host = json.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") throw err("host", "must be a host name or address");

  const command = json.command;
  const attach = json.attach;
  if (command !== undefined) {
    if (!isArgv(command)) throw err("command", "must be a non-empty array of strings");
    command.forEach((arg, i) => checkPlaceholders(arg, `command[${i}]`, err));
    if (!command[0].includes("{") && !commandExists(command[0])) {
      throw err(
        "command[0]",
        `command '${command[0]}' not found on PATH; install it or give its full path`,
      );
    }
  }
  if (attach !== undefined) {
    if (command !== undefined) throw err("attach", "give either command or attach, not both");
    if (!isObject(attach)) throw err("attach", "must be an object with port and/or path");
    for (const key of Object.keys(attach)) {
      if (key !== "port" && key !== "path") {
        throw err(`attach.${key}`, "unknown key; use port or path");
      }
    }
    if (attach.port !== undefined && !isPort(attach.port)) {
      throw err("attach.port", "must be a port number 1-65535");
    }
    if (attach.path !== undefined && typeof attach.path !== "string") {
      throw err("attach.path", "must be a path");
    }
  }
  if (command === undefined && attach === undefined && kind !== "runtime") {
    throw err(
      "command",
      "missing; give the command that starts the target, or attach to a running one",
    );
  }

  const defaultReady = kind === "program" || kind === "runtime"
    ? "none"
    : transports.every((t: Transport) => t === "udp" || t === "unixgram")
    ? "bound"
    : "listen";
  const ready = json.ready ?? {};
  if (!isObject(ready)) throw err("ready", "must be an object");
  for (const key of Object.keys(ready)) {
    if (!["kind", "pattern", "timeoutMs"].includes(key)) {
      throw err(`ready.${key}`, "unknown key; use kind, pattern, timeoutMs");
    }
  }
  const readyKind = ready.kind ?? defaultReady;
  if (!["listen", "bound", "stdout", "none"].includes(readyKind as string)) {
    throw err("ready.kind", "must be one of listen, bound, stdout, none");
  }
  if (readyKind === "stdout") {
    if (typeof ready.pattern !== "string") {
      throw err("ready.pattern", "missing; a regular expression for the ready line");
    }
    try {
      new RegExp(ready.pattern);
    } catch (e) {
      throw err("ready.pattern", `not a regular expression: ${(e as Error).message}`);
    }
  }
  const readyTimeout = ready.timeoutMs ?? 10000;
  if (!isPositiveInt(readyTimeout)) {
    throw err("ready.timeoutMs", "must be a positive whole number of ms");
  }

  const slash = file.lastIndexOf("/");
  const dir = slash < 0 ? "." : file.slice(0, slash) || "/";
  const properties = json.properties ?? {};
  if (!isObject(properties)) throw err("properties", "must be an object");
  const resolved: Record<string, unknown> = { ...properties };
  for (const [key, value] of Object.entries(properties)) {
    const type = PROPERTY_TYPES[key as keyof Properties];
    if (type === undefined) {
      throw err(
        `properties.${key}`,
        `unknown property; known: ${Object.keys(PROPERTY_TYPES).join(", ")}`,
      );
    }
    const ok = type === "int"
      ? isPositiveInt(value)
      : type === "bool"
      ? typeof value === "boolean"
      : type === "string" || type === "path"
      ? typeof value === "string"
      : type === "argv"
      ? isArgv(value)
      : (type as string[]).includes(value as string);
    if (!ok) {
      throw err(
        `properties.${key}`,
        `must be ${Array.isArray(type) ? `one of ${type.join(", ")}` : type}`,
      );
    }
    if (type === "argv") {
      (value as string[]).forEach((a, i) => checkPlaceholders(a, `properties.${key}[${i}]`, err));
    }
    if (type === "path") {
      const other = /\{(?!dir\})[^{}]*\}/.exec(value as string);
      if (other) {
        throw err(`properties.${key}`, `only {dir} may be used in a path, not ${other[0]}`);
      }
      const path = (value as string).replaceAll("{dir}", dir);
      resolved[key] = path.startsWith("/") || dir === "." ? path : `${dir}/${path}`;
    }
  }
  if (typeof properties.mode === "string" && !/^0?[0-7]{3}$/.test(properties.mode)) {
    throw err("properties.mode", 'must be an octal mode such as "0600"');
  }

  const env = json.env ?? {};
  if (!isObject(env) || Object.values(env).some((v) => typeof v !== "string")) {
    throw err("env", "must be an object of string values");
  }
  for (const [k, v] of Object.entries(env)) checkPlaceholders(v as string, `env.${k}`, err);
  const inheritEnv = json.inheritEnv ?? [];
  if (
    !Array.isArray(inheritEnv) ||
    inheritEnv.some((v) => typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v))
  ) {
    throw err("inheritEnv", 'must be a list of environment variable names, such as ["DENO_DIR"]');
  }
  const cwd = json.cwd ?? "{tmp}";
  if (typeof cwd !== "string") throw err("cwd", "must be a directory path");
  checkPlaceholders(cwd, "cwd", err);
  const timeoutMs = json.timeoutMs ?? 5000;
  if (!isPositiveInt(timeoutMs)) throw err("timeoutMs", "must be a positive whole number of ms");
  const killGraceMs = json.killGraceMs ?? 1000;
  if (!isPositiveInt(killGraceMs)) {
    throw err("killGraceMs", "must be a positive whole number of ms");
  }
  if (json.description !== undefined && typeof json.description !== "string") {
    throw err("description", "must be a string");
  }
  return {
    name,
    description: json.description as string | undefined,
    kind,
    transports: transports as Transport[],
    command: command as string[] | undefined,
    attach: attach as Target["attach"],
    host,
    ready: {
      kind: readyKind as Readiness["kind"],
      pattern: ready.pattern as string | undefined,
      timeoutMs: readyTimeout,
    },
    properties: resolved as Properties,
    env: env as Record<string, string>,
    inheritEnv: inheritEnv as string[],
    cwd,
    timeoutMs,
    killGraceMs,
    source: file,
    dir,
  };
}

/**
 * Replaces `{name}` placeholders in `text` from `values`; throws on an unknown one.
 *
 * @example
 * ```ts
 * import { substitute } from "./manifest.ts";
 * substitute("{host}:{port}", { host: "127.0.0.1", port: "10000" }); // "127.0.0.1:10000"
 * ```
 */
export function substitute(text: string, values: Record<string, string | undefined>): string {
  return text.replace(/\{([a-z0-9_]+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`placeholder ${whole} has no value here`);
    return value;
  });
}

/**
 * True when `command` is an executable file, or found as one on PATH.
 *
 * @example
 * ```ts
 * import { commandExists } from "./manifest.ts";
 * commandExists("sh"); // true
 * ```
 */
export function commandExists(command: string): boolean {
  const candidates = command.includes("/")
    ? [command]
    : (Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/${command}`);
  return candidates.some((path) => {
    try {
      const info = Deno.statSync(path);
      return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

function checkPlaceholders(
  text: string,
  field: string,
  err: (f: string, d: string) => ManifestError,
): void {
  for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
    if (!(m[1] in PLACEHOLDERS)) {
      throw err(
        field,
        `unknown placeholder {${m[1]}}; known: ${
          Object.keys(PLACEHOLDERS).map((p) => `{${p}}`).join(" ")
        }`,
      );
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isArgv(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === "string");
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

function isPort(v: unknown): v is number {
  return isPositiveInt(v) && v <= 65535;
}
