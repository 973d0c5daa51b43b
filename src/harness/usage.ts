/**
 * The user's mistake, as opposed to a server's failure or a bug: a wrong command line or
 * option value. The CLI prints the message and exits with status 2. It lives in the harness
 * because the harness parses user input too (`--shard`, manifests, expectations).
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage.ts";
 * const err = new UsageError("--shard takes i/n, not '3'");
 * ```
 * @module
 */

/** A wrong command line: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  /**
   * A usage error whose message says what to do.
   *
   * @example
   * ```ts
   * import { UsageError } from "./usage.ts";
   * const err = new UsageError("give --tcp HOST:PORT or --unix PATH");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
