/**
 * `sockspec serve mcast` (the multicast receiver) and `sockspec client mcast` (the
 * multicast sender): the command lines of the SPEC §5 reference programs.
 *
 * @example
 * ```ts
 * import { mcastClientMain } from "./multicast.ts";
 * // Sends onto the local segment: run it where that is wanted (a namespace, a lab network).
 * function askGroup(): Promise<number> {
 *   return mcastClientMain(["--group", "224.3.29.71", "--port", "10000"]);
 * }
 * ```
 * @module
 */

import {
  intOption,
  messageOption,
  parseCommand,
  serveUntilSignal,
  timeoutOption,
  UsageError,
} from "./_args.ts";
import {
  DEFAULT_GROUP,
  DEFAULT_PORT,
  isMulticastGroup,
  runMulticastSender,
  serveMulticast,
} from "../reference/multicast/multicast.ts";

/** Help for `sockspec serve mcast`. */
export const SERVE_MCAST_HELP = `Usage: sockspec serve mcast [options]

The reference multicast receiver (SPEC §5): binds ('', PORT), joins GROUP on every
interface, and answers each datagram with b'ack' to its sender. Stops cleanly on SIGINT
or SIGTERM (exit 0).

Options:
  --group ADDR      the group to join (default ${DEFAULT_GROUP})
  --port N          the port (default ${DEFAULT_PORT})
  --transcript      print the tutorial's receiver transcript
  --help            show this help

Exit: 0 after SIGINT/SIGTERM, 1 when it cannot bind or join, 2 on a usage error.`;

/** Help for `sockspec client mcast`. */
export const CLIENT_MCAST_HELP = `Usage: sockspec client mcast [options]

The reference multicast sender (SPEC §5): sends b'very important data' to the group with
TTL 1 and multicast loopback on, prints each answer until none comes for 0.2 s, then
"timed out, no more responses" and "closing socket".

Options:
  --group ADDR      the group (default ${DEFAULT_GROUP})
  --port N          the group's port (default ${DEFAULT_PORT})
  --ttl N           IP_MULTICAST_TTL (default 1)
  --timeout MS      how long to wait for the next answer (default 200)
  --message TEXT    what to send (default the tutorial's 19 bytes)
  --help            show this help`;

function groupOption(text: string | undefined): string {
  const group = text ?? DEFAULT_GROUP;
  if (!isMulticastGroup(group)) {
    throw new UsageError(`--group must be an IPv4 multicast group (224.0.0.0/4), not '${group}'`);
  }
  return group;
}

/**
 * Runs `sockspec serve mcast ARGS`; resolves with the exit status after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { mcastServeMain } from "./multicast.ts";
 * await mcastServeMain(["--help"]); // 0
 * ```
 */
export async function mcastServeMain(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SERVE_MCAST_HELP, {
    group: { type: "string" },
    port: { type: "string" },
    transcript: { type: "boolean" },
  });
  if (!parsed) return 0; // --help
  const { values } = parsed;
  const group = groupOption(values.group);
  const port = intOption("port", values.port, 0, 65535) ?? DEFAULT_PORT;
  return await serveUntilSignal(
    "sockspec serve mcast",
    () => serveMulticast({ group, port, transcript: values.transcript }),
  );
}

/**
 * Runs `sockspec client mcast ARGS`; resolves with the exit status.
 *
 * @example
 * ```ts
 * import { mcastClientMain } from "./multicast.ts";
 * await mcastClientMain(["--help"]); // 0
 * ```
 */
export async function mcastClientMain(args: string[]): Promise<number> {
  const parsed = parseCommand(args, CLIENT_MCAST_HELP, {
    group: { type: "string" },
    port: { type: "string" },
    ttl: { type: "string" },
    timeout: { type: "string" },
    message: { type: "string" },
  });
  if (!parsed) return 0; // --help
  const { values } = parsed;
  return await runMulticastSender({
    group: groupOption(values.group),
    port: intOption("port", values.port, 1, 65535),
    ttl: intOption("ttl", values.ttl, 0, 255),
    timeoutMs: timeoutOption(values.timeout, 600_000),
    message: messageOption(values.message),
  });
}
