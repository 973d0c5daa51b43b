import assert from "node:assert/strict";
import { allCases } from "../../conformance/mod.ts";
import { parseJsonReport } from "../reports/json.ts";
import { parseManifest } from "./manifest.ts";
import { byWhom, type RunReport, summarize, verdicts } from "../reports/report.ts";
import { MergeError, mergeReports, parseShard, shardCases } from "./shard.ts";
import { sampleReport } from "../testdata/sample_report.ts";
import { ROOT, runCli } from "../testdata/run_cli.ts";
import { reportValidator } from "../testdata/validators.ts";

Deno.test("parseShard takes i/n", () => {
  assert.deepEqual(parseShard("1/1"), { index: 1, count: 1 });
  assert.deepEqual(parseShard(" 3/4 "), { index: 3, count: 4 });
  for (const bad of ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2", "1/1001"]) {
    assert.throws(() => parseShard(bad), /--shard takes i\/n/, bad);
  }
});

Deno.test("shardCases splits (target, case) pairs round-robin: disjoint, complete, balanced, stable", () => {
  const target = (name: string, transports: string[]) =>
    parseManifest(
      { name, kind: "stream-echo", transports, attach: { port: 9 } },
      `/x/${name}.json`,
    );
  const targets = [target("a", ["tcp"]), target("b", ["unix"]), target("c", ["tcp", "unix"])];
  const all = shardCases(targets, allCases, () => true);
  const pairs = (plan: { id: string }[][]) =>
    plan.flatMap((cases, i) => cases.map((c) => `${targets[i].name} ${c.id}`));
  const total = pairs(all).length;
  assert.ok(total > 20);
  for (const n of [1, 2, 3, 7]) {
    const parts = Array.from(
      { length: n },
      (_, i) => pairs(shardCases(targets, allCases, () => true, { index: i + 1, count: n })),
    );
    assert.deepEqual(parts.flat().sort(), pairs(all).sort(), `${n} shards cover the run`);
    assert.equal(new Set(parts.flat()).size, total, `${n} shards are disjoint`);
    for (const p of parts) {
      assert.ok(Math.abs(p.length - total / n) <= 1, `${n} shards: ${p.length} of ${total}`);
    }
  }
  // Pair k goes to shard k mod n + 1.
  const second = pairs(shardCases(targets, allCases, () => true, { index: 2, count: 2 }));
  assert.deepEqual(second, pairs(all).filter((_, k) => k % 2 === 1));
  // The selection applies before the split.
  const must = shardCases(targets, allCases, (c) => c.level === "MUST", { index: 1, count: 2 });
  assert.ok(must.flat().every((c) => c.level === "MUST"));
  // select sees the target too: a different choice per target.
  const firstOnly = shardCases(targets, allCases, (_, t) => t === targets[0]);
  assert.deepEqual(firstOnly.map((p) => p.length > 0), targets.map((_, i) => i === 0));
});

function shard(report: RunReport, index: number, count: number): RunReport {
  const r = structuredClone(report);
  r.shard = { index, count };
  let k = 0;
  for (const t of r.targets) t.results = t.results.filter(() => k++ % count === index - 1);
  return r;
}

Deno.test("mergeReports: shards merge back to the unsharded verdicts, in order", () => {
  const whole = sampleReport();
  const parts = [shard(whole, 2, 3), shard(whole, 1, 3), shard(whole, 3, 3)];
  parts[1].startedAt = "2026-01-02T03:04:00.000Z";
  parts[1].durationMs = 1000;
  parts[0].startedAt = "2026-01-02T03:04:30.000Z";
  parts[0].durationMs = 2500;
  const merged = mergeReports(parts, { order: allCases.map((c) => c.id) });
  assert.deepEqual(verdicts(merged), verdicts(whole));
  assert.deepEqual(
    merged.targets.map((t) => t.results.map((r) => r.id)),
    whole.targets.map((t) => t.results.map((r) => r.id)),
  );
  assert.deepEqual(summarize(merged), summarize(whole));
  assert.equal(merged.shard, undefined);
  assert.deepEqual(merged.mergedFrom!.map((p) => p.shard), ["2/3", "1/3", "3/3"]);
  assert.equal(merged.startedAt, "2026-01-02T03:04:00.000Z");
  assert.equal(merged.durationMs, 32_500);
  // Expectations travel with the results.
  assert.equal(merged.targets[2].results[0].expected, "FAIL");
  // Merging a merged report with nothing else keeps it.
  assert.deepEqual(verdicts(mergeReports([merged])), verdicts(whole));
  // The seed, when every shard ran with the same one; the re-run commands travel either way.
  assert.equal(merged.seed, 12345);
  assert.equal(merged.targets[0].results[1].rerun, whole.targets[0].results[1].rerun);
  parts[2].seed = 7;
  assert.equal(mergeReports(parts).seed, undefined);
});

Deno.test("mergeReports: a shard a signal interrupted keeps the merged report interrupted, by that signal", () => {
  const whole = sampleReport();
  const parts = [shard(whole, 1, 2), shard(whole, 2, 2)];
  assert.equal(mergeReports(parts).interrupted, false);
  assert.equal(mergeReports(parts).interruption, undefined);
  parts[1].interrupted = true;
  parts[1].interruption = { signal: "SIGTERM", exitCode: 143 };
  const merged = mergeReports(parts);
  assert.equal(merged.interrupted, true);
  assert.deepEqual(merged.interruption, { signal: "SIGTERM", exitCode: 143 });
  assert.equal(byWhom(merged), " by SIGTERM");
});

Deno.test("mergeReports: refuses missing, duplicate or mixed shards, overlaps and mixed --strict", () => {
  const whole = sampleReport();
  const names = ["a.json", "b.json", "c.json"];
  const cases: [RunReport[], RegExp][] = [
    [
      [shard(whole, 1, 3), shard(whole, 3, 3)],
      /^shard 2\/3 missing; give every shard's JSON report/,
    ],
    [[shard(whole, 1, 2), shard(whole, 1, 2)], /^a\.json and b\.json are both shard 1\/2$/],
    [[shard(whole, 1, 2), shard(whole, 2, 3)], /^b\.json is shard 2\/3 but a\.json is 1\/2/],
    [[shard(whole, 1, 2), whole], /^b\.json is not a shard report but others are/],
    [[whole, whole], /^my-echo-tcp echo\/tcp\/1 is in both a\.json and b\.json/],
    [
      [whole, { ...sampleReport(), strict: true, targets: [] }],
      /^b\.json was run with --strict but a\.json without/,
    ],
    [[{ ...whole, formatVersion: 2 }], /^a\.json: report format version 2/],
    [[], /^no reports to merge/],
  ];
  for (const [reports, re] of cases) {
    assert.throws(
      () => mergeReports(reports, { names }),
      (e: Error) => e instanceof MergeError && re.test(e.message),
      String(re),
    );
  }
  // Reports of different targets (not shards) merge.
  const a = { ...sampleReport(), targets: [whole.targets[0]] };
  const b = { ...sampleReport(), targets: [whole.targets[1]] };
  assert.deepEqual(mergeReports([a, b]).targets.map((t) => t.name), [
    "my-echo-tcp",
    "my-echo-unix",
  ]);
});

Deno.test("shards 1/2 and 2/2 merged give the same verdicts as the unsharded run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-shard-test-" });
  try {
    // Two targets: a correct echo server and the upper-case one, so there are PASS and FAIL verdicts.
    const upper = JSON.parse(await Deno.readTextFile(`${ROOT}fixtures/broken/report-upper.json`));
    const good = { ...upper, name: "good-echo", command: [...upper.command] };
    good.command[2] = good.command[2].replace("d.upper()", "d");
    await Deno.writeTextFile(`${dir}/good.json`, JSON.stringify(good));
    const args = [
      "check",
      "--target",
      `${dir}/good.json`,
      "--target",
      `${ROOT}fixtures/broken/report-upper.json`,
      "echo/tcp/1",
      "echo/tcp/2",
      "echo/tcp/3",
      "echo/tcp/5",
      "--exclude",
      "echo/tcp/10",
      "--exclude",
      "echo/tcp/11",
    ];
    const [whole, one, two] = await Promise.all([
      runCli([...args, "--report", `json=${dir}/whole.json`]),
      runCli([...args, "--shard", "1/2", "--report", `json=${dir}/s1.json`]),
      runCli([...args, "--shard", "2/2", "--report", `json=${dir}/s2.json`]),
    ]);
    for (const r of [whole, one, two]) assert.equal(r.code, 1, r.stdout + r.stderr);
    const read = async (f: string) => parseJsonReport(await Deno.readTextFile(`${dir}/${f}`), f);
    const [w, s1, s2] = [await read("whole.json"), await read("s1.json"), await read("s2.json")];
    assert.deepEqual(s1.shard, { index: 1, count: 2 });
    const v = verdicts(w);
    assert.ok(
      v.some((x) => x.endsWith(" PASS")) && v.some((x) => x.endsWith(" FAIL")),
      v.join("\n"),
    );
    assert.ok(verdicts(s1).length > 0 && verdicts(s2).length > 0);
    assert.equal(verdicts(s1).length + verdicts(s2).length, v.length);

    // Merge in the wrong order on purpose; write every format.
    const merged = await runCli([
      "report",
      "merge",
      `${dir}/s2.json`,
      `${dir}/s1.json`,
      "--report",
      `json=${dir}/merged.json`,
      "--report",
      `junit=${dir}/merged.xml`,
      "--report",
      `markdown=${dir}/merged.md`,
      "--report",
      `html=${dir}/merged.html`,
    ]);
    assert.equal(merged.code, 1, merged.stdout + merged.stderr);
    const m = await read("merged.json");
    assert.deepEqual(verdicts(m), v);
    assert.deepEqual(summarize(m), summarize(w));
    assert.equal(merged.stdout.trim().split("\n").at(-1), whole.stdout.trim().split("\n").at(-1));
    assert.deepEqual(
      (await reportValidator())(JSON.parse(await Deno.readTextFile(`${dir}/merged.json`))),
      [],
    );
    for (const f of ["merged.xml", "merged.md", "merged.html"]) {
      assert.ok((await Deno.stat(`${dir}/${f}`)).size > 200, f);
    }
    // A missing shard is an error (exit 2), and no report is written.
    const missing = await runCli([
      "report",
      "merge",
      `${dir}/s1.json`,
      "--report",
      `json=${dir}/no.json`,
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /shard 2\/2 missing; give every shard's JSON report/);
    await assert.rejects(() => Deno.stat(`${dir}/no.json`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
