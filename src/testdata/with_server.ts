/**
 * A test helper: run a function against a started target, then stop it, remove its temp
 * dir, and check that it left no process behind.
 *
 * @example
 * ```ts
 * import { withServer } from "./with_server.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * await withServer(referenceTargets()[0], async (server) => {
 *   console.log(server.port);
 * });
 * ```
 * @module
 */

import assert from "node:assert/strict";
import type { Target } from "../harness/manifest.ts";
import { type Instance, startInstance } from "../harness/target.ts";

/**
 * Runs `fn` with a started target in a fresh temp dir; stops it and removes the dir after,
 * and asserts that nothing is left in its session.
 *
 * @example
 * ```ts
 * import { withServer } from "./with_server.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * await withServer(referenceTargets()[0], async () => {});
 * ```
 */
export async function withServer(
  target: Target,
  fn: (server: Instance) => Promise<void>,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  let server: Instance | undefined;
  try {
    server = await startInstance(target, { tmp });
    await fn(server);
  } finally {
    await server?.stop();
    await Deno.remove(tmp, { recursive: true });
  }
  assert.deepEqual(await server.leftovers(), [], "the server left no process behind");
}
