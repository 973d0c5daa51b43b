/**
 * Case selection by whole id components, as h2spec does. One rule serves the positional ids
 * of `sockspec check`, `--exclude` and the case keys of expectations files:
 *
 * - a pattern is split at `/` into components; each is a literal name, `*` (exactly one
 *   component) or `**` (any number of components, none included);
 * - a pattern selects every case whose id starts with components the pattern matches
 *   entirely: `echo/tcp/1` selects that case only (not `echo/tcp/10`), `echo/tcp` the
 *   family, `echo` every echo case, `echo/*\/1` case 1 of every echo transport and
 *   `**\/4` case 4 of every family.
 *
 * A trailing `/` is ignored (`echo/` is `echo`). An empty component (`echo//1`) or a
 * component that mixes a wildcard with letters (`tcp*`) is a {@linkcode PatternError}.
 *
 * @example
 * ```ts
 * import { matches } from "./select.ts";
 * matches("echo/tcp/1", "echo/tcp/1"); // true
 * matches("echo/tcp/1", "echo/tcp/11"); // false
 * matches("echo/*\/1", "echo/unix/1"); // true
 * matches("**\/4", "dgram/udp/4"); // true
 * ```
 * @module
 */

/** A selection pattern that is not well formed; the message names it and says why. */
export class PatternError extends Error {
  /**
   * A bad pattern.
   *
   * @example
   * ```ts
   * import { PatternError } from "./select.ts";
   * const err = new PatternError("'echo//1' has an empty component");
   * console.log(err.name); // "PatternError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "PatternError";
  }
}

/**
 * The components of `pattern`, or a {@linkcode PatternError} saying what is wrong with it.
 *
 * @example
 * ```ts
 * import { parsePattern } from "./select.ts";
 * parsePattern("echo/*\/1"); // ["echo", "*", "1"]
 * parsePattern("echo/"); // ["echo"]
 * ```
 */
export function parsePattern(pattern: string): string[] {
  const text = pattern.endsWith("/") ? pattern.slice(0, -1) : pattern;
  if (text === "") {
    throw new PatternError(`'${pattern}' is empty; give a case id or family such as echo/tcp`);
  }
  const parts = text.split("/");
  for (const p of parts) {
    if (p === "") throw new PatternError(`'${pattern}' has an empty component (two '/' in a row)`);
    if (p !== "*" && p !== "**" && p.includes("*")) {
      throw new PatternError(
        `'${pattern}': a component is a whole name, * (one component) or ** (any number), not '${p}'`,
      );
    }
  }
  return parts;
}

/**
 * True when `pattern` selects case `id` (see the module doc).
 *
 * @example
 * ```ts
 * import { matches } from "./select.ts";
 * matches("echo/tcp", "echo/tcp/10"); // true
 * matches("echo/tc", "echo/tcp/10"); // false
 * ```
 */
export function matches(pattern: string | readonly string[], id: string): boolean {
  const p = typeof pattern === "string" ? parsePattern(pattern) : pattern;
  const c = id.split("/");
  // Bounded: at most (pattern length) × (id length) states, each visited once.
  const seen = new Set<number>();
  const go = (i: number, j: number): boolean => {
    const key = i * 1000 + j;
    if (seen.has(key)) return false;
    seen.add(key);
    if (i === p.length) return true; // the pattern matched a whole-component prefix
    if (p[i] === "**") {
      for (let k = j; k <= c.length; k++) if (go(i + 1, k)) return true;
      return false;
    }
    if (j === c.length) return false;
    return (p[i] === "*" || p[i] === c[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

/**
 * How specific a pattern is, to choose between expectation keys that both match: more
 * literal components win, then more components (an exact id beats every pattern).
 *
 * @example
 * ```ts
 * import { specificity } from "./select.ts";
 * specificity("echo/tcp/1") > specificity("echo/*\/1"); // true
 * specificity("echo/*\/1") > specificity("echo"); // true
 * ```
 */
export function specificity(pattern: string): number {
  const p = parsePattern(pattern);
  const literal = p.filter((c) => c !== "*" && c !== "**").length;
  return literal * 1000 + p.filter((c) => c !== "**").length;
}

/**
 * The patterns among `patterns` that select none of `ids`.
 *
 * @example
 * ```ts
 * import { unmatched } from "./select.ts";
 * unmatched(["echo/tcp/1", "echo/tcp/99"], ["echo/tcp/1", "echo/tcp/10"]); // ["echo/tcp/99"]
 * ```
 */
export function unmatched(patterns: readonly string[], ids: readonly string[]): string[] {
  return patterns.filter((p) => !ids.some((id) => matches(p, id)));
}

/** What {@linkcode selector} selects by. */
export interface Selection {
  /** Positional patterns: a case must match one (none given: every case). */
  include?: readonly string[];
  /** `--exclude` patterns: a case that matches one is left out. */
  exclude?: readonly string[];
}

/**
 * A predicate for case ids from include and exclude patterns (each checked first).
 *
 * @example
 * ```ts
 * import { selector } from "./select.ts";
 * const keep = selector({ include: ["echo/tcp"], exclude: ["echo/tcp/1"] });
 * keep("echo/tcp/11"); // true
 * keep("echo/tcp/1"); // false
 * ```
 */
export function selector(sel: Selection): (id: string) => boolean {
  const inc = (sel.include ?? []).map(parsePattern);
  const exc = (sel.exclude ?? []).map(parsePattern);
  return (id) =>
    (inc.length === 0 || inc.some((p) => matches(p, id))) && !exc.some((p) => matches(p, id));
}
