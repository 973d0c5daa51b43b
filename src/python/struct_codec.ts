/**
 * What a packed record looks like on the wire (SPEC §6), beyond the codec itself: the fields
 * of a struct format with their offsets, the same record in the other byte order, and the
 * JSON reply line a record server sends back with `--reply`.
 *
 * The reply is one line of JSON, ended by `\n`:
 *
 * ```json
 * {"format": "I 2s f", "hex": "0100000061620000cdcc2c40", "repr": "(1, b'ab', 2.700000047683716)",
 *  "values": [1, {"bytes": "6162"}, 2.700000047683716]}
 * ```
 *
 * - `values`: one item per unpacked value. An integer is a JSON number when it is within
 *   ±(2^53 − 1), else `{"int": "<decimal digits>"}` so no digit is lost; a float is a JSON
 *   number written as Python's `repr` writes it (`2.0`, `1e+16`), and NaN and the infinities
 *   are `{"float": "nan" | "inf" | "-inf"}`; `?` is `true` / `false`; `c`, `s` and `p` are
 *   `{"bytes": "<lowercase hex>"}`.
 * - `repr`: Python's `repr()` of the unpacked tuple; `hex`: the record as received, in hex;
 *   `format`: the struct format the server used.
 * - When no record could be read (the peer closed early): `{"error": "<what happened>",
 *   "hex": "<the bytes that did arrive>"}`.
 *
 * @example
 * ```ts
 * import { Struct } from "./struct.ts";
 * import { recordReply } from "./struct_codec.ts";
 * const s = new Struct("I 2s f");
 * const record = s.pack(1, new TextEncoder().encode("ab"), 2.7);
 * console.log(recordReply(s, record));
 * // {"format":"I 2s f","hex":"0100000061620000cdcc2c40","repr":"(1, b'ab', 2.700000047683716)","values":[1,{"bytes":"6162"},2.700000047683716]}
 * ```
 * @module
 */

import { calcsize, Struct, type StructValue } from "./struct.ts";
import { floatRepr, toHex } from "./repr.ts";

/** One item of a struct format: a code with its repeat count, where it sits in the record. */
export interface RecordField {
  /** The format code (`I`, `s`, `f`, ...). */
  code: string;
  /** The repeat count (for `s` and `p`: the length in bytes). */
  count: number;
  /** Byte offset of the item's first byte in the record (after any alignment padding). */
  offset: number;
  /** Size of one element in bytes (for `s`, `p` and `x`: 1). */
  size: number;
  /** How many values the item packs: 1 for `s` and `p`, 0 for `x`, else `count`. */
  values: number;
}

const CODES = "xcbB?hHiIlLqQnNefdspP";

/**
 * The items of `fmt`, in order, with offsets as the codec lays them out (native alignment
 * for `@`). Throws the codec's `StructError` for a bad format.
 *
 * @example
 * ```ts
 * import { recordFields } from "./struct_codec.ts";
 * recordFields("I 2s f").map((f) => `${f.code}@${f.offset}`); // ["I@0", "s@4", "f@8"]
 * ```
 */
export function recordFields(fmt: string): RecordField[] {
  calcsize(fmt); // validates the format, with the codec's messages
  const prefix = "@=<>!".includes(fmt[0] ?? "") ? fmt[0] : "";
  const tokens: { count: number; code: string; text: string }[] = [];
  for (const m of fmt.slice(prefix.length).matchAll(/(\d*)([A-Za-z?])/g)) {
    if (!CODES.includes(m[2])) continue; // calcsize above has already rejected it
    tokens.push({ count: m[1] === "" ? 1 : Number(m[1]), code: m[2], text: `${m[1]}${m[2]}` });
  }
  const fields: RecordField[] = [];
  let sofar = "";
  for (const t of tokens) {
    sofar += t.text;
    const bytewise = "spx".includes(t.code);
    const size = bytewise ? 1 : calcsize(prefix + t.code);
    const end = calcsize(prefix + sofar);
    fields.push({
      code: t.code,
      count: t.count,
      offset: end - t.count * size,
      size,
      values: t.code === "x" ? 0 : t.code === "s" || t.code === "p" ? 1 : t.count,
    });
  }
  return fields;
}

/**
 * The same record with every multi-byte number in the other byte order (padding, bytes and
 * one-byte items unchanged): what a peer using the opposite byte order would send.
 *
 * @example
 * ```ts
 * import { fromHex, toHex } from "./repr.ts";
 * import { swapByteOrder } from "./struct_codec.ts";
 * toHex(swapByteOrder("I 2s f", fromHex("0100000061620000cdcc2c40")));
 * // "0000000161620000402ccccd"
 * ```
 */
export function swapByteOrder(fmt: string, record: Uint8Array): Uint8Array {
  const out = record.slice();
  for (const f of recordFields(fmt)) {
    if (f.size < 2 || "spx".includes(f.code)) continue;
    for (let i = 0; i < f.count; i++) {
      const at = f.offset + i * f.size;
      out.set(record.slice(at, at + f.size).reverse(), at);
    }
  }
  return out;
}

/**
 * The byte order of `fmt`'s numbers on this host: `little` for `<` (and for `@`, `=` or no
 * prefix on a little-endian host), `big` for `>` and `!`.
 *
 * @example
 * ```ts
 * import { byteOrderOf } from "./struct_codec.ts";
 * byteOrderOf("!I 2s f"); // "big"
 * ```
 */
export function byteOrderOf(fmt: string): "little" | "big" {
  const prefix = fmt[0];
  if (prefix === ">" || prefix === "!") return "big";
  if (prefix === "<") return "little";
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "little" : "big";
}

/** The JSON text of one reply value (see the module doc). */
function valueJson(code: string, v: StructValue): string {
  if (v instanceof Uint8Array) return `{"bytes":"${toHex(v)}"}`;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") {
    return v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? v.toString() : `{"int":"${v}"}`;
  }
  if ("efd".includes(code)) {
    return Number.isFinite(v) ? floatRepr(v) : `{"float":"${floatRepr(v)}"}`;
  }
  return Number.isSafeInteger(v) ? String(v) : `{"int":"${BigInt(v)}"}`;
}

/**
 * The JSON text of `values` (as `struct.unpack(fmt)` gives them) for a reply's `values`.
 *
 * @example
 * ```ts
 * import { valuesJson } from "./struct_codec.ts";
 * valuesJson("<d?", [2, true]); // "[2.0,true]"
 * ```
 */
export function valuesJson(fmt: string, values: readonly StructValue[]): string {
  const codes = recordFields(fmt).flatMap((f) => Array<string>(f.values).fill(f.code));
  return `[${values.map((v, i) => valueJson(codes[i] ?? "", v)).join(",")}]`;
}

/**
 * The reply line (without its `\n`) for a record that `struct` decodes.
 *
 * @example
 * ```ts
 * import { Struct } from "./struct.ts";
 * import { recordReply } from "./struct_codec.ts";
 * const s = new Struct("<H");
 * recordReply(s, s.pack(7)); // '{"format":"<H","hex":"0700","repr":"(7,)","values":[7]}'
 * ```
 */
export function recordReply(struct: Struct, record: Uint8Array): string {
  const values = struct.unpack(record);
  return `{"format":${JSON.stringify(struct.format)},"hex":"${toHex(record)}","repr":${
    JSON.stringify(struct.repr(values))
  },"values":${valuesJson(struct.format, values)}}`;
}

/**
 * The reply line (without its `\n`) when no record could be read.
 *
 * @example
 * ```ts
 * import { errorReply } from "./struct_codec.ts";
 * errorReply("short record: 4 of 12 bytes", new Uint8Array([1, 0, 0, 0]));
 * // '{"error":"short record: 4 of 12 bytes","hex":"01000000"}'
 * ```
 */
export function errorReply(message: string, received: Uint8Array): string {
  return `{"error":${JSON.stringify(message)},"hex":"${toHex(received)}"}`;
}
