import assert from "node:assert/strict";
import { streamEchoCasesAll } from "../../conformance/echo/echo.ts";
import type { BenchReport } from "../bench/bench.ts";
import {
  benchMain,
  buildCEcho,
  C_ECHO_NAME,
  cEchoSubject,
  referenceBenchSubject,
  subjectsOf,
} from "./bench.ts";
import { UsageError } from "./_args.ts";
import { commandExists, parseManifest } from "../harness/manifest.ts";
import { runTarget } from "../harness/runner.ts";

const HAVE_CC = commandExists("cc");

/** Runs `fn` with console.log and console.error captured; returns what they printed. */
async function captured<T>(fn: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const value = await fn();
    return { value, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("smoke: sockspec bench measures the reference and the C baseline, prints the table, writes JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-bench-test-" });
  try {
    const json = `${dir}/bench.json`;
    const { value: code, out, err } = await captured(() =>
      benchMain(["--duration", "0.1", "--warmup", "0.02", "--runs", "1", "--json", json])
    );
    assert.equal(code, 0, `${out}\n${err}`);
    const report: BenchReport = JSON.parse(await Deno.readTextFile(json));
    const names = report.results.map((r) => `${r.subject} ${r.transport}`);
    const expected = [
      ...(HAVE_CC ? [`${C_ECHO_NAME} tcp`, `${C_ECHO_NAME} unix`] : []),
      "reference-echo-large tcp",
      "reference-echo-large unix",
    ];
    assert.deepEqual(names, expected);
    for (const r of report.results) {
      assert.equal(r.error, undefined);
      assert.equal(r.throughput.runs.length, 1);
      assert.ok(r.throughput.mbPerSecond.median > 0);
      assert.ok(r.roundTrips.perSecond.median > 0);
    }
    assert.equal(report.udsTcp.length, HAVE_CC ? 2 : 1);
    assert.match(out, /Throughput, MB\/s/);
    assert.match(out, /reference-echo-large\s+unix\s+\d+/);
    assert.match(out, /UDS\/TCP ratio/);
    if (HAVE_CC) {
      assert.equal(report.baseline, C_ECHO_NAME);
      assert.ok(report.results.at(-1)!.throughput.vsBaseline!.median > 0);
      assert.match(out, /vs c-echo/);
    } else {
      assert.match(report.notes.join("\n"), /C baseline skipped: no cc on PATH/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench options are checked", async () => {
  for (
    const args of [
      ["--transport", "udp"],
      ["--duration", "0"],
      ["--runs", "0"],
      ["--size", "1.5"],
      ["--frobnicate"],
    ]
  ) {
    await assert.rejects(benchMain(args), UsageError, args.join(" "));
  }
  const { value, out } = await captured(() => benchMain(["--help"]));
  assert.equal(value, 0);
  assert.match(out, /--transport T/);
});

Deno.test("subjectsOf pairs NAME-tcp with NAME-unix and refuses other kinds", () => {
  const t = (name: string, transports: string[], kind = "stream-echo") =>
    parseManifest({ name, kind, transports, command: ["sh", "-c", "exit 0"] }, `${name}.json`);
  const subjects = subjectsOf([
    t("py-echo-tcp", ["tcp"]),
    t("py-echo-unix", ["unix"]),
    t("both", ["tcp", "unix"]),
  ]);
  assert.deepEqual(subjects.map((s) => [s.name, Object.keys(s.targets)]), [
    ["py-echo", ["tcp", "unix"]],
    ["both", ["tcp", "unix"]],
  ]);
  assert.throws(() => subjectsOf([t("rec", ["tcp"], "record")]), /stream-echo/);
  assert.throws(() => subjectsOf([t("x-tcp", ["tcp"]), t("x", ["tcp"])]), /already has a tcp/);
});

Deno.test("the reference echo server in large-buffer mode passes every stream echo case", async () => {
  const { targets } = referenceBenchSubject();
  for (const target of [targets.tcp!, targets.unix!]) {
    const report = await runTarget(target, streamEchoCasesAll);
    const bad = report.results.filter((r) =>
      r.level !== "INFO" && r.verdict !== "PASS" && r.verdict !== "SKIP"
    );
    assert.deepEqual(bad.map((r) => `${r.id} ${r.verdict}: ${r.message}`), []);
    assert.ok(report.results.filter((r) => r.verdict === "PASS").length >= 9);
  }
});

Deno.test({
  name: "the C baseline builds and passes every stream echo case",
  ignore: !HAVE_CC,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sockspec-bench-test-" });
    try {
      const built = await buildCEcho(dir);
      assert.ok("binary" in built, JSON.stringify(built));
      const target = cEchoSubject(built.binary).targets.tcp!;
      const report = await runTarget(target, streamEchoCasesAll);
      const bad = report.results.filter((r) => r.verdict !== "PASS" && r.verdict !== "SKIP");
      assert.deepEqual(bad.map((r) => `${r.id} ${r.verdict}: ${r.message}`), []);
      assert.equal(report.results.filter((r) => r.verdict === "PASS").length, 18);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without cc on PATH the baseline is skipped with a note", async () => {
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", "/nonexistent");
  try {
    const built = await buildCEcho("/nonexistent");
    assert.deepEqual(built, {
      skipped:
        "C baseline skipped: no cc on PATH (install a C compiler, e.g. gcc, to compare with it)",
    });
  } finally {
    Deno.env.set("PATH", path);
  }
});
