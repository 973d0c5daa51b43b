import assert from "node:assert/strict";
import { literalMatcher, literalPattern, processMatcher } from "./_ready_match.ts";

Deno.test("literalPattern: plain text with ^ and $ at most is tested in-process; anything else is not", () => {
  assert.deepEqual(literalPattern("^waiting for a connection$"), {
    text: "waiting for a connection",
    start: true,
    end: true,
  });
  assert.deepEqual(literalPattern("listening"), { text: "listening", start: false, end: false });
  assert.deepEqual(literalPattern("^ready"), { text: "ready", start: true, end: false });
  for (const pattern of ["^ready (a+)+$", "port \\d+", "a.b", "x|y", "[r]eady", "ready\\$"]) {
    assert.equal(literalPattern(pattern), undefined, pattern);
  }
});

Deno.test("literal and process matchers agree with the pattern as a RegExp, line by line", async () => {
  const lines = ["starting", "waiting for a connection", "waiting for a connection now", "x ready"];
  for (const pattern of ["^waiting for a connection$", "^waiting", "ready$", "for a"]) {
    const expected = lines.some((l) => new RegExp(pattern).test(l));
    for (
      const matcher of [literalMatcher(literalPattern(pattern)!), processMatcher(pattern, () => {})]
    ) {
      for (const line of lines) matcher.offer(line);
      matcher.end();
      assert.equal(await matcher.answer, expected ? "match" : "no match", pattern);
      await matcher.stop();
    }
  }
});
