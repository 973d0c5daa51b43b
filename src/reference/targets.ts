/**
 * The built-in reference targets: sockspec's own servers, started through its CLI with
 * the fewest Deno permissions each needs. `sockspec check` with no `--target` runs these.
 *
 * @example
 * ```ts
 * import { referenceTargets } from "./targets.ts";
 * for (const t of referenceTargets()) console.log(t.name, t.kind, t.transports.join(","));
 * ```
 * @module
 */

import { parseManifest, type Target } from "../harness/manifest.ts";
import { SIZE_ENV } from "../net/datagram.ts";
import { CLI_PATH, ownFile, PROGRAMS_PATH, sockspecCommand } from "../harness/sockspec_command.ts";

export { CLI_PATH, ownFile, PROGRAMS_PATH, sockspecCommand };

/**
 * The reference socketpair program (SPEC §7), a path or a URL as {@linkcode CLI_PATH}. Its
 * target runs this module directly with `--allow-run={deno}` (the child) and
 * `--allow-env=NODE_V8_COVERAGE`: it is a program that runs to completion, not a
 * `sockspec serve` server.
 *
 * @example
 * ```ts
 * import { SOCKETPAIR_PATH } from "./targets.ts";
 * SOCKETPAIR_PATH.endsWith("/socketpair/socketpair.ts"); // true
 * ```
 */
export const SOCKETPAIR_PATH: string = ownFile(
  new URL("./socketpair/socketpair.ts", import.meta.url),
);

/**
 * What a Unix socket server needs: read, write and net access to exactly its socket path
 * (Deno checks all three for a Unix socket; see unix_listen.ts). Tied to {path}, not to
 * {tmp}, so that lifecycle cases can put the path where they prepared it.
 */
const UNIX_PERMS = [
  // {path}.lock: the lock a server holds while it checks and binds the path (unix_listen.ts)
  "--allow-read={path},{path}.lock",
  "--allow-write={path},{path}.lock",
  "--allow-net=unix:{path}",
];

/**
 * The reference targets, one per behaviour and transport.
 *
 * @example
 * ```ts
 * import { referenceTargets } from "./targets.ts";
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
        "sockspec's stream echo server over a Unix domain socket, tutorial transcript on, node mode 0600",
      kind: "stream-echo",
      transports: ["unix"],
      // --mode sets the umask for the bind: Deno 2.9 checks sys "umask" for Deno.umask but
      // rejects --allow-sys=umask as an unknown descriptor, so it takes all of --allow-sys.
      command: sockspecCommand([...UNIX_PERMS, "--allow-sys"], [
        "serve",
        "echo",
        "--unix",
        "{path}",
        "--transcript",
        "--mode",
        "0600",
      ]),
      properties: { chunkSize: 16, transcript: true, mode: "0600" },
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
    // Datagram echo (SPEC §4): recvfrom(4096) and no answer to an empty datagram, as the tutorial.
    {
      name: "reference-udp",
      description: "sockspec's UDP echo server over IPv4: 4096-byte buffer, transcript on",
      kind: "dgram-echo",
      transports: ["udp"],
      command: sockspecCommand(["--allow-net={host}"], [
        "serve",
        "udp",
        "{host}:{port}",
        "--transcript",
      ]),
      properties: {
        bufferSize: 4096,
        zeroLength: "ignore",
        transcript: true,
        // the reference client (dgram/udp/10 judges a declared client): it binds 0.0.0.0
        client: sockspecCommand(["--allow-net={host},0.0.0.0", `--allow-env=${SIZE_ENV}`], [
          "client",
          "udp",
          "{host}:{port}",
        ]),
      },
    },
    {
      name: "reference-udp6",
      description: "sockspec's UDP echo server over IPv6 loopback: 4096-byte buffer, transcript on",
      kind: "dgram-echo",
      transports: ["udp"],
      host: "::1",
      command: sockspecCommand(["--allow-net=[::1]"], [
        "serve",
        "udp",
        "[{host}]:{port}",
        "--transcript",
      ]),
      properties: {
        bufferSize: 4096,
        zeroLength: "ignore",
        transcript: true,
        client: sockspecCommand(["--allow-net=[{host}],[::]", `--allow-env=${SIZE_ENV}`], [
          "client",
          "udp",
          "[{host}]:{port}",
        ]),
      },
    },
    {
      name: "reference-unixgram",
      description: "sockspec's Unix datagram echo server: 4096-byte buffer, transcript on",
      kind: "dgram-echo",
      transports: ["unixgram"],
      // Deno checks a send to a Unix path as a write to that path plus net access to it, by
      // exact path; a server answering clients bound anywhere needs both for every path.
      command: sockspecCommand(["--allow-read={tmp}", "--allow-write", "--allow-net"], [
        "serve",
        "unixgram",
        "{path}",
        "--transcript",
      ]),
      properties: { bufferSize: 4096, zeroLength: "ignore", transcript: true },
    },
    // Multicast (SPEC §5): the receiver acks whoever sends to the group, so it needs all of net.
    {
      name: "reference-mcast",
      description: "sockspec's multicast receiver: joins 224.3.29.71, acks each message",
      kind: "multicast",
      transports: ["udp"],
      command: sockspecCommand(["--allow-net"], [
        "serve",
        "mcast",
        "--group",
        "224.3.29.71",
        "--port",
        "{port}",
        "--transcript",
      ]),
      properties: {
        group: "224.3.29.71",
        transcript: true,
        // the reference sender (mcast/2 and mcast/3 judge a declared sender); {host} is the group
        client: sockspecCommand(["--allow-net=0.0.0.0,{host}"], [
          "client",
          "mcast",
          "--group",
          "{host}",
          "--port",
          "{port}",
        ]),
      },
    },
  ];
  // DENO_DIR reaches the reference programs, so they share the caller's module cache.
  return [...manifests, ...referenceClientManifests()].map((m) =>
    parseManifest({ inheritEnv: ["DENO_DIR"], ...m }, "built-in")
  );
}

// ---------------------------------------------------------------------------------------
// Reference clients (client cases, conformance/client/): sockspec's own clients as client
// targets, run against the servers the client cases play. Each waits at most CLIENT_WAIT_MS
// for any step, well inside the target's timeoutMs, so the "gives up" SHOULD cases pass fast.

/** How long a reference client waits for any step, in ms (its `--timeout`). */
export const CLIENT_WAIT_MS = 300;

/**
 * The manifests of the reference client targets: the stream echo client over TCP and a
 * Unix socket, the datagram client over UDP and a Unix datagram socket, the record client.
 *
 * @example
 * ```ts
 * import { referenceClientManifests } from "./targets.ts";
 * referenceClientManifests().map((m) => m.name); // ["reference-client-echo-tcp", ...]
 * ```
 */
export function referenceClientManifests(): Record<string, unknown>[] {
  const wait = ["--timeout", String(CLIENT_WAIT_MS)];
  return [
    {
      name: "reference-client-echo-tcp",
      description: "sockspec's stream echo client over TCP (IPv4)",
      kind: "stream-client",
      transports: ["tcp"],
      command: sockspecCommand(["--allow-net={host}"], [
        "client",
        "echo",
        "--tcp",
        "{host}:{port}",
        ...wait,
      ]),
      timeoutMs: 3000,
    },
    {
      name: "reference-client-echo-unix",
      description: "sockspec's stream echo client over a Unix domain socket",
      kind: "stream-client",
      transports: ["unix"],
      command: sockspecCommand(UNIX_PERMS, ["client", "echo", "--unix", "{path}", ...wait]),
      timeoutMs: 3000,
    },
    {
      name: "reference-client-udp",
      description: "sockspec's UDP echo client (IPv4); it binds 0.0.0.0",
      kind: "dgram-client",
      transports: ["udp"],
      command: sockspecCommand(["--allow-net={host},0.0.0.0", `--allow-env=${SIZE_ENV}`], [
        "client",
        "udp",
        "{host}:{port}",
        ...wait,
      ]),
      timeoutMs: 3000,
    },
    {
      name: "reference-client-unixgram",
      description: "sockspec's Unix datagram echo client, bound to a path of its own in {tmp}",
      kind: "dgram-client",
      transports: ["unixgram"],
      command: sockspecCommand([
        "--allow-read={tmp}",
        "--allow-write={tmp},{path}",
        "--allow-net=unix:{path},unix:{tmp}/client",
      ], ["client", "unixgram", "{path}", "--bind", "{tmp}/client", ...wait]),
      timeoutMs: 3000,
    },
    {
      name: "reference-client-record-tcp",
      description: "sockspec's record client (I 2s f) over TCP",
      kind: "record-client",
      transports: ["tcp"],
      command: sockspecCommand(["--allow-net={host}"], [
        "client",
        "record",
        "--tcp",
        "{host}:{port}",
        ...wait,
      ]),
      timeoutMs: 3000,
    },
    {
      name: "reference-client-record-unix",
      description: "sockspec's record client (I 2s f) over a Unix domain socket",
      kind: "record-client",
      transports: ["unix"],
      command: sockspecCommand(UNIX_PERMS, ["client", "record", "--unix", "{path}", ...wait]),
      timeoutMs: 3000,
    },
  ];
}
