import assert from "node:assert/strict";
import { describeDiff, firstDifference } from "./diff.ts";

const enc = new TextEncoder();

Deno.test("a missing last byte: offset, count and the byte", () => {
  const d = firstDifference(
    enc.encode("This is the message.  It will be repeated."),
    enc.encode("This is the message.  It will be repeated"),
    "echo",
  )!;
  assert.equal(d.kind, "missing");
  assert.equal(d.offset, 41);
  assert.equal(d.missing, 1);
  assert.equal(d.expected.start, 33);
  assert.equal(d.expected.repr, "b'repeated.'");
  assert.equal(d.actual.repr, "b'repeated'");
  assert.equal(describeDiff(d), "42 bytes expected, 41 came: the last 1 (b'.') is missing");
});

Deno.test("a differing byte: context on each side as hex and repr", () => {
  const d = firstDifference(enc.encode("0123456789abcdefXYZ"), enc.encode("0123456789abcdefxYZ"))!;
  assert.equal(d.kind, "differ");
  assert.equal(d.offset, 16);
  assert.equal(d.expected.start, 8);
  assert.equal(d.expected.hex, enc.encode("89abcdefXYZ").reduce((s, b) => s + b.toString(16), ""));
  assert.equal(
    describeDiff(d),
    "19 bytes expected, 19 came: the first difference is at offset 16: expected b'XYZ', got b'xYZ'",
  );
});

Deno.test("extra bytes and nothing at all", () => {
  const extra = firstDifference(enc.encode("ab"), enc.encode("abcd"))!;
  assert.equal(extra.kind, "extra");
  assert.equal(extra.extra, 2);
  assert.equal(
    describeDiff(extra),
    "2 bytes expected, 4 came: 2 extra bytes after the expected ones (b'cd'...)",
  );
  const none = firstDifference(enc.encode("ab"), new Uint8Array())!;
  assert.equal(describeDiff(none), "2 bytes expected, 0 came: nothing came back");
  assert.equal(firstDifference(new Uint8Array(), new Uint8Array()), undefined);
});
