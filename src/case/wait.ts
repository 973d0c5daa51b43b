/**
 * The one polling wait the cases use: {@linkcode waitUntil} checks a condition every few
 * milliseconds until it holds, the time runs out, or the case's signal aborts.
 *
 * @example
 * ```ts
 * import { waitUntil } from "./wait.ts";
 * const t0 = Date.now();
 * const ok = await waitUntil(() => Date.now() - t0 > 20, { timeoutMs: 1000 });
 * console.log(ok); // true
 * ```
 * @module
 */

/** Options of {@linkcode waitUntil}. */
export interface WaitOptions {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Aborting it ends the wait at once: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** How often to check, in ms (default 10). */
  intervalMs?: number;
}

/**
 * Resolves `true` as soon as `condition()` holds (checked at once, then every
 * `intervalMs`), or `false` once `timeoutMs` has passed. Rejects when `signal` aborts, or
 * when `condition` throws.
 *
 * @example
 * ```ts
 * import { waitUntil } from "./wait.ts";
 * await waitUntil(() => false, { timeoutMs: 30 }); // false, after about 30 ms
 * ```
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  opts: WaitOptions,
): Promise<boolean> {
  const deadline = performance.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 10;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (await condition()) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await pause(Math.min(interval, left), opts.signal);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
