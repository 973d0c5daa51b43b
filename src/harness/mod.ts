/**
 * The harness: target manifests, supervision of target processes (start in a private temp
 * dir, readiness, bounded output capture, teardown of the whole session), the one runner,
 * expectations and FLAKY records, sharding, and network namespaces for multicast.
 *
 * @example
 * ```ts
 * import { loadManifest, runAll } from "@sockspec/sockspec/harness";
 * import { allCases } from "@sockspec/sockspec/conformance";
 * const target = await loadManifest("fixtures/targets/python-echo-unix.json");
 * const report = await runAll([target], allCases, { select: (c) => c.id === "echo/unix/1" });
 * console.log(report.targets[0].results[0].verdict); // "PASS"
 * ```
 * @module
 */

export * from "./manifest.ts";
export * from "./target.ts";
export * from "./plan.ts";
export * from "./runner.ts";
export * from "./expectations.ts";
export * from "./flaky.ts";
export * from "./shard.ts";
export * from "./netns.ts";
export * from "./select.ts";
export * from "./usage.ts";
export * from "./sockspec_command.ts";

// Types the harness refers to, defined by the case model and the reports.
export type * from "../case/mod.ts";
export type * from "../reports/report.ts";
