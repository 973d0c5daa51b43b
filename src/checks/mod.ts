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
export * from "./dgram.ts";
export * from "./run.ts";
export * from "./program.ts";
