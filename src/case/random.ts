/**
 * Seeded randomness for cases: every random payload and random choice a case makes comes
 * from a {@linkcode Random} the runner derives from the run's seed, the target's name and
 * the case id, so one case re-run alone with the same seed sends the same bytes.
 *
 * @example
 * ```ts
 * import { caseSeed, Random } from "./random.ts";
 * const a = new Random(caseSeed(42, "my-server", "echo/tcp/4")).bytes(8);
 * const b = new Random(caseSeed(42, "my-server", "echo/tcp/4")).bytes(8);
 * console.log(a.join() === b.join()); // true
 * ```
 * @module
 */

/** A small, fast, seeded PRNG (mulberry32): not for secrets, only for reproducible test data. */
export class Random {
  #state: number;

  /**
   * A generator that always gives the same sequence for the same `seed`.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * new Random(7).int(10); // the same number every time
   * ```
   */
  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /**
   * A number in `[0, 1)`.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * const x = new Random(1).float(); // 0 <= x < 1
   * ```
   */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /**
   * An integer in `[0, max)`.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * const n = new Random(1).int(6); // 0..5
   * ```
   */
  int(max: number): number {
    return Math.floor(this.float() * max);
  }

  /**
   * `n` random bytes.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * new Random(1).bytes(1 << 20).length; // 1048576
   * ```
   */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const whole = n - (n % 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < whole; i += 4) view.setUint32(i, this.next());
    for (let i = whole; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/**
 * The seed of one case's {@linkcode Random}: the run's seed mixed with the target's name and
 * the case id (FNV-1a), so each case gets its own stream whatever else the run selects.
 *
 * @example
 * ```ts
 * import { caseSeed } from "./random.ts";
 * caseSeed(1, "t", "echo/tcp/1") !== caseSeed(1, "t", "echo/tcp/2"); // true
 * ```
 */
export function caseSeed(runSeed: number, target: string, caseId: string): number {
  let h = (0x811c9dc5 ^ (runSeed >>> 0)) >>> 0;
  for (const byte of new TextEncoder().encode(`${target}\0${caseId}`)) {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A fresh run seed, for a run started without `--seed`.
 *
 * @example
 * ```ts
 * import { newSeed } from "./random.ts";
 * const seed = newSeed(); // 0 .. 2^32-1
 * ```
 */
export function newSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
