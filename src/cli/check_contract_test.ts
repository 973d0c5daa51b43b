/**
 * The command-line contract of `sockspec check` (issue 15): selection by whole id
 * components, every mistake a usage error (exit 2) found before any case runs and naming
 * the id, field or file, reports on stdout, `--list --json`, the closing line, `--repeat`.
 */

import assert from "node:assert/strict";
import { parseJsonReport } from "../reports/json.ts";
import { ROOT, runCli } from "../testdata/run_cli.ts";

const UPPER = "fixtures/broken/report-upper.json";

async function listed(args: string[]): Promise<Map<string, string[]>> {
  const { code, stdout, stderr } = await runCli(["check", ...args, "--list", "--json"]);
  assert.equal(code, 0, stderr);
  const doc = JSON.parse(stdout);
  return new Map(
    doc.targets.map((t: { name: string; cases: { id: string }[] }) => [
      t.name,
      t.cases.map((c) => c.id),
    ]),
  );
}

Deno.test("selection: whole components, * and **, the same for --exclude", async () => {
  const one = await listed(["echo/tcp/1"]);
  assert.deepEqual(one.get("reference-echo-tcp"), ["echo/tcp/1"], "echo/tcp/1 is one case");
  assert.ok(!one.has("reference-echo-unix"));

  const star = await listed(["echo/*/1"]);
  assert.deepEqual(star.get("reference-echo-tcp"), ["echo/tcp/1"]);
  assert.deepEqual(star.get("reference-echo-unix"), ["echo/unix/1"]);

  const family = await listed(["echo/tcp", "--exclude", "echo/tcp/1"]);
  const ids = family.get("reference-echo-tcp")!;
  assert.ok(ids.includes("echo/tcp/10") && ids.includes("echo/tcp/11"), ids.join(" "));
  assert.ok(!ids.includes("echo/tcp/1"), "--exclude echo/tcp/1 drops only echo/tcp/1");

  const any = await listed(["**/4"]);
  for (const ids of any.values()) assert.ok(ids.every((id) => id.endsWith("/4")), ids.join(" "));
  assert.ok([...any.values()].flat().includes("dgram/udp/4"));
});

Deno.test("--list --json lists id, title, family, level, requirement, hint and needs", async () => {
  const { code, stdout } = await runCli(["check", "--list", "--report", "json=-", "client/tcp/1"]);
  assert.equal(code, 0);
  const doc = JSON.parse(stdout);
  const c = doc.targets[0].cases[0];
  assert.deepEqual(
    Object.keys(c).sort(),
    ["family", "hint", "id", "level", "needs", "requirement", "title"],
  );
  assert.equal(c.id, "client/tcp/1");
  assert.equal(c.family, "client/tcp");
  assert.equal(c.title, "Stream echo client over TCP");
});

Deno.test("each mistake exits 2 before any case runs, naming the id, option, field or file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-contract-" });
  try {
    const write = (name: string, json: unknown) =>
      Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(json));
    await write("stranger.expect.json", { "nowhere.json": { "echo/tcp/1": "PASS" } });
    await write("nocase.expect.json", { [`${ROOT}${UPPER}`]: { "echo/tcp/1/9": "PASS" } });
    await write("noport.json", {
      name: "noport",
      kind: "stream-echo",
      transports: ["unix"],
      command: ["python3", "-c", "pass", "{port}"],
    });
    await write("slow.json", {
      name: "slow",
      kind: "stream-echo",
      transports: ["tcp"],
      command: ["python3", "-c", "pass", "{port}"],
      timeoutMs: 99999999999,
    });
    await write("wrongkind.json", {
      name: "wrongkind",
      kind: "stream-echo",
      transports: ["udp"],
      command: ["python3", "-c", "pass", "{port}"],
    });
    await write("faraway.json", {
      name: "faraway",
      kind: "stream-echo",
      transports: ["tcp"],
      host: "10.255.255.1",
      command: ["python3", "-c", "pass", "{port}"],
    });
    await Deno.writeTextFile(`${dir}/rel-server.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/rel-server.sh`, 0o755);
    await write("rel.json", {
      name: "rel",
      kind: "stream-echo",
      transports: ["tcp"],
      command: ["rel-server.sh", "{port}"],
    });
    await Deno.writeTextFile(`${dir}/afile`, "");
    const cases: [string[], RegExp][] = [
      [["echo/tcp/99"], /'echo\/tcp\/99' matches no case id/],
      [["echo/tcp/1", "--exclude", "echo/tcp/99"], /--exclude 'echo\/tcp\/99' matches no case/],
      [["echo/tcp/1", "--exclude", "echo//1"], /--exclude 'echo\/\/1' has an empty component/],
      [["echo/tcp*"], /'echo\/tcp\*': a component is a whole name/],
      [
        ["--target", UPPER, "--expect", `${dir}/stranger.expect.json`],
        /stranger\.expect\.json: key ".*nowhere\.json" names no target of this run/,
      ],
      [
        ["--target", UPPER, "--expect", `${dir}/nocase.expect.json`],
        /nocase\.expect\.json: .*no case 'echo\/tcp\/1\/9' exists/,
      ],
      [["--jobs", "-1"], /--jobs must be a whole number from 1 to 64, not '-1'/],
      [["--jobs", "2x"], /--jobs must be a whole number from 1 to 64, not '2x'/],
      [["--repeat", "0"], /--repeat must be a whole number from 1 to 1000, not '0'/],
      [["--timeout", "600001"], /--timeout must be a whole number from 1 to 600000/],
      [
        ["--target", `${dir}/noport.json`],
        /noport\.json: field 'command\[3\]': \{port\} has no value/,
      ],
      [["--target", `${dir}/slow.json`], /slow\.json: field 'timeoutMs': must be <= 600000/],
      [
        ["--target", `${dir}/wrongkind.json`],
        /wrongkind\.json: field 'transports\[0\]': a stream-echo target cannot use udp/,
      ],
      [
        ["--target", `${dir}/faraway.json`],
        /faraway\.json: field 'host': 10\.255\.255\.1 is not an address of this machine/,
      ],
      [
        ["--target", `${dir}/rel.json`],
        /rel\.json: field 'command\[0\]': 'rel-server\.sh' is not on PATH, but it is next to the manifest; use \{dir\}\/rel-server\.sh/,
      ],
      [["--report", `json=${dir}`], /--report json=.*: is a directory; give a file name/],
      [
        ["--report", "junit=/dev/stdout"],
        /--report junit=\/dev\/stdout: write to standard output with junit=- instead/,
      ],
      [
        ["--report", `html=${dir}/afile/r.html`],
        /--report html=.*afile\/r\.html: cannot create its directory/,
      ],
      [["--report", "json=-", "--report", "junit=-"], /two reports to standard output/],
    ];
    for (const [args, re] of cases) {
      const all = [
        "check",
        ...(args.some((a) => a.startsWith("--target")) ? [] : ["echo/tcp/1"]),
        ...args,
      ];
      const { code, stdout, stderr } = await runCli(all);
      const where = `${args.join(" ")}: ${stderr}`;
      assert.equal(code, 2, where);
      assert.match(stderr, re, where);
      assert.doesNotMatch(stderr, /please report this|--allow-all/, where);
      assert.doesNotMatch(stderr, /^\[1\//m, `${where}: a case ran`);
      assert.equal(stdout, "", where);
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [
        "afile",
        "faraway.json",
        "noport.json",
        "rel-server.sh",
        "rel.json",
        "nocase.expect.json",
        "slow.json",
        "stranger.expect.json",
        "wrongkind.json",
      ].sort(),
      "the report checks left no file behind",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--report json=- writes JSON to stdout, the console report to stderr", async () => {
  const { code, stdout, stderr } = await runCli(["check", "echo/tcp/1", "--report", "json=-"]);
  assert.equal(code, 0, stderr);
  const report = parseJsonReport(stdout, "stdout");
  assert.ok(report.targets.length >= 2);
  for (const t of report.targets) assert.deepEqual(t.results.map((r) => r.id), ["echo/tcp/1"]);
  assert.match(stderr, new RegExp(`^${report.targets.length} passed, 0 failed, 0 skipped$`, "m"));
});

Deno.test("--list --json: --json is then a flag, so a pattern after it is a pattern", async () => {
  const { code, stdout } = await runCli(["check", "--list", "--json", "echo/unix/2"]);
  assert.equal(code, 0);
  const ids = JSON.parse(stdout).targets.flatMap((t: { cases: { id: string }[] }) =>
    t.cases.map((c) => c.id)
  );
  assert.deepEqual([...new Set(ids)], ["echo/unix/2"]);
});

Deno.test("--repeat N: a case whose verdicts differ is FLAKY with its rate, in every format; --expect records it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-contract-" });
  try {
    // Every second start echoes in upper case: PASS, FAIL, PASS, FAIL.
    const manifest = JSON.parse(await Deno.readTextFile(`${ROOT}${UPPER}`));
    manifest.name = "alternating";
    manifest.command = [
      "python3",
      "-c",
      [
        "import os, socket, sys",
        "n = int(open(sys.argv[3]).read()) if os.path.exists(sys.argv[3]) else 0",
        "open(sys.argv[3], 'w').write(str(n + 1))",
        "s = socket.create_server((sys.argv[1], int(sys.argv[2])))",
        "while True:",
        "    c, _ = s.accept()",
        "    with c:",
        "        while d := c.recv(4096):",
        "            c.sendall(d.upper() if n % 2 else d)",
      ].join("\n"),
      "{host}",
      "{port}",
      `${dir}/count`,
    ];
    await Deno.writeTextFile(`${dir}/alt.json`, JSON.stringify(manifest));
    const args = ["check", "--target", `${dir}/alt.json`, "echo/tcp/2", "--repeat", "4"];
    const reports = ["json", "junit", "markdown", "html"].flatMap((f) => [
      "--report",
      `${f}=${dir}/r.${f}`,
    ]);
    const run = await runCli([...args, ...reports]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const rate = /FLAKY \(not recorded\): FAIL in 2 of 4 runs \(50%\), PASS in 2/;
    assert.match(run.stdout, rate);
    assert.match(run.stdout, /^ {4}FLAKY {2}MUST {3}echo\/tcp\/2 /m, "the label says FLAKY");
    for (const f of ["json", "junit", "markdown", "html"]) {
      assert.match(await Deno.readTextFile(`${dir}/r.${f}`), rate, `${f} report`);
    }
    const report = parseJsonReport(await Deno.readTextFile(`${dir}/r.json`), "r.json");
    assert.equal(report.targets[0].results[0].observed.flaky, true);
    assert.equal(report.targets[0].results[0].observed.runs, 4);

    await Deno.writeTextFile(`${dir}/count`, "0");
    await Deno.writeTextFile(
      `${dir}/alt.expect.json`,
      JSON.stringify({
        "alt.json": {
          "echo/tcp/2": { verdict: "FLAKY", runs: 4, counts: { PASS: 2, FAIL: 2 } },
        },
      }),
    );
    const recorded = await runCli([...args, "--expect", `${dir}/alt.expect.json`]);
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    assert.match(
      recorded.stdout,
      /FLAKY: FAIL in 2 of 4 runs \(50%\), PASS in 2 \(recorded FAIL in 2 of 4 runs/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
