/**
 * The ready-pattern matcher, run as its own process by target.ts: argv[0] is the manifest's
 * `ready.pattern`; stdin brings the target's stdout one line per `\n` (each already cut at
 * the line cap); it prints `match` and exits 0 at the first line the pattern matches, and
 * exits 1 at end of input. It runs apart so that no pattern, however slow, can stall the
 * harness: the supervisor kills it when the ready timeout ends or the run is interrupted.
 * It is started with V8's linear-time fallback for patterns that backtrack too much, so a
 * catastrophic pattern (`^ready (a+)+$`) still gives its answer at once.
 *
 * @module
 */

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
