import assert from "node:assert/strict";
import { matches, parsePattern, PatternError, selector, specificity, unmatched } from "./select.ts";

Deno.test("a pattern selects by whole id components", () => {
  const yes: [string, string][] = [
    ["echo/tcp/1", "echo/tcp/1"],
    ["echo/tcp", "echo/tcp/10"],
    ["echo", "echo/unix/3"],
    ["echo/", "echo/unix/3"],
    ["echo/*/1", "echo/unix/1"],
    ["*/tcp", "record/tcp/2"],
    ["**/4", "dgram/udp/4"],
    ["**/4", "echo/tcp/4"],
    ["echo/**", "echo/tcp/4"],
    ["**", "names/services/2"],
    ["echo/**/1", "echo/tcp/1"],
  ];
  for (const [p, id] of yes) assert.ok(matches(p, id), `${p} should select ${id}`);
  const no: [string, string][] = [
    ["echo/tcp/1", "echo/tcp/10"],
    ["echo/tcp/1", "echo/tcp/11"],
    ["echo/tc", "echo/tcp/1"],
    ["echo/*/1", "echo/tcp/11"],
    ["*/*/*/*", "echo/tcp/1"],
    ["**/4", "echo/tcp/14"],
    ["dgram", "echo/tcp/1"],
  ];
  for (const [p, id] of no) assert.ok(!matches(p, id), `${p} should not select ${id}`);
});

Deno.test("bad patterns are errors that name the pattern", () => {
  for (const p of ["", "echo//1", "echo/tcp*", "/"]) {
    assert.throws(() => parsePattern(p), (e: unknown) => e instanceof PatternError);
  }
  assert.throws(() => parsePattern("echo/tcp*"), /'echo\/tcp\*'.*not 'tcp\*'/);
});

Deno.test("selector: include any, exclude wins; unmatched names what matches nothing", () => {
  const ids = ["echo/tcp/1", "echo/tcp/10", "echo/tcp/11", "echo/unix/1"];
  const keep = selector({ include: ["echo/tcp"], exclude: ["echo/tcp/1"] });
  assert.deepEqual(ids.filter(keep), ["echo/tcp/10", "echo/tcp/11"]);
  assert.deepEqual(ids.filter(selector({})), ids);
  assert.deepEqual(unmatched(["echo/*/1", "echo/udp", "echo/tcp/2"], ids), [
    "echo/udp",
    "echo/tcp/2",
  ]);
});

Deno.test("specificity: an exact id beats a pattern, a family beats a wider one", () => {
  assert.ok(specificity("echo/tcp/1") > specificity("echo/*/1"));
  assert.ok(specificity("echo/*/1") > specificity("echo/tcp"));
  assert.ok(specificity("echo/tcp") > specificity("echo"));
  assert.ok(specificity("echo") > specificity("**"));
});
