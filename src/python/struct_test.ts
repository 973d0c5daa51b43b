import assert from "node:assert/strict";
import { fromHex, toHex } from "./repr.ts";
import {
  calcsize,
  iterUnpack,
  pack,
  packInto,
  reprValues,
  Struct,
  StructError,
  type StructValue,
  unpack,
  unpackFrom,
} from "./struct.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Asserts that `fn` throws `kind` with exactly `message`. */
function throwsExactly(
  fn: () => unknown,
  kind: new (message: string) => Error,
  message: string,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error && e.constructor === kind, `expected ${kind.name}: ${String(e)}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

Deno.test("SPEC §6 vector: Struct('I 2s f').pack(1, b'ab', 2.7)", () => {
  const s = new Struct("I 2s f");
  assert.equal(s.size, 12);
  assert.equal(s.format, "I 2s f");
  const data = s.pack(1, enc("ab"), 2.7);
  assert.equal(toHex(data), "0100000061620000cdcc2c40");
  const values = s.unpack(data);
  assert.deepEqual(values, [1, enc("ab"), Math.fround(2.7)]);
  assert.equal(s.repr(values), "(1, b'ab', 2.700000047683716)");
  assert.equal(reprValues("I 2s f", unpack("I 2s f", data)), "(1, b'ab', 2.700000047683716)");
  assert.equal(toHex(pack("=I2sf", 1, enc("ab"), 2.7)), "010000006162cdcc2c40");
});

Deno.test("calcsize: native size and alignment on x86-64, standard sizes otherwise", () => {
  const sizes: [string, number][] = [
    ["I 2s f", 12],
    ["=I2sf", 10],
    ["@", 0],
    ["", 0],
    ["c0i", 4],
    ["bhilqnNP", 48],
    ["<bhilq", 19],
    ["!bhilq", 19],
    ["xxi", 8],
    ["i?", 5],
    ["?i", 8],
    ["e?d", 16],
    ["3s2p", 5],
    ["hq", 16],
    ["0l", 0],
    ["5x", 5],
    ["\ti\n\v\f\ri ", 8],
    ["l", 8],
    ["<l", 4],
  ];
  for (const [fmt, size] of sizes) assert.equal(calcsize(fmt), size, JSON.stringify(fmt));
});

Deno.test("integers: 8-byte codes unpack to bigint, pack accepts number, bigint, boolean", () => {
  assert.equal(
    toHex(pack("<qQlL", -1, 2n ** 64n - 1n, -1n, 2 ** 32 - 1)),
    "ffffffffffffffffffffffffffffffffffffffffffffffff",
  );
  assert.deepEqual(unpack("@lLnNP", pack("@lLnNP", -1, 1, -2, 2, 3)), [-1n, 1n, -2n, 2n, 3n]);
  assert.deepEqual(unpack("<bBhHiIlL", pack("<bBhHiIlL", -1, 2, -3, 4, -5, 6, -7, 8)), [
    -1,
    2,
    -3,
    4,
    -5,
    6,
    -7,
    8,
  ]);
  assert.equal(toHex(pack(">i?", true, 2)), "0000000101");
  assert.equal(toHex(pack("P", -1)), "ffffffffffffffff");
  assert.equal(
    reprValues("<q?", unpack("<q?", fromHex("ffffffffffffff7f00"))),
    "(9223372036854775807, False)",
  );
});

Deno.test("'?' packs by Python truthiness", () => {
  const truthy: unknown[] = [true, 1, -1n, NaN, "x", enc("a"), [0]];
  const falsy: unknown[] = [false, 0, -0, 0n, "", new Uint8Array(), null, undefined, []];
  for (const v of truthy) assert.equal(pack("?", v as StructValue)[0], 1, String(v));
  for (const v of falsy) assert.equal(pack("?", v as StructValue)[0], 0, String(v));
  assert.deepEqual(unpack("??", new Uint8Array([0, 2])), [false, true]);
});

Deno.test("half precision 'e': CPython's values, round half to even", () => {
  const cases: [number, string, string][] = [
    [1.0, "003c", "1.0"],
    [65504, "ff7b", "65504.0"],
    [65519, "ff7b", "65504.0"],
    [2 ** -24, "0100", "5.960464477539063e-08"],
    [2 ** -25, "0000", "0.0"],
    [3 * 2 ** -26, "0100", "5.960464477539063e-08"],
    [1 + 2 ** -11, "003c", "1.0"],
    [1 + 3 * 2 ** -11, "023c", "1.001953125"],
    [NaN, "007e", "nan"],
    [-0, "0080", "-0.0"],
    [Infinity, "007c", "inf"],
    [0.1, "662e", "0.0999755859375"],
    [2 ** -14, "0004", "6.103515625e-05"],
    [-2.5, "00c1", "-2.5"],
  ];
  for (const [x, hex, shown] of cases) {
    const data = pack("<e", x);
    assert.equal(toHex(data), hex, `pack('<e', ${x})`);
    assert.equal(reprValues("<e", unpack("<e", data)), `(${shown},)`);
  }
  assert.equal(toHex(pack(">e", 1)), "3c00");
  assert.deepEqual(unpack("<e", fromHex("00fc")), [-Infinity]);
  throwsExactly(() => pack("e", 65520), RangeError, "float too large to pack with e format");
  throwsExactly(() => pack("<e", -1e300), RangeError, "float too large to pack with e format");
  throwsExactly(() => pack("e", 70000n), StructError, "int too large to convert");
});

Deno.test("float and double: repr as Python, overflow as CPython", () => {
  assert.equal(reprValues("<d", unpack("<d", pack("<d", 2))), "(2.0,)");
  assert.equal(reprValues("<f", unpack("<f", pack("<f", 0.1))), "(0.10000000149011612,)");
  assert.equal(toHex(pack("<d", NaN)), "000000000000f87f");
  assert.equal(toHex(pack("<f", NaN)), "0000c07f");
  // Native 'f' rounds to inf; the standard sizes refuse, as CPython 3.11 does.
  assert.equal(toHex(pack("f", 1e300)), "0000807f");
  throwsExactly(() => pack("<f", 1e300), RangeError, "float too large to pack with f format");
  throwsExactly(() => pack(">f", 10n ** 39n), StructError, "int too large to convert");
  throwsExactly(() => pack("d", 10n ** 400n), StructError, "required argument is not a float");
  throwsExactly(
    () => pack("d", "x" as unknown as number),
    StructError,
    "required argument is not a float",
  );
  assert.equal(toHex(pack("<d", 1n)), "000000000000f03f");
});

Deno.test("s, p and c use Uint8Array", () => {
  assert.equal(toHex(pack("3s", enc("a"))), "610000");
  assert.equal(toHex(pack(">5p", enc("abcdefgh"))), "0461626364");
  assert.deepEqual(unpack(">3p", fromHex("096162")), [enc("ab")]);
  assert.equal(pack("300p", new Uint8Array(300).fill(0x78))[0], 255);
  assert.deepEqual(unpack("c2s", enc("xyz")), [enc("x"), enc("yz")]);
  // CPython 3.11 writes a 0xff length byte for '0p' where the next item would be.
  assert.equal(toHex(pack("0px", new Uint8Array())), "ff");
  throwsExactly(
    () => unpack("0p", new Uint8Array()),
    Error,
    "Negative size passed to PyBytes_FromStringAndSize",
  );
});

Deno.test("packInto and unpackFrom with offsets, from the start and from the end", () => {
  const buf = new Uint8Array(10);
  packInto(">H", buf, 3, 0x1234);
  new Struct("<H").packInto(buf, -2, 0x5678);
  assert.equal(toHex(buf), "00000012340000007856");
  assert.deepEqual(unpackFrom(">H", buf, 3), [0x1234]);
  assert.deepEqual(new Struct("<H").unpackFrom(buf, -2), [0x5678]);
  assert.deepEqual(unpackFrom("B", buf), [0]);
  // A view into a larger buffer: offsets are relative to the view.
  const big = new Uint8Array(8);
  packInto("<I", big.subarray(2, 6), 0, 0xdeadbeef);
  assert.equal(toHex(big), "0000efbeadde0000");
  assert.deepEqual(unpackFrom("<I", new DataView(big.buffer, 2, 4)), [0xdeadbeef]);
});

Deno.test("iterUnpack yields each record", () => {
  const records = [...iterUnpack("<hB", fromHex("0100ff020001"))];
  assert.deepEqual(records, [[1, 255], [2, 1]]);
  assert.deepEqual([...new Struct("<h").iterUnpack(new Uint8Array())], []);
});

Deno.test("error messages are CPython 3.11's", () => {
  const structErrors: [() => unknown, string][] = [
    [() => pack("b", 128), "byte format requires -128 <= number <= 127"],
    [() => pack("B", -1), "ubyte format requires 0 <= number <= 255"],
    [() => pack("h", 32768), "short format requires -32768 <= number <= 32767"],
    [() => pack("<H", 65536), "ushort format requires 0 <= number <= 65535"],
    [() => pack(">h", 32768), "'h' format requires -32768 <= number <= 32767"],
    [() => pack(">H", 65536), "'H' format requires 0 <= number <= 65535"],
    [() => pack("i", 2 ** 31), "'i' format requires -2147483648 <= number <= 2147483647"],
    [() => pack("I", 2 ** 32), "'I' format requires 0 <= number <= 4294967295"],
    [() => pack("I", -1), "argument out of range"],
    [() => pack("<l", 2 ** 31), "'l' format requires -2147483648 <= number <= 2147483647"],
    [() => pack("!L", 2 ** 32), "'L' format requires 0 <= number <= 4294967295"],
    [() => pack("l", 2n ** 63n), "argument out of range"],
    [() => pack("Q", -1), "argument out of range"],
    [() => pack(">Q", -1), "int too large to convert"],
    [() => pack("P", 2n ** 64n), "int too large to convert"],
    [() => pack("b", 1.5), "required argument is not an integer"],
    [() => pack("q", NaN), "required argument is not an integer"],
    [() => pack("i", enc("1")), "required argument is not an integer"],
    [() => pack("I 2s f", 1, enc("ab")), "pack expected 3 items for packing (got 2)"],
    [() => pack("x", 1), "pack expected 0 items for packing (got 1)"],
    [() => unpack("I 2s f", new Uint8Array(11)), "unpack requires a buffer of 12 bytes"],
    [
      () => iterUnpack("I 2s f", new Uint8Array(13)),
      "iterative unpacking requires a buffer of a multiple of 12 bytes",
    ],
    [
      () => iterUnpack("0i", new Uint8Array()),
      "cannot iteratively unpack with a struct of length 0",
    ],
    [() => calcsize("z"), "bad char in struct format"],
    [() => calcsize("2 s"), "bad char in struct format"],
    [() => calcsize("i<"), "bad char in struct format"],
    [() => calcsize("<n"), "bad char in struct format"],
    [() => calcsize("=P"), "bad char in struct format"],
    [() => calcsize("3"), "repeat count given without format specifier"],
    [() => calcsize("i\0"), "embedded null character"],
    [() => calcsize("99999999999999999999i"), "total struct size too long"],
    [() => pack("c", enc("ab")), "char format requires a bytes object of length 1"],
    [() => pack("s", "x" as unknown as Uint8Array), "argument for 's' must be a bytes object"],
    [() => pack("p", 1), "argument for 'p' must be a bytes object"],
    [
      () => unpackFrom("3i", enc("12")),
      "unpack_from requires a buffer of at least 12 bytes for unpacking 12 bytes at offset 0 " +
      "(actual buffer size is 2)",
    ],
    [
      () => unpackFrom("3i", new Uint8Array(13), 2),
      "unpack_from requires a buffer of at least 14 bytes for unpacking 12 bytes at offset 2 " +
      "(actual buffer size is 13)",
    ],
    [
      () => unpackFrom("3i", new Uint8Array(13), -2),
      "not enough data to unpack 12 bytes at offset -2",
    ],
    [() => unpackFrom("3i", new Uint8Array(13), -20), "offset -20 out of range for 13-byte buffer"],
    [
      () => packInto("3i", new Uint8Array(15), 5, 1, 2, 3),
      "pack_into requires a buffer of at least 17 bytes for packing 12 bytes at offset 5 " +
      "(actual buffer size is 15)",
    ],
    [
      () => packInto("3i", new Uint8Array(15), -5, 1, 2, 3),
      "no space to pack 12 bytes at offset -5",
    ],
    [
      () => packInto("3i", new Uint8Array(15), -20, 1, 2, 3),
      "offset -20 out of range for 15-byte buffer",
    ],
    [
      () => packInto("3i", new Uint8Array(15), 0, 1, 2),
      "pack_into expected 3 items for packing (got 2)",
    ],
  ];
  for (const [fn, message] of structErrors) throwsExactly(fn, StructError, message);
  throwsExactly(
    () => calcsize("iéé"),
    RangeError,
    "'ascii' codec can't encode characters in position 1-2: ordinal not in range(128)",
  );
  throwsExactly(
    () => calcsize("\u{1f600}"),
    RangeError,
    "'ascii' codec can't encode character '\\U0001f600' in position 0: ordinal not in range(128)",
  );
});

Deno.test("pack_into zeroes its region and stops at the first bad value, as CPython", () => {
  const buf = new Uint8Array(6).fill(0xaa);
  assert.throws(() => packInto("<Hb", buf, 1, 0x0102, 999), StructError);
  assert.equal(toHex(buf), "aa020100aaaa");
  // Big-endian q/Q: CPython has already written the low 8 bytes when it sees the overflow.
  const q = new Uint8Array(8);
  assert.throws(() => packInto(">q", q, 0, 2n ** 63n), /int too large to convert/);
  assert.equal(toHex(q), "8000000000000000");
});
