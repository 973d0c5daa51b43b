/**
 * What the conformance cases share: the verifiers that own the waiting and the
 * "expected … actual …" sentence, and the one polling wait.
 *
 * @example
 * ```ts
 * import { waitUntil } from "@sockspec/sockspec/checks";
 * await waitUntil(() => true, { timeoutMs: 100 }); // true
 * ```
 * @module
 */

export * from "./wait.ts";
export * from "./expect.ts";
export * from "./dgram.ts";
export * from "./run.ts";
export * from "./program.ts";

// Types the verifiers refer to, defined below them.
export type * from "../case/mod.ts";
export type { BoundedResult } from "../harness/netns.ts";
export type { DatagramAddress } from "../net/datagram.ts";
