/**
 * The helpers the conformance cases share: verifiers that own the waiting and the failure
 * sentence, and the one polling wait.
 *
 * - `wait.ts`: {@linkcode waitUntil}, the only polling loop, bounded and abortable.
 * - `stream.ts`: stream verifiers (`expectEcho`, `expectStillServing`, `expectDuplexEcho`,
 *   `expectOwnBytesOnly`, …), `step` (a socket error becomes a FAIL naming the step), and
 *   `serverState` (how the target is doing, phrased in one place).
 * - `reset.ts`: a client that leaves with a real reset.
 *
 * @module
 */

export * from "./wait.ts";
export * from "./stream.ts";
export * from "./reset.ts";
