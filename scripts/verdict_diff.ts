/**
 * Verdicts before and after a change: runs `sockspec check` on every fixture manifest and on
 * the built-in references, once in a scratch checkout of `--base` and once in this working
 * tree, with JSON reports, and compares the verdict of every (target, case) pair. Case ids
 * renamed on purpose are compared through the table in `docs/case-ids.md` (`| old | new |`
 * rows). Prints each changed verdict and, last, `N verdicts, M changed`.
 *
 * It exits 0 when nothing changed, 1 otherwise. It runs every fixture, the hostile ones
 * included, so it takes a few minutes; it is a script, not a test.
 *
 * ```sh
 * deno run -A scripts/verdict_diff.ts --base bcb7376~1 [--jobs 2]
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { join, relative } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** `target case` → verdict from a JSON report's text, old ids renamed to their new ids. */
export function verdictsOf(text: string, rename: Map<string, string>): Map<string, string> {
  const report = JSON.parse(text) as {
    targets: { name: string; results: { id: string; verdict: string }[] }[];
  };
  const out = new Map<string, string>();
  for (const t of report.targets) {
    for (const r of t.results) out.set(`${t.name} ${rename.get(r.id) ?? r.id}`, r.verdict);
  }
  return out;
}

/** The old → new id table of `docs/case-ids.md` (rows `| old | new | … |`). */
export function renames(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (
    const m of markdown.matchAll(/^\|\s*`?([\w*/.-]+\/\d+)`?\s*\|\s*`?([\w*/.-]+\/\d+)`?\s*\|/gm)
  ) {
    out.set(m[1], m[2]);
  }
  return out;
}

/** The lines that differ between two verdict maps, and how many pairs both have. */
export function compare(
  before: Map<string, string>,
  after: Map<string, string>,
): { common: number; changed: string[] } {
  const changed: string[] = [];
  let common = 0;
  for (const [key, was] of before) {
    const now = after.get(key);
    if (now === undefined) continue;
    common++;
    if (now !== was) changed.push(`${key}: ${was} -> ${now}`);
  }
  return { common, changed };
}

async function manifests(tree: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".json") && !e.name.endsWith(".expect.json")) {
        const text = await Deno.readTextFile(p);
        if (/"kind"\s*:/.test(text)) out.push(relative(tree, p));
      }
    }
  };
  await walk(join(tree, "fixtures"));
  return out.sort();
}

async function runCheck(tree: string, args: string[], out: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "sockspec", "check", ...args, "--report", `json=${out}`],
    cwd: tree,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), 15 * 60_000);
  const { stderr } = await child.output();
  clearTimeout(timer);
  try {
    return await Deno.readTextFile(out);
  } catch {
    throw new Error(
      `check in ${tree} wrote no report ${out}: ${new TextDecoder().decode(stderr).slice(-2000)}`,
    );
  }
}

async function verdictsIn(tree: string, jobs: string, rename: Map<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-verdicts-" });
  try {
    const all = new Map<string, string>();
    const files = await manifests(tree);
    const targets = files.flatMap((f) => ["--target", f]);
    for (const [name, args] of [["references", []], ["fixtures", targets]] as const) {
      const text = await runCheck(tree, ["--jobs", jobs, ...args], `${dir}/${name}.json`);
      for (const [k, v] of verdictsOf(text, rename)) all.set(k, v);
    }
    return all;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { base: { type: "string" }, jobs: { type: "string", default: "2" } },
  });
  if (!values.base) {
    console.error("usage: verdict_diff.ts --base REV [--jobs N]");
    Deno.exit(2);
  }
  const rename = renames(await Deno.readTextFile(`${ROOT}/docs/case-ids.md`).catch(() => ""));
  const scratch = await Deno.makeTempDir({ prefix: "sockspec-base-" });
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: ROOT, stdout: "null", stderr: "inherit" }).output();
  try {
    if (!(await git("worktree", "add", "--detach", scratch, values.base)).success) Deno.exit(2);
    console.error(`running ${values.base} in ${scratch} ...`);
    const before = await verdictsIn(scratch, values.jobs!, rename);
    console.error("running the working tree ...");
    const after = await verdictsIn(ROOT, values.jobs!, new Map());
    const { common, changed } = compare(before, after);
    for (const line of changed) console.log(`changed: ${line}`);
    console.log(`${common} verdicts, ${changed.length} changed`);
    Deno.exitCode = changed.length ? 1 : 0;
  } finally {
    await git("worktree", "remove", "--force", scratch);
  }
}
