/**
 * The re-run command every non-PASS result carries really re-runs that case against that
 * target with that seed: it sends the same bytes.
 */
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { type Case, pass } from "../case/case.ts";
import type { WireEvent } from "../case/evidence.ts";
import { readExpected } from "../checks/expect.ts";
import { writeAll } from "../net/sockets.ts";
import { loadManifest } from "./manifest.ts";
import { runAll } from "./runner.ts";
import { ROOT, runCli } from "../testdata/run_cli.ts";
import type { CaseResult } from "../reports/report.ts";

const BROKEN = `${ROOT}fixtures/broken/echo-drop-last-chunk.json`;

/** Sends a random payload whose length is not a multiple of 16, which the fixture fails. */
const randomEcho: Case = {
  id: "test/rerun/1",
  requirement: "A random payload comes back.",
  level: "MUST",
  kind: "stream-echo",
  transport: "tcp",
  async run(ctx) {
    const server = await ctx.start();
    const conn = await ctx.connect(server.address("tcp"));
    const data = ctx.random.bytes(40 + ctx.random.int(8) * 16 + 1 + ctx.random.int(15));
    await writeAll(conn, ctx.evidence.sent(data), ctx.timeoutMs);
    await readExpected({ ...ctx, timeoutMs: 300 }, conn, data, "the echo");
    return pass("echoed");
  },
};

/** The bytes sockspec wrote, from the wire log. */
function written(r: CaseResult): string[] {
  return (r.evidence.wire ?? []).filter((e: WireEvent) => e.kind === "write").map((e) =>
    `${e.bytes}:${e.head}:${e.tail ?? ""}`
  );
}

/** The re-run command's arguments to sockspec (`check ...`). */
function rerunArgs(command: string): string[] {
  const words = command.split(" ");
  assert.deepEqual(words.slice(0, 4), ["deno", "task", "sockspec", "check"]);
  return words.slice(3);
}

Deno.test("a failing result's re-run command gives the same seed, so the case sends the same bytes", async () => {
  const target = await loadManifest(BROKEN);
  const first = (await runAll([target], [randomEcho], { seed: 4242 })).targets[0].results[0];
  assert.equal(first.verdict, "FAIL", first.message);
  assert.ok(first.rerun, "a FAIL carries its re-run command");
  const { values, positionals } = parseArgs({
    args: rerunArgs(first.rerun).slice(1),
    options: {
      target: { type: "string" },
      seed: { type: "string" },
      exclude: { type: "string", multiple: true },
    },
    allowPositionals: true,
  });
  assert.deepEqual(positionals, ["test/rerun/1"]);
  assert.equal(`${ROOT}${values.target}`, BROKEN);
  const again = await runAll([await loadManifest(`${ROOT}${values.target}`)], [randomEcho], {
    seed: Number(values.seed),
  });
  const second = again.targets[0].results[0];
  assert.equal(second.verdict, "FAIL");
  assert.deepEqual(written(second), written(first));
  assert.equal(second.message, first.message);
  // and the seed matters: another one sends other bytes
  const other = (await runAll([target], [randomEcho], { seed: 4243 })).targets[0].results[0];
  assert.notDeepEqual(written(other), written(first));
});

Deno.test("check --seed: the seed is printed, in the report, and the re-run command from the report re-runs that one case", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-rerun-" });
  try {
    const args = [
      "check",
      "--target",
      "fixtures/broken/echo-drop-last-chunk.json",
      "echo/tcp/1",
      "--seed",
      "77",
    ];
    const run = await runCli([...args, "--report", `json=${dir}/a.json`]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^seed 77 /m);
    const a = JSON.parse(await Deno.readTextFile(`${dir}/a.json`));
    assert.equal(a.seed, 77);
    // whole id components: echo/tcp/1 is that case, not echo/tcp/10 or /11
    const results = a.targets[0].results as CaseResult[];
    assert.deepEqual(results.map((r) => r.id), ["echo/tcp/1"]);
    const failed = results[0];
    assert.equal(failed.verdict, "FAIL");
    assert.equal(
      failed.rerun,
      "deno task sockspec check --target fixtures/broken/echo-drop-last-chunk.json echo/tcp/1 --seed 77",
    );
    const again = await runCli([...rerunArgs(failed.rerun!), "--report", `json=${dir}/b.json`]);
    assert.equal(again.code, 1, again.stderr);
    const b = JSON.parse(await Deno.readTextFile(`${dir}/b.json`));
    assert.equal(b.seed, 77);
    assert.deepEqual(
      b.targets[0].results.map((r: CaseResult) => r.id),
      ["echo/tcp/1"],
      "echo/tcp/1 alone",
    );
    assert.deepEqual(written(b.targets[0].results[0]), written(failed));
    assert.equal(b.targets[0].results[0].rerun, failed.rerun);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
