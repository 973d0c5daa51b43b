import assert from "node:assert/strict";
import { parseJsonReport } from "../reports/json.ts";
import { summarize } from "../reports/report.ts";
import { cliArgv, ROOT, runCli } from "../testdata/run_cli.ts";
import { reportValidator, xmllint } from "../testdata/validators.ts";

const UPPER = "fixtures/broken/report-upper.json";
const UPPER_EXPECT = "fixtures/broken/report.expect.json";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "sockspec-check-test-" });
}

Deno.test("a three-target run writes all four formats; JUnit and JSON pass their schemas", async () => {
  const dir = await tempDir();
  try {
    const { code, stdout, stderr } = await runCli([
      "check",
      "echo/tcp/1",
      "echo/unix/1",
      ...["echo/tcp/10", "echo/tcp/11", "echo/unix/10", "echo/unix/11"].flatMap((
        x,
      ) => ["--exclude", x]),
      "--jobs",
      "3",
      "--report",
      `junit=${dir}/out/junit.xml`,
      "--report",
      `json=${dir}/out/report.json`,
      "--report",
      `markdown=${dir}/out/summary.md`,
      "--report",
      `html=${dir}/out/report.html`,
    ]);
    assert.equal(code, 0, stdout + stderr);
    const report = parseJsonReport(
      await Deno.readTextFile(`${dir}/out/report.json`),
      "report.json",
    );
    // The built-in echo targets: TCP over IPv4 and IPv6, and Unix sockets (three or more).
    const names = report.targets.map((t) => t.name);
    assert.ok(names.length >= 3, names.join(", "));
    for (const name of ["reference-echo-tcp", "reference-echo-tcp6", "reference-echo-unix"]) {
      assert.ok(names.includes(name), `${name} not in ${names.join(", ")}`);
    }
    assert.ok(report.targets.every((t) => t.results.length > 0));
    const s = summarize(report);
    assert.ok(s.passed >= 3 && s.failed === 0 && s.exitCode === 0, JSON.stringify(s));
    // Progress went to stderr, one plain line per case (stderr is not a terminal here).
    assert.equal(
      stderr.split("\n").filter((l) => /^\[\d+\/\d+\] reference-echo-/.test(l)).length,
      s.total,
    );
    // --jobs 3 ran the targets at the same time: the run took less than its targets did in turn.
    const sum = report.targets.reduce((n, t) => n + t.durationMs, 0);
    assert.ok(
      report.durationMs < 0.9 * sum,
      `run ${report.durationMs} ms, targets ${sum} ms in all`,
    );

    const validate = await reportValidator();
    assert.deepEqual(validate(JSON.parse(await Deno.readTextFile(`${dir}/out/report.json`))), []);
    if (xmllint.available) {
      assert.deepEqual(await xmllint.validate(`${dir}/out/junit.xml`), []);
    } else {
      console.warn(`JUnit XSD validation not run: ${xmllint.missing}`);
    }
    const junit = await Deno.readTextFile(`${dir}/out/junit.xml`);
    assert.equal((junit.match(/<testsuite /g) ?? []).length, names.length);
    assert.equal((junit.match(/<testcase /g) ?? []).length, s.total);
    const md = await Deno.readTextFile(`${dir}/out/summary.md`);
    assert.ok(
      md.startsWith(`## ✅ sockspec: ${s.passed} passed, 0 failed, ${s.skipped} skipped\n`),
      md,
    );
    for (const t of report.targets) assert.match(md, new RegExp(`^\\| ✅ ${t.name} \\| `, "m"));
    const html = await Deno.readTextFile(`${dir}/out/report.html`);
    assert.equal((html.match(/<td class="cell /g) ?? []).length, s.total);
    assert.ok(!/\b(src|href)="https?:/.test(html), "the HTML loads nothing from the network");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with an expectations file that lists a broken fixture's failures the run exits 0; without it, 1", async () => {
  const args = [
    "check",
    "--target",
    UPPER,
    "echo/tcp/1",
    "echo/tcp/3",
    "--exclude",
    "echo/tcp/10",
    "--exclude",
    "echo/tcp/11",
  ];
  const without = await runCli(args);
  assert.equal(without.code, 1, without.stdout + without.stderr);
  assert.match(without.stdout, /^ {4}FAIL {3}MUST {3}echo\/tcp\/1 /m);
  assert.match(without.stdout, /\n0 passed, 2 failed, 0 skipped\n$/);

  const dir = await tempDir();
  try {
    const withIt = await runCli([
      ...args,
      "--expect",
      UPPER_EXPECT,
      "--report",
      `json=${dir}/r.json`,
      "--report",
      `junit=${dir}/j.xml`,
    ]);
    assert.equal(withIt.code, 0, withIt.stdout + withIt.stderr);
    assert.match(withIt.stdout, /^ {4}XFAIL {2}MUST {3}echo\/tcp\/1 .*\(expected FAIL\)$/m);
    assert.match(withIt.stdout, /\n0 passed, 0 failed, 0 skipped, 2 expected failures\n$/);
    const report = parseJsonReport(await Deno.readTextFile(`${dir}/r.json`), "r.json");
    assert.deepEqual(report.expectations, [`${ROOT}${UPPER_EXPECT}`]);
    assert.deepEqual(
      report.targets[0].results.map((r) => [r.verdict, r.expected, r.expectedMessage]),
      [
        ["FAIL", "FAIL", "echo differs"],
        ["FAIL", "FAIL", "echo differs"],
      ],
    );
    const junit = await Deno.readTextFile(`${dir}/j.xml`);
    assert.match(junit, /failures="0" errors="0" skipped="2"/);

    // A result the file does not expect still fails the run (echo/tcp/2 is not listed).
    const more = await runCli([...args, "echo/tcp/2", "--expect", UPPER_EXPECT]);
    assert.equal(more.code, 1);
    assert.match(more.stdout, /\n0 passed, 1 failed, 0 skipped, 2 expected failures\n$/);

    // An unexpected PASS is reported as such and fails the run: a correct server expected to FAIL.
    const good = JSON.parse(await Deno.readTextFile(`${ROOT}${UPPER}`));
    good.name = "good-echo";
    good.command[2] = good.command[2].replace("d.upper()", "d");
    await Deno.writeTextFile(`${dir}/good.json`, JSON.stringify(good));
    await Deno.writeTextFile(
      `${dir}/good.expect.json`,
      JSON.stringify({ "good.json": { "echo/tcp/1": "FAIL" } }),
    );
    const xpass = await runCli([
      "check",
      "--target",
      `${dir}/good.json`,
      "echo/tcp/1",
      "--exclude",
      "echo/tcp/10",
      "--exclude",
      "echo/tcp/11",
      "--expect",
      `${dir}/good.expect.json`,
    ]);
    assert.equal(xpass.code, 1, xpass.stdout + xpass.stderr);
    assert.match(
      xpass.stdout,
      /^ {4}XPASS {2}MUST {3}echo\/tcp\/1 .*\(UNEXPECTED: expected FAIL, got PASS\)$/m,
    );
    assert.match(
      xpass.stdout,
      /\n1 case\(s\) passed that the expectations say should not: update the expectations file\n0 passed, 0 failed, 0 skipped, 1 unexpected pass\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Ctrl-C: the partial report is printed and every report file is written; exit 130", async () => {
  const dir = await tempDir();
  const marker = "sockspec-report-uppe[r]"; // as a grep pattern, it does not match grep itself
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgv([
        "check",
        "--target",
        UPPER,
        "--report",
        `json=${dir}/r.json`,
        "--report",
        `junit=${dir}/j.xml`,
        "--report",
        `md=${dir}/r.md`,
        "--report",
        `html=${dir}/r.html`,
      ]),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    // Wait until two cases are done, then interrupt.
    const reader = child.stderr.getReader();
    let err = "";
    const deadline = Date.now() + 20_000;
    while (!/\[2\/\d+\]/.test(err) && Date.now() < deadline) {
      const { value, done } = await Promise.race([
        reader.read(),
        new Promise<{ value: undefined; done: true }>((r) =>
          setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now())
        ),
      ]);
      if (done) break;
      err += new TextDecoder().decode(value);
    }
    assert.match(err, /\[2\/\d+\]/, `no progress within 20 s: ${err}`);
    child.kill("SIGINT");
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        err += new TextDecoder().decode(value);
      }
    })();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const [status, stdout] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      rest,
    ]);
    clearTimeout(timer);
    assert.equal(status.code, 130, stdout + err);
    assert.match(err, /interrupted: tearing down targets and writing the partial report/);
    assert.match(stdout, /the run was interrupted: this report is partial/);
    const report = parseJsonReport(await Deno.readTextFile(`${dir}/r.json`), "r.json");
    assert.equal(report.interrupted, true);
    const n = report.targets[0].results.length;
    assert.ok(n >= 2 && n < 10, `${n} results`);
    assert.deepEqual(
      (await reportValidator())(JSON.parse(await Deno.readTextFile(`${dir}/r.json`))),
      [],
    );
    if (xmllint.available) assert.deepEqual(await xmllint.validate(`${dir}/j.xml`), []);
    assert.match(
      await Deno.readTextFile(`${dir}/r.md`),
      /The run was interrupted: this report is partial\./,
    );
    assert.match(
      await Deno.readTextFile(`${dir}/r.html`),
      /The run was interrupted: this report is partial\./,
    );
    // No target process is left behind.
    const left = await new Deno.Command("sh", {
      args: ["-c", `grep -l '${marker}' /proc/[0-9]*/cmdline 2>/dev/null; true`],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(left.stdout).trim(), "", "a target process is left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors exit 2 and say what to do", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/x.expect.json`,
      JSON.stringify({ "m.json": { "echo/tcp/99": "FAIL" } }),
    );
    await Deno.writeTextFile(
      `${dir}/bad.expect.json`,
      JSON.stringify({ "m.json": { "echo/tcp/1": "OK" } }),
    );
    const cases: [string[], RegExp][] = [
      [
        ["--report", "pdf=x.pdf"],
        /--report takes FORMAT=FILE with FORMAT one of junit, json, markdown, html/,
      ],
      [["--report", "json=a", "--report", "html=a"], /--report names 'a' twice/],
      [["--shard", "3/2"], /--shard takes i\/n with 1 <= i <= n/],
      [["--jobs", "0"], /--jobs must be a whole number from 1 to 64/],
      [
        ["--expect", `${dir}/x.expect.json`],
        /no case 'echo\/tcp\/99' exists; see sockspec check --list/,
      ],
      [
        ["--expect", `${dir}/bad.expect.json`],
        /bad\.expect\.json: "m\.json" "echo\/tcp\/1": the verdict must be one of/,
      ],
      [["--expect", `${dir}/none.json`], /none\.json: cannot read the expectations file/],
    ];
    for (const [args, re] of cases) {
      const { code, stderr } = await runCli(["check", ...args, "echo/tcp/1"]);
      assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
      assert.match(stderr, re, args.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--list with --shard lists that shard's cases; the shards cover the run once", async () => {
  const list = async (extra: string[]) => {
    const { code, stdout } = await runCli(["check", "--list", "echo/", ...extra]);
    assert.equal(code, 0);
    let target = "";
    const pairs: string[] = [];
    for (const line of stdout.split("\n")) {
      if (/^\S/.test(line)) target = line.split(" ")[0];
      else if (line.trim()) pairs.push(`${target} ${line.trim().split(/\s+/)[1]}`);
    }
    return pairs;
  };
  const all = await list([]);
  const parts = await Promise.all([
    list(["--shard", "1/3"]),
    list(["--shard", "2/3"]),
    list(["--shard", "3/3"]),
  ]);
  assert.ok(all.length > 20, `${all.length} pairs`);
  assert.deepEqual(parts.flat().sort(), [...all].sort());
  for (const p of parts) {
    assert.ok(Math.abs(p.length - all.length / 3) <= 1, `${p.length} of ${all.length}`);
  }
  // Deterministic: the same shard twice gives the same pairs.
  assert.deepEqual(await list(["--shard", "2/3"]), parts[1]);
});
