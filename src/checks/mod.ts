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
 *
 * @module
 */

export * from "./wait.ts";
export * from "./stream.ts";
export * from "./reset.ts";
export * from "./node.ts";
export * from "./record.ts";
