/**
 * Every conformance case, in report order. One list feeds `deno test`, `sockspec check` and
 * every reporter; each behaviour family adds its cases here.
 *
 * @example
 * ```ts
 * import { allCases } from "./mod.ts";
 * console.log(allCases.filter((c) => c.level === "MUST").length);
 * ```
 * @module
 */

import type { Case } from "../src/case.ts";
import { streamEchoCasesAll } from "./echo_stream.ts";
import { udsLifecycleCases } from "./uds_lifecycle.ts";
import { recordCasesAll } from "./record.ts";
import { programCases } from "./program.ts";
import { namesCases } from "./names.ts";
import { dgramCasesAll } from "./dgram.ts";
import { multicastCases } from "./multicast.ts";

/** Every case, in report order. Ids are unique (a test checks it). */
export const allCases: readonly Case[] = [
  ...streamEchoCasesAll,
  ...udsLifecycleCases,
  ...recordCasesAll,
  ...programCases,
  ...namesCases,
  ...dgramCasesAll,
  ...multicastCases,
];
