import assert from "node:assert/strict";
import { bytesRepr, floatRepr, fromHex, PyFloat, pyRepr, toHex, writeBytesRepr } from "./repr.ts";
import { runPythonText, skipWithoutPython } from "../testdata/python_oracle.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("bytesRepr matches Python for the tutorial chunks and escapes", () => {
  assert.equal(bytesRepr(enc("This is the mess")), "b'This is the mess'");
  assert.equal(bytesRepr(new Uint8Array()), "b''");
  assert.equal(bytesRepr(enc("it's")), `b"it's"`);
  assert.equal(bytesRepr(enc(`it's "x"`)), `b'it\\'s "x"'`);
  assert.equal(
    bytesRepr(new Uint8Array([0, 9, 10, 13, 0x5c, 0x7f, 0x80, 0xff])),
    "b'\\x00\\t\\n\\r\\\\\\x7f\\x80\\xff'",
  );
});

Deno.test("bytesRepr agrees with python3 on all 256 byte values", async (t) => {
  const all = new Uint8Array(256).map((_, i) => i);
  const python = await pythonRepr(all);
  if (python === undefined) return await skipWithoutPython(t);
  assert.equal(bytesRepr(all), python);
});

Deno.test("hex round-trips and rejects bad input", () => {
  assert.equal(
    toHex(new Uint8Array([1, 0, 0, 0, 0x61, 0x62, 0, 0, 0xcd, 0xcc, 0x2c, 0x40])),
    "0100000061620000cdcc2c40",
  );
  assert.deepEqual(fromHex("7f00 0001"), new Uint8Array([127, 0, 0, 1]));
  assert.throws(() => fromHex("abc"), /not a hex string/);
  assert.throws(() => fromHex("zz"), /not a hex string/);
});

Deno.test("floatRepr follows Python's repr rules", () => {
  const cases: [number, string][] = [
    [Math.fround(2.7), "2.700000047683716"],
    [2.7, "2.7"],
    [1, "1.0"],
    [-0, "-0.0"],
    [0, "0.0"],
    [1e16, "1e+16"],
    [9999999999999998, "9999999999999998.0"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [123456.789, "123456.789"],
    [1e300, "1e+300"],
    [-2.5e-320, "-2.5e-320"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
  ];
  for (const [x, want] of cases) assert.equal(floatRepr(x), want, `floatRepr(${x})`);
});

Deno.test("pyRepr shows tuples, ints, floats, bools, None and strings as Python does", () => {
  assert.equal(
    pyRepr([1, enc("ab"), new PyFloat(Math.fround(2.7))]),
    "(1, b'ab', 2.700000047683716)",
  );
  assert.equal(pyRepr([1]), "(1,)");
  assert.equal(pyRepr([]), "()");
  assert.equal(
    pyRepr([true, false, null, 12345678901234567890n]),
    "(True, False, None, 12345678901234567890)",
  );
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr("a\nb"), "'a\\nb'");
  assert.equal(pyRepr(0.5), "0.5");
});

async function pythonRepr(data: Uint8Array): Promise<string | undefined> {
  const script = "import sys; print(repr(bytes.fromhex(sys.argv[1])), end='')";
  return await runPythonText(script, undefined, { args: [toHex(data)], timeoutMs: 10_000 });
}

Deno.test("writeBytesRepr writes exactly bytesRepr's text, with its prefix and suffix", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const samples = [
    all,
    new Uint8Array(0),
    new TextEncoder().encode(`it's`),
    new TextEncoder().encode(`it's "quoted"`),
    new TextEncoder().encode(`\\\n\t\r'"`),
  ];
  let seed = 7;
  for (let n = 0; n < 200; n++) {
    samples.push(new Uint8Array(16).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
  }
  for (const data of samples) {
    const out = new Uint8Array(20 + 4 * data.length);
    const end = writeBytesRepr(data, out, 2, "got ", "!\n");
    assert.equal(new TextDecoder().decode(out.subarray(2, end)), `got ${bytesRepr(data)}!\n`);
  }
});
