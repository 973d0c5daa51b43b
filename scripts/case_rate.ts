#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net --allow-env
/**
 * How often a case gives each verdict against a target, over N single `sockspec check` runs
 * (each a fresh process, as a user runs it): the rates recorded in docs/third-party.md.
 *
 *     deno run -A scripts/case_rate.ts [--runs N] [--target FILE] CASE-ID
 *
 * Without `--target`, runs the built-in reference targets (every result of CASE-ID counts).
 * Prints `CASE-ID against TARGET: FAIL 10/10` and the first non-PASS message. Exit 0; 2 on
 * a usage error or when a run writes no report.
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" }, target: { type: "string" }, help: { type: "boolean" } },
  allowPositionals: true,
});
if (values.help || positionals.length !== 1) {
  console.error("usage: scripts/case_rate.ts [--runs N] [--target FILE] CASE-ID");
  Deno.exit(values.help ? 0 : 2);
}
const [id] = positionals;
const runs = Number(values.runs ?? 10);
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
  console.error(`--runs must be a whole number from 1 to 1000, not ${values.runs}`);
  Deno.exit(2);
}
const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "sockspec-rate-" });
const counts = new Map<string, Map<string, number>>();
const first = new Map<string, string>();
try {
  for (let i = 0; i < runs; i++) {
    const json = `${dir}/r.json`;
    const args = ["run", "-A", cli, "check", ...(values.target ? ["--target", values.target] : [])];
    await new Deno.Command(Deno.execPath(), {
      args: [...args, id, "--json", json],
      stdout: "null",
      stderr: "null",
    }).output();
    let report: {
      targets: { name: string; results: { id: string; verdict: string; message: string }[] }[];
    };
    try {
      report = JSON.parse(await Deno.readTextFile(json));
    } catch (err) {
      console.error(
        `run ${i + 1} wrote no report (${(err as Error).message}); check the arguments`,
      );
      Deno.exit(2);
    }
    for (const t of report.targets) {
      for (const r of t.results.filter((r) => r.id === id)) {
        const byVerdict = counts.get(t.name) ?? new Map<string, number>();
        byVerdict.set(r.verdict, (byVerdict.get(r.verdict) ?? 0) + 1);
        counts.set(t.name, byVerdict);
        if (r.verdict !== "PASS" && !first.has(t.name)) first.set(t.name, r.message);
      }
    }
    await Deno.remove(json);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
if (counts.size === 0) console.log(`${id}: no target ran it`);
for (const [name, byVerdict] of counts) {
  const rate = [...byVerdict].map(([v, n]) => `${v} ${n}/${runs}`).join(", ");
  console.log(`${id} against ${name}: ${rate}`);
  if (first.has(name)) console.log(`  first non-PASS: ${first.get(name)}`);
}
