/**
 * The commands of the README's "Use it in your project", each run as written by a test:
 * readme_test.ts checks that the README shows exactly these, scripts/pack_test.ts runs the
 * npm ones, src/reference/url_import_test.ts the by-URL one (with its loopback URL in place
 * of JSR's), readme_test.ts the examples test.
 *
 * @example
 * ```ts
 * import { NPX_CHECK } from "./readme_commands.ts";
 * NPX_CHECK.split(" ")[0]; // "npx"
 * ```
 * @module
 */

/** Installs the tarball `deno task pack` builds (its name carries the version in deno.json). */
export const NPM_INSTALL = "npm install ./sockspec-0.1.0.tgz";

/** Checks the user's server, run from the user's project. */
export const NPX_CHECK = "npx sockspec check --target ./srv.json --report junit=./out.xml";

/**
 * Where JSR serves the package's files (any URL serving the repository works in its place;
 * the version is deno.json's).
 */
export const JSR_BASE = "https://jsr.io/@sockspec/sockspec/0.1.0/";

/** The CLI run by URL, from {@linkcode JSR_BASE}. */
export const URL_CHECK =
  `deno run --unstable-net --allow-run --allow-read --allow-write --allow-net --allow-env ${JSR_BASE}src/cli/main.ts check --target ./srv.json`;

/** The user's own test file, examples/my_server_test.ts. */
export const EXAMPLES_TEST =
  "deno test --unstable-net --allow-run --allow-read --allow-write --allow-net --allow-env examples/my_server_test.ts";
