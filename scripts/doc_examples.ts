/**
 * Runs every doc example of the project's modules (`deno test --doc`), so each example
 * both type-checks and runs. The modules are `mod.ts` and every `.ts` file under `src/`
 * and `conformance/`, less tests (`*_test.ts`) and `testdata/`. One `deno test` process
 * runs them all, bounded by `--timeout-ms` (default 300 000); on timeout its process
 * group is killed and the run fails. An example must leave the project tree as it found
 * it: a file or directory that appears during the run (an example that wrote `junit.xml`
 * into the working directory, say) fails the run and is named.
 *
 * The file is not called `*_test.ts` on purpose: `deno test` would take it for a test.
 *
 * ```sh
 * deno run --allow-run --allow-read scripts/doc_examples.ts              # every module
 * deno run --allow-run --allow-read scripts/doc_examples.ts src/reports  # one folder or file
 * ```
 * @module
 */

import { join, relative } from "node:path";

/**
 * The permissions the examples run with: the test task's, plus `--allow-sys`, which a
 * Unix socket `mode` needs (Deno checks sys access for `Deno.umask` and does not accept
 * `--allow-sys=umask`; see the README's permissions section).
 */
export const PERMISSIONS: readonly string[] = [
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
];

const ROOTS = ["mod.ts", "src", "conformance"];

/** Whether `path` (relative to the project root, `/`-separated) is a module with docs to run. */
export function isDocModule(path: string): boolean {
  if (!path.endsWith(".ts") || path.endsWith("_test.ts")) return false;
  return !path.split("/").some((part) => part === "testdata" || part === "fixtures");
}

/**
 * The modules under `root` whose examples run: for each of `paths` (files or folders,
 * relative to `root`; default `mod.ts`, `src`, `conformance`), every module in it, sorted.
 *
 * @example
 * ```ts
 * import { docModules } from "./doc_examples.ts";
 * const modules = await docModules(new URL("..", import.meta.url).pathname, ["src/case"]);
 * modules.includes("src/case/verdict.ts"); // true; no src/case/*_test.ts
 * ```
 */
export async function docModules(
  root: string,
  paths: readonly string[] = ROOTS,
): Promise<string[]> {
  const found: string[] = [];
  const visit = async (rel: string) => {
    const info = await Deno.stat(join(root, rel));
    if (info.isFile) {
      if (isDocModule(rel)) found.push(rel);
      return;
    }
    for await (const e of Deno.readDir(join(root, rel))) {
      const child = rel === "." ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory || e.isFile) await visit(child);
    }
  };
  for (const p of paths) await visit(p.replace(/\/+$/, "") || ".");
  return [...new Set(found)].sort();
}

/** Every path under `root` (`.git` and `node_modules` left out), to see what a run adds. */
export async function treeSnapshot(root: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(join(root, dir))) {
      if (e.name === ".git" || e.name === "node_modules") continue;
      const rel = dir ? `${dir}/${e.name}` : e.name;
      seen.add(rel);
      if (e.isDirectory) await walk(rel);
    }
  };
  await walk("");
  return seen;
}

/** Runs `deno test --doc` on `modules` in `root`; resolves with its exit code (124 on timeout). */
async function runDocTests(
  root: string,
  modules: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--doc", ...PERMISSIONS, ...modules],
    cwd: root,
    stdin: "null",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`doc examples: no result within ${timeoutMs} ms; killing deno test`);
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const status = await child.status;
  clearTimeout(timer);
  return timedOut ? 124 : status.code;
}

if (import.meta.main) {
  const args = [...Deno.args];
  let timeoutMs = 300_000;
  const at = args.indexOf("--timeout-ms");
  if (at >= 0) {
    timeoutMs = Number(args[at + 1]);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      console.error(`--timeout-ms takes a whole number of ms, not '${args[at + 1]}'`);
      Deno.exit(2);
    }
    args.splice(at, 2);
  }
  const root = new URL("..", import.meta.url).pathname;
  const paths = args.map((a) => relative(root, join(Deno.cwd(), a)) || ".");
  const modules = await docModules(root, paths.length ? paths : ROOTS);
  if (modules.length === 0) {
    console.error(`doc examples: no modules in ${paths.join(" ")}`);
    Deno.exit(2);
  }
  const before = await treeSnapshot(root);
  const code = await runDocTests(root, modules, timeoutMs);
  const added = [...await treeSnapshot(root)].filter((p) => !before.has(p));
  for (const p of added) {
    console.error(`doc examples: ${p} appeared in the project tree; write into a temp dir`);
  }
  console.error(`doc examples of ${modules.length} modules: deno test exited ${code}`);
  Deno.exit(code !== 0 ? code : added.length ? 1 : 0);
}
