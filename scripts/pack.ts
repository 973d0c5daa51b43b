/**
 * Builds the npm package, `sockspec-VERSION.tgz`: the files JSR gets (deno.json
 * `publish.include`/`exclude`: the runtime modules, deno.json, the C baseline source, the
 * README), the launcher `npm/sockspec.cjs` as `bin/sockspec.cjs`, and a package.json made
 * from deno.json whose only dependency is the `deno` npm package, pinned. The package is
 * staged in a temp dir and packed with `npm pack`, so the repository itself has no
 * package.json (one would turn Deno's npm handling on for every command run here).
 *
 *     deno task pack [--out DIR]     writes DIR/sockspec-VERSION.tgz (default: the directory
 *                                    the command is run from)
 *
 * It prints the tarball's path. Exit 0 when written, 1 when npm pack fails, 2 on a usage
 * error.
 *
 * @example
 * ```ts
 * import { runtimeFiles } from "./pack.ts";
 * const files = await runtimeFiles(new URL("..", import.meta.url).pathname);
 * files.includes("src/cli/main.ts"); // true
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

/** The Deno the package runs on: the version of its `deno` npm dependency. */
export const DENO_VERSION = "2.9.6";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The npm launcher, and where it goes in the package. */
const LAUNCHER = { from: "npm/sockspec.cjs", to: "bin/sockspec.cjs" };

/** Directories never walked for package files. */
const SKIP_DIRS = new Set([".git", "node_modules"]);

/**
 * A deno.json publish pattern as a test on a repo-relative path: `dir/` (or a plain path)
 * matches the path and everything under it; `*` is one path segment's characters, `**`
 * any number of segments.
 *
 * @example
 * ```ts
 * import { patternTest } from "./pack.ts";
 * patternTest("conformance/*.ts")("conformance/mod.ts"); // true
 * patternTest("src/testdata/")("src/testdata/x.ts"); // true
 * ```
 */
export function patternTest(pattern: string): (path: string) => boolean {
  const p = pattern.replace(/^\.\//, "");
  if (!/[*?[]/.test(p)) {
    const dir = p.replace(/\/$/, "");
    return (path) => path === dir || path.startsWith(`${dir}/`);
  }
  const source = p.split(/(\*\*\/|\*\*|\*)/).map((part) =>
    part === "**/"
      ? "(?:.*/)?"
      : part === "**"
      ? ".*"
      : part === "*"
      ? "[^/]*"
      : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
  ).join("");
  const re = new RegExp(`^${source}$`);
  return (path) => re.test(path);
}

async function walk(root: string, dir: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(`${root}${dir}`)) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) await walk(root, path, out);
    else if (entry.isFile) out.push(path);
  }
}

/**
 * The repo-relative paths of the files deno.json's `publish` include and do not exclude,
 * sorted: what JSR gets and what the npm package carries besides its launcher.
 *
 * @example
 * ```ts
 * import { ROOT, runtimeFiles } from "./pack.ts";
 * (await runtimeFiles(ROOT)).some((f) => f.endsWith("_test.ts")); // false
 * ```
 */
export async function runtimeFiles(root: string = ROOT): Promise<string[]> {
  const base = root.endsWith("/") ? root : `${root}/`;
  const config = JSON.parse(await Deno.readTextFile(`${base}deno.json`));
  const include: string[] = config.publish?.include ?? [];
  const exclude: string[] = config.publish?.exclude ?? [];
  if (include.length === 0) throw new Error(`${base}deno.json has no publish.include`);
  const inc = include.map(patternTest);
  const exc = exclude.map(patternTest);
  const all: string[] = [];
  await walk(base, "", all);
  return all.filter((f) => inc.some((t) => t(f)) && !exc.some((t) => t(f))).sort();
}

/**
 * The package.json of the npm package, from deno.json.
 *
 * @example
 * ```ts
 * import { packageJson } from "./pack.ts";
 * packageJson({ version: "0.1.0", license: "MIT" }).bin; // { sockspec: "bin/sockspec.cjs" }
 * ```
 */
export function packageJson(
  config: { version: string; license?: string },
): Record<string, unknown> {
  return {
    name: "sockspec",
    version: config.version,
    description:
      "A conformance suite for socket servers: stream and datagram echo, Unix sockets, multicast, packed records and socketpair, as the classic Python socket tutorials document them",
    license: config.license ?? "MIT",
    keywords: ["socket", "conformance", "testing", "tcp", "udp", "unix-socket"],
    bin: { sockspec: LAUNCHER.to },
    engines: { node: ">=18" },
    dependencies: { deno: DENO_VERSION },
  };
}

/**
 * Stages the package in a temp dir and runs `npm pack` into `out`; returns the tarball's
 * path.
 *
 * @example
 * ```ts
 * import { pack } from "./pack.ts";
 * const tarball = await pack(await Deno.makeTempDir());
 * ```
 */
export async function pack(out: string, root: string = ROOT): Promise<string> {
  const base = root.endsWith("/") ? root : `${root}/`;
  const config = JSON.parse(await Deno.readTextFile(`${base}deno.json`));
  const stage = await Deno.makeTempDir({ prefix: "sockspec-pack-" });
  try {
    for (const file of await runtimeFiles(base)) {
      await Deno.mkdir(dirname(`${stage}/${file}`), { recursive: true });
      await Deno.copyFile(`${base}${file}`, `${stage}/${file}`);
    }
    await Deno.mkdir(`${stage}/bin`);
    await Deno.copyFile(`${base}${LAUNCHER.from}`, `${stage}/${LAUNCHER.to}`);
    await Deno.chmod(`${stage}/${LAUNCHER.to}`, 0o755);
    await Deno.writeTextFile(
      `${stage}/package.json`,
      JSON.stringify(packageJson(config), null, 2) + "\n",
    );
    await Deno.mkdir(out, { recursive: true });
    const npm = await new Deno.Command("npm", {
      args: ["pack", "--json", "--pack-destination", resolve(out), stage],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const dec = new TextDecoder();
    if (!npm.success) {
      throw new Error(`npm pack ${stage} failed: ${dec.decode(npm.stderr).trim()}`);
    }
    const [result] = JSON.parse(dec.decode(npm.stdout)) as { filename: string }[];
    return resolve(out, result.filename);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

if (import.meta.main) {
  // `deno task` runs in the repository root and says where it was started in INIT_CWD
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  let out = cwd;
  try {
    const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
    if (values.out !== undefined) out = resolve(cwd, values.out);
  } catch (err) {
    console.error(`pack: ${(err as Error).message}; usage: deno task pack [--out DIR]`);
    Deno.exit(2);
  }
  try {
    console.log(await pack(out));
  } catch (err) {
    console.error(`pack: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
