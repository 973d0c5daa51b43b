import assert from "node:assert/strict";
import { fromHex, toHex } from "./repr.ts";
import { pack, Struct, StructError } from "./struct.ts";
import {
  byteOrderOf,
  errorReply,
  recordFields,
  recordReply,
  swapByteOrder,
  valuesJson,
} from "./struct_codec.ts";

const ab = new TextEncoder().encode("ab");

Deno.test("recordFields: offsets follow native alignment for @ and none for =", () => {
  const at = (fmt: string) => recordFields(fmt).map((f) => [f.code, f.count, f.offset, f.size]);
  assert.deepEqual(at("I 2s f"), [["I", 1, 0, 4], ["s", 2, 4, 1], ["f", 1, 8, 4]]);
  assert.deepEqual(at("=I2sf"), [["I", 1, 0, 4], ["s", 2, 4, 1], ["f", 1, 6, 4]]);
  assert.deepEqual(at("!I 2s f"), [["I", 1, 0, 4], ["s", 2, 4, 1], ["f", 1, 6, 4]]);
  assert.deepEqual(at("b3hxq"), [["b", 1, 0, 1], ["h", 3, 2, 2], ["x", 1, 8, 1], ["q", 1, 16, 8]]);
  assert.deepEqual(recordFields("2x3I0s?").map((f) => f.values), [0, 3, 1, 1]);
  assert.throws(() => recordFields("I 2 s"), StructError);
});

Deno.test("swapByteOrder: the little-endian record becomes the big-endian one, padding kept", () => {
  const little = fromHex("0100000061620000cdcc2c40");
  const big = swapByteOrder("I 2s f", little);
  assert.equal(toHex(big), toHex(pack(">I 2s 2x f", 1, ab, 2.7)));
  assert.equal(toHex(little), "0100000061620000cdcc2c40", "the input is left alone");
  assert.equal(toHex(swapByteOrder("I 2s f", big)), toHex(little), "swapping twice is identity");
});

Deno.test("swapByteOrder: < and > packings of the same values swap into each other", () => {
  const cases: [string, (number | bigint | boolean | Uint8Array)[]][] = [
    ["hHiIqQ", [-2, 3, -4, 5, -6n, 7n]],
    ["3h2s?d", [1, -1, 300, ab, true, 1.5]],
    ["bBef", [-1, 255, 0.5, -2.25]],
    ["xlLc", [-70000, 70000, new Uint8Array([9])]],
  ];
  for (const [body, values] of cases) {
    const le = pack(`<${body}`, ...values);
    assert.equal(toHex(swapByteOrder(`<${body}`, le)), toHex(pack(`>${body}`, ...values)), body);
  }
});

Deno.test("byteOrderOf: prefixes and the (little-endian) host", () => {
  assert.equal(byteOrderOf("!I 2s f"), "big");
  assert.equal(byteOrderOf(">I"), "big");
  assert.equal(byteOrderOf("<I"), "little");
  assert.equal(byteOrderOf("I 2s f"), "little");
  assert.equal(byteOrderOf("=I"), "little");
});

Deno.test("valuesJson: floats as Python writes them, big integers and non-finite floats tagged", () => {
  assert.equal(valuesJson("<d?", [2, true]), "[2.0,true]");
  assert.equal(valuesJson("<dd", [1e16, -0]), "[1e+16,-0.0]");
  assert.equal(
    valuesJson("<fde", [NaN, Infinity, -Infinity]),
    '[{"float":"nan"},{"float":"inf"},{"float":"-inf"}]',
  );
  assert.equal(valuesJson("<qQ", [-5n, 2n ** 64n - 1n]), '[-5,{"int":"18446744073709551615"}]');
  assert.equal(valuesJson("<q", [-(2n ** 53n)]), '[{"int":"-9007199254740992"}]');
  assert.equal(valuesJson("<i3s", [-1, new Uint8Array([0, 255, 16])]), '[-1,{"bytes":"00ff10"}]');
  for (const text of ["[2.0,true]", "[1e+16,-0.0]"]) JSON.parse(text);
});

Deno.test("recordReply: the SPEC §6 record, and an error reply", () => {
  const s = new Struct("I 2s f");
  const reply = recordReply(s, fromHex("0100000061620000cdcc2c40"));
  assert.equal(
    reply,
    '{"format":"I 2s f","hex":"0100000061620000cdcc2c40","repr":"(1, b\'ab\', 2.700000047683716)",' +
      '"values":[1,{"bytes":"6162"},2.700000047683716]}',
  );
  assert.deepEqual(JSON.parse(reply).values, [1, { bytes: "6162" }, Math.fround(2.7)]);
  assert.deepEqual(JSON.parse(errorReply('short "x"', new Uint8Array([1, 0]))), {
    error: 'short "x"',
    hex: "0100",
  });
  assert.throws(() => recordReply(s, new Uint8Array(4)), /unpack requires a buffer of 12 bytes/);
});
