/**
 * `deno task lint-imports`: checks the shape of the import graph and lists what breaks it.
 *
 * 1. No import cycle among the project's modules (static imports and re-exports, type-only
 *    included: they tie files together too; dynamic `import()` counts as well). Each cycle
 *    is printed as the files of one strongly connected component.
 * 2. Folders import only downwards, in the layer order below: a module may import from its
 *    own folder and from folders of lower layers, never from its layer or above. So the
 *    reference servers never import the CLI, cases never import the servers they judge,
 *    and the harness never imports a command. A few edges the order allows are forbidden
 *    still ({@linkcode FORBIDDEN}): cases may not import the reference servers they judge.
 *
 * Tests (`*_test.ts`) and `testdata/` are left out: they may import anything.
 * Exit 0 when the graph is clean, 1 with one line per problem otherwise.
 *
 * ```sh
 * deno run --allow-read scripts/check_imports.ts            # the project
 * deno run --allow-read scripts/check_imports.ts /tmp/copy  # a copy elsewhere
 * ```
 * @module
 */

import { dirname, join, normalize, relative } from "node:path";

/** Layers, lowest first: a folder may import from folders in lower layers only. */
export const LAYERS: readonly (readonly string[])[] = [
  ["src/python"],
  ["src/net"],
  ["src/transcript"],
  ["src/case"],
  ["src/reports"],
  ["src/harness"],
  ["src/checks", "src/reference"],
  ["conformance"],
  ["src/bench"],
  ["src/cli"],
  ["mod.ts", "scripts", "examples"],
];

/**
 * Type-only edges that go up a layer, each with its reason. The case model names the
 * harness's `Target` and `Instance` types in `CaseContext`; nothing else may.
 */
export const TYPE_ONLY_UP: Readonly<Record<string, string>> = {
  "src/case -> src/harness": "CaseContext names the harness's Target and Instance types",
};

/** Edges the layer order allows but the design does not, each with its reason. */
export const FORBIDDEN: Readonly<Record<string, string>> = {
  "conformance -> src/reference":
    "a case judges the reference servers like any target; it may not share their code or constants",
};

const IMPORT =
  /(?:^|\n)\s*(import|export)(\s+type)?\b[^'"`;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|(?:^|\n)\s*import\s*["'](\.{1,2}\/[^"']+)["']|\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** One import edge between two project files. */
export interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** The folder (layer unit) of a project-relative path. */
export function unitOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "src" && parts.length > 2) return `src/${parts[1]}`;
  if (parts.length === 1) return path;
  return parts[0];
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((l) => l.includes(unit));
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

async function sources(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(join(root, dir))) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (["node_modules", ".git", "testdata", "fixtures", "docs", "dist"].includes(e.name)) {
          continue;
        }
        await walk(rel);
      } else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(rel);
    }
  };
  await walk("");
  return out.sort();
}

/** Every import edge between the project's non-test modules under `root`. */
export async function importEdges(root: string): Promise<Edge[]> {
  const files = await sources(root);
  const known = new Set(files);
  const edges: Edge[] = [];
  for (const file of files) {
    const text = stripComments(await Deno.readTextFile(join(root, file)));
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] ?? m[4] ?? m[5];
      const to = normalize(join(dirname(file), spec));
      if (known.has(to)) edges.push({ from: file, to, typeOnly: m[2] !== undefined });
    }
  }
  return edges;
}

/** The import cycles: strongly connected components of more than one file (Tarjan). */
export function cycles(edges: readonly Edge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const e of edges) {
    graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    if (!graph.has(e.to)) graph.set(e.to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let n = 0;
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** Edges that break the layer order, as `file -> file (unit -> unit)` lines. */
export function layerViolations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const [a, b] = [unitOf(e.from), unitOf(e.to)];
    if (a === b) continue;
    const [la, lb] = [layerOf(a), layerOf(b)];
    if (la < 0 || lb < 0) {
      out.push(`${e.from} -> ${e.to}: ${la < 0 ? a : b} has no layer; add it to LAYERS`);
    } else if (lb >= la && !(e.typeOnly && TYPE_ONLY_UP[`${a} -> ${b}`])) {
      out.push(`${e.from} -> ${e.to}: ${a} may not import ${b} (${b} is not below it)`);
    } else if (FORBIDDEN[`${a} -> ${b}`]) {
      out.push(`${e.from} -> ${e.to}: ${FORBIDDEN[`${a} -> ${b}`]}`);
    }
  }
  return out;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("..", import.meta.url).pathname;
  const edges = await importEdges(root);
  const found = cycles(edges);
  for (const c of found) console.log(`cycle: ${c.join(" -> ")}`);
  const bad = layerViolations(edges);
  for (const v of bad) console.log(`layer: ${v}`);
  const where = relative(Deno.cwd(), root) || ".";
  console.log(
    `${edges.length} imports in ${where}: ${found.length} cycles, ${bad.length} layer violations`,
  );
  Deno.exit(found.length || bad.length ? 1 : 0);
}
