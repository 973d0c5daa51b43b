/**
 * python3 as a test oracle: run one python3 process, feed it a request on stdin, read its
 * answer from stdout, with a time limit. Used by the tests that compare sockspec with
 * python3's `socket`, `struct` and `repr()` on this machine.
 *
 * A missing python3 is not an error: the run functions return `undefined` and the test
 * records an ignored step with {@linkcode skipWithoutPython}. A python3 that fails, or
 * does not answer in time (it is then killed), is an error that carries its stderr.
 *
 * @example
 * ```ts
 * import { runPython, skipWithoutPython } from "./python_oracle.ts";
 * Deno.test("sum agrees with python3", async (t) => {
 *   const got = await runPython("import json, sys; print(sum(json.load(sys.stdin)))", [1, 2]);
 *   if (got === undefined) return await skipWithoutPython(t);
 *   if (got !== 3) throw new Error(`python3 says ${got}`);
 * });
 * ```
 * @module
 */

import { fileURLToPath } from "node:url";
import { type BoundedResult, runBounded } from "../harness/netns.ts";

/** How to run python3. */
export interface PythonOptions {
  /** Kill python3 and throw when it has not finished after this many ms (default 20 000). */
  timeoutMs?: number;
  /** Arguments after the script: python's `sys.argv[1:]`. */
  args?: string[];
  /** Run with `python3 -I` (isolated: no PYTHON* variables, no user site directory). */
  isolated?: boolean;
  /** Said in every error, e.g. `"seed 42"`, so a failure can be replayed. */
  context?: string;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Runs python3 on `script` (Python code for `-c`, or a file URL), writes `stdin` to it
 * while reading its output, and returns its stdout; `undefined` when python3 is not on
 * PATH. Throws with python3's stderr when it exits non-zero, and kills it and throws when
 * it runs longer than `timeoutMs`.
 *
 * @example
 * ```ts
 * import { runPythonText } from "./python_oracle.ts";
 * const repr = await runPythonText("import sys; print(repr(sys.argv[1]), end='')", undefined, {
 *   args: ["it's"],
 * });
 * // repr === `"it's"`, or undefined without python3
 * ```
 */
export async function runPythonText(
  script: string | URL,
  stdin?: string,
  opts: PythonOptions = {},
): Promise<string | undefined> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const scriptArgs = script instanceof URL ? [fileURLToPath(script)] : ["-c", script];
  const what = describe(script, opts.context);
  let r: BoundedResult;
  try {
    r = await runBounded(
      ["python3", ...(opts.isolated ? ["-I"] : []), ...scriptArgs, ...(opts.args ?? [])],
      { timeoutMs, stdin },
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const stderr = r.stderr.trim();
  if (r.timedOut) {
    throw new Error(
      `python3 ${what} did not finish within ${timeoutMs} ms and was killed; ` +
        `raise timeoutMs if the machine is busy. stderr: ${stderr || "(empty)"}`,
    );
  }
  if (r.code !== 0) {
    const how = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
    throw new Error(`python3 ${what} failed (${how}): ${stderr || "(no stderr)"}`);
  }
  if (r.stdinError !== undefined) {
    throw new Error(`python3 ${what} exited before reading all its input: ${r.stdinError}`);
  }
  return r.stdout;
}

/**
 * Runs python3 on `script` with `JSON.stringify(input)` on stdin and returns its stdout
 * parsed as JSON; `undefined` when python3 is not on PATH. Errors as {@linkcode runPythonText}.
 *
 * @example
 * ```ts
 * import { runPython } from "./python_oracle.ts";
 * const script = "import json, socket, sys\n" +
 *   "json.dump(socket.getservbyname(json.load(sys.stdin)), sys.stdout)";
 * const port = await runPython(script, "http", { timeoutMs: 5000 }); // 80, or undefined
 * ```
 */
export async function runPython(
  script: string | URL,
  input: unknown,
  opts: PythonOptions = {},
): Promise<unknown | undefined> {
  const stdout = await runPythonText(script, JSON.stringify(input), opts);
  if (stdout === undefined) return undefined;
  try {
    return JSON.parse(stdout);
  } catch (e) {
    throw new Error(
      `python3 ${describe(script, opts.context)} did not print JSON (${e}): ` +
        JSON.stringify(stdout.slice(0, 200)),
    );
  }
}

/**
 * Whether python3 is on PATH and can import `modules` (checked by running it once), for a
 * test's `ignore` flag.
 *
 * @example
 * ```ts
 * import { python3Available } from "./python_oracle.ts";
 * Deno.test({ name: "vs python3", ignore: !python3Available(["struct"]), fn() {} });
 * ```
 */
export function python3Available(modules: string[] = []): boolean {
  try {
    const code = modules.length ? `import ${modules.join(", ")}` : "pass";
    return new Deno.Command("python3", { args: ["-c", code] }).outputSync().success;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Records that the python3 comparison did not run: logs why and adds an ignored step
 * named `python3 missing: <what> skipped`.
 *
 * @example
 * ```ts
 * import { runPython, skipWithoutPython } from "./python_oracle.ts";
 * Deno.test("vs python3", async (t) => {
 *   const py = await runPython("import sys; print(1)", null);
 *   if (py === undefined) return await skipWithoutPython(t);
 * });
 * ```
 */
export async function skipWithoutPython(t: Deno.TestContext, what = "comparison"): Promise<void> {
  console.log(`python3 not found on PATH: skipped the ${what} with python3`);
  await t.step({ name: `python3 missing: ${what} skipped`, ignore: true, fn: () => {} });
}

function describe(script: string | URL, context: string | undefined): string {
  const name = script instanceof URL ? fileURLToPath(script) : "-c <script>";
  return context ? `${name} (${context})` : name;
}
