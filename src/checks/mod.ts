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

// A type the verifiers refer to, defined by the case model.
export type { ByteDiff, DiffSide } from "../case/diff.ts";
