/**
 * The benchmark: throughput and round trips (with p50/p99) of stream echo servers, server
 * CPU per byte and per round trip, and the suite's own wall time per family. Its figures go
 * in docs/performance.md; nothing here is a pass/fail test.
 *
 * @example
 * ```ts
 * import { percentile } from "@sockspec/sockspec/bench";
 * percentile([1, 2, 3, 4], 50); // 2.5
 * ```
 * @module
 */

export * from "./bench.ts";
export * from "./suite.ts";

// Types the benchmark refers to, defined elsewhere.
export type * from "../case/mod.ts";
