/**
 * Property test: struct.ts against CPython's `struct`, through one python3 process.
 *
 * A seeded generator makes random formats (prefixes, codes, repeat counts, whitespace, and
 * some broken ones) and values (edge integers, ±0.0, inf, nan, subnormals, half-precision
 * ties, bytes shorter and longer than the count, wrong types), runs calcsize, pack, unpack,
 * pack_into, unpack_from and iter_unpack on both sides and compares bytes, repr() of the
 * unpacked tuples and errors (class and message).
 *
 * Run: `deno test --allow-run=python3 src/python/struct_cpython_test.ts`
 * (add `-- --seed=N` to replay a seed, `-- --cases=N` for more cases).
 * The python side is src/testdata/struct_oracle.py.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Random } from "../case/random.ts";
import { toHex } from "./repr.ts";
import { Struct, StructError, type StructValue } from "./struct.ts";
import { python3Available, runPythonText } from "../testdata/python_oracle.ts";

const ORACLE = new URL("../testdata/struct_oracle.py", import.meta.url);

function argValue(name: string): number | undefined {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : Number(arg.slice(name.length + 3));
}

const SEED = argValue("seed") ?? (Date.now() % 2 ** 31);
const CASES = argValue("cases") ?? 10_000;

// --- seeded random numbers (the project's mulberry32, src/case/random.ts) ---------------

function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.float();
}

let rand = rng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const chance = (p: number) => rand() < p;
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
const randomBytes = (n: number) => new Uint8Array(n).map(() => int(256));

// --- formats ----------------------------------------------------------------------------

const CODES = "xcbB?hHiIlLqQnNefdspP";
const SPACES = [" ", " ", "\t", "\n", "\r", "\v", "\f", "  "];
const INT_CODES = "bBhHiIlLqQnNP";

function randomFormat(): string {
  let fmt = pick(["", "@", "=", "<", ">", "!"]);
  const items = int(6);
  for (let k = 0; k < items; k++) {
    if (chance(0.3)) fmt += pick(SPACES);
    let code = CODES[int(CODES.length)];
    // n, N, P are native only: keep most standard formats valid.
    if (fmt !== "" && fmt !== "@" && "nNP".includes(code) && chance(0.85)) code = pick(["q", "L"]);
    const bulk = "spx".includes(code);
    if (chance(0.45)) {
      const count = bulk && chance(0.3) ? (chance(0.1) ? 250 + int(60) : int(41)) : int(5);
      fmt += String(count);
    }
    fmt += code;
  }
  if (chance(0.3)) fmt += pick(SPACES);
  if (chance(0.06)) {
    // Broken or borderline formats.
    const at = int(fmt.length + 1);
    const bad = pick([
      "z",
      "A",
      "@",
      "<",
      "!",
      "#",
      "2 s",
      "12",
      "\0",
      "é",
      "éé",
      "\u1234",
      "\u{1f600}",
      "\ud800",
      "99999999999999999999i",
      "9223372036854775808x",
      "4611686018427387904h",
      "9223372036854775807?i",
    ]);
    fmt = fmt.slice(0, at) + bad + fmt.slice(at);
  }
  return fmt;
}

/** The codes of the values a format takes, in order ("" for a broken format). */
function itemCodes(fmt: string): string[] {
  const codes: string[] = [];
  const body = /^[@=<>!]/.test(fmt) ? fmt.slice(1) : fmt;
  for (const [, count, code] of body.matchAll(/(\d*)([A-Za-z?])/g)) {
    if (code === "x") continue;
    if (code === "s" || code === "p") codes.push(code);
    else for (let k = 0; k < Number(count || 1) && k < 50; k++) codes.push(code);
  }
  return codes;
}

// --- values -----------------------------------------------------------------------------

function intRange(code: string, fmt: string): [bigint, bigint] {
  const standard = /^[=<>!]/.test(fmt);
  const sizes: Record<string, number> = { b: 1, h: 2, i: 4, l: standard ? 4 : 8, q: 8, n: 8 };
  if (code === "P") return [-(1n << 63n), (1n << 64n) - 1n];
  const size = BigInt(8 * (sizes[code.toLowerCase()] ?? 8));
  if (code === code.toLowerCase()) return [-(1n << (size - 1n)), (1n << (size - 1n)) - 1n];
  return [0n, (1n << size) - 1n];
}

function randomInt(code: string, fmt: string): bigint {
  const [lo, hi] = intRange(code, fmt);
  switch (int(9)) {
    case 0:
      return pick([lo, hi, lo - 1n, hi + 1n]);
    case 1:
      return pick([0n, 1n, -1n, 1n << 200n, -(1n << 200n), 1n << 64n, -(1n << 63n) - 1n]);
    case 2: {
      const k = BigInt(int(70));
      return pick([1n << k, (1n << k) - 1n, -(1n << k), -(1n << k) - 1n]);
    }
    default: {
      const span = hi - lo + 1n;
      let r = 0n;
      for (let k = 0; k < 3; k++) r = (r << 32n) | BigInt(int(2 ** 32));
      return lo + r % span;
    }
  }
}

function fromBits(hi: number, lo: number): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(0, hi);
  dv.setUint32(4, lo);
  return dv.getFloat64(0);
}

const SPECIAL_FLOATS = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  2.225073858507201e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  2.7,
  1.1,
  0.1,
  1e16,
  1e-5,
  3.4028234663852886e38, // FLT_MAX
  3.4028235677973366e38, // FLT_MAX + half an ulp: rounds to inf
  3.4028235677973362e38, // just below: rounds to FLT_MAX
  1.401298464324817e-45, // smallest float32 subnormal
  7.006492321624085e-46, // half of it: a tie
  65504, // half max
  65519.99999999999,
  65520, // half overflow
  -65520,
  2 ** -24,
  2 ** -25,
  2 ** -25 * (1 + 2 ** -52),
  3 * 2 ** -26,
  2 ** -14,
  2 ** -14 - 2 ** -25,
  1 + 2 ** -11, // half tie to even (down)
  1 + 3 * 2 ** -11, // half tie to even (up)
  2047.5,
  0.5,
  -1.5,
];

function randomFloat(code: string): number {
  switch (int(6)) {
    case 0:
    case 1:
      return pick(SPECIAL_FLOATS);
    case 2:
      return fromBits(int(2 ** 32), int(2 ** 32));
    case 3: {
      // exactly representable in the code's own width, or a tie between two such values
      const dv = new DataView(new ArrayBuffer(4));
      dv.setUint32(0, int(2 ** 32));
      const x = code === "e" ? (int(2 ** 16) - 32768) / 2 ** int(30) : dv.getFloat32(0);
      return chance(0.5) ? x : x * (1 + 2 ** -(code === "e" ? 11 : 24));
    }
    case 4:
      return (rand() - 0.5) * 10 ** (int(20) - 10);
    default:
      return (rand() - 0.5) * 2 ** (int(300) - 150);
  }
}

/** A JavaScript value and how Python sees it. */
interface Arg {
  js: unknown;
  py: Record<string, unknown>;
}

/**
 * How Python sees a JavaScript value packed by `code`: a number is a Python float for the
 * float codes, and an int elsewhere when it is integral (struct.ts cannot tell 2.0 from 2).
 */
function seenByPython(arg: Arg, code: string | undefined): Arg {
  const x = arg.js;
  if (typeof x !== "number") return arg;
  if (code !== undefined && "efd".includes(code)) return { js: x, py: { f: floatBits(x) } };
  return Number.isInteger(x) ? { js: x, py: { i: BigInt(x).toString() } } : arg;
}

function floatBits(x: number): string {
  if (Number.isNaN(x)) return "7ff8000000000000";
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  return toHex(new Uint8Array(dv.buffer));
}

function intArg(n: bigint): Arg {
  const small = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
  return { js: small && chance(0.5) ? Number(n) : n, py: { i: n.toString() } };
}

function bytesArg(n: number): Arg {
  const b = randomBytes(n);
  return { js: b, py: { b: toHex(b) } };
}

/** A value of another kind than the code wants (sometimes, by chance, a fitting one). */
function oddArg(code: string, fmt: string): Arg {
  switch (int(9)) {
    case 0:
      return { js: "x", py: { s: "x" } };
    case 1:
      return { js: "", py: { s: "" } };
    case 2:
      return { js: null, py: { n: 0 } };
    case 3: {
      const t = chance(0.5);
      return { js: t, py: { t } };
    }
    case 4:
      return bytesArg(int(3));
    case 5: {
      // A float that is not an integer (JavaScript cannot tell 2.0 from 2).
      const x = pick([1.5, -0.5, NaN, Infinity, -Infinity, 1e-300, 2.5e15]);
      return { js: x, py: { f: floatBits(x) } };
    }
    case 6:
      return intArg(pick([1n << 1030n, -(1n << 1030n), (1n << 1024n) - (1n << 970n)]));
    case 7:
      return intArg(randomInt(INT_CODES.includes(code) ? code : "q", fmt));
    default: {
      const x = randomFloat("d");
      return { js: x, py: { f: floatBits(x) } };
    }
  }
}

function randomArg(code: string, fmt: string, count: number): Arg {
  if (chance(0.04)) return oddArg(code, fmt);
  if (INT_CODES.includes(code)) return intArg(randomInt(code, fmt));
  switch (code) {
    case "e":
    case "f":
    case "d": {
      if (chance(0.1)) {
        const big = pick([10n ** 39n, 70000n, 65519n, 10n ** 400n, (1n << 1024n) - (1n << 970n)]);
        return intArg(chance(0.5) ? big : big - 1n);
      }
      const x = randomFloat(code);
      return { js: x, py: { f: floatBits(x) } };
    }
    case "?":
      return oddArg(code, fmt);
    case "c":
      return bytesArg(chance(0.9) ? 1 : int(3));
    default:
      return bytesArg(int(count + 4));
  }
}

function randomArgs(fmt: string): Arg[] {
  const codes = itemCodes(fmt);
  // s/p counts, for byte lengths near them
  const counts = [...fmt.matchAll(/(\d*)[sp]/g)].map((m) => Number(m[1] || 1));
  let sp = 0;
  const args = codes.map((code) =>
    seenByPython(
      randomArg(code, fmt, "sp".includes(code) ? Math.min(counts[sp++] ?? 1, 400) : 1),
      code,
    )
  );
  const miscount = rand();
  if (miscount < 0.05) args.pop();
  else if (miscount < 0.1) args.push(intArg(1n));
  return args;
}

// --- the JavaScript side ----------------------------------------------------------------

function describe(e: unknown): string {
  if (e instanceof StructError) return `StructError: ${e.message}`;
  if (e instanceof RangeError) return `RangeError: ${e.message}`;
  if (e instanceof TypeError) return `TypeError: ${e.message}`;
  if (e instanceof Error && e.constructor === Error) return `Error: ${e.message}`;
  return `Unexpected ${String(e)}`;
}

interface Op {
  op: string;
  args?: Arg[];
  buf?: Uint8Array;
  offset?: number;
}

function runJs(fmt: string, op: Op): string {
  const values = (op.args ?? []).map((a) => a.js) as StructValue[];
  try {
    const s = new Struct(fmt);
    switch (op.op) {
      case "calcsize":
        return `ok: ${s.size}`;
      case "pack": {
        const data = s.pack(...values);
        let shown: string;
        try {
          shown = s.repr(s.unpack(data));
        } catch (e) {
          shown = describe(e);
        }
        return `ok: ${toHex(data)} ${shown}`;
      }
      case "unpack":
        return "ok: " + s.repr(s.unpack(op.buf!));
      case "unpack_from":
        return "ok: " + s.repr(s.unpackFrom(op.buf!, op.offset));
      case "iter_unpack":
        return "ok: [" + [...s.iterUnpack(op.buf!)].map((v) => s.repr(v)).join(", ") + "]";
      case "pack_into": {
        const buf = op.buf!.slice();
        try {
          s.packInto(buf, op.offset!, ...values);
          return "ok: " + toHex(buf);
        } catch (e) {
          return describe(e) + " buf=" + toHex(buf);
        }
      }
    }
    return "unknown op " + op.op;
  } catch (e) {
    return describe(e);
  }
}

function safeSize(fmt: string): number | undefined {
  try {
    const size = new Struct(fmt).size;
    return size <= 4096 ? size : undefined;
  } catch {
    return undefined;
  }
}

function randomOps(fmt: string): Op[] {
  const ops: Op[] = [{ op: "calcsize" }, { op: "pack", args: randomArgs(fmt) }];
  const size = safeSize(fmt);
  if (size === undefined) return ops;
  const near = () => Math.max(0, size + (chance(0.85) ? 0 : int(9) - 4));
  ops.push({ op: "unpack", buf: randomBytes(near()) });
  // A buffer and an offset for pack_into and unpack_from: mostly fitting, from either end.
  const place = (): [Uint8Array, number] => {
    const len = chance(0.75) ? size + int(9) : int(size + 1);
    if (chance(0.3)) return [randomBytes(len), int(2 * len + 7) - len - 3];
    const offset = int(Math.max(0, len - size) + 1);
    return [randomBytes(len), chance(0.5) ? offset : offset - len];
  };
  if (chance(0.3)) {
    const [buf, offset] = place();
    ops.push({ op: "pack_into", args: randomArgs(fmt), buf, offset });
  }
  if (chance(0.3)) {
    const [buf, offset] = place();
    ops.push({ op: "unpack_from", buf, offset });
  }
  if (chance(0.2)) {
    const len = size * int(4) + (chance(0.8) ? 0 : int(3));
    ops.push({ op: "iter_unpack", buf: randomBytes(len) });
  }
  return ops;
}

function wire(fmt: string, ops: Op[]): string {
  return JSON.stringify({
    fmt,
    ops: ops.map((o) => ({
      op: o.op,
      args: o.args?.map((a) => a.py),
      buf: o.buf && toHex(o.buf),
      offset: o.offset,
    })),
  });
}

// --- the test ---------------------------------------------------------------------------

const hasPython = python3Available(["struct", "json"]);

Deno.test({
  name: hasPython
    ? "struct.ts agrees with python3's struct on random formats and values"
    : "struct.ts vs python3's struct: SKIPPED, python3 is missing",
  ignore: !hasPython,
  async fn() {
    rand = rng(SEED);
    const started = performance.now();
    const cases: { fmt: string; ops: Op[] }[] = [];
    for (let k = 0; k < CASES; k++) {
      const fmt = randomFormat();
      cases.push({ fmt, ops: randomOps(fmt) });
    }
    const request = cases.map((c) => wire(c.fmt, c.ops)).join("\n") + "\n";
    const stdout = await runPythonText(ORACLE, request, {
      isolated: true,
      timeoutMs: 60_000,
      context: `seed ${SEED}`,
    });
    assert.ok(stdout !== undefined, "python3 went missing after the check at load time");
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, cases.length, `python3 answered ${lines.length} of ${cases.length}`);

    let compared = 0;
    const failures: string[] = [];
    const outcomes = new Map<string, { ok: number; error: number }>();
    cases.forEach((c, k) => {
      const python = JSON.parse(lines[k]) as string[];
      c.ops.forEach((op, j) => {
        compared++;
        const tally = outcomes.get(op.op) ?? { ok: 0, error: 0 };
        tally[python[j].startsWith("ok: ") ? "ok" : "error"]++;
        outcomes.set(op.op, tally);
        const js = runJs(c.fmt, op);
        if (js !== python[j] && failures.length < 5) {
          failures.push(
            `case ${k} ${JSON.stringify(c.fmt)} ${op.op}\n  request: ${wire(c.fmt, [op])}\n` +
              `  python3:   ${python[j]}\n  struct.ts: ${js}`,
          );
        }
      });
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    console.log(
      `struct vs python3: ${cases.length} cases, ${compared} operations compared, ` +
        `seed ${SEED}, ${seconds} s\n  ` +
        [...outcomes].map(([op, t]) => `${op}: ${t.ok} ok, ${t.error} errors`).join("; "),
    );
    assert.equal(
      failures.length,
      0,
      `struct.ts differs from python3 (replay with -- --seed=${SEED}):\n${failures.join("\n")}`,
    );
  },
});
