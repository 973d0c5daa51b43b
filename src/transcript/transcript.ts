/**
 * Transcripts: what a program must print, stated line by line, and a matcher that checks a
 * program's output against it and names the first line that does not fit.
 *
 * A transcript is a list of items:
 *
 * - {@linkcode line}: one line; literal text plus placeholders `{bytes}` (a Python bytes
 *   literal, decoded), `{addr}` (a Python socket address as printed), `{int}`, `{hex}` and
 *   `{str}` (any text). `{bytes:name}` also binds the value to `name`; a name used twice must
 *   get the same value both times.
 * - {@linkcode optional}: lines that may be missing.
 * - {@linkcode oneOf}: documented variants.
 * - {@linkcode chunks}: a group of lines repeated once per chunk, whose `{bytes}` payloads
 *   concatenate to a message, each at most `maxChunk` bytes.
 * - {@linkcode interleave}: the lines of several processes printed into one stream: each
 *   process's lines in order, some cross-process constraints, anything else may interleave.
 *
 * {@linkcode match} checks a whole output against a transcript. The `*Transcript` functions
 * at the end are the tutorial programs' transcripts from the SPEC, ready to reuse.
 *
 * @example
 * ```ts
 * import { chunks, line, match, transcript } from "./transcript.ts";
 * const message = new TextEncoder().encode("This is the message.  It will be repeated.");
 * const spec = transcript([
 *   line("connecting to {str}"),
 *   line("sending {bytes}"),
 *   chunks([line("received {bytes}")], { message, maxChunk: 16 }),
 *   line("closing socket"),
 * ]);
 * const result = match(spec, "connecting to localhost port 10000\n...");
 * if (!result.ok) console.log(result.message);
 * // line 2: "..." does not fit; expected "sending {bytes}"
 * ```
 * @module
 */

import { bytesRepr, pyRepr } from "../python/repr.ts";
import { equalBytes } from "../net/sockets.ts";
import {
  MULTICAST_MESSAGE,
  TUTORIAL_FORMAT,
  TUTORIAL_MESSAGE,
  TUTORIAL_VALUES,
} from "./tutorial.ts";

export { MULTICAST_MESSAGE, TUTORIAL_FORMAT, TUTORIAL_MESSAGE, TUTORIAL_VALUES };

/** A Python socket address as printed: an IPv4 or IPv6 tuple, or a Unix path (maybe `''`). */
export type PyAddr =
  | { host: string; port: number }
  | { host: string; port: number; flowinfo: number; scopeId: number }
  | { path: string };

/**
 * A placeholder's value: `{bytes}` gives a `Uint8Array`, `{addr}` a {@linkcode PyAddr},
 * `{int}` a number, `{hex}` and `{str}` the text.
 */
export type Capture = Uint8Array | PyAddr | number | string;

/** The placeholder types a line pattern may use. */
export type SlotType = "bytes" | "addr" | "int" | "hex" | "str";

/** One expected line, made by {@linkcode line}. */
export interface Line {
  /** Always `"line"`. */
  readonly kind: "line";
  /** The pattern as written, shown in failure reports. */
  readonly pattern: string;
  /** The line's name, for {@linkcode interleave} constraints and in match results. */
  readonly name?: string;
  /** The compiled pattern: the whole line, one capture group per placeholder. */
  readonly regex: RegExp;
  /** The placeholders, in order. */
  readonly slots: readonly { readonly type: SlotType; readonly name?: string }[];
}

/** Lines that may be missing, made by {@linkcode optional}. */
export interface Optional {
  /** Always `"optional"`. */
  readonly kind: "optional";
  /** The items that appear together or not at all. */
  readonly items: readonly Item[];
}

/** Documented variants, made by {@linkcode oneOf}. */
export interface OneOf {
  /** Always `"oneOf"`. */
  readonly kind: "oneOf";
  /** Each alternative is a sequence of items. */
  readonly alternatives: readonly (readonly Item[])[];
}

/** A run of chunk groups, made by {@linkcode chunks}. */
export interface Chunks {
  /** Always `"chunks"`. */
  readonly kind: "chunks";
  /** The lines printed for each chunk; the first `{bytes}` among them is the payload. */
  readonly group: readonly Line[];
  /** What the payloads concatenate to. */
  readonly message: Uint8Array;
  /** The largest payload allowed (the program's `recv` size). */
  readonly maxChunk: number;
}

/** Several processes' lines in one stream, made by {@linkcode interleave}. */
export interface Interleave {
  /** Always `"interleave"`. */
  readonly kind: "interleave";
  /** Each process's own items, in the order that process prints them. */
  readonly processes: Readonly<Record<string, readonly Item[]>>;
  /** `[a, b]`: the line named `b` may only come after the line named `a`. */
  readonly before: readonly (readonly [string, string])[];
  /** The pattern of each named line, for reports. */
  readonly named: Readonly<Record<string, string>>;
  /**
   * `"line"` (the default): every line reaches the stream whole, when it is printed.
   * `"any"`: each process's stdout may be written as it prints, in any pieces (unbuffered,
   * line-buffered, `python3 -u`), or held until it exits and written as one block (a block
   * buffer larger than its output); see {@linkcode match}.
   */
  readonly buffering?: "line" | "any";
}

/** Anything a transcript is made of. */
export type Item = Line | Optional | OneOf | Chunks | Interleave;

/** A checked, ready-to-match transcript, made by {@linkcode transcript}. */
export interface Transcript {
  /** Always `"transcript"`. */
  readonly kind: "transcript";
  /** The items in order. */
  readonly items: readonly Item[];
}

/** One output line and the pattern it matched. */
export interface MatchedLine {
  /** 1-based line number in the output (in that process's output for separate outputs). */
  lineNo: number;
  /** The line as printed. */
  text: string;
  /** The pattern it matched. */
  pattern: string;
  /** The pattern's line name, if it has one. */
  name?: string;
  /** The process the line was attributed to, inside an {@linkcode interleave}. */
  process?: string;
  /** The placeholder values, in order. */
  values: Capture[];
}

/** A successful {@linkcode match}. */
export interface MatchOk {
  /** Always `true`. */
  ok: true;
  /** Every output line with the pattern it matched. */
  lines: MatchedLine[];
  /** The values of the named placeholders (`{addr:peer}` gives `captures.peer`). */
  captures: Record<string, Capture>;
  /**
   * For an interleave with `buffering: "any"`: how each process's output reached the
   * stream in the reading that fits, `"as printed"` or `"at exit"` (one block).
   */
  buffering?: Record<string, Buffering>;
  /** For an interleave with `buffering: "any"`: true when some line reached the stream in
   * pieces with another process's output between them. */
  split?: boolean;
}

/** How one process's output reached a shared stream (see {@linkcode interleave}). */
export type Buffering = "as printed" | "at exit";

/** A failed {@linkcode match}: where the output stops fitting, and what was expected there. */
export interface MatchFail {
  /** Always `false`. */
  ok: false;
  /** The 1-based number of the first line that does not fit, or the line count + 1 if the
   * output ended too early. */
  lineNo: number;
  /** That line, or `null` when the output ended too early. */
  line: string | null;
  /** The process whose output this is, when outputs were given separately. */
  process?: string;
  /** The patterns that would have fitted there (empty: only the end of output would). */
  expected: string[];
  /** The report, e.g. `line 3: "garbage" does not fit; expected "message from parent: b'ping'" (child)`. */
  message: string;
}

/** The result of {@linkcode match}. */
export type MatchResult = MatchOk | MatchFail;

const SQ_BODY = String.raw`(?:[^'\\\x00-\x1f\x7f-\uffff]|\\[\x20-\x7e])*`;
const DQ_BODY = String.raw`(?:[^"\\\x00-\x1f\x7f-\uffff]|\\[\x20-\x7e])*`;
const STR_LIT = String.raw`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"`;
const SLOT_SOURCE: Record<SlotType, string> = {
  bytes: `b'${SQ_BODY}'|b"${DQ_BODY}"`,
  addr: String.raw`\((?:${STR_LIT}), \d+(?:, \d+, \d+)?\)|${STR_LIT}|`,
  int: String.raw`-?\d+`,
  hex: String.raw`[0-9a-fA-F]+`,
  str: ".*?",
};

/**
 * One expected line. Text is literal; placeholders are `{bytes}`, `{addr}`, `{int}`,
 * `{hex}`, `{str}`, optionally named (`{addr:peer}`); `{{` and `}}` are literal braces (see
 * {@linkcode literal}). Throws on an unknown placeholder.
 *
 * @example
 * ```ts
 * import { line } from "./transcript.ts";
 * line("connection from {addr:peer}");
 * line("message from parent: {bytes}", { name: "message" });
 * ```
 */
export function line(pattern: string, options: { name?: string } = {}): Line {
  const slots: { type: SlotType; name?: string }[] = [];
  let source = "^";
  let text = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if ((ch === "{" || ch === "}") && pattern[i + 1] === ch) {
      text += ch;
      i++;
    } else if (ch === "{") {
      const end = pattern.indexOf("}", i);
      const body = end < 0 ? pattern.slice(i) : pattern.slice(i + 1, end);
      const [type, name] = body.split(":", 2) as [string, string | undefined];
      if (end < 0 || !(type in SLOT_SOURCE) || name === "") {
        throw new Error(
          `line pattern ${JSON.stringify(pattern)}: bad placeholder ` +
            JSON.stringify(end < 0 ? pattern.slice(i) : pattern.slice(i, end + 1)) +
            "; use {bytes}, {addr}, {int}, {hex} or {str} " +
            "(optionally {type:name}), and write {{ and }} for literal braces",
        );
      }
      source += escapeRegExp(text) + `(${SLOT_SOURCE[type as SlotType]})`;
      text = "";
      slots.push(
        name === undefined ? { type: type as SlotType } : { type: type as SlotType, name },
      );
      i = end;
    } else {
      text += ch;
    }
  }
  const regex = new RegExp(source + escapeRegExp(text) + "$");
  return { kind: "line", pattern, ...(options.name ? { name: options.name } : {}), regex, slots };
}

/**
 * Escapes `{` and `}` so that `text` is matched literally inside a {@linkcode line} pattern.
 *
 * @example
 * ```ts
 * import { bytesRepr, pyRepr } from "../python/repr.ts";
 * import { line, literal } from "./transcript.ts";
 * line("sending " + literal(bytesRepr(new TextEncoder().encode("{json}"))));
 * ```
 */
export function literal(text: string): string {
  return text.replace(/[{}]/g, (b) => b + b);
}

/**
 * Items that appear together or not at all.
 *
 * @example
 * ```ts
 * import { line, optional } from "./transcript.ts";
 * optional(line("starting up on {str}"));
 * ```
 */
export function optional(...items: Item[]): Optional {
  return { kind: "optional", items };
}

/**
 * Documented variants: exactly one of the alternatives (each a sequence of items).
 *
 * @example
 * ```ts
 * import { line, oneOf } from "./transcript.ts";
 * oneOf([line("closing socket")], [line("closing"), line("socket closed")]);
 * ```
 */
export function oneOf(...alternatives: Item[][]): OneOf {
  if (alternatives.length === 0) throw new Error("oneOf() needs at least one alternative");
  return { kind: "oneOf", alternatives };
}

/**
 * A group of lines printed once per chunk. The first `{bytes}` in the group is the chunk's
 * payload; each payload holds 1 to `maxChunk` bytes and together they are exactly `message`.
 * An empty message means no groups at all.
 *
 * @example
 * ```ts
 * import { chunks, line } from "./transcript.ts";
 * const message = new TextEncoder().encode("This is the message.  It will be repeated.");
 * chunks([line("received {bytes}"), line("sending data back to the client")], {
 *   message,
 *   maxChunk: 16,
 * });
 * ```
 */
export function chunks(
  group: Line[],
  options: { message: Uint8Array; maxChunk: number },
): Chunks {
  if (!group.some((l) => l.slots.some((s) => s.type === "bytes"))) {
    throw new Error("chunks(): the group needs a line with a {bytes} placeholder for the payload");
  }
  if (!(options.maxChunk >= 1)) throw new Error(`chunks(): maxChunk ${options.maxChunk} < 1`);
  return { kind: "chunks", group, message: options.message, maxChunk: options.maxChunk };
}

/**
 * The lines of several processes printed into one stream. Each process's items keep their
 * order; `before: [[a, b]]` says the line named `b` only comes after the line named `a`
 * (in any process); everything else may interleave. Throws on an unknown line name.
 *
 * @example
 * ```ts
 * import { interleave, line } from "./transcript.ts";
 * interleave({
 *   parent: [line("in parent, sending message"), line("response from child: {bytes}", { name: "response" })],
 *   child: [line("in child, waiting for message"), line("message from parent: {bytes}", { name: "message" })],
 * }, { before: [["message", "response"]] });
 * ```
 */
export function interleave(
  processes: Record<string, Item[]>,
  options: { before?: [string, string][]; buffering?: "line" | "any" } = {},
): Interleave {
  const named: Record<string, string> = {};
  const collect = (items: readonly Item[]): void => {
    for (const item of items) {
      if (item.kind === "line" && item.name) named[item.name] = item.pattern;
      else if (item.kind === "optional") collect(item.items);
      else if (item.kind === "oneOf") item.alternatives.forEach(collect);
      else if (item.kind === "chunks") collect(item.group);
      else if (item.kind === "interleave") Object.values(item.processes).forEach(collect);
    }
  };
  Object.values(processes).forEach(collect);
  const before = options.before ?? [];
  for (const name of before.flat()) {
    if (!(name in named)) {
      throw new Error(
        `interleave(): constraint names line ${JSON.stringify(name)}, but no line has that name; ` +
          `named lines: ${Object.keys(named).join(", ") || "none"}`,
      );
    }
  }
  if (options.buffering === "any") {
    for (const [p, items] of Object.entries(processes)) {
      if (items.some((i) => i.kind !== "line" || i.slots.length > 0)) {
        throw new Error(
          `interleave(): buffering "any" needs literal lines only (no placeholders, optional, ` +
            `oneOf or chunks); process ${JSON.stringify(p)} has others`,
        );
      }
    }
  }
  return {
    kind: "interleave",
    processes,
    before,
    named,
    ...(options.buffering ? { buffering: options.buffering } : {}),
  };
}

/**
 * A transcript: the items a program's whole output must consist of, in order.
 *
 * @example
 * ```ts
 * import { line, transcript } from "./transcript.ts";
 * const spec = transcript([line("values = {str}"), line("sending {bytes}"), line("closing socket")]);
 * ```
 */
export function transcript(items: Item[]): Transcript {
  return { kind: "transcript", items };
}

// ---------------------------------------------------------------------------------------
// Matching: a breadth-first simulation over "heads" (what may come next), so that every
// reading of an ambiguous transcript is followed at once and the first line that fits none
// of them is the one reported.

type Head =
  | { t: "line"; line: Line; next: (values: Capture[]) => Head[] }
  | { t: "done" }
  | { t: "fail"; reason: string }
  | {
    t: "inter";
    spec: Interleave;
    threads: Readonly<Record<string, Head[]>>;
    seen: ReadonlySet<string>;
    k: () => Head[];
  };

interface Step {
  heads: Head[];
  line: Line;
  process?: string;
  values: Capture[];
}

interface Expect {
  line: Line;
  process?: string;
  waitsFor: string[];
}

const DONE: Head = { t: "done" };
const MAX_PATHS = 20_000;

/** The heads for `items[i..]` followed by whatever `k` gives. */
function expand(items: readonly Item[], i: number, k: () => Head[]): Head[] {
  if (i === items.length) return k();
  const item = items[i];
  const rest = () => expand(items, i + 1, k);
  switch (item.kind) {
    case "line":
      return [{ t: "line", line: item, next: rest }];
    case "optional":
      return [...expand(item.items, 0, rest), ...rest()];
    case "oneOf":
      return item.alternatives.flatMap((alt) => expand(alt, 0, rest));
    case "chunks":
      return chunkHeads(item, new Uint8Array(0), 1, rest);
    case "interleave": {
      const threads: Record<string, Head[]> = {};
      for (const [p, its] of Object.entries(item.processes)) {
        threads[p] = expand(its, 0, () => [DONE]);
      }
      return interHeads(item, threads, new Set(), rest);
    }
  }
}

function chunkHeads(spec: Chunks, acc: Uint8Array, n: number, k: () => Head[]): Head[] {
  const { group, message, maxChunk } = spec;
  if (acc.length === message.length) return k();
  const at = group.findIndex((l) => l.slots.some((s) => s.type === "bytes"));
  const slot = group[at].slots.findIndex((s) => s.type === "bytes");
  const from = (j: number, sofar: Uint8Array): Head[] => {
    if (j === group.length) return chunkHeads(spec, sofar, n + 1, k);
    const next = (values: Capture[]): Head[] => {
      if (j !== at) return from(j + 1, sofar);
      const payload = values[slot] as Uint8Array;
      const want = message.subarray(sofar.length, sofar.length + payload.length);
      let reason = "";
      if (payload.length === 0) reason = `chunk ${n} is empty, but the message is incomplete`;
      else if (payload.length > maxChunk) {
        reason = `chunk ${n} ${bytesRepr(payload)} has ${payload.length} bytes, ` +
          `more than the chunk size ${maxChunk}`;
      } else if (!equalBytes(payload, want)) {
        reason = `chunk ${n} ${bytesRepr(payload)} does not continue the message: ` +
          `expected ${bytesRepr(want)}`;
      }
      if (reason) {
        return [{
          t: "fail",
          reason: `${reason}; ${sofar.length} of ${message.length} bytes so far`,
        }];
      }
      const joined = new Uint8Array(sofar.length + payload.length);
      joined.set(sofar);
      joined.set(payload, sofar.length);
      return from(j + 1, joined);
    };
    return [{ t: "line", line: group[j], next }];
  };
  return from(0, acc);
}

function interHeads(
  spec: Interleave,
  threads: Record<string, Head[]>,
  seen: ReadonlySet<string>,
  k: () => Head[],
): Head[] {
  const fails: Head[] = [];
  let live = false;
  let allDone = true;
  for (const [p, heads] of Object.entries(threads)) {
    const kept = heads.filter((h) => h.t !== "fail");
    fails.push(...heads.filter((h) => h.t === "fail"));
    if (kept.length === 0) return fails;
    threads[p] = kept;
    if (kept.some((h) => h.t !== "done")) live = true;
    if (!kept.some((h) => h.t === "done")) allDone = false;
  }
  return [
    ...(live ? [{ t: "inter", spec, threads, seen, k } as Head] : []),
    ...(allDone ? k() : []),
  ];
}

/** The patterns of the lines that must come before line `name` and have not come yet. */
function waitsFor(spec: Interleave, seen: ReadonlySet<string>, name?: string): string[] {
  if (!name) return [];
  return spec.before.filter(([a, b]) => b === name && !seen.has(a)).map(([a]) => spec.named[a]);
}

function step(head: Head, text: string): Step[] {
  if (head.t === "line") {
    const m = head.line.regex.exec(text);
    if (!m) return [];
    const values = head.line.slots.map((slot, i) => parseSlot(slot.type, m[i + 1]));
    return [{ heads: head.next(values), line: head.line, values }];
  }
  if (head.t !== "inter") return [];
  const out: Step[] = [];
  for (const [p, heads] of Object.entries(head.threads)) {
    for (const h of heads) {
      for (const s of step(h, text)) {
        if (waitsFor(head.spec, head.seen, s.line.name).length > 0) continue;
        const seen = s.line.name ? new Set([...head.seen, s.line.name]) : head.seen;
        const threads = { ...head.threads, [p]: s.heads };
        out.push({
          ...s,
          process: s.process ?? p,
          heads: interHeads(head.spec, threads, seen, head.k),
        });
      }
    }
  }
  return out;
}

function expected(head: Head): Expect[] {
  if (head.t === "line") return [{ line: head.line, waitsFor: [] }];
  if (head.t !== "inter") return [];
  return Object.entries(head.threads).flatMap(([p, heads]) =>
    heads.flatMap(expected).map((e) => ({
      line: e.line,
      process: e.process ?? p,
      waitsFor: [...e.waitsFor, ...waitsFor(head.spec, head.seen, e.line.name)],
    }))
  );
}

function describeExpected(exps: Expect[]): { expected: string[]; text: string } {
  const open = new Set<string>();
  const waiting = new Set<string>();
  for (const e of exps) {
    const shown = JSON.stringify(e.line.pattern) + (e.process ? ` (${e.process})` : "");
    if (e.waitsFor.length === 0) open.add(shown);
    else waiting.add(`${shown}, after ${e.waitsFor.map((w) => JSON.stringify(w)).join(" and ")}`);
  }
  const expectedList = [...open];
  let text = expectedList.length === 0
    ? "the end of the output"
    : expectedList.length === 1
    ? expectedList[0]
    : `one of: ${expectedList.join(", ")}`;
  if (waiting.size > 0) text += `; not yet: ${[...waiting].join(", ")}`;
  return { expected: expectedList, text };
}

interface Path {
  head: Head;
  lines: MatchedLine[];
  captures: Record<string, Capture>;
}

/** Splits program output into lines: `\n` or `\r\n` ends a line; no empty last line. */
function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (text.endsWith("\n")) lines.pop();
  return lines;
}

function matchText(spec: Transcript, text: string): MatchResult {
  const lines = splitLines(text);
  let paths: Path[] = expand(spec.items, 0, () => [DONE])
    .filter((h) => h.t !== "fail")
    .map((head) => ({ head, lines: [], captures: {} }));
  for (let i = 0; i < lines.length; i++) {
    const next: Path[] = [];
    const reasons = new Set<string>();
    for (const path of paths) {
      for (const s of step(path.head, lines[i])) {
        const captures = { ...path.captures };
        const clash = bind(captures, s.line, s.values, path.lines);
        if (clash) {
          reasons.add(clash);
          continue;
        }
        const matched: MatchedLine = {
          lineNo: i + 1,
          text: lines[i],
          pattern: s.line.pattern,
          ...(s.line.name ? { name: s.line.name } : {}),
          ...(s.process ? { process: s.process } : {}),
          values: s.values,
        };
        for (const head of s.heads) {
          if (head.t === "fail") reasons.add(head.reason);
          else next.push({ head, lines: [...path.lines, matched], captures });
        }
      }
    }
    if (next.length > MAX_PATHS) {
      throw new Error(
        `match(): the transcript is too ambiguous at line ${i + 1} (${next.length} readings); ` +
          "name fewer optional or interleaved lines that match the same text",
      );
    }
    if (next.length === 0) {
      const { expected: exp, text: want } = describeExpected(
        paths.flatMap((p) => expected(p.head)),
      );
      const why = reasons.size > 0 ? ` (${[...reasons].join("; ")})` : "";
      return {
        ok: false,
        lineNo: i + 1,
        line: lines[i],
        expected: exp,
        message: `line ${i + 1}: ${JSON.stringify(lines[i])} does not fit; expected ${want}${why}`,
      };
    }
    paths = next;
  }
  const done = paths.find((p) => p.head.t === "done");
  if (done) return { ok: true, lines: done.lines, captures: done.captures };
  const { expected: exp, text: want } = describeExpected(paths.flatMap((p) => expected(p.head)));
  const ended = lines.length === 0
    ? "the output is empty"
    : `output ended after line ${lines.length}`;
  return {
    ok: false,
    lineNo: lines.length + 1,
    line: null,
    expected: exp,
    message: `expected ${want} but ${ended}`,
  };
}

function bind(
  captures: Record<string, Capture>,
  l: Line,
  values: Capture[],
  earlier: MatchedLine[],
): string | undefined {
  for (let i = 0; i < l.slots.length; i++) {
    const name = l.slots[i].name;
    if (name === undefined) continue;
    if (name in captures && captureKey(captures[name]) !== captureKey(values[i])) {
      const first = earlier.find((m) => m.values.some((v) => v === captures[name]));
      return `{${name}} is ${showCapture(values[i])} here but was ${showCapture(captures[name])}` +
        (first ? ` on line ${first.lineNo}` : "");
    }
    captures[name] = values[i];
  }
  return undefined;
}

function captureKey(v: Capture): string {
  return v instanceof Uint8Array ? bytesRepr(v) : JSON.stringify(v);
}

function showCapture(v: Capture): string {
  if (v instanceof Uint8Array) return bytesRepr(v);
  if (typeof v === "object") return "path" in v ? pyRepr(v.path) : pyRepr(Object.values(v));
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------
// An interleave under any stdout buffering: a search over which process wrote each
// character. Each process either writes as it prints (in any pieces: a line may be split
// by another process's output) or holds everything until it exits and writes one block.
// A `before: [a, b]` constraint says line a was printed before line b; it shows in the
// stream only when a's process writes as it prints (then all of a precedes b's first
// character). A process that writes at exit gives no evidence of when it printed.

/** One process of a buffered interleave: its literal lines and where each starts and ends. */
interface BufferedProcess {
  name: string;
  lines: Line[];
  text: string;
  starts: number[];
  ends: number[];
}

const MAX_STATES = 1_000_000;

function literalText(l: Line): string {
  return l.pattern.replace(/\{\{/g, "{").replace(/\}\}/g, "}");
}

function lineAt(p: BufferedProcess, offset: number): number {
  return p.ends.findIndex((end) => offset < end);
}

function matchBuffered(spec: Interleave, output: string): MatchResult {
  // As for whole lines: `\r\n` ends a line too, and the last line may lack its newline.
  let text = output.replace(/\r\n/g, "\n");
  if (text !== "" && !text.endsWith("\n")) text += "\n";
  const procs: BufferedProcess[] = Object.entries(spec.processes).map(([name, items]) => {
    const lines = items as Line[];
    let all = "";
    const starts: number[] = [];
    const ends: number[] = [];
    for (const l of lines) {
      starts.push(all.length);
      all += literalText(l) + "\n";
      ends.push(all.length);
    }
    return { name, lines, text: all, starts, ends };
  });
  const where = new Map<string, [number, number]>();
  procs.forEach((p, pi) => p.lines.forEach((l, li) => l.name && where.set(l.name, [pi, li])));
  const k = procs.length;
  const masks = Array.from({ length: 1 << k }, (_, m) => m).sort((a, b) =>
    popcount(a) - popcount(b) || a - b
  );
  let best = -1;
  let bestExpect: Expect[] = [];
  let states = 0;
  for (const mask of masks) {
    const atExit = (pi: number) => (mask >> pi & 1) === 1;
    /** The patterns of the lines that must be complete before line `li` of `pi` starts. */
    const blockedBy = (progress: number[], pi: number, li: number): string[] => {
      const name = procs[pi].lines[li].name;
      if (!name) return [];
      return spec.before.filter(([a, b]) => {
        if (b !== name) return false;
        const [ai, al] = where.get(a)!;
        return !atExit(ai) && progress[ai] < procs[ai].ends[al];
      }).map(([a]) => spec.named[a]);
    };
    type State = { progress: number[]; block: number; prev?: State; by?: number };
    const seen = new Set<string>();
    const stack: State[] = [{ progress: procs.map(() => 0), block: -1 }];
    while (stack.length > 0) {
      const st = stack.pop()!;
      const key = `${st.progress.join(",")}|${st.block}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (++states > MAX_STATES) {
        throw new Error(
          `match(): the output is too long to search under any buffering (${text.length} characters)`,
        );
      }
      const pos = st.progress.reduce((a, b) => a + b, 0);
      const expect: Expect[] = [];
      if (pos === text.length && procs.every((p, pi) => st.progress[pi] === p.text.length)) {
        return bufferedOk(procs, text, st, (pi) => atExit(pi) ? "at exit" : "as printed");
      }
      for (let pi = 0; pi < k; pi++) {
        const p = procs[pi];
        const at = st.progress[pi];
        if (at === p.text.length || (st.block >= 0 && st.block !== pi)) continue;
        const li = lineAt(p, at);
        const waits = at === p.starts[li] ? blockedBy(st.progress, pi, li) : [];
        expect.push({ line: p.lines[li], process: p.name, waitsFor: waits });
        if (waits.length > 0 || text[pos] !== p.text[at]) continue;
        const progress = [...st.progress];
        progress[pi]++;
        const block = atExit(pi) && progress[pi] < p.text.length ? pi : -1;
        stack.push({ progress, block, prev: st, by: pi });
      }
      if (pos > best) {
        best = pos;
        bestExpect = [];
      }
      if (pos === best) bestExpect.push(...expect);
    }
  }
  const lines = splitLines(text);
  const { expected: exp, text: want } = describeExpected(bestExpect);
  const why = `; no stdout buffering of ${procs.map((p) => p.name).join(" and ")} explains it`;
  if (best >= text.length) {
    const ended = lines.length === 0
      ? "the output is empty"
      : `output ended after line ${lines.length}`;
    return {
      ok: false,
      lineNo: lines.length + 1,
      line: null,
      expected: exp,
      message: `expected ${want} but ${ended}`,
    };
  }
  const lineNo = text.slice(0, best).split("\n").length;
  return {
    ok: false,
    lineNo,
    line: lines[lineNo - 1],
    expected: exp,
    message: `line ${lineNo}: ${JSON.stringify(lines[lineNo - 1])} does not fit; expected ${want}${
      exp.length === 0 ? "" : why
    }`,
  };
}

function popcount(n: number): number {
  let c = 0;
  for (; n; n &= n - 1) c++;
  return c;
}

function bufferedOk(
  procs: BufferedProcess[],
  text: string,
  end: { prev?: unknown; by?: number },
  mode: (pi: number) => Buffering,
): MatchOk {
  const owner: number[] = [];
  for (let s = end as { prev?: unknown; by?: number }; s.prev; s = s.prev as typeof s) {
    owner.push(s.by!);
  }
  owner.reverse();
  const spans = procs.map((p) => p.lines.map(() => ({ first: -1, last: -1, pieces: 0 })));
  const offset = procs.map(() => 0);
  owner.forEach((pi, pos) => {
    const li = lineAt(procs[pi], offset[pi]++);
    const span = spans[pi][li];
    if (span.first < 0) {
      span.first = pos;
      span.pieces = 1;
    } else if (span.last !== pos - 1) span.pieces++;
    span.last = pos;
  });
  const lines: (MatchedLine & { first: number })[] = [];
  let split = false;
  procs.forEach((p, pi) =>
    p.lines.forEach((l, li) => {
      const span = spans[pi][li];
      if (span.pieces > 1) split = true;
      lines.push({
        first: span.first,
        lineNo: text.slice(0, span.last).split("\n").length,
        text: literalText(l),
        pattern: l.pattern,
        ...(l.name ? { name: l.name } : {}),
        process: p.name,
        values: [],
      });
    })
  );
  lines.sort((a, b) => a.first - b.first);
  return {
    ok: true,
    lines: lines.map(({ first: _, ...l }) => l),
    captures: {},
    buffering: Object.fromEntries(procs.map((p, pi) => [p.name, mode(pi)])),
    split,
  };
}

/**
 * Checks a program's output against a transcript. `output` is either the whole stdout, or,
 * for a transcript that is a single {@linkcode interleave}, one output per process (then each
 * process's lines are checked in order on their own; cross-process `before` constraints
 * cannot be seen and are not checked). Lines end at `\n` (a `\r` before it is dropped).
 *
 * A single interleave made with `buffering: "any"` is matched character by character: the
 * output must be the processes' texts shuffled together, where each process either writes
 * as it prints (in any pieces; its `before` constraints then hold) or writes everything as
 * one block at exit (no other output inside it; its lines give no evidence of when they were
 * printed). The result says which reading fitted (`buffering`, `split`); a failure names the
 * output line where the furthest reading stopped.
 *
 * @example
 * ```ts
 * import { match, socketpairTranscript } from "./transcript.ts";
 * const result = match(
 *   socketpairTranscript(),
 *   "in child, waiting for message\nin parent, sending message\n" +
 *     "message from parent: b'ping'\nresponse from child: b'pong'\n",
 * );
 * console.log(result.ok); // true
 * ```
 */
export function match(spec: Transcript, output: string | Record<string, string>): MatchResult {
  const only = spec.items.length === 1 ? spec.items[0] : undefined;
  if (typeof output === "string") {
    return only?.kind === "interleave" && only.buffering === "any"
      ? matchBuffered(only, output)
      : matchText(spec, output);
  }
  if (only?.kind !== "interleave") {
    throw new TypeError(
      "match(): separate per-process outputs need a transcript that is a single interleave()",
    );
  }
  const want = Object.keys(only.processes);
  const extra = Object.keys(output).filter((p) => !want.includes(p));
  if (extra.length > 0) {
    throw new TypeError(
      `match(): output for unknown process ${extra.join(", ")}; expected ${want}`,
    );
  }
  const all: MatchedLine[] = [];
  const captures: Record<string, Capture> = {};
  for (const p of want) {
    const result = matchText(transcript([...only.processes[p]]), output[p] ?? "");
    if (!result.ok) return { ...result, process: p, message: `${p}: ${result.message}` };
    all.push(...result.lines.map((l) => ({ ...l, process: l.process ?? p })));
    Object.assign(captures, result.captures);
  }
  return { ok: true, lines: all, captures };
}

// ---------------------------------------------------------------------------------------
// Python literals.

function parseSlot(type: SlotType, raw: string): Capture {
  switch (type) {
    case "bytes":
      return decodeLiteral(raw.slice(2, -1), true) as Uint8Array;
    case "addr":
      return parseAddr(raw);
    case "int":
      return Number(raw);
    default:
      return raw;
  }
}

function parseAddr(raw: string): PyAddr {
  if (raw === "") return { path: "" };
  if (raw[0] !== "(") return { path: decodeLiteral(raw.slice(1, -1), false) as string };
  const end = raw.lastIndexOf(raw[1]);
  const host = decodeLiteral(raw.slice(2, end), false) as string;
  const [port, flowinfo, scopeId] = raw.slice(end + 3, -1).split(", ").map(Number);
  return flowinfo === undefined ? { host, port } : { host, port, flowinfo, scopeId };
}

const SIMPLE_ESCAPES: Record<string, number> = {
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
};

/**
 * Decodes the body of a Python bytes (`asBytes`) or str literal: `\\`, `\'`, `\"`, `\n`,
 * `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\xNN`, octal `\NNN`, and for str `\uNNNN` and
 * `\UNNNNNNNN`; an unknown escape keeps its backslash, as in Python.
 */
function decodeLiteral(body: string, asBytes: boolean): Uint8Array | string {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== "\\" || i + 1 === body.length) {
      out.push(body.codePointAt(i)!);
      if (out[out.length - 1] > 0xffff) i++;
      continue;
    }
    const e = body[++i];
    const width = e === "x" ? 2 : e === "u" && !asBytes ? 4 : e === "U" && !asBytes ? 8 : 0;
    const octal = /^[0-7]{1,3}/.exec(body.slice(i, i + 3))?.[0];
    if (e in SIMPLE_ESCAPES) out.push(SIMPLE_ESCAPES[e]);
    else if (octal) {
      out.push(parseInt(octal, 8) & 0xff);
      i += octal.length - 1;
    } else if (width > 0 && /^[0-9a-fA-F]+$/.test(body.slice(i + 1, i + 1 + width))) {
      out.push(parseInt(body.slice(i + 1, i + 1 + width), 16));
      i += width;
    } else out.push(0x5c, e.codePointAt(0)!);
  }
  return asBytes ? Uint8Array.from(out) : String.fromCodePoint(...out);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

// ---------------------------------------------------------------------------------------
// The tutorial programs' transcripts (SPEC §1, §2, §4, §5, §6, §7).

const encoder = new TextEncoder();

function reprLine(prefix: string, data: Uint8Array, suffix = ""): Line {
  return line(literal(prefix + bytesRepr(data) + suffix));
}

/** Options for the stream echo transcripts. */
export interface StreamOptions {
  /** Where the server is, as printed: `localhost port 10000` or `./uds_socket` (default: any). */
  address?: string;
  /** The message the client sends (default {@linkcode TUTORIAL_MESSAGE}). */
  message?: Uint8Array;
  /** The `recv` size (default 16). */
  chunkSize?: number;
}

/**
 * SPEC §1 and §2: the stream echo server serving `connections` clients (default 1), one message
 * each. The peer address is bound as `{addr:peer1}`, `{addr:peer2}`, ..., so `no data from`
 * must name the same peer; for a UDS it is printed as nothing (`connection from `) or `''`.
 *
 * @example
 * ```ts
 * import { streamServerTranscript } from "./transcript.ts";
 * const tcp = streamServerTranscript({ address: "localhost port 10000" });
 * const uds = streamServerTranscript({ address: "./uds_socket", chunkSize: 6 });
 * ```
 */
export function streamServerTranscript(
  options: StreamOptions & { connections?: number } = {},
): Transcript {
  const { message = TUTORIAL_MESSAGE, chunkSize = 16, connections = 1 } = options;
  const items: Item[] = [
    line(`starting up on ${options.address === undefined ? "{str}" : literal(options.address)}`),
    line("waiting for a connection"),
  ];
  for (let c = 1; c <= connections; c++) {
    items.push(
      line(`connection from {addr:peer${c}}`),
      chunks([line("received {bytes}"), line("sending data back to the client")], {
        message,
        maxChunk: chunkSize,
      }),
      line("received b''"),
      line(`no data from {addr:peer${c}}`),
      line("waiting for a connection"),
    );
  }
  return transcript(items);
}

/**
 * SPEC §1 and §2: the stream echo client: connects, sends the message, one `received` line per
 * chunk of the echo, closes.
 *
 * @example
 * ```ts
 * import { streamClientTranscript } from "./transcript.ts";
 * streamClientTranscript({ address: "localhost port 10000", chunkSize: 16 });
 * ```
 */
export function streamClientTranscript(options: StreamOptions = {}): Transcript {
  const { message = TUTORIAL_MESSAGE, chunkSize = 16 } = options;
  return transcript([
    line(`connecting to ${options.address === undefined ? "{str}" : literal(options.address)}`),
    reprLine("sending ", message),
    chunks([line("received {bytes}")], { message, maxChunk: chunkSize }),
    line("closing socket"),
  ]);
}

/**
 * SPEC §4: the UDP echo server receiving `datagrams` (default: the tutorial message once).
 * Each round: an empty line, `waiting to receive message`, `received N bytes from (addr)`,
 * the data, and unless it is empty `sent N bytes back to (addr)`; then the next wait. The
 * `starting up on ...` line the tutorial code prints first is optional (SPEC does not name it).
 *
 * @example
 * ```ts
 * import { udpServerTranscript } from "./transcript.ts";
 * udpServerTranscript({ datagrams: [new Uint8Array(0)] }); // an empty datagram: no answer
 * ```
 */
export function udpServerTranscript(options: { datagrams?: Uint8Array[] } = {}): Transcript {
  const { datagrams = [TUTORIAL_MESSAGE] } = options;
  const items: Item[] = [optional(line("starting up on {str}"))];
  datagrams.forEach((data, i) => {
    items.push(
      line(""),
      line("waiting to receive message"),
      line(`received ${data.length} bytes from {addr:sender${i + 1}}`),
      line(literal(bytesRepr(data))),
    );
    if (data.length > 0) {
      items.push(line(`sent ${data.length} bytes back to {addr:sender${i + 1}}`));
    }
  });
  items.push(line(""), line("waiting to receive message"));
  return transcript(items);
}

/**
 * SPEC §4: the UDP echo client: `sending b'...'`, `waiting to receive`, `received b'...'`
 * (the same bytes), `closing socket`.
 *
 * @example
 * ```ts
 * import { udpClientTranscript } from "./transcript.ts";
 * udpClientTranscript();
 * ```
 */
export function udpClientTranscript(options: { message?: Uint8Array } = {}): Transcript {
  const { message = TUTORIAL_MESSAGE } = options;
  return transcript([
    reprLine("sending ", message),
    line("waiting to receive"),
    reprLine("received ", message),
    line("closing socket"),
  ]);
}

/**
 * SPEC §5: the multicast sender getting exactly `acks` answers (default 1) from port `port`
 * (default 10000), then timing out. The tutorial code's `sending b'...'` and
 * `waiting to receive` lines are optional (SPEC does not name them).
 *
 * @example
 * ```ts
 * import { multicastSenderTranscript } from "./transcript.ts";
 * multicastSenderTranscript({ acks: 2 }); // two receivers
 * ```
 */
export function multicastSenderTranscript(
  options: { message?: Uint8Array; acks?: number; port?: number } = {},
): Transcript {
  const { message = MULTICAST_MESSAGE, acks = 1, port = 10000 } = options;
  const wait = optional(line("waiting to receive"));
  const items: Item[] = [optional(reprLine("sending ", message))];
  for (let i = 0; i < acks; i++) {
    items.push(wait, line(`received b'ack' from ({str}, ${port})`));
  }
  items.push(wait, line("timed out, no more responses"), line("closing socket"));
  return transcript(items);
}

/**
 * SPEC §5: the multicast receiver getting `messages` datagrams (default 1, the 19-byte
 * message) and acknowledging each: `received 19 bytes from (addr)`, the data,
 * `sending acknowledgement to (addr)`. The tutorial code's empty line and
 * `waiting to receive message` before each receive are optional.
 *
 * @example
 * ```ts
 * import { multicastReceiverTranscript } from "./transcript.ts";
 * multicastReceiverTranscript();
 * ```
 */
export function multicastReceiverTranscript(
  options: { message?: Uint8Array; messages?: number } = {},
): Transcript {
  const { message = MULTICAST_MESSAGE, messages = 1 } = options;
  const wait = optional(optional(line("")), line("waiting to receive message"));
  const items: Item[] = [];
  for (let i = 1; i <= messages; i++) {
    items.push(
      wait,
      line(`received ${message.length} bytes from {addr:sender${i}}`),
      line(literal(bytesRepr(message))),
      line(`sending acknowledgement to {addr:sender${i}}`),
    );
  }
  items.push(wait);
  return transcript(items);
}

/** Options for the struct transcripts (SPEC §6); defaults are the tutorial's values. */
export interface StructOptions {
  /** The values as Python prints the tuple (default `(1, b'ab', 2.7)`). */
  values?: string;
  /** The packed record in hex (default `0100000061620000cdcc2c40`, little-endian `I 2s f`). */
  packedHex?: string;
  /** The unpacked tuple as the server prints it (default `(1, b'ab', 2.700000047683716)`). */
  unpacked?: string;
}

const STRUCT_DEFAULTS: Required<StructOptions> = {
  values: "(1, b'ab', 2.7)",
  packedHex: "0100000061620000cdcc2c40",
  unpacked: "(1, b'ab', 2.700000047683716)",
};

/**
 * SPEC §6: the struct client: `values = (1, b'ab', 2.7)`, `sending b'<hex>'`, `closing socket`.
 *
 * @example
 * ```ts
 * import { structClientTranscript } from "./transcript.ts";
 * structClientTranscript({ packedHex: "000000016162cdcc402ccccd" });
 * ```
 */
export function structClientTranscript(options: StructOptions = {}): Transcript {
  const o = { ...STRUCT_DEFAULTS, ...options };
  return transcript([
    line(literal(`values = ${o.values}`)),
    line(literal(`sending b'${o.packedHex}'`)),
    line("closing socket"),
  ]);
}

/**
 * SPEC §6: the struct server reading one record: `received b'<hex>'`, `unpacked: (...)`. The
 * tutorial code's `starting up on ...` line and the empty line plus `waiting for a
 * connection` around each connection are optional.
 *
 * @example
 * ```ts
 * import { structServerTranscript } from "./transcript.ts";
 * structServerTranscript();
 * ```
 */
export function structServerTranscript(options: StructOptions = {}): Transcript {
  const o = { ...STRUCT_DEFAULTS, ...options };
  const wait = optional(optional(line("")), line("waiting for a connection"));
  return transcript([
    optional(line("starting up on {str}")),
    wait,
    line(literal(`received b'${o.packedHex}'`)),
    line(literal(`unpacked: ${o.unpacked}`)),
    wait,
  ]);
}

/**
 * SPEC §7: the socketpair program, parent and child printing into one stdout, under any
 * stdout buffering (`buffering: "any"`): a process that writes as it prints shows its order
 * of events (the parent's start line before the message, the message before the response),
 * and its lines may be split by the other's (`python3 -u`); a process whose stdout is a
 * block buffer writes all its lines at exit, as one block. So both tutorial orders fit, and
 * so does the parent's block before the child's. Line names: `parent-start`, `response`,
 * `child-start`, `message`.
 *
 * @example
 * ```ts
 * import { match, socketpairTranscript } from "./transcript.ts";
 * match(socketpairTranscript(), "in parent, sending message\n...").ok; // false
 * ```
 */
export function socketpairTranscript(
  options: { request?: Uint8Array; response?: Uint8Array } = {},
): Transcript {
  const { request = encoder.encode("ping"), response = encoder.encode("pong") } = options;
  return transcript([
    interleave({
      parent: [
        line("in parent, sending message", { name: "parent-start" }),
        line(literal(`response from child: ${bytesRepr(response)}`), { name: "response" }),
      ],
      child: [
        line("in child, waiting for message", { name: "child-start" }),
        line(literal(`message from parent: ${bytesRepr(request)}`), { name: "message" }),
      ],
    }, {
      // The parent prints its first line before it sends, and the child answers only after
      // the message: visible in the output of a process that writes as it prints.
      before: [["parent-start", "message"], ["message", "response"]],
      buffering: "any",
    }),
  ]);
}
