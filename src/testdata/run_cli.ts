/**
 * Runs the sockspec CLI in a child Deno (with the permissions the CLI documents) for the
 * end-to-end report tests, with a time limit.
 *
 * @example
 * ```ts
 * import { runCli } from "./run_cli.ts";
 * const { code, stdout } = await runCli(["check", "--list"]);
 * ```
 * @module
 */

/** The repository root (absolute, ending in `/`). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** The permissions the CLI runs with (no -A). */
export const CLI_PERMISSIONS = [
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
];

/** What a CLI run gave. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error (progress, messages). */
  stderr: string;
}

/**
 * argv that runs `sockspec ARGS`.
 *
 * @example
 * ```ts
 * import { cliArgv } from "./run_cli.ts";
 * new Deno.Command(Deno.execPath(), { args: cliArgv(["check", "--list"]) });
 * ```
 */
export function cliArgv(args: string[]): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    `${ROOT}deno.json`,
    ...CLI_PERMISSIONS,
    `${ROOT}src/cli/main.ts`,
    ...args,
  ];
}

/**
 * Runs `sockspec ARGS` in the repository root; kills it after `timeoutMs`.
 *
 * @example
 * ```ts
 * import { runCli } from "./run_cli.ts";
 * const { code } = await runCli(["--version"]);
 * ```
 */
export async function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgv(args),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
