/**
 * The helpers the conformance cases share: verifiers that own the waiting and the failure
 * sentence, and the one polling wait.
 *
 * - `wait.ts`: {@linkcode waitUntil}, the only polling loop, bounded and abortable.
 * - `stream.ts`: stream verifiers (`expectEcho`, `expectStillServing`, `expectDuplexEcho`,
 *   `expectOwnBytesOnly`, …), `step` (a socket error becomes a FAIL naming the step), and
 *   `serverState` (how the target is doing, phrased in one place).
 * - `reset.ts`: a client that leaves with a real reset.
 * - `node.ts`: Unix socket node verifiers (`expectServing`, `expectRefusalToStart`, …).
 * - `record.ts`: packed record verifiers (`expectDecoded`, …).
 * - `expect.ts`: {@linkcode readExpected}, "this connection must now deliver these bytes".
 * - `dgram.ts`: datagram verifiers (`expectEcho`-style answers, `expectNoAnswer`, the size
 *   search); `program.ts`: program transcripts; `run.ts`: how a program the case ran ended.
 *
 * @example
 * ```ts
 * import { waitUntil } from "@sockspec/sockspec/checks";
 * await waitUntil(() => true, { timeoutMs: 100 }); // true
 * ```
 * @module
 */

export * from "../case/wait.ts";
export * from "./stream.ts";
export * from "./reset.ts";
export * from "./node.ts";
export * from "./record.ts";
export * from "./expect.ts";
export * from "./dgram.ts";
export * from "./run.ts";
export * from "./program.ts";

// Types the verifiers refer to, defined below them.
export type * from "../case/mod.ts";
export type { BoundedResult } from "../harness/netns.ts";
export type { DatagramAddress } from "../net/datagram.ts";
