/**
 * How sockspec runs itself in a child process: {@linkcode sockspecCommand} gives the argv of
 * `sockspec ARGS` in a child Deno with exactly the permissions given, and
 * {@linkcode ownFile} finds sockspec's own files whether it runs from files (a checkout, the
 * npm package) or was imported by URL. The built-in targets and the cases that run a
 * reference client both use it.
 *
 * @example
 * ```ts
 * import { sockspecCommand } from "./sockspec_command.ts";
 * sockspecCommand(["--allow-net=127.0.0.1"], ["serve", "echo", "--tcp", "{host}:{port}"])[0]; // "{deno}"
 * ```
 * @module
 */

import { fileURLToPath } from "node:url";
import { runBounded } from "./netns.ts";

/**
 * Where one of sockspec's own files is, as `deno run` and `cc` take it: a file path when
 * sockspec runs from files (a checkout, the npm package), else the URL itself (imported
 * over http(s) or from JSR; `deno run URL` fetches the module).
 *
 * @example
 * ```ts
 * import { ownFile } from "./sockspec_command.ts";
 * ownFile(new URL("file:///opt/my%20dir/main.ts")); // "/opt/my dir/main.ts"
 * ownFile(new URL("https://example.com/src/cli/main.ts")); // "https://example.com/src/cli/main.ts"
 * ```
 */
export function ownFile(url: URL): string {
  return url.protocol === "file:" ? fileURLToPath(url) : url.href;
}

/** The CLI's main module (`sockspec` itself): a path, or a URL when imported by URL. */
export const CLI_PATH: string = ownFile(new URL("../cli/main.ts", import.meta.url));

/**
 * The module that reference targets run: `sockspec serve|client KIND ...` alone, whose
 * module graph loads no npm package (src/cli/programs.ts). A path, or a URL.
 */
export const PROGRAMS_PATH: string = ownFile(new URL("../cli/programs.ts", import.meta.url));

/**
 * argv that runs `sockspec ARGS` in a child Deno with exactly `permissions`; `ARGS` start
 * with `serve` or `client` (the child runs {@linkcode PROGRAMS_PATH}).
 *
 * @example
 * ```ts
 * import { sockspecCommand } from "./sockspec_command.ts";
 * sockspecCommand(["--allow-net=127.0.0.1"], ["serve", "echo", "--tcp", "{host}:{port}"]);
 * ```
 */
export function sockspecCommand(permissions: string[], args: string[]): string[] {
  return [
    "{deno}",
    "run",
    "--quiet",
    "--no-prompt",
    // sockspec's modules stand alone: no deno.json or package.json found from the cwd or
    // around the module applies (under node_modules, one would make Deno refuse TypeScript)
    "--no-config",
    "--unstable-net",
    ...permissions,
    PROGRAMS_PATH,
    ...args,
  ];
}

/**
 * The text of one of sockspec's own files (a helper program a case runs with
 * `python3 -c`), wherever sockspec was loaded from: a checkout, the npm package or a URL.
 *
 * @example
 * ```ts
 * import { ownText } from "./sockspec_command.ts";
 * const text = await ownText(new URL("./sockspec_command.ts", import.meta.url));
 * text.includes("ownText"); // true
 * ```
 */
export async function ownText(url: URL): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`cannot load sockspec's own file ${url}: ${res.status} ${res.statusText}`);
  }
  return await res.text();
}

/** How long fetching the reference programs into the Deno cache may take, in ms. */
const CACHE_PROGRAMS_MS = 120_000;
let programsCached: Promise<void> | undefined;

/**
 * When sockspec was imported by URL, fetches the reference programs' modules into the Deno
 * cache (once per process), so that one started where that URL cannot be reached still
 * starts: inside a private network namespace, whose loopback is its own and which has no
 * route out. Does nothing when sockspec runs from files. Rejects, naming the URL, when the
 * modules cannot be fetched.
 *
 * @example
 * ```ts
 * import { cacheOwnPrograms } from "./sockspec_command.ts";
 * await cacheOwnPrograms(); // at once from a checkout or the npm package
 * ```
 */
export function cacheOwnPrograms(): Promise<void> {
  if (!/^[a-z]+:/.test(PROGRAMS_PATH)) return Promise.resolve();
  programsCached ??= (async () => {
    const out = await runBounded(
      [Deno.execPath(), "cache", "--quiet", "--no-config", PROGRAMS_PATH],
      { timeoutMs: CACHE_PROGRAMS_MS },
    );
    if (out.code !== 0) {
      programsCached = undefined;
      throw new Error(
        `cannot fetch sockspec's programs from ${PROGRAMS_PATH} into the Deno cache (deno cache ${
          out.timedOut ? `killed after ${CACHE_PROGRAMS_MS} ms` : `exited ${out.code}`
        }): ${out.stderr.trim().split("\n").at(-1) ?? ""}`,
      );
    }
  })();
  return programsCached;
}
