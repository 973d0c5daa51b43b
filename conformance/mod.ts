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

import type { Case } from "../src/case/case.ts";
import { streamEchoCasesAll } from "./echo/echo.ts";
import { udsLifecycleCases } from "./uds/uds.ts";
import { recordCasesAll } from "./record/record.ts";
import { programCases } from "./program/program.ts";
import { namesCases } from "./names/names.ts";
import { dgramCasesAll } from "./dgram/dgram.ts";
import { multicastCases } from "./mcast/mcast.ts";
import { clientCasesAll } from "./client/client.ts";

/** Every case, in report order. Ids are unique (a test checks it). */
export const allCases: readonly Case[] = [
  ...streamEchoCasesAll,
  ...udsLifecycleCases,
  ...recordCasesAll,
  ...programCases,
  ...namesCases,
  ...dgramCasesAll,
  ...multicastCases,
  ...clientCasesAll,
];

// The case model the cases are written in.
export type * from "../src/case/mod.ts";
