/**
 * Packed binary records, equal to CPython 3.11's `struct` module on x86-64 Linux.
 *
 * Formats, sizes, alignment, byte order, packed bytes and error messages follow
 * `struct.pack`, `struct.unpack` and friends, checked against python3 by a property test
 * (`struct_cpython_test.ts`). The `@` (default) prefix means native size and alignment of
 * x86-64 Linux: `l`, `L`, `n`, `N`, `P` are 8 bytes, and items are aligned to their size.
 *
 * Values, in JavaScript terms:
 *
 * - Integer codes (`b B h H i I l L q Q n N P`) pack a `number` that is an integer, a
 *   `bigint` or a `boolean` (Python's `bool` is an `int`). A number that is not an integer
 *   (`1.5`, `NaN`, `Infinity`) raises `required argument is not an integer`. JavaScript cannot
 *   tell `2.0` from `2`, so an integral number is always an integer here, where Python would
 *   reject the float `2.0`. Unpacking gives a `number`, or a `bigint` for the 8-byte codes
 *   (`q Q`, and native `l L n N P`).
 * - Float codes (`e f d`) pack a `number` (a Python float), a `bigint` (a Python int) or a
 *   `boolean`, and unpack to a plain `number`. `e` is IEEE half precision rounded half to
 *   even. NaN packs as the positive quiet NaN, as `float('nan')` does.
 * - `?` packs any value by Python truthiness (`NaN` is true, an empty `Uint8Array` or string
 *   is false) and unpacks to a `boolean`.
 * - `c`, `s`, `p` pack and unpack `Uint8Array`s (unpacked ones are fresh copies).
 *
 * Python prints an unpacked `2.0` as `2.0` but JavaScript as `2`, so to show unpacked values
 * as Python shows the tuple use {@linkcode reprValues} or {@linkcode Struct.repr}.
 *
 * Errors: Python's `struct.error` is {@linkcode StructError}; Python's `OverflowError`
 * (`float too large to pack with f format`) is a `RangeError`; Python's `UnicodeEncodeError`
 * for a non-ASCII format is a `RangeError`; the `SystemError` that CPython raises when
 * unpacking `0p` is a plain `Error`. Messages are CPython's, word for word. Struct sizes
 * above `Number.MAX_SAFE_INTEGER` raise `total struct size too long` (CPython allows up to
 * 2**63-1 but could never allocate them either).
 *
 * @example
 * ```ts
 * import { Struct } from "./struct.ts";
 * const record = new Struct("I 2s f");
 * const bytes = record.pack(1, new TextEncoder().encode("ab"), 2.7);
 * console.log(record.size); // 12
 * console.log(record.repr(record.unpack(bytes))); // (1, b'ab', 2.700000047683716)
 * ```
 * @module
 */

import { PyFloat, pyRepr, type PyValue } from "./repr.ts";

/**
 * Python's `struct.error`: a bad format, a value that does not fit, a wrong number of
 * values or a buffer of the wrong size. The message is CPython 3.11's.
 *
 * @example
 * ```ts
 * import { pack, StructError } from "./struct.ts";
 * try {
 *   pack("b", 200);
 * } catch (e) {
 *   console.log(e instanceof StructError, (e as Error).message);
 *   // true byte format requires -128 <= number <= 127
 * }
 * ```
 */
export class StructError extends Error {
  /** Creates the error with CPython's message. */
  constructor(message: string) {
    super(message);
    this.name = "StructError";
  }
}

/**
 * A value that packs into, or unpacks from, one item of a struct: `number` or `bigint` for
 * integers, `number` for floats, `boolean` for `?`, `Uint8Array` for `c`, `s` and `p`.
 */
export type StructValue = number | bigint | boolean | Uint8Array;

/** Bytes to unpack from: a `Uint8Array`, any other typed array or `DataView`, or an `ArrayBuffer`. */
export type BytesLike = ArrayBufferView | ArrayBuffer;

const SSIZE_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);
const ULONG_MAX = (1n << 64n) - 1n;

type Mode = "native" | "little" | "big";

interface Entry {
  size: number;
  align: number;
}

const NATIVE: Record<string, Entry> = {
  x: { size: 1, align: 0 },
  b: { size: 1, align: 0 },
  B: { size: 1, align: 0 },
  c: { size: 1, align: 0 },
  s: { size: 1, align: 0 },
  p: { size: 1, align: 0 },
  h: { size: 2, align: 2 },
  H: { size: 2, align: 2 },
  i: { size: 4, align: 4 },
  I: { size: 4, align: 4 },
  l: { size: 8, align: 8 },
  L: { size: 8, align: 8 },
  q: { size: 8, align: 8 },
  Q: { size: 8, align: 8 },
  n: { size: 8, align: 8 },
  N: { size: 8, align: 8 },
  "?": { size: 1, align: 1 },
  e: { size: 2, align: 2 },
  f: { size: 4, align: 4 },
  d: { size: 8, align: 8 },
  P: { size: 8, align: 8 },
};

const STANDARD: Record<string, Entry> = {
  x: { size: 1, align: 0 },
  b: { size: 1, align: 0 },
  B: { size: 1, align: 0 },
  c: { size: 1, align: 0 },
  s: { size: 1, align: 0 },
  p: { size: 1, align: 0 },
  h: { size: 2, align: 0 },
  H: { size: 2, align: 0 },
  i: { size: 4, align: 0 },
  I: { size: 4, align: 0 },
  l: { size: 4, align: 0 },
  L: { size: 4, align: 0 },
  q: { size: 8, align: 0 },
  Q: { size: 8, align: 0 },
  "?": { size: 1, align: 0 },
  e: { size: 2, align: 0 },
  f: { size: 4, align: 0 },
  d: { size: 8, align: 0 },
};

const FLOAT_CODES = "efd";

/** How an integer code checks its range, as the CPython pack function for it does. */
interface IntRule {
  /** Accepted range of the Python-level conversion (get_long, get_ulong, ...). */
  lo: bigint;
  hi: bigint;
  /** Message when outside [lo, hi]. */
  outer: string;
  /** Narrower range of the code itself, with its message (checked after the outer one). */
  inner?: [bigint, bigint, string];
  /**
   * CPython's `_PyLong_AsByteArray` (big-endian `q`, `Q`) has written the low 8 bytes of the
   * two's complement when it finds the overflow (except for a negative unsigned value).
   */
  partial?: boolean;
}

function rangeMessage(code: string, size: number, unsigned: boolean): string {
  const bits = BigInt(size * 8);
  if (unsigned) return `'${code}' format requires 0 <= number <= ${(1n << bits) - 1n}`;
  const largest = (1n << (bits - 1n)) - 1n;
  return `'${code}' format requires ${-largest - 1n} <= number <= ${largest}`;
}

const OUT_OF_RANGE = "argument out of range";
const TOO_LARGE = "int too large to convert";

function intRule(code: string, mode: Mode): IntRule {
  const signedLong = (inner?: [bigint, bigint, string]): IntRule => ({
    lo: LONG_MIN,
    hi: SSIZE_MAX,
    outer: OUT_OF_RANGE,
    inner,
  });
  const unsignedLong = (inner?: [bigint, bigint, string]): IntRule => ({
    lo: 0n,
    hi: ULONG_MAX,
    outer: OUT_OF_RANGE,
    inner,
  });
  switch (code) {
    case "b":
      return signedLong([-128n, 127n, "byte format requires -128 <= number <= 127"]);
    case "B":
      return signedLong([0n, 255n, "ubyte format requires 0 <= number <= 255"]);
  }
  if (mode === "big") {
    switch (code) {
      case "h":
      case "i":
      case "l": {
        const size = STANDARD[code].size;
        const half = 1n << BigInt(size * 8 - 1);
        return signedLong([-half, half - 1n, rangeMessage(code, size, false)]);
      }
      case "H":
      case "I":
      case "L": {
        const size = STANDARD[code].size;
        return unsignedLong([0n, (1n << BigInt(size * 8)) - 1n, rangeMessage(code, size, true)]);
      }
      case "q":
        return { lo: LONG_MIN, hi: SSIZE_MAX, outer: TOO_LARGE, partial: true };
      case "Q":
        return { lo: 0n, hi: ULONG_MAX, outer: TOO_LARGE, partial: true };
    }
  }
  // Native, and little-endian (which CPython serves with the native functions where the
  // sizes agree, so `<h` speaks of "short format" just as `@h` does).
  switch (code) {
    case "h":
      return signedLong([-32768n, 32767n, "short format requires -32768 <= number <= 32767"]);
    case "H":
      return signedLong([0n, 65535n, "ushort format requires 0 <= number <= 65535"]);
    case "i":
      return signedLong([-(1n << 31n), (1n << 31n) - 1n, rangeMessage("i", 4, false)]);
    case "I":
      return unsignedLong([0n, (1n << 32n) - 1n, rangeMessage("I", 4, true)]);
    case "l":
      return mode === "native"
        ? signedLong()
        : signedLong([-(1n << 31n), (1n << 31n) - 1n, rangeMessage("l", 4, false)]);
    case "L":
      return mode === "native"
        ? unsignedLong()
        : unsignedLong([0n, (1n << 32n) - 1n, rangeMessage("L", 4, true)]);
    case "q":
    case "n":
      return signedLong();
    case "Q":
    case "N":
      return unsignedLong();
    case "P":
      return { lo: LONG_MIN, hi: ULONG_MAX, outer: TOO_LARGE };
  }
  throw new Error(`struct.ts: no integer rule for ${code}`);
}

/** One packed item group: `repeat` items of `size` bytes each from `offset`. */
interface Code {
  code: string;
  offset: number;
  size: number;
  repeat: number;
  rule?: IntRule;
}

interface Layout {
  size: number;
  items: number;
  codes: Code[];
  mode: Mode;
}

const SPACE = /[ \t\n\v\f\r]/;

function checkAscii(fmt: string): void {
  const points = Array.from(fmt);
  const start = points.findIndex((ch) => ch.codePointAt(0)! > 0x7f);
  if (start < 0) return;
  let end = start;
  while (end < points.length && points[end].codePointAt(0)! > 0x7f) end++;
  const head = "'ascii' codec can't encode";
  const tail = "ordinal not in range(128)";
  if (end - start > 1) {
    throw new RangeError(`${head} characters in position ${start}-${end - 1}: ${tail}`);
  }
  const cp = points[start].codePointAt(0)!;
  const hex = cp < 0x100
    ? "\\x" + cp.toString(16).padStart(2, "0")
    : cp < 0x10000
    ? "\\u" + cp.toString(16).padStart(4, "0")
    : "\\U" + cp.toString(16).padStart(8, "0");
  throw new RangeError(`${head} character '${hex}' in position ${start}: ${tail}`);
}

function parse(fmt: string): Layout {
  if (typeof fmt !== "string") {
    throw new TypeError(`Struct() argument 1 must be a str or bytes object, not ${typeof fmt}`);
  }
  checkAscii(fmt);
  if (fmt.includes("\0")) throw new StructError("embedded null character");
  let mode: Mode = "native";
  let i = 0;
  switch (fmt[0]) {
    case "<":
    case "=":
      mode = "little";
      i = 1;
      break;
    case ">":
    case "!":
      mode = "big";
      i = 1;
      break;
    case "@":
      i = 1;
  }
  const table = mode === "native" ? NATIVE : STANDARD;
  const tooLong = () => new StructError("total struct size too long");
  let size = 0n;
  let items = 0;
  const codes: Code[] = [];
  while (i < fmt.length) {
    let c = fmt[i++];
    if (SPACE.test(c)) continue;
    let num = 1n;
    if (c >= "0" && c <= "9") {
      num = BigInt(c);
      for (c = fmt[i++]; c !== undefined && c >= "0" && c <= "9"; c = fmt[i++]) {
        num = num * 10n + BigInt(c);
        if (num > SSIZE_MAX) throw tooLong();
      }
      if (c === undefined) {
        throw new StructError("repeat count given without format specifier");
      }
    }
    const entry = Object.hasOwn(table, c) ? table[c] : undefined;
    if (entry === undefined) throw new StructError("bad char in struct format");
    if (entry.align && size > 0n) {
      const a = BigInt(entry.align);
      size += (a - 1n) - (size - 1n) % a;
      if (size > SSIZE_MAX) throw tooLong();
    }
    const itemSize = BigInt(entry.size);
    if (num > (SSIZE_MAX - size) / itemSize) throw tooLong();
    const offset = Number(size);
    size += num * itemSize;
    if (c === "s" || c === "p") {
      items++;
      codes.push({ code: c, offset, size: Number(num), repeat: 1 });
    } else if (c !== "x" && num > 0n) {
      items += Number(num);
      const rule = "bBhHiIlLqQnNP".includes(c) ? intRule(c, mode) : undefined;
      codes.push({ code: c, offset, size: entry.size, repeat: Number(num), rule });
    }
  }
  // CPython allows sizes up to 2**63-1; JavaScript cannot address them, nor count them exactly.
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw tooLong();
  return { size: Number(size), items, codes, mode };
}

// ---------------------------------------------------------------------------------------
// Values

/** Python's `bool(value)` for the JavaScript stand-ins of Python values. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0; // NaN is true, as in Python
    case "bigint":
      return v !== 0n;
    case "string":
      return v.length > 0;
  }
  if (ArrayBuffer.isView(v)) return v.byteLength > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function toInt(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw new StructError("required argument is not an integer");
}

/** Python's PyFloat_AsDouble: a float, or an int converted (struct.error when too big). */
function toFloat(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") {
    const x = Number(v);
    if (Number.isFinite(x)) return x;
  }
  throw new StructError("required argument is not a float");
}

/** The error CPython gives when a float does not fit `code` (int arguments differ). */
function floatOverflow(v: unknown, code: string): Error {
  return typeof v === "number"
    ? new RangeError(`float too large to pack with ${code} format`)
    : new StructError(TOO_LARGE);
}

const scratch = new DataView(new ArrayBuffer(8));

/** CPython's PyFloat_Pack2 (IEEE half precision, round half to even), as 16 bits; or -1. */
function halfBits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  if (x === Infinity) return 0x7c00;
  if (x === -Infinity) return 0xfc00;
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 ? 0x8000 : 0;
  if (sign) x = -x;
  scratch.setFloat64(0, x);
  const biased = (scratch.getUint16(0) >> 4) & 0x7ff;
  if (biased === 0) return sign; // a double subnormal: far below 2**-25
  let e = biased - 1023; // x = f * 2**e with f in [1, 2)
  let f = x / 2 ** e;
  if (e >= 16) return -1;
  if (e < -25) {
    f = 0;
    e = 0;
  } else if (e < -14) {
    f = f * 2 ** (14 + e);
    e = 0;
  } else {
    e += 15;
    f -= 1;
  }
  f *= 1024;
  let bits = Math.trunc(f);
  if (f - bits > 0.5 || (f - bits === 0.5 && bits % 2 === 1)) {
    bits++;
    if (bits === 1024) {
      bits = 0;
      e++;
      if (e === 31) return -1;
    }
  }
  return sign | (e << 10) | bits;
}

/** CPython's PyFloat_Unpack2. */
function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0x1f) return f === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * (f / 1024) * 2 ** -14;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

// ---------------------------------------------------------------------------------------
// Packing and unpacking

function view(data: BytesLike): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`a bytes-like object is required, not '${typeof data}'`);
}

function checkOffset(offset: number): void {
  if (typeof offset !== "number" || !Number.isInteger(offset)) {
    throw new TypeError(`'${typeof offset}' object cannot be interpreted as an integer`);
  }
}

function writeInt(dv: DataView, at: number, size: number, little: boolean, v: bigint): void {
  const u = BigInt.asUintN(size * 8, v);
  switch (size) {
    case 1:
      dv.setUint8(at, Number(u));
      return;
    case 2:
      dv.setUint16(at, Number(u), little);
      return;
    case 4:
      dv.setUint32(at, Number(u), little);
      return;
    default:
      dv.setBigUint64(at, u, little);
  }
}

function packItem(
  layout: Layout,
  code: Code,
  target: Uint8Array,
  dv: DataView,
  at: number,
  v: unknown,
): void {
  const little = layout.mode !== "big";
  const c = code.code;
  if (code.rule) {
    const n = toInt(v);
    const rule = code.rule;
    if (n < rule.lo || n > rule.hi) {
      if (rule.partial && (rule.lo < 0n || n >= 0n)) writeInt(dv, at, code.size, little, n);
      throw new StructError(rule.outer);
    }
    if (rule.inner && (n < rule.inner[0] || n > rule.inner[1])) {
      throw new StructError(rule.inner[2]);
    }
    writeInt(dv, at, code.size, little, n);
    return;
  }
  switch (c) {
    case "?":
      target[at] = truthy(v) ? 1 : 0;
      return;
    case "c":
      if (!(v instanceof Uint8Array) || v.length !== 1) {
        throw new StructError("char format requires a bytes object of length 1");
      }
      target[at] = v[0];
      return;
    case "s":
    case "p": {
      if (!(v instanceof Uint8Array)) {
        throw new StructError(`argument for '${c}' must be a bytes object`);
      }
      if (c === "s") {
        target.set(v.subarray(0, code.size), at);
        return;
      }
      let n = Math.min(v.length, code.size - 1);
      if (n > 0) target.set(v.subarray(0, n), at + 1);
      if (n > 255) n = 255;
      // For `0p`, CPython writes the length byte (255) just past the item; do the same when
      // that byte is inside the buffer.
      if (at < target.length) target[at] = n & 0xff;
      return;
    }
    case "e": {
      const bits = halfBits(toFloat(v));
      if (bits < 0) throw floatOverflow(v, "e");
      dv.setUint16(at, bits, little);
      return;
    }
    case "f": {
      const x = toFloat(v);
      if (Number.isNaN(x)) dv.setUint32(at, 0x7fc00000, little);
      else {
        const y = Math.fround(x);
        if (layout.mode !== "native" && !Number.isFinite(y) && Number.isFinite(x)) {
          throw floatOverflow(v, "f");
        }
        dv.setFloat32(at, y, little);
      }
      return;
    }
    case "d": {
      const x = toFloat(v);
      if (Number.isNaN(x)) dv.setBigUint64(at, 0x7ff8000000000000n, little);
      else dv.setFloat64(at, x, little);
      return;
    }
  }
  throw new Error(`struct.ts: cannot pack code ${c}`);
}

function packInternal(
  layout: Layout,
  target: Uint8Array,
  base: number,
  values: readonly unknown[],
): void {
  target.fill(0, base, base + layout.size);
  const dv = new DataView(target.buffer, target.byteOffset, target.byteLength);
  let k = 0;
  for (const code of layout.codes) {
    let at = base + code.offset;
    for (let j = 0; j < code.repeat; j++) {
      packItem(layout, code, target, dv, at, values[k++]);
      at += code.size;
    }
  }
}

function unpackInternal(layout: Layout, data: Uint8Array, base: number): StructValue[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = layout.mode !== "big";
  const native = layout.mode === "native";
  const out: StructValue[] = [];
  for (const code of layout.codes) {
    let at = base + code.offset;
    const c = code.code;
    for (let j = 0; j < code.repeat; j++, at += code.size) {
      switch (c) {
        case "b":
          out.push(dv.getInt8(at));
          break;
        case "B":
          out.push(dv.getUint8(at));
          break;
        case "?":
          out.push(dv.getUint8(at) !== 0);
          break;
        case "c":
          out.push(data.slice(at, at + 1));
          break;
        case "s":
          out.push(data.slice(at, at + code.size));
          break;
        case "p": {
          if (code.size === 0) {
            // CPython 3.11 raises SystemError here.
            throw new Error("Negative size passed to PyBytes_FromStringAndSize");
          }
          const n = Math.min(data[at], code.size - 1);
          out.push(data.slice(at + 1, at + 1 + n));
          break;
        }
        case "h":
          out.push(dv.getInt16(at, little));
          break;
        case "H":
          out.push(dv.getUint16(at, little));
          break;
        case "i":
          out.push(dv.getInt32(at, little));
          break;
        case "I":
          out.push(dv.getUint32(at, little));
          break;
        case "l":
          out.push(native ? dv.getBigInt64(at, little) : dv.getInt32(at, little));
          break;
        case "L":
          out.push(native ? dv.getBigUint64(at, little) : dv.getUint32(at, little));
          break;
        case "q":
        case "n":
          out.push(dv.getBigInt64(at, little));
          break;
        case "Q":
        case "N":
        case "P":
          out.push(dv.getBigUint64(at, little));
          break;
        case "e":
          out.push(fromHalf(dv.getUint16(at, little)));
          break;
        case "f":
          out.push(dv.getFloat32(at, little));
          break;
        case "d":
          out.push(dv.getFloat64(at, little));
          break;
        default:
          throw new Error(`struct.ts: cannot unpack code ${c}`);
      }
    }
  }
  return out;
}

/**
 * A compiled format, as Python's `struct.Struct`.
 *
 * @example
 * ```ts
 * import { Struct } from "./struct.ts";
 * const s = new Struct("!HH");
 * const buf = new Uint8Array(6);
 * s.packInto(buf, 2, 1, 0x0203);
 * console.log(buf); // Uint8Array(6) [0, 0, 0, 1, 2, 3]
 * console.log(s.unpackFrom(buf, 2)); // [1, 515]
 * ```
 */
export class Struct {
  /** The format string, as given. */
  readonly format: string;
  /** Size in bytes of one packed record (Python's `calcsize(format)`). */
  readonly size: number;
  #layout: Layout;

  /** Compiles `format`; throws {@linkcode StructError} for a bad one. */
  constructor(format: string) {
    this.#layout = parse(format);
    this.format = format;
    this.size = this.#layout.size;
  }

  /**
   * Packs `values` into a new `Uint8Array` of {@linkcode Struct.size} bytes.
   *
   * @example
   * ```ts
   * import { Struct } from "./struct.ts";
   * new Struct("<hq").pack(-2, 1n); // Uint8Array(10) [254, 255, 1, 0, 0, 0, 0, 0, 0, 0]
   * ```
   */
  pack(...values: StructValue[]): Uint8Array {
    const layout = this.#layout;
    if (values.length !== layout.items) {
      throw new StructError(
        `pack expected ${layout.items} items for packing (got ${values.length})`,
      );
    }
    const out = new Uint8Array(layout.size);
    packInternal(layout, out, 0, values);
    return out;
  }

  /**
   * Packs `values` into `buffer` at `offset` (negative counts from the end), as Python's
   * `pack_into`.
   *
   * @example
   * ```ts
   * import { Struct } from "./struct.ts";
   * const buf = new Uint8Array(4);
   * new Struct(">H").packInto(buf, -2, 0xabcd); // buf is [0, 0, 0xab, 0xcd]
   * ```
   */
  packInto(buffer: Uint8Array, offset: number, ...values: StructValue[]): void {
    const layout = this.#layout;
    if (values.length !== layout.items) {
      throw new StructError(
        `pack_into expected ${layout.items} items for packing (got ${values.length})`,
      );
    }
    const target = view(buffer);
    checkOffset(offset);
    const size = layout.size;
    if (offset < 0) {
      if (offset + size > 0) {
        throw new StructError(`no space to pack ${size} bytes at offset ${offset}`);
      }
      if (offset + target.length < 0) {
        throw new StructError(`offset ${offset} out of range for ${target.length}-byte buffer`);
      }
      offset += target.length;
    }
    if (target.length - offset < size) {
      throw new StructError(
        `pack_into requires a buffer of at least ${size + offset} bytes for packing ${size} ` +
          `bytes at offset ${offset} (actual buffer size is ${target.length})`,
      );
    }
    packInternal(layout, target, offset, values);
  }

  /**
   * Unpacks a buffer of exactly {@linkcode Struct.size} bytes.
   *
   * @example
   * ```ts
   * import { Struct } from "./struct.ts";
   * new Struct("<I?").unpack(new Uint8Array([1, 0, 0, 0, 1])); // [1, true]
   * ```
   */
  unpack(buffer: BytesLike): StructValue[] {
    const data = view(buffer);
    if (data.length !== this.size) {
      throw new StructError(`unpack requires a buffer of ${this.size} bytes`);
    }
    return unpackInternal(this.#layout, data, 0);
  }

  /**
   * Unpacks one record from `buffer` at `offset` (negative counts from the end); the buffer
   * may be longer, as Python's `unpack_from`.
   *
   * @example
   * ```ts
   * import { Struct } from "./struct.ts";
   * new Struct("B").unpackFrom(new Uint8Array([1, 2, 3]), -1); // [3]
   * ```
   */
  unpackFrom(buffer: BytesLike, offset = 0): StructValue[] {
    const data = view(buffer);
    checkOffset(offset);
    const size = this.size;
    if (offset < 0) {
      if (offset + size > 0) {
        throw new StructError(`not enough data to unpack ${size} bytes at offset ${offset}`);
      }
      if (offset + data.length < 0) {
        throw new StructError(`offset ${offset} out of range for ${data.length}-byte buffer`);
      }
      offset += data.length;
    }
    if (data.length - offset < size) {
      throw new StructError(
        `unpack_from requires a buffer of at least ${size + offset} bytes for unpacking ` +
          `${size} bytes at offset ${offset} (actual buffer size is ${data.length})`,
      );
    }
    return unpackInternal(this.#layout, data, offset);
  }

  /**
   * Unpacks consecutive records; the buffer must hold a whole number of them. Errors are
   * raised at the call, records are read as the iterator advances.
   *
   * @example
   * ```ts
   * import { Struct } from "./struct.ts";
   * [...new Struct("<h").iterUnpack(new Uint8Array([1, 0, 255, 255]))]; // [[1], [-1]]
   * ```
   */
  iterUnpack(buffer: BytesLike): IterableIterator<StructValue[]> {
    const data = view(buffer);
    const size = this.size;
    if (size === 0) {
      throw new StructError("cannot iteratively unpack with a struct of length 0");
    }
    if (data.length % size !== 0) {
      throw new StructError(
        `iterative unpacking requires a buffer of a multiple of ${size} bytes`,
      );
    }
    const layout = this.#layout;
    return (function* () {
      for (let at = 0; at + size <= data.length; at += size) {
        yield unpackInternal(layout, data, at);
      }
    })();
  }

  /**
   * Python's `repr()` of the tuple of `values` (as {@linkcode Struct.unpack} returns them):
   * float items print as Python floats, so `2` from an `f` shows as `2.0`.
   *
   * @example
   * ```ts
   * import { Struct } from "./struct.ts";
   * const s = new Struct("<id");
   * s.repr(s.unpack(s.pack(1, 2))); // "(1, 2.0)"
   * ```
   */
  repr(values: readonly StructValue[]): string {
    const kinds: string[] = [];
    for (const code of this.#layout.codes) {
      for (let j = 0; j < code.repeat; j++) kinds.push(code.code);
    }
    const shown: PyValue[] = values.map((v, k) =>
      typeof v === "number" && FLOAT_CODES.includes(kinds[k] ?? "") ? new PyFloat(v) : v
    );
    return pyRepr(shown);
  }
}

const cache = new Map<string, Struct>();

function compiled(fmt: string): Struct {
  let s = cache.get(fmt);
  if (s === undefined) {
    s = new Struct(fmt);
    if (cache.size >= 100) cache.clear();
    cache.set(fmt, s);
  }
  return s;
}

/**
 * Size in bytes of a record of format `fmt`, as Python's `struct.calcsize`.
 *
 * @example
 * ```ts
 * import { calcsize } from "./struct.ts";
 * calcsize("I 2s f"); // 12 (native alignment pads the 2s)
 * calcsize("=I2sf"); // 10
 * ```
 */
export function calcsize(fmt: string): number {
  return compiled(fmt).size;
}

/**
 * Packs `values` by `fmt`, as Python's `struct.pack`.
 *
 * @example
 * ```ts
 * import { pack } from "./struct.ts";
 * pack(">Hb", 258, -1); // Uint8Array(3) [1, 2, 255]
 * ```
 */
export function pack(fmt: string, ...values: StructValue[]): Uint8Array {
  return compiled(fmt).pack(...values);
}

/**
 * Packs `values` by `fmt` into `buffer` at `offset`, as Python's `struct.pack_into`.
 *
 * @example
 * ```ts
 * import { packInto } from "./struct.ts";
 * const buf = new Uint8Array(3);
 * packInto("B", buf, 1, 7); // buf is [0, 7, 0]
 * ```
 */
export function packInto(
  fmt: string,
  buffer: Uint8Array,
  offset: number,
  ...values: StructValue[]
): void {
  compiled(fmt).packInto(buffer, offset, ...values);
}

/**
 * Unpacks `buffer` (exactly `calcsize(fmt)` bytes) by `fmt`, as Python's `struct.unpack`.
 *
 * @example
 * ```ts
 * import { unpack } from "./struct.ts";
 * unpack("<Hq", new Uint8Array([1, 0, 2, 0, 0, 0, 0, 0, 0, 0])); // [1, 2n]
 * ```
 */
export function unpack(fmt: string, buffer: BytesLike): StructValue[] {
  return compiled(fmt).unpack(buffer);
}

/**
 * Unpacks one record by `fmt` from `buffer` at `offset`, as Python's `struct.unpack_from`.
 *
 * @example
 * ```ts
 * import { unpackFrom } from "./struct.ts";
 * unpackFrom(">H", new Uint8Array([9, 1, 2]), 1); // [258]
 * ```
 */
export function unpackFrom(fmt: string, buffer: BytesLike, offset = 0): StructValue[] {
  return compiled(fmt).unpackFrom(buffer, offset);
}

/**
 * Unpacks consecutive records by `fmt`, as Python's `struct.iter_unpack`.
 *
 * @example
 * ```ts
 * import { iterUnpack } from "./struct.ts";
 * for (const [n] of iterUnpack("B", new Uint8Array([1, 2]))) console.log(n); // 1, then 2
 * ```
 */
export function iterUnpack(fmt: string, buffer: BytesLike): IterableIterator<StructValue[]> {
  return compiled(fmt).iterUnpack(buffer);
}

/**
 * Python's `repr()` of the tuple of `values` unpacked by `fmt`, e.g.
 * `(1, b'ab', 2.700000047683716)`; float items print as Python floats.
 *
 * @example
 * ```ts
 * import { reprValues, unpack } from "./struct.ts";
 * const data = new Uint8Array([1, 0, 0, 0, 0x61, 0x62, 0, 0, 0xcd, 0xcc, 0x2c, 0x40]);
 * reprValues("I 2s f", unpack("I 2s f", data)); // "(1, b'ab', 2.700000047683716)"
 * ```
 */
export function reprValues(fmt: string, values: readonly StructValue[]): string {
  return compiled(fmt).repr(values);
}
