/**
 * A user's own test file: sockspec's cases against the user's server (echo_server.mjs, a
 * Node.js echo server described by echo_server.json), one `Deno.test` step per case,
 * through sockspec's public API only.
 *
 * Run it (the README's command):
 *
 *     deno test --unstable-net --allow-run --allow-read --allow-write --allow-net --allow-env examples/my_server_test.ts
 *
 * It imports `@sockspec/sockspec`, as your project does after `deno add jsr:@sockspec/sockspec`
 * (here deno.json maps the name to ./mod.ts). Or import it by URL, `https://…/mod.ts` (add
 * `--allow-import=HOST`), or from the npm package, `./node_modules/sockspec/mod.ts`, with
 * `--no-config` added (Deno refuses TypeScript under node_modules when it reads a
 * package.json). `--unstable-net` is what the datagram cases
 * need: without it they SKIP and say so.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { allCases, closingLine, loadManifest, runAll, summarize } from "@sockspec/sockspec";

const manifest = fileURLToPath(new URL("./echo_server.json", import.meta.url));
const target = await loadManifest(manifest);
// The cases sockspec has for this kind of server over the transports it declares.
const cases = allCases.filter((c) =>
  c.kind === target.kind && (c.transport === undefined || target.transports.includes(c.transport))
);

Deno.test(`${target.name} conforms to sockspec's ${target.kind} cases`, async (t) => {
  assert.ok(cases.length > 0, `sockspec has no ${target.kind} case for ${target.transports}`);
  for (const c of cases) {
    await t.step(`${c.id} (${c.level}) ${c.requirement}`, async () => {
      const report = await runAll([target], allCases, { select: (x) => x.id === c.id });
      const summary = summarize(report);
      const [result] = report.targets[0].results;
      if (result.verdict === "SKIP") console.log(`  skipped: ${result.message}`);
      // summarize() applies sockspec's rule: a MUST case that fails or errors fails the run.
      assert.equal(
        summary.exitCode,
        0,
        `${result.verdict}: ${result.message} (${closingLine(summary)})`,
      );
    });
  }
});
