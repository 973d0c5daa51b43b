/**
 * The built-in reference targets: sockspec's own servers, started through its CLI with
 * the fewest Deno permissions each needs. `sockspec check` with no `--target` runs these.
 *
 * @example
 * ```ts
 * import { referenceTargets } from "./reference_targets.ts";
 * for (const t of referenceTargets()) console.log(t.name, t.kind, t.transports.join(","));
 * ```
 * @module
 */

import { parseManifest, type Target } from "./manifest.ts";

/** The CLI module that reference targets run. */
export const CLI_PATH: string = new URL("./cli.ts", import.meta.url).pathname;

/**
 * argv that runs `sockspec ARGS` in a child Deno with exactly `permissions`.
 *
 * @example
 * ```ts
 * import { sockspecCommand } from "./reference_targets.ts";
 * sockspecCommand(["--allow-net=127.0.0.1"], ["serve", "echo", "--tcp", "{host}:{port}"]);
 * ```
 */
export function sockspecCommand(permissions: string[], args: string[]): string[] {
  return [
    "{deno}",
    "run",
    "--quiet",
    "--no-prompt",
    "--unstable-net",
    ...permissions,
    CLI_PATH,
    ...args,
  ];
}

/**
 * The reference socketpair program (SPEC 7). Its target runs this module directly with
 * `--allow-run={deno}` (the child) and `--allow-env=NODE_V8_COVERAGE`: it is a program that
 * runs to completion, not a `sockspec serve` server.
 *
 * @example
 * ```ts
 * import { SOCKETPAIR_PATH } from "./reference_targets.ts";
 * SOCKETPAIR_PATH.endsWith("/reference/socketpair.ts"); // true
 * ```
 */
export const SOCKETPAIR_PATH: string =
  new URL("./reference/socketpair.ts", import.meta.url).pathname;

/**
 * What a Unix socket server needs: read and write in its temp dir, and net access to its
 * path and to the private name it binds first (see unix_listen.ts). Deno's net permission
 * for Unix sockets takes exact paths.
 */
const UNIX_PERMS = [
  "--allow-read={tmp}",
  "--allow-write={tmp}",
  "--allow-net=unix:{path},unix:{path}.bind/s",
];

/**
 * The reference targets, one per behaviour and transport.
 *
 * @example
 * ```ts
 * import { referenceTargets } from "./reference_targets.ts";
 * referenceTargets().map((t) => t.name); // ["reference-echo-tcp", ...]
 * ```
 */
export function referenceTargets(): Target[] {
  const manifests = [
    {
      name: "reference-echo-tcp",
      description: "sockspec's stream echo server over TCP (IPv4), tutorial transcript on",
      kind: "stream-echo",
      transports: ["tcp"],
      command: sockspecCommand(["--allow-net={host}"], [
        "serve",
        "echo",
        "--tcp",
        "{host}:{port}",
        "--transcript",
      ]),
      properties: { chunkSize: 16, transcript: true },
    },
    {
      name: "reference-echo-tcp6",
      description: "sockspec's stream echo server over TCP on IPv6 loopback",
      kind: "stream-echo",
      transports: ["tcp"],
      host: "::1",
      command: sockspecCommand(["--allow-net=[::1]"], [
        "serve",
        "echo",
        "--tcp",
        "[{host}]:{port}",
        "--transcript",
      ]),
      properties: { chunkSize: 16, transcript: true },
    },
    {
      name: "reference-echo-unix",
      description:
        "sockspec's stream echo server over a Unix domain socket, tutorial transcript on",
      kind: "stream-echo",
      transports: ["unix"],
      command: sockspecCommand(UNIX_PERMS, ["serve", "echo", "--unix", "{path}", "--transcript"]),
      properties: { chunkSize: 16, transcript: true },
    },
    {
      name: "reference-socketpair",
      description:
        "sockspec's socketpair program: parent and child, ping/pong over an AF_UNIX pair",
      kind: "program",
      command: [
        "{deno}",
        "run",
        "--quiet",
        "--no-prompt",
        "--no-config",
        "--allow-run={deno}",
        "--allow-env=NODE_V8_COVERAGE",
        SOCKETPAIR_PATH,
        "--timeout-ms",
        "3000",
      ],
    },
    {
      name: "reference-runtime",
      description:
        "the runtime sockspec runs on: its services, protocols and resolver, and the address helpers",
      kind: "runtime",
    },
    {
      name: "reference-record-tcp",
      description: "sockspec's record server (I 2s f) over TCP: transcript and JSON reply on",
      kind: "record",
      transports: ["tcp"],
      command: sockspecCommand(["--allow-net={host}"], [
        "serve",
        "record",
        "--tcp",
        "{host}:{port}",
        "--transcript",
        "--reply",
      ]),
      properties: { format: "I 2s f", transcript: true, reply: true },
    },
    {
      name: "reference-record-unix",
      description:
        "sockspec's record server (I 2s f) over a Unix domain socket: transcript and reply on",
      kind: "record",
      transports: ["unix"],
      command: sockspecCommand(UNIX_PERMS, [
        "serve",
        "record",
        "--unix",
        "{path}",
        "--transcript",
        "--reply",
      ]),
      // Ready when it says so: polling /proc/net/unix can race with start-up into a probe
      // connection, which a record server must (and does) treat as a short record.
      ready: { kind: "stdout", pattern: "^waiting for a connection$" },
      properties: { format: "I 2s f", transcript: true, reply: true },
    },
  ];
  return manifests.map((m) => parseManifest(m, "built-in"));
}
