/**
 * Runs `sockspec check ARGS` N times in a row (default: the main job, `deno task
 * conformance`, 10 times) and prints each run's wall time and exit code, then every
 * (target, case) whose verdict was not the same in all runs. Exit 0 when every run gave the
 * same verdicts, 1 when some differ, 2 on a usage error.
 *
 *     deno run --allow-run --allow-read --allow-write --allow-env scripts/repeat_check.ts [--runs N] [-- CHECK ARGS...]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseJsonReport } from "../src/reports/json.ts";
import { verdicts } from "../src/reports/report.ts";
import { cliArgv, ROOT } from "../src/testdata/run_cli.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" } },
  allowPositionals: true,
});
const runs = Number(values.runs ?? "10");
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  console.error(`--runs must be a whole number from 1 to 100, not '${values.runs}'`);
  Deno.exit(2);
}
const dir = await Deno.makeTempDir({ prefix: "sockspec-repeat-" });
const seen = new Map<string, string[]>();
try {
  for (let i = 1; i <= runs; i++) {
    const file = `${dir}/run-${i}.json`;
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: cliArgv(["check", ...positionals, "--report", `json=${file}`]),
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    }).output();
    const seconds = (performance.now() - t0) / 1000;
    const report = parseJsonReport(await Deno.readTextFile(file), file);
    for (const line of verdicts(report)) {
      const key = line.slice(0, line.lastIndexOf(" "));
      const list = seen.get(key) ?? [];
      list.push(line.slice(line.lastIndexOf(" ") + 1));
      seen.set(key, list);
    }
    console.log(`run ${i}/${runs}: ${seconds.toFixed(1)} s, exit ${out.code}`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const differ = [...seen].filter(([, v]) => v.length !== runs || new Set(v).size > 1);
for (const [key, v] of differ) console.log(`differs: ${key}: ${v.join(" ")}`);
console.log(`${seen.size} (target, case) pairs; ${differ.length} with verdicts that differ`);
Deno.exit(differ.length ? 1 : 0);
