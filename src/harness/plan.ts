/**
 * Which cases apply to which target: the same kind, and a transport the target declares.
 * A leaf of the harness, shared by the runner and the shard planner.
 *
 * @example
 * ```ts
 * import { applicableCases } from "./plan.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * applicableCases(referenceTargets()[0], allCases).length;
 * ```
 * @module
 */

import type { Case } from "../case/case.ts";
import type { Target } from "./manifest.ts";

/**
 * The cases that apply to a target: same kind, and a transport the target declares.
 *
 * @example
 * ```ts
 * import { applicableCases } from "./plan.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * applicableCases(referenceTargets()[0], allCases).length;
 * ```
 */
export function applicableCases(target: Target, cases: readonly Case[]): Case[] {
  return cases.filter((c) =>
    c.kind === target.kind && (c.transport === undefined || target.transports.includes(c.transport))
  );
}
