/**
 * The user's mistakes, as opposed to a server's failure or a bug: a wrong command line or
 * option value ({@linkcode UsageError}) and a manifest that cannot be used
 * ({@linkcode ManifestError}). The CLI prints the message and exits with status 2. They live
 * in the harness because the harness parses user input too (`--shard`, manifests,
 * expectations), in a leaf module so that the CLI's entry point can name them without
 * loading the manifest validator (a reference program started by sockspec loads nothing it
 * does not run).
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

/** A manifest that cannot be used; the message names the file and the field. */
export class ManifestError extends Error {
  /**
   * An error in `file` at `field`.
   *
   * @example
   * ```ts
   * import { ManifestError } from "./usage.ts";
   * const err = new ManifestError("t.json", "kind", "missing; set it to one of stream-echo, ...");
   * console.log(err.message); // "t.json: field 'kind': missing; set it to one of stream-echo, ..."
   * ```
   */
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field ? `field '${field}': ` : ""}${detail}`);
    this.name = "ManifestError";
  }
}
