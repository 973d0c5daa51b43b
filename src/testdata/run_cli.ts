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

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Environment added to this process's (NO_COLOR=1 always). */
  env?: Record<string, string>;
  /** Kill it (SIGKILL) after this many ms (default 60 s). */
  timeoutMs?: number;
  /** Written to its stdin, then closed (default: no stdin). */
  stdin?: string;
}

/**
 * Runs `command ARGS`, captures its output, and kills it after the time limit.
 *
 * @example
 * ```ts
 * import { runCommand } from "./run_cli.ts";
 * const { code, stdout } = await runCommand("npm", ["--version"], { timeoutMs: 10_000 });
 * ```
 */
export async function runCommand(
  command: string,
  args: string[],
  opts: RunCommandOptions = {},
): Promise<CliResult> {
  const child = new Deno.Command(command, {
    args,
    cwd: opts.cwd ?? ROOT,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...opts.env },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, opts.timeoutMs ?? 60_000);
  try {
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
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
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return runCommand(Deno.execPath(), cliArgv(args), { timeoutMs });
}
