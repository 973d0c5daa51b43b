/**
 * Python-style `repr()` of bytes and values, and hex, as the tutorials print them.
 *
 * Every report, transcript and evidence block in sockspec shows bytes the way Python shows
 * them, so this is the one place that knows how.
 *
 * @example
 * ```ts
 * import { bytesRepr, toHex } from "./repr.ts";
 * const data = new TextEncoder().encode("it's\n");
 * console.log(bytesRepr(data)); // b"it's\n"
 * console.log(toHex(data)); // 6974277320a
 * ```
 * @module
 */

const HEX = "0123456789abcdef";

/**
 * Python's `repr()` of a `bytes` object: `b'...'` with `\\`, `\'`, `\t`, `\n`, `\r` and
 * `\xNN` escapes, or `b"..."` when the data holds `'` but no `"`.
 *
 * @example
 * ```ts
 * import { bytesRepr } from "./repr.ts";
 * bytesRepr(new Uint8Array([0x61, 0x00, 0x27])); // "b\"a\\x00'\""
 * ```
 */
export function bytesRepr(data: Uint8Array): string {
  const quote = data.includes(0x27) && !data.includes(0x22) ? '"' : "'";
  let out = "b" + quote;
  for (const byte of data) out += byte === 0x27 && quote === '"' ? "'" : ESCAPED[byte];
  return out + quote;
}

/**
 * Writes the UTF-8 of `prefix + bytesRepr(data) + suffix` into `out` at `at` and returns
 * where it ends: the same text as {@linkcode bytesRepr}, without building strings (the
 * reference echo server prints one such line per 16 bytes of a stream). `out` needs room for
 * `prefix.length + 3 + 4 * data.length + suffix.length` bytes; `prefix` and `suffix` are
 * ASCII.
 *
 * @example
 * ```ts
 * import { writeBytesRepr } from "./repr.ts";
 * const out = new Uint8Array(64);
 * const end = writeBytesRepr(new Uint8Array([0x61, 0x27, 0x0a]), out, 0, "received ", "\n");
 * new TextDecoder().decode(out.subarray(0, end)); // "received b\"a'\\n\"\n"
 * ```
 */
export function writeBytesRepr(
  data: Uint8Array,
  out: Uint8Array,
  at: number,
  prefix = "",
  suffix = "",
): number {
  const quote = data.includes(0x27) && !data.includes(0x22) ? 0x22 : 0x27;
  for (let i = 0; i < prefix.length; i++) out[at++] = prefix.charCodeAt(i);
  out[at++] = 0x62; // b
  out[at++] = quote;
  for (const byte of data) {
    if (byte === 0x27 && quote === 0x22) {
      out[at++] = 0x27;
      continue;
    }
    const escaped = ESCAPED_BYTES[byte];
    for (let i = 0; i < escaped.length; i++) out[at++] = escaped[i];
  }
  out[at++] = quote;
  for (let i = 0; i < suffix.length; i++) out[at++] = suffix.charCodeAt(i);
  return at;
}

/** How each byte shows inside `b'...'` (a `'` escaped; `b"..."` shows it bare). */
const ESCAPED: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  if (byte === 0x5c) return "\\\\";
  if (byte === 0x09) return "\\t";
  if (byte === 0x0a) return "\\n";
  if (byte === 0x0d) return "\\r";
  if (byte === 0x27) return "\\'";
  if (byte < 0x20 || byte >= 0x7f) return "\\x" + HEX[byte >> 4] + HEX[byte & 15];
  return String.fromCharCode(byte);
});

/** {@linkcode ESCAPED} as ASCII bytes. */
const ESCAPED_BYTES: readonly Uint8Array[] = ESCAPED.map((text) =>
  Uint8Array.from(text, (c) => c.charCodeAt(0))
);

/**
 * Lowercase hex of bytes, as Python's `binascii.hexlify(data)` or `data.hex()` gives it.
 *
 * @example
 * ```ts
 * import { toHex } from "./repr.ts";
 * toHex(new Uint8Array([1, 0, 0xcd])); // "0100cd"
 * ```
 */
export function toHex(data: Uint8Array): string {
  let out = "";
  for (const byte of data) out += HEX[byte >> 4] + HEX[byte & 15];
  return out;
}

/**
 * Bytes from hex text (whitespace ignored); throws on odd length or a non-hex digit.
 *
 * @example
 * ```ts
 * import { fromHex } from "./repr.ts";
 * fromHex("7f000001"); // Uint8Array [127, 0, 0, 1]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new Error(`not a hex string: ${JSON.stringify(hex.slice(0, 40))}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Python's `repr()` of a float: the shortest digits that round-trip, in fixed notation
 * with a `.0` when the exponent is small, else `1e+16` style.
 *
 * @example
 * ```ts
 * import { floatRepr } from "./repr.ts";
 * floatRepr(Math.fround(2.7)); // "2.700000047683716"
 * floatRepr(1); // "1.0"
 * floatRepr(1e16); // "1e+16"
 * ```
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  // toExponential() without an argument gives the shortest round-tripping digits.
  const [mantissa, exp] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const decpt = Number(exp) + 1; // value = 0.DIGITS × 10^decpt
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const m = digits.length === 1 ? digits : digits[0] + "." + digits.slice(1);
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** A value that {@linkcode pyRepr} can show: what unpacking a struct or a JSON line gives. */
export type PyValue =
  | number
  | bigint
  | boolean
  | string
  | null
  | Uint8Array
  | PyFloat
  | readonly PyValue[];

/**
 * Marks a JavaScript number as a Python `float`, so that `1` prints as `1.0`.
 *
 * @example
 * ```ts
 * import { PyFloat, pyRepr } from "./repr.ts";
 * pyRepr([1, new PyFloat(1)]); // "(1, 1.0)"
 * ```
 */
export class PyFloat {
  /** Wraps `value`, which is shown with {@linkcode floatRepr}. */
  constructor(readonly value: number) {}
}

/**
 * Python's `repr()` of a value. Arrays print as tuples; plain numbers print as `int` when
 * they are integers and as `float` otherwise (wrap in {@linkcode PyFloat} to force float).
 *
 * @example
 * ```ts
 * import { PyFloat, pyRepr } from "./repr.ts";
 * const bytes = new TextEncoder().encode("ab");
 * pyRepr([1, bytes, new PyFloat(Math.fround(2.7))]); // "(1, b'ab', 2.700000047683716)"
 * ```
 */
export function pyRepr(value: PyValue): string {
  if (value === null) return "None";
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (value instanceof Uint8Array) return bytesRepr(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => pyRepr(v));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  switch (typeof value) {
    case "boolean":
      return value ? "True" : "False";
    case "bigint":
      return value.toString();
    case "number":
      return Number.isInteger(value) ? value.toFixed(0) : floatRepr(value);
    case "string":
      return strRepr(value);
  }
  throw new TypeError(`pyRepr: cannot show ${typeof value}`);
}

function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === quote) out += "\\" + ch;
    else if (code < 0x20 || code === 0x7f) out += "\\x" + HEX[code >> 4] + HEX[code & 15];
    else out += ch;
  }
  return out + quote;
}
