import assert from "node:assert/strict";
import { compare, renames, verdictsOf } from "./verdict_diff.ts";

Deno.test("verdict_diff: renamed ids are compared through docs/case-ids.md's table", () => {
  const rename = renames("| old | new |\n|---|---|\n| `dgram/udp/10` | `dgram/udp/12` | why |\n");
  assert.equal(rename.get("dgram/udp/10"), "dgram/udp/12");
  const report = (id: string, verdict: string) =>
    JSON.stringify({ targets: [{ name: "t", results: [{ id, verdict }] }] });
  // The base run used the old id; the working tree the new one.
  const before = verdictsOf(report("dgram/udp/10", "PASS"), rename);
  assert.deepEqual(compare(before, verdictsOf(report("dgram/udp/12", "PASS"), new Map())), {
    common: 1,
    changed: [],
  });
  const after = verdictsOf(report("dgram/udp/12", "FAIL"), new Map());
  assert.deepEqual(compare(before, after).changed, ["t dgram/udp/12: PASS -> FAIL"]);
});
