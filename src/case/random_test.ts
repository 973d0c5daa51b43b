import assert from "node:assert/strict";
import { caseSeed, newSeed, Random } from "./random.ts";

Deno.test("Random: the same seed gives the same bytes, another seed other bytes", () => {
  const a = new Random(123).bytes(1001);
  assert.deepEqual(new Random(123).bytes(1001), a);
  assert.notDeepEqual(new Random(124).bytes(1001), a);
});

Deno.test("Random: bytes are spread over all 256 values; int stays in range", () => {
  const seen = new Set(new Random(9).bytes(1 << 16));
  assert.equal(seen.size, 256);
  const r = new Random(5);
  for (let i = 0; i < 1000; i++) {
    const n = r.int(7);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 7, String(n));
  }
});

Deno.test("caseSeed differs per target and case; newSeed is a 32-bit integer", () => {
  const s = caseSeed(1, "t", "echo/tcp/1");
  assert.equal(caseSeed(1, "t", "echo/tcp/1"), s);
  assert.notEqual(caseSeed(1, "t", "echo/tcp/2"), s);
  assert.notEqual(caseSeed(1, "u", "echo/tcp/1"), s);
  assert.notEqual(caseSeed(2, "t", "echo/tcp/1"), s);
  const n = newSeed();
  assert.ok(Number.isInteger(n) && n >= 0 && n < 2 ** 32);
});
