/**
 * The case model: what a conformance case is ({@linkcode Case}), what its `run` gets
 * ({@linkcode CaseContext}), the verdicts and the errors it throws, the evidence it records,
 * and its seeded randomness. Everything else in sockspec builds on these types.
 *
 * @example
 * ```ts
 * import { type Case, inFamily, pass } from "@sockspec/sockspec/case";
 * export const myCases: Case[] = inFamily("My server's greeting", [{
 *   id: "greeting/1",
 *   requirement: "The server says hello.",
 *   level: "MUST",
 *   kind: "stream-echo",
 *   transport: "tcp",
 *   hint: "write the greeting before reading anything",
 *   run: () => Promise.resolve(pass("it said hello")),
 * }]);
 * ```
 * @module
 */

export * from "./case.ts";
export * from "./evidence.ts";
export * from "./random.ts";
export * from "./diff.ts";
export * from "./wait.ts";

// Types the model refers to, defined by the harness and the socket plumbing.
export type { Properties, Readiness, Service, Target } from "../harness/manifest.ts";
export type { Instance, OutputCapture, StartOptions } from "../harness/target.ts";
export type { StreamAddress } from "../net/sockets.ts";
