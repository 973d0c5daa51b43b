/**
 * Target manifests: the JSON file that tells sockspec how to start (or reach) a server, how
 * to know it is ready, and what it declares about itself. Validation is strict and happens
 * before any case runs: first against the JSON Schema `schemas/manifest.schema.json` (ajv),
 * then by hand for what a schema cannot say (placeholders and the transports they need,
 * the transports a kind can use, commands on PATH, a host that is an address of this
 * machine). Every mistake is a {@linkcode ManifestError} naming the file and the field and
 * saying what to do.
 *
 * Adding a kind is one row in {@linkcode KINDS} and one entry in the schema's `kind` enum
 * (`manifest_test.ts` checks that the two agree).
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

import { isIP } from "node:net";
import { Ajv2020 } from "npm:ajv@8.17.1/dist/2020.js";
import type { TargetKind, Transport } from "../case/verdict.ts";
import schema from "../../schemas/manifest.schema.json" with { type: "json" };
import { errnoMessage } from "../python/errno.ts";
import { ManifestError } from "./usage.ts";

export { ManifestError };

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

/** One service of a process that serves several (`services` in the manifest). */
export interface Service {
  /** Its name: `{port.NAME}`, `{path.NAME}`, and the target `MANIFEST.NAME`. */
  name: string;
  /** How it is reached. */
  transports: Transport[];
  /** The address it binds. */
  host: string;
  /** A fixed port, if the manifest gives one. */
  port?: number;
  /** A fixed Unix socket path, if the manifest gives one. */
  path?: string;
}

/** A validated manifest: everything the harness needs to run cases against a target. */
export interface Target {
  /** A short name, shown in every report (`MANIFEST.SERVICE` for one of several services). */
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
  /** A fixed port for a started target (`{port}` is this number, not a free one). */
  port?: number;
  /** A fixed Unix socket path for a started target (`{path}` is this path). */
  path?: string;
  /** How to know it is ready. */
  ready: Readiness;
  /** What it declares about itself. */
  properties: Properties;
  /** Extra environment variables, with placeholders. */
  env: Record<string, string>;
  /** Files (relative name → text with placeholders) written into `{tmp}` before each start. */
  files: Record<string, string>;
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
  /** The manifest file (`FILE#SERVICE` for one of several services), or `built-in`. */
  source: string;
  /** The directory `{dir}` stands for: the manifest's own directory. */
  dir: string;
  /** This target's service, when the manifest describes several. */
  service?: string;
  /** Every service of the process, when the manifest describes several. */
  services?: readonly Service[];
}

/** The longest wait (ms) a manifest or `--timeout` may give: 10 minutes. */
export const MAX_MANIFEST_MS = 600_000;

/** The placeholders a command, env value, file or cwd may use. */
export const PLACEHOLDERS: Readonly<Record<string, string>> = {
  port: "a free port on {host}, chosen for each start (or the manifest's fixed port)",
  path: "a fresh Unix socket path in the target's temp dir, under the 107-byte limit",
  host: "the manifest's host (default 127.0.0.1)",
  tmp: "the target's private temp dir for this start",
  dir: "the manifest file's own directory",
  deno: "the Deno executable running sockspec",
  "port.NAME": "with services: the port of service NAME",
  "path.NAME": "with services: the Unix socket path of service NAME",
};

/** What sockspec knows of each kind of target. */
export interface KindInfo {
  /** The transports its cases use; an empty list: it takes none. */
  transports: readonly Transport[];
  /** How a started target is known to be ready by default (`undefined`: from its transports). */
  ready?: Readiness["kind"];
  /** It needs no command (it is checked inside sockspec). */
  commandOptional?: boolean;
}

/**
 * Every kind: the transports it can use and its defaults. Adding a kind is one row here
 * (and the kind in `schemas/manifest.schema.json` and `TargetKind`).
 */
export const KINDS: Readonly<Record<TargetKind, KindInfo>> = {
  "stream-echo": { transports: ["tcp", "unix"] },
  "dgram-echo": { transports: ["udp", "unixgram"] },
  multicast: { transports: ["udp"] },
  record: { transports: ["tcp", "unix"] },
  program: { transports: [], ready: "none" },
  runtime: { transports: [], ready: "none", commandOptional: true },
  // A client under test is started for a server sockspec plays; it runs to completion.
  "stream-client": { transports: ["tcp", "unix"], ready: "none" },
  "dgram-client": { transports: ["udp", "unixgram"], ready: "none" },
  "record-client": { transports: ["tcp", "unix"], ready: "none" },
};

/**
 * Reads and validates a manifest file that describes one target.
 *
 * @example
 * ```ts
 * import { loadManifest } from "./manifest.ts";
 * const target = await loadManifest("fixtures/targets/python-echo-unix.json");
 * ```
 */
export async function loadManifest(file: string): Promise<Target> {
  return one(await loadTargets(file), file);
}

/**
 * Reads and validates a manifest file: one target, or one per service when the manifest
 * describes several services of one process.
 *
 * @example
 * ```ts
 * import { loadTargets } from "./manifest.ts";
 * const targets = await loadTargets("fixtures/targets/python-multi-echo.json");
 * console.log(targets.map((t) => t.name));
 * ```
 */
export async function loadTargets(file: string): Promise<Target[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new ManifestError(
      file,
      "",
      `cannot read the file (${errnoMessage(err)}); check the path`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, "", `invalid JSON: ${(err as Error).message}`);
  }
  const absolute = file.startsWith("/") ? file : `${Deno.cwd()}/${file}`;
  return parseTargets(json, absolute);
}

/**
 * Validates a parsed manifest object that describes one target; `file` is used for `{dir}`
 * and in error messages.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * parseManifest({ name: "x", kind: "stream-echo", transports: ["tcp"], attach: { port: 10000 } }, "x.json");
 * ```
 */
export function parseManifest(json: unknown, file: string): Target {
  return one(parseTargets(json, file), file);
}

function one(targets: Target[], file: string): Target {
  if (targets.length !== 1) {
    throw new ManifestError(
      file,
      "services",
      `describes ${targets.length} services; read it with loadTargets (sockspec check does)`,
    );
  }
  return targets[0];
}

// deno-lint-ignore no-explicit-any
type AjvError = any;
let validator: ((doc: unknown) => boolean) & { errors?: AjvError[] | null } | undefined;

/**
 * The manifest schema's complaint about `json`, as a field and what to do, or undefined
 * when the schema accepts it.
 *
 * @example
 * ```ts
 * import { schemaProblem } from "./manifest.ts";
 * schemaProblem({ name: "x", timeoutMs: 99999999999 }); // { field: "timeoutMs", detail: "must be <= 600000 ..." }
 * ```
 */
export function schemaProblem(json: unknown): { field: string; detail: string } | undefined {
  validator ??= new Ajv2020({ strict: true, allErrors: false, verbose: true }).compile(schema);
  if (validator(json)) return undefined;
  const e: AjvError = validator.errors![0];
  const path = String(e.instancePath).split("/").slice(1).map((p: string) =>
    p.replaceAll("~1", "/").replaceAll("~0", "~")
  );
  const field = (parts: string[]) =>
    parts.reduce((f, p) => /^\d+$/.test(p) ? `${f}[${p}]` : f ? `${f}.${p}` : p, "");
  const why = (s: { description?: string } | undefined) =>
    s?.description ? `: ${s.description}` : "";
  const parent = e.parentSchema ?? {};
  switch (e.keyword) {
    case "additionalProperties": {
      const known = Object.keys(parent.properties ?? {}).filter((k) => k !== "$schema");
      return {
        field: field([...path, e.params.additionalProperty]),
        detail: `unknown key; known keys here: ${known.join(", ")}`,
      };
    }
    case "required":
      return {
        field: field([...path, e.params.missingProperty]),
        detail: `missing${why(parent.properties?.[e.params.missingProperty])}`,
      };
    case "enum":
      return {
        field: field(path),
        detail: `is ${JSON.stringify(e.data)}; must be one of ${e.params.allowedValues.join(", ")}`,
      };
    case "propertyNames":
      return { field: field(path), detail: `${e.message}${why(parent)}` };
    case "pattern":
      if (path[0] === "files") {
        return {
          field: field(path.slice(0, 1)),
          detail: `file name ${
            JSON.stringify(e.data)
          } must be a relative path inside {tmp} (no component starting with '.')`,
        };
      }
      return {
        field: field(path),
        detail: `is ${JSON.stringify(e.data)}; must match ${e.params.pattern}${why(parent)}`,
      };
    case "type": {
      const want = e.params.type === "integer" ? "a whole number" : `of type ${e.params.type}`;
      return { field: field(path), detail: `must be ${want}${why(parent)}` };
    }
    default:
      return { field: field(path), detail: `${e.message}${why(parent)}` };
  }
}

/**
 * Validates a parsed manifest object: one target, or one per service (see the README,
 * "Several services in one process"). `file` is used for `{dir}` and in error messages.
 *
 * @example
 * ```ts
 * import { parseTargets } from "./manifest.ts";
 * parseTargets({ name: "x", kind: "stream-echo", transports: ["tcp"], attach: { port: 10000 } }, "x.json");
 * ```
 */
export function parseTargets(json: unknown, file: string): Target[] {
  const err = (field: string, detail: string) => new ManifestError(file, field, detail);
  if (!isObject(json)) throw err("", "the manifest must be a JSON object");
  const problem = schemaProblem(json);
  if (problem) throw err(problem.field, problem.detail);
  const m = json as unknown as ManifestJson;
  const kindNames = Object.keys(KINDS).join(", ");
  const slash = file.lastIndexOf("/");
  const dir = slash < 0 ? "." : file.slice(0, slash) || "/";
  const host = m.host ?? "127.0.0.1";

  // One target, or one per service. `at` is where a service's own fields are.
  type Part = {
    at: string;
    name?: string;
    kind?: TargetKind;
    transports?: Transport[];
    host: string;
    port?: number;
    path?: string;
    ready?: ReadyJson;
    properties?: Record<string, unknown>;
    description?: string;
  };
  let parts: Part[];
  if (m.services) {
    for (const key of ["kind", "transports", "properties", "port", "path", "attach"] as const) {
      if (m[key] !== undefined) {
        throw err(key, "with services, give it in each service, not at the top");
      }
    }
    if (!m.command) throw err("command", "missing; services are served by one command");
    const names = new Set<string>();
    parts = m.services.map((s, i) => {
      if (names.has(s.name)) throw err(`services[${i}].name`, `'${s.name}' is given twice`);
      names.add(s.name);
      return { ...s, at: `services[${i}].`, host: s.host ?? host };
    });
  } else {
    if (m.kind === undefined) throw err("kind", `missing; one of ${kindNames}`);
    parts = [{ ...m, name: undefined, at: "", host }];
  }
  for (const p of parts) {
    const info = KINDS[p.kind!];
    const transports = p.transports ?? [];
    transports.forEach((t, i) => {
      if (!info.transports.includes(t)) {
        throw err(
          `${p.at}transports[${i}]`,
          `a ${p.kind} target cannot use ${t}; ${
            info.transports.length ? `it takes ${info.transports.join(", ")}` : "it takes none"
          }`,
        );
      }
    });
    if (transports.length === 0 && info.transports.length > 0) {
      throw err(
        `${p.at}transports`,
        `missing; list how the target is reached, one or more of ${info.transports.join(", ")}`,
      );
    }
  }

  const command = m.command;
  const attach = m.attach;
  if (attach !== undefined && command !== undefined) {
    throw err("attach", "give either command or attach, not both");
  }
  if (command === undefined) {
    for (const key of ["port", "path", "files"] as const) {
      if (m[key] !== undefined) {
        throw err(
          key,
          key === "files"
            ? "files are written for a server that sockspec starts; give a command"
            : `a fixed ${key} is for a server that sockspec starts; to reach a running one use attach.${key}`,
        );
      }
    }
  }

  if (command === undefined && attach === undefined && !KINDS[parts[0].kind!].commandOptional) {
    throw err(
      "command",
      "missing; give the command that starts the target, or attach to a running one",
    );
  }
  // Placeholders: which ones have a value, from the transports.
  const base = ["host", "tmp", "dir", "deno"];
  const own = (p: Part) => [
    ...((p.transports ?? []).some((t) => t === "tcp" || t === "udp") ? ["port"] : []),
    ...((p.transports ?? []).some((t) => t === "unix" || t === "unixgram") ? ["path"] : []),
  ];
  const shared = m.services
    ? [...base, ...parts.flatMap((p) => own(p).map((o) => `${o}.${p.name}`))]
    : [...base, ...own(parts[0])];
  const check = (text: string, field: string, allowed: readonly string[]) => {
    let names: string[];
    try {
      names = placeholdersIn(text);
    } catch (e) {
      throw err(field, (e as Error).message);
    }
    for (const n of names) {
      if (allowed.includes(n)) continue;
      const known = allowed.map((a) => `{${a}}`).join(" ");
      if ((n === "port" || n === "path") && m.services) {
        throw err(
          field,
          `{${n}} is ambiguous with services; name one, such as {${n}.${parts[0].name}}`,
        );
      }
      if (n === "port" || n === "path") {
        const need = n === "port" ? "tcp or udp" : "unix or unixgram";
        throw err(
          field,
          `{${n}} has no value: the manifest lists no ${need} transport; add one to transports, or remove {${n}} (known here: ${known})`,
        );
      }
      throw err(field, `unknown placeholder {${n}}; known here: ${known}`);
    }
  };
  command?.forEach((arg, i) => check(arg, `command[${i}]`, shared));
  for (const [k, v] of Object.entries(m.env ?? {})) check(v, `env.${k}`, shared);
  for (const [k, v] of Object.entries(m.files ?? {})) check(v, `files.${k}`, shared);
  check(m.cwd ?? "{tmp}", "cwd", shared);
  if (command) checkCommand(command[0], dir, err);

  // A server sockspec starts listens on this machine. (Not checked for the built-in
  // targets: a machine without IPv6 still runs the others; that one then says why it failed.)
  if (command && file !== "built-in") {
    for (const p of parts) {
      if (p.transports?.some((t) => t === "tcp" || t === "udp")) {
        const field = p.at && p.host !== host ? `${p.at}host` : "host";
        checkLocalHost(p.host, field, err);
      }
    }
  }

  const targets: Target[] = parts.map((p) => {
    const transports = p.transports ?? [];
    const info = KINDS[p.kind!];
    const defaultReady = info.ready ??
      (transports.every((t) => t === "udp" || t === "unixgram") ? "bound" : "listen");
    const ready = { ...(m.ready ?? {}), ...(p.ready ?? {}) };
    const readyKind = ready.kind ?? defaultReady;
    if (readyKind === "stdout") {
      if (typeof ready.pattern !== "string") {
        throw err(
          `${p.ready ? p.at : ""}ready.pattern`,
          "missing; a regular expression for the ready line",
        );
      }
      try {
        new RegExp(ready.pattern);
      } catch (e) {
        throw err(`${p.at}ready.pattern`, `not a regular expression: ${(e as Error).message}`);
      }
    }
    const properties = p.properties ?? {};
    const resolved: Record<string, unknown> = { ...properties };
    for (const [key, value] of Object.entries(properties)) {
      const type = PROPERTY_TYPES[key as keyof Properties];
      if (type === "argv") {
        (value as string[]).forEach((a, i) =>
          check(a, `${p.at}properties.${key}[${i}]`, [...base, ...own(p)])
        );
      }
      if (type === "path") {
        const other = /\{(?!dir\})[^{}]*\}/.exec(value as string);
        if (other) {
          throw err(
            `${p.at}properties.${key}`,
            `only {dir} may be used in a path, not ${other[0]}`,
          );
        }
        const path = (value as string).replaceAll("{dir}", dir);
        resolved[key] = path.startsWith("/") || dir === "." ? path : `${dir}/${path}`;
      }
    }
    const t: Target = {
      name: m.services ? `${m.name}.${p.name}` : m.name,
      description: p.description ?? m.description,
      kind: p.kind!,
      transports,
      command,
      attach,
      host: p.host,
      ...(p.port === undefined ? {} : { port: p.port }),
      ...(p.path === undefined ? {} : { path: p.path }),
      ready: {
        kind: readyKind,
        pattern: ready.pattern,
        timeoutMs: ready.timeoutMs ?? 10000,
      },
      properties: resolved as Properties,
      env: m.env ?? {},
      inheritEnv: m.inheritEnv ?? [],
      files: m.files ?? {},
      cwd: m.cwd ?? "{tmp}",
      timeoutMs: m.timeoutMs ?? 5000,
      killGraceMs: m.killGraceMs ?? 1000,
      source: m.services ? `${file}#${p.name}` : file,
      dir,
    };
    if (m.services) {
      t.service = p.name;
      t.services = parts.map((q) => ({
        name: q.name!,
        transports: q.transports ?? [],
        host: q.host,
        ...(q.port === undefined ? {} : { port: q.port }),
        ...(q.path === undefined ? {} : { path: q.path }),
      }));
    }
    return t;
  });
  return targets;
}

/** The manifest as the schema accepts it. */
interface ReadyJson {
  kind?: Readiness["kind"];
  pattern?: string;
  timeoutMs?: number;
}
interface ManifestJson {
  name: string;
  description?: string;
  kind?: TargetKind;
  transports?: Transport[];
  command?: string[];
  attach?: { port?: number; path?: string };
  host?: string;
  port?: number;
  path?: string;
  ready?: ReadyJson;
  properties?: Record<string, unknown>;
  inheritEnv?: string[];
  env?: Record<string, string>;
  files?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  killGraceMs?: number;
  services?: {
    name: string;
    description?: string;
    kind: TargetKind;
    transports: Transport[];
    host?: string;
    port?: number;
    path?: string;
    ready?: ReadyJson;
    properties?: Record<string, unknown>;
  }[];
}

/** The program a command starts must exist: on PATH, absolute, or `{dir}/...`. */
function checkCommand(
  program: string,
  dir: string,
  err: (f: string, d: string) => ManifestError,
): void {
  const field = "command[0]";
  if (program.startsWith("{dir}/") && !program.slice(6).includes("{")) {
    const path = `${dir}${program.slice(5)}`;
    if (!commandExists(path)) {
      const there = statOrUndefined(path);
      throw err(
        field,
        there?.isFile
          ? `${path} is not executable; chmod +x it, or start it with its interpreter (["sh", "${program}"])`
          : `${path} does not exist; check the name (it is relative to the manifest's directory)`,
      );
    }
    return;
  }
  if (program.includes("{")) return;
  if (program.includes("/") && !program.startsWith("/")) {
    throw err(
      field,
      `'${program}' is a relative path, but the target runs in its own temp dir; use {dir}/${
        program.replace(/^\.\//, "")
      } (relative to the manifest) or an absolute path`,
    );
  }
  if (commandExists(program)) return;
  if (!program.includes("/") && statOrUndefined(`${dir}/${program}`)?.isFile) {
    throw err(
      field,
      `'${program}' is not on PATH, but it is next to the manifest; use {dir}/${program}`,
    );
  }
  throw err(field, `command '${program}' not found on PATH; install it or give its full path`);
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A server that sockspec starts must be able to listen on `host`: `localhost` or an
 * address of this machine (tried by binding it, port 0). A name is refused: it would need
 * a DNS look-up and may resolve elsewhere.
 */
function checkLocalHost(
  host: string,
  field: string,
  err: (f: string, d: string) => ManifestError,
): void {
  if (host === "localhost") return;
  const what = "a server that sockspec starts listens on this machine";
  if (isIP(host) === 0) {
    throw err(
      field,
      `'${host}' is a name, not an address; ${what}: use 127.0.0.1 or ::1 (to test a server elsewhere, attach to it: attach.port)`,
    );
  }
  try {
    Deno.listen({ hostname: host, port: 0 }).close();
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) return;
    throw err(
      field,
      `${host} is not an address of this machine (${
        (e as Error).message
      }); ${what}: use 127.0.0.1, ::1 or an address of one of its interfaces (to test a server elsewhere, attach to it: attach.port)`,
    );
  }
}

/**
 * The placeholder names in `text` (`{port}` gives `port`), in order. `{{` and `}}` are
 * literal braces. A brace that is neither is an error that says how to write it.
 *
 * @example
 * ```ts
 * import { placeholdersIn } from "./manifest.ts";
 * placeholdersIn("awk '{{print $1}}' {tmp}/x:{port}"); // ["tmp", "port"]
 * ```
 */
export function placeholdersIn(text: string): string[] {
  return scan(text, (name) => name).filter((p): p is string => p !== undefined);
}

/** Walks `text`: literal runs, `{{`/`}}` as braces, `{name}` through `fill`. */
function scan<T>(text: string, fill: (name: string) => T, literal?: (s: string) => T): T[] {
  const out: T[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    const close = text.indexOf("}", i);
    const at = open < 0 ? close : close < 0 ? open : Math.min(open, close);
    if (at < 0) {
      if (literal) out.push(literal(text.slice(i)));
      break;
    }
    if (literal && at > i) out.push(literal(text.slice(i, at)));
    const ch = text[at];
    if (text[at + 1] === ch) {
      if (literal) out.push(literal(ch));
      i = at + 2;
      continue;
    }
    if (ch === "}") {
      throw new Error(
        `a lone '}' in ${JSON.stringify(text)}; write }} for a literal } (and {{ for {)`,
      );
    }
    const end = text.indexOf("}", at);
    const name = end < 0 ? "" : text.slice(at + 1, end);
    if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)?$/.test(name)) {
      throw new Error(
        `'${
          end < 0 ? text.slice(at) : text.slice(at, end + 1)
        }' is not a placeholder; write {{ and }} for literal braces`,
      );
    }
    out.push(fill(name));
    i = end + 1;
  }
  return out;
}

/**
 * Replaces `{name}` placeholders in `text` from `values`, and `{{`/`}}` by literal braces;
 * throws on a placeholder without a value (manifests are checked for that when read, so
 * this means a bug in sockspec).
 *
 * @example
 * ```ts
 * import { substitute } from "./manifest.ts";
 * substitute("{host}:{port}", { host: "127.0.0.1", port: "10000" }); // "127.0.0.1:10000"
 * ```
 */
export function substitute(text: string, values: Record<string, string | undefined>): string {
  return scan(text, (name) => {
    const value = values[name];
    if (value === undefined) throw new Error(`placeholder {${name}} has no value here`);
    return value;
  }, (s) => s).join("");
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
