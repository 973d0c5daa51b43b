/**
 * The echo cases' shape (ids, families, titles, hints) and the FAIL messages they give
 * against broken fixtures: each names the step, what was seen and what the server was doing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { familyOf } from "../../src/case/case.ts";
import { commandExists, loadManifest } from "../../src/harness/manifest.ts";
import { runCase } from "../../src/harness/runner.ts";
import { streamEchoCases } from "./echo.ts";

const BROKEN = new URL("../../fixtures/broken/", import.meta.url).pathname;

Deno.test("echo cases: unique ids, one titled family per transport, a hint on every case", () => {
  for (const t of ["tcp", "unix"] as const) {
    const all = streamEchoCases(t);
    assert.equal(new Set(all.map((c) => c.id)).size, all.length);
    for (const c of all) {
      assert.equal(familyOf(c.id), `echo/${t}`);
      assert.equal(c.familyTitle, all[0].familyTitle, `${c.id}: one title per family`);
      assert.ok(c.familyTitle, `${c.id} has a family title`);
      assert.ok(c.hint && c.hint.length < 120, `${c.id}: a short hint`);
      assert.equal(c.transport, t);
    }
  }
});

const messages: [string, string, RegExp][] = [
  [
    "echo-one-client.json",
    "echo/tcp/6",
    /^the 2nd client's connect was refused: \[Errno 111\] Connection refused; the server had exited with code 0 \(its last line: "served one client; exiting"\) after the 1st client left/,
  ],
  [
    "echo-drop-last-chunk.json",
    "echo/unix/1",
    /^the client: reading 42 bytes: 32 came back, then nothing for 1000 ms \(the last 10 bytes are missing: b' repeated\.'\); the server is still running/,
  ],
  [
    "echo-shared-pipe.json",
    "echo/tcp/7",
    /^the second client received \d+ bytes sent by the first \(from its byte \d+: b(?:'.*'|".*")…\) besides its own 27 bytes$/,
  ],
  [
    "echo-one-exchange.json",
    "echo/unix/9",
    /^the 2nd client, while the 1st stayed connected and idle: reading 31 bytes: nothing came back for 1000 ms/,
  ],
  [
    "echo-die-on-reset.json",
    "echo/tcp/8",
    /^after a client reset its connection, the server had exited with code 1 \(its last line: "connection error: \[Errno 104\] Connection reset by peer/,
  ],
];

for (const [manifest, id, want] of messages) {
  Deno.test({
    name: `echo FAIL messages name the step and what was seen: ${manifest} ${id}`,
    ignore: !commandExists("python3"),
    async fn() {
      const target = await loadManifest(`${BROKEN}${manifest}`);
      const c = streamEchoCases(id.split("/")[1] as "tcp" | "unix").find((c) => c.id === id)!;
      const r = await runCase(target, c);
      assert.equal(r.verdict, "FAIL", r.message);
      assert.match(r.message, want);
      assert.doesNotMatch(r.message, /\(os error \d+\)/, "errno text once, never Deno's own");
    },
  });
}
