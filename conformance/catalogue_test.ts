/**
 * Tests of the third-party catalogue and of flaky-result handling: FLAKY records parse and
 * judge as documented, a deterministic flip-flopping server is caught as flaky with the
 * right rate (and fails the run until it is recorded), the recorded catalogue is coherent
 * (every manifest recorded, every case id real, every FAIL and FLAKY explained in
 * docs/third-party.md), and the Python `socketserver` targets give their recorded results
 * through the catalogue script itself (python3 only; socat and ncat run in the CI
 * catalogue step, see scripts/catalogue.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { relative } from "node:path";
import { allCases } from "./mod.ts";
import type { Verdict } from "../src/case/case.ts";
import { runAll } from "../src/harness/runner.ts";
import { applyExpectations } from "../src/harness/expectations.ts";
import {
  combineRuns,
  type FlakyExpectFile,
  judgeCombined,
  parseFlakyExpectFile,
  settleFlaky,
} from "../src/harness/flaky.ts";
import { commandExists, loadManifest } from "../src/harness/manifest.ts";
import { type CaseResult, failsRun, judge, type RunReport } from "../src/reports/report.ts";
import {
  CATALOGUE_EXPECT,
  catalogueMain,
  catalogueManifests,
  matrixMarkdown,
  matrixRow,
  recordExpectations,
} from "../scripts/catalogue.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function result(verdict: Verdict, message = `${verdict.toLowerCase()} message`): CaseResult {
  return {
    id: "echo/tcp/4",
    family: "echo/tcp",
    requirement: "A requirement.",
    level: "MUST",
    verdict,
    message,
    observed: {},
    evidence: { bytes: [], timings: {}, notes: [] },
    durationMs: 10,
  };
}

const FLAKY_FILE = JSON.stringify({
  "m.json": {
    "*": "PASS",
    "echo/tcp/4": { verdict: "FLAKY", runs: 20, counts: { FAIL: 8, PASS: 12 }, message: "stalled" },
    "echo/tcp/5": "FAIL",
  },
});

Deno.test("FLAKY records are taken out and checked; the rest is read by src/harness/expectations.ts", () => {
  const f = parseFlakyExpectFile("/x/catalogue.json", FLAKY_FILE);
  assert.deepEqual(f.flaky, [{
    manifest: "/x/m.json",
    id: "echo/tcp/4",
    record: { runs: 20, counts: { FAIL: 8, PASS: 12 }, message: "stalled" },
  }]);
  assert.equal(f.file.entries[0].others, "PASS");
  assert.deepEqual(Object.keys(f.file.entries[0].cases), ["echo/tcp/5"]);
  const bad = (value: unknown, pattern: RegExp) =>
    assert.throws(
      () => parseFlakyExpectFile("/x/c.json", JSON.stringify({ "m.json": { "a/b/1": value } })),
      pattern,
    );
  bad(
    { verdict: "FLAKY", runs: 10, counts: { FAIL: 3, PASS: 6 } },
    /add up to 9, not to runs \(10\)/,
  );
  bad({ verdict: "FLAKY", runs: 10, counts: { PASS: 10 } }, /at least two verdicts/);
  bad({ verdict: "FLAKY", runs: 4, counts: { MAYBE: 2, PASS: 2 } }, /'MAYBE' is not one of/);
  bad({ verdict: "FLAKY", runs: 4, counts: { FAIL: 2, PASS: 2 }, rate: 0.5 }, /unknown key 'rate'/);
  bad("FLAKY", /verdict must be one of/);
});

Deno.test("combineRuns: mixed verdicts read FLAKY with the rate; the verdict is the worst seen", () => {
  const runs = [result("PASS"), result("FAIL", "the echo stalled"), result("PASS"), result("PASS")];
  const c = combineRuns(runs);
  assert.equal(c.verdict, "FAIL");
  assert.match(
    c.message,
    /^FLAKY \(not recorded\): FAIL in 1 of 4 runs \(25%\), PASS in 3\. First FAIL: the echo stalled$/,
  );
  assert.deepEqual(c.observed, { runs: 4, nonPassRuns: 1, flaky: true });
  assert.equal(c.evidence.notes.length, 4);
  assert.match(c.evidence.notes[1], /^run 2\/4: FAIL in 10 ms: the echo stalled$/);
  assert.equal(c.durationMs, 40);
  assert.equal(combineRuns([runs[0]]), runs[0], "one run without a record is left as it is");
  const same = combineRuns([result("FAIL"), result("FAIL")]);
  assert.equal(same.message, "fail message (FAIL in all 2 runs)");
  assert.equal(same.observed.flaky, false);
});

Deno.test("judging: a recorded FLAKY case fits with its recorded verdicts; anything else fails the run", () => {
  const f: FlakyExpectFile = parseFlakyExpectFile("/x/catalogue.json", FLAKY_FILE);
  const target = { source: "/x/m.json" };
  const judged = (verdicts: Verdict[], message = "the echo stalled") => {
    const runs = verdicts.map((v) => result(v, v === "PASS" ? "ok" : message));
    const c = combineRuns(runs, f.flaky[0].record);
    judgeCombined(c, [f], target, verdicts);
    return c;
  };
  const flaky = judged(["PASS", "FAIL", "PASS"]);
  assert.equal(judge(flaky, true), "expected");
  assert.match(flaky.message, /recorded FAIL in 8 of 20 runs \(40%\), PASS in 12/);
  const lucky = judged(["PASS", "PASS"]);
  assert.equal(judge(lucky, true), "pass");
  assert.match(lucky.message, /^FLAKY, not reproduced: PASS in all 2 runs/);
  assert.equal(judge(judged(["PASS", "ERROR"]), true), "fail", "ERROR was never recorded");
  assert.equal(judge(judged(["FAIL", "PASS"], "a new reason"), true), "fail", "message changed");

  // Not recorded: flaky fails the run, whatever the stable expectation says.
  for (const stable of ["PASS", "FAIL", undefined] as const) {
    const c = combineRuns([result("FAIL"), result("PASS")]);
    c.id = "echo/tcp/5";
    const file = parseFlakyExpectFile(
      "/x/c.json",
      JSON.stringify({ "m.json": stable ? { "echo/tcp/5": stable } : {} }),
    );
    judgeCombined(c, [file], target, ["FAIL", "PASS"]);
    assert.ok(failsRun(c, true), `unrecorded flaky with stable ${stable} must fail the run`);
  }
});

/** A Python echo server that, on every other start, closes connections without echoing. */
const FLIP_FLOP = `
import os, socket, sys
counter = sys.argv[3]
n = int(open(counter).read() or "0") + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(n))
s = socket.create_server((sys.argv[1], int(sys.argv[2])))
while True:
    c, _ = s.accept()
    data = c.recv(65536)
    if n % 2 == 1:
        c.sendall(data)
    c.close()
`;

Deno.test("a server that fails every other start is reported FLAKY 50%, and fits once recorded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-flaky-" });
  try {
    await Deno.writeTextFile(`${dir}/flip_flop.py`, FLIP_FLOP);
    await Deno.writeTextFile(
      `${dir}/flip-flop.json`,
      JSON.stringify({
        name: "flip-flop",
        kind: "stream-echo",
        transports: ["tcp"],
        command: ["python3", "{dir}/flip_flop.py", "{host}", "{port}", `${dir}/count`],
        timeoutMs: 1000,
      }),
    );
    const target = await loadManifest(`${dir}/flip-flop.json`);
    const cases = allCases.filter((c) => c.id === "echo/tcp/1");
    const run = async (expect: FlakyExpectFile) => {
      await Deno.remove(`${dir}/count`).catch(() => {});
      const report = await runAll([target], cases, {
        strict: true,
      });
      applyExpectations(report, [expect.file]);
      const settled = await settleFlaky(report, [target], cases, [expect], {
        reruns: 3,
        flakyRuns: 6,
        strict: true,
      });
      return { report, settled, r: report.targets[0].results[0] };
    };
    // Start 1 echoes (PASS): it fits "*": "PASS" and is not re-run, so nothing is seen.
    const none = parseFlakyExpectFile(`${dir}/e.json`, JSON.stringify({ "flip-flop.json": {} }));
    const first = await run(none);
    assert.equal(first.r.verdict, "PASS");
    assert.equal(first.settled.length, 0);
    // Expected FAIL: start 1 gives PASS, which differs, so 3 more runs: P F P F.
    const wantFail = parseFlakyExpectFile(
      `${dir}/e.json`,
      JSON.stringify({ "flip-flop.json": { "echo/tcp/1": "FAIL" } }),
    );
    const caught = await run(wantFail);
    assert.equal(caught.r.verdict, "FAIL");
    assert.match(
      caught.r.message,
      /^FLAKY \(not recorded\): FAIL in 2 of 4 runs \(50%\), PASS in 2/,
    );
    assert.ok(failsRun(caught.r, true));
    assert.deepEqual(caught.settled.map((s) => s.runs.map((r) => r.verdict)), [
      ["PASS", "FAIL", "PASS", "FAIL"],
    ]);
    // Record it the way --update does, then the same behaviour fits, measured over 6 runs.
    const recorded = recordExpectations(caught.report, caught.settled, {}, `${dir}/e.json`);
    assert.deepEqual(recorded["flip-flop.json"]["echo/tcp/1"], {
      verdict: "FLAKY",
      runs: 4,
      counts: { PASS: 2, FAIL: 2 },
    });
    const fits = await run(parseFlakyExpectFile(`${dir}/e.json`, JSON.stringify(recorded)));
    assert.equal(judge(fits.r, true), "expected");
    assert.match(
      fits.r.message,
      /^FLAKY: FAIL in 3 of 6 runs \(50%\), PASS in 3 \(recorded FAIL in 2 of 4/,
    );
    assert.match(matrixMarkdown(fits.report, fits.settled), /〰️ FLAKY 3\/6/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the recorded catalogue is coherent and every FAIL and FLAKY is explained in docs/third-party.md", async () => {
  const text = await Deno.readTextFile(CATALOGUE_EXPECT);
  const file = parseFlakyExpectFile(CATALOGUE_EXPECT, text);
  const manifests = await catalogueManifests();
  const recorded = file.file.entries.map((e) => e.manifest);
  assert.deepEqual(
    recorded.toSorted(),
    manifests,
    "every catalogue manifest is recorded, no other",
  );
  const ids = new Set(allCases.map((c) => c.id));
  const docs = await Deno.readTextFile(`${ROOT}/docs/third-party.md`);
  const headings = docs.split("\n").filter((l) => l.startsWith("### "));
  const needed: string[] = [];
  for (const e of file.file.entries) {
    const name = relative(`${ROOT}/fixtures/targets`, e.manifest).replace(/\.json$/, "");
    for (const [id, want] of Object.entries(e.cases)) {
      assert.ok(ids.has(id), `${name}: no case ${id}`);
      if (want.verdict === "FAIL" || want.verdict === "ERROR") needed.push(`${name} ${id}`);
    }
  }
  for (const f of file.flaky) {
    assert.ok(ids.has(f.id), `no case ${f.id}`);
    needed.push(
      `${relative(`${ROOT}/fixtures/targets`, f.manifest).replace(/\.json$/, "")} ${f.id}`,
    );
  }
  const explained = (key: string) => {
    const [name, id] = key.split(" ");
    return headings.some((h) => h.includes(`\`${name}\``) && h.includes(`\`${id}\``));
  };
  assert.deepEqual(
    needed.filter((k) => !explained(k)),
    [],
    "docs/third-party.md needs a '### `server` `case id` ...' section for each of these",
  );
  const stale = headings.filter((h) => /`[a-z]+-echo-[a-z]+`/.test(h)).filter((h) =>
    !needed.some((k) => {
      const [name, id] = k.split(" ");
      return h.includes(`\`${name}\``) && h.includes(`\`${id}\``);
    })
  );
  assert.deepEqual(stale, [], "docs/third-party.md explains failures that are no longer recorded");
});

Deno.test("the Python socketserver targets give their recorded results through the catalogue script", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-catalogue-" });
  try {
    const pyservers = (await catalogueManifests()).filter((f) => /\/pyserver-/.test(f));
    assert.ok(pyservers.length >= 3, "pyserver manifests for tcp, unix and udp at least");
    const code = await catalogueMain(["--out", dir, "--quiet", "--jobs", "2", ...pyservers]);
    const report: RunReport = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
    const differs = report.targets.flatMap((t) =>
      t.results.filter((r) => failsRun(r, true)).map((r) => `${t.name} ${r.id}: ${r.message}`)
    );
    assert.deepEqual(differs, [], "results that differ from expectations/catalogue.json");
    assert.equal(code, 0);
    for (const f of ["junit.xml", "report.json", "report.md", "report.html", "matrix.md"]) {
      assert.ok((await Deno.stat(`${dir}/${f}`)).size > 0, `${f} written`);
    }
    assert.match(await Deno.readTextFile(`${dir}/matrix.md`), /\| pyserver-echo-tcp \|/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const thirdParty = ["socat", "ncat"].filter((c) => !commandExists(c));
Deno.test({
  name: thirdParty.length
    ? `the whole catalogue: SKIPPED, ${
      thirdParty.join(" and ")
    } missing (run scripts/install_third_party.sh)`
    : "the whole catalogue (socat, ncat, socketserver) gives its recorded results; reports in reports/catalogue/",
  ignore: thirdParty.length > 0,
  async fn() {
    // CI installs socat and ncat (.ci/run), so a change in sockspec's verdicts on real servers
    // fails CI. The reports stay in reports/catalogue/ (gitignored) as the CI artifact.
    const out = new URL("../reports/catalogue", import.meta.url).pathname;
    const t0 = performance.now();
    const code = await catalogueMain(["--out", out, "--quiet", "--jobs", "2"]);
    console.log(
      `catalogue run: exit ${code} in ${
        Math.round((performance.now() - t0) / 1000)
      } s; reports in ${out}`,
    );
    const report: RunReport = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
    const differs = report.targets.flatMap((t) =>
      t.results.filter((r) => failsRun(r, true)).map((r) => `${t.name} ${r.id}: ${r.message}`)
    );
    assert.deepEqual(differs, [], "results that differ from expectations/catalogue.json");
    assert.equal(code, 0);
  },
});

Deno.test("--update pools survey counts into FLAKY records and never drops one by itself", () => {
  const source = "/x/fixtures/targets/s.json";
  const runs = Array.from({ length: 20 }, () => result("PASS"));
  const combined = combineRuns(runs, { runs: 5, counts: { FAIL: 4, PASS: 1 } });
  const report = {
    strict: true,
    targets: [{ name: "s", kind: "stream-echo", source, results: [combined], durationMs: 0 }],
  } as unknown as RunReport;
  const settled = [{
    target: "s",
    source,
    id: combined.id,
    runs,
    result: combined,
    flaky: false,
    record: { runs: 5, counts: { FAIL: 4, PASS: 1 } },
  }];
  const old = {
    "../fixtures/targets/s.json": {
      "echo/tcp/4": { verdict: "FLAKY", runs: 5, counts: { FAIL: 4, PASS: 1 }, message: "stalled" },
    },
  };
  const warnings: string[] = [];
  const json = recordExpectations(report, settled, old, "/x/expectations/c.json", (m) => {
    warnings.push(m);
  });
  assert.deepEqual(json["../fixtures/targets/s.json"]["echo/tcp/4"], {
    verdict: "FLAKY",
    runs: 25,
    counts: { FAIL: 4, PASS: 21 },
    message: "stalled",
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^s echo\/tcp\/4: recorded FLAKY, but 20 runs all gave PASS/);
});

Deno.test("matrix rows merge a case across transports", () => {
  assert.equal(matrixRow("echo/tcp/4"), "echo/4");
  assert.equal(matrixRow("echo/unix/4"), "echo/4");
  assert.equal(matrixRow("dgram/unixgram/11"), "dgram/11");
  assert.equal(matrixRow("uds/lifecycle/2"), "uds/lifecycle/2");
});
