/**
 * The ready-pattern matchers. A pattern that is plain text (`^waiting for a connection$`) is
 * tested in-process ({@linkcode literalMatcher}); any other runs in its own process
 * ({@linkcode processMatcher}), this module run as a script: argv[0] is the manifest's
 * `ready.pattern`; stdin brings the target's stdout one line per `\n` (each already cut at
 * the line cap); it prints `match` and exits 0 at the first line the pattern matches, and
 * exits 1 at end of input. It runs apart so that no pattern, however slow, can stall the
 * harness: the supervisor kills it when the ready timeout ends or the run is interrupted.
 * It is started with V8's linear-time fallback for patterns that backtrack too much, so a
 * catastrophic pattern (`^ready (a+)+$`) still gives its answer at once.
 *
 * @module
 */

/** The matcher process, this module run as a script. */
const MATCHER = import.meta.url;
/**
 * V8 switches a pattern that backtracks more than this many times to its linear-time
 * engine (when the pattern has no backreference or lookaround), so the answer comes at once.
 */
const MATCHER_V8_FLAGS =
  "--enable-experimental-regexp-engine-on-excessive-backtracks,--regexp-backtracks-before-fallback=50000";
/** How many bytes of lines may wait for the matcher before readiness gives up on it. */
const MATCHER_BACKLOG = 8 << 20;

/** Tests lines for readiness: `offer` each, `end` when there are no more. */
export interface LineMatcher {
  offer(line: string): void;
  end(): void;
  /** "match" at the first matching line, "no match" once the lines have ended. */
  answer: Promise<"match" | "no match">;
  /** Stops testing, and waits until it has stopped. */
  stop(): Promise<void>;
}

/**
 * A ready pattern that is a plain text, with `^` and `$` anchors at most: what it matches,
 * or undefined for any other pattern.
 *
 * @example
 * ```ts
 * import { literalPattern } from "./_ready_match.ts";
 * literalPattern("^waiting for a connection$"); // { text: "waiting for a connection", start: true, end: true }
 * literalPattern("^ready (a+)+$"); // undefined
 * ```
 */
export function literalPattern(
  pattern: string,
): { text: string; start: boolean; end: boolean } | undefined {
  const start = pattern.startsWith("^");
  const end = pattern.endsWith("$") && !pattern.endsWith("\\$");
  const text = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  return /[\\^$.*+?()[\]{}|]/.test(text) ? undefined : { text, start, end };
}

/** Tests a plain text in-process: string comparison cannot backtrack, so no process is needed. */
export function literalMatcher(
  literal: { text: string; start: boolean; end: boolean },
): LineMatcher {
  const { text, start, end } = literal;
  const matches = (line: string) =>
    start && end
      ? line === text
      : start
      ? line.startsWith(text)
      : end
      ? line.endsWith(text)
      : line.includes(text);
  let settle = (_: "match" | "no match") => {};
  const answer = new Promise<"match" | "no match">((r) => (settle = r));
  return {
    offer: (line) => matches(line) && settle("match"),
    end: () => settle("no match"),
    answer,
    stop: () => Promise.resolve(settle("no match")),
  };
}

/**
 * Tests any other pattern in a matcher process (`_ready_match.ts`), killed when the wait ends:
 * a slow or catastrophic pattern can neither outlast the timeout nor delay an interrupt.
 * Lines that pile up beyond {@linkcode MATCHER_BACKLOG} bytes call `lagged`.
 */
export function processMatcher(pattern: string, lagged: () => void): LineMatcher {
  const matcher = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      `--v8-flags=${MATCHER_V8_FLAGS}`,
      MATCHER,
      pattern,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = matcher.stdin.getWriter();
  const encoder = new TextEncoder();
  let backlog = 0;
  let closed = false;
  const answer = new Response(matcher.stdout).text().then((text) =>
    text.startsWith("match") ? "match" as const : "no match" as const
  );
  return {
    offer(line) {
      if (closed) return;
      const bytes = encoder.encode(`${line.replaceAll("\n", " ")}\n`);
      backlog += bytes.length;
      if (backlog > MATCHER_BACKLOG) {
        closed = true;
        lagged();
        return;
      }
      writer.write(bytes).then(() => (backlog -= bytes.length), () => {});
    },
    end() {
      if (closed) return;
      closed = true;
      writer.close().catch(() => {});
    },
    answer,
    async stop() {
      closed = true;
      try {
        matcher.kill("SIGKILL");
      } catch {
        // it has exited
      }
      await matcher.status;
      await answer.catch(() => {});
      writer.abort().catch(() => {});
    },
  };
}

/**
 * Reads lines from `input` and resolves true at the first one `pattern` matches, false at
 * the end of input.
 */
export async function firstMatch(
  pattern: RegExp,
  input: ReadableStream<Uint8Array>,
): Promise<boolean> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of input) {
    pending += decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", from)) {
      if (pattern.test(pending.slice(from, nl))) return true;
      from = nl + 1;
    }
    pending = pending.slice(from);
  }
  return false;
}

if (import.meta.main) {
  if (await firstMatch(new RegExp(Deno.args[0] ?? ""), Deno.stdin.readable)) {
    await Deno.stdout.write(new TextEncoder().encode("match\n"));
    Deno.exit(0);
  }
  Deno.exit(1);
}
