/**
 * Client cases: sockspec plays the server and judges client programs (`stream-client`,
 * `dgram-client` and `record-client` targets). See docs/clients.md.
 *
 * @example
 * ```ts
 * import { clientCasesAll } from "./client.ts";
 * console.log(clientCasesAll.map((c) => c.id).join(" "));
 * ```
 * @module
 */

import { type Case, inFamily } from "../../src/case/case.ts";
import { streamClientCases } from "./stream.ts";
import { dgramClientCases } from "./dgram.ts";
import { recordClientCases } from "./record.ts";

export { streamClientCases } from "./stream.ts";
export { dgramClientCases } from "./dgram.ts";
export { recordClientCases } from "./record.ts";

/** Every client case: stream (TCP, Unix), datagram (UDP, Unix), record. */
export const clientCasesAll: Case[] = [
  ...inFamily("Stream echo client over TCP", streamClientCases("tcp")),
  ...inFamily("Stream echo client over a Unix domain socket", streamClientCases("unix")),
  ...inFamily("UDP echo client", dgramClientCases("udp")),
  ...inFamily("Unix datagram echo client", dgramClientCases("unixgram")),
  ...inFamily("Packed record client", recordClientCases),
];
