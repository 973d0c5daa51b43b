import assert from "node:assert/strict";
import { multicastCases, OBSERVER_PY } from "./multicast.ts";

Deno.test("multicast cases: ids, needs and the observer script", async () => {
  assert.deepEqual(multicastCases.map((c) => c.id), ["mcast/1", "mcast/2", "mcast/3"]);
  for (const c of multicastCases) {
    assert.equal(c.kind, "multicast");
    assert.equal(c.level, "MUST");
    assert.deepEqual(
      { root: c.needs?.root, netns: c.needs?.netns, launch: c.needs?.launch },
      { root: true, netns: true, launch: true },
    );
  }
  // the observer is valid Python
  const check = await new Deno.Command("python3", {
    args: ["-c", "import sys; compile(sys.stdin.read(), 'observer', 'exec')"],
    stdin: "piped",
    stderr: "piped",
  }).spawn();
  const w = check.stdin.getWriter();
  await w.write(new TextEncoder().encode(OBSERVER_PY));
  await w.close();
  const out = await check.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
