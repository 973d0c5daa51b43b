// The npm package, as a new user gets it: `deno task pack` (scripts/pack.ts), `npm install`
// of the tarball into a project outside the repo (its `deno` dependency from the npm
// registry or cache), then `npx sockspec …` there against a server that lives in that
// project. Also the JSR dry run: both packages carry the same runtime files, nothing else.
import assert from "node:assert/strict";
import { basename } from "node:path";
import { ROOT, runCommand } from "../src/testdata/run_cli.ts";
import { NPM_INSTALL, NPX_CHECK } from "../src/testdata/readme_commands.ts";
import { patternTest, runtimeFiles } from "./pack.ts";

const NPM_TIMEOUT_MS = 240_000;

/** Runs a README command line (split on spaces) in `cwd`. */
function sh(line: string, cwd: string, timeoutMs = 120_000) {
  const [command, ...args] = line.split(" ");
  return runCommand(command, args, {
    cwd,
    timeoutMs,
    env: {
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    },
  });
}

/**
 * The runtime files both packages must hold: modules, deno.json (VERSION), the C baseline,
 * and the JSON schemas (the manifest validator imports the manifest schema; reports and
 * users' manifests name them).
 */
/** Files under fixtures/ that sockspec runs: the C baseline and two helper programs. */
const RUNTIME_FIXTURES = [
  "fixtures/c/echo_server.c",
  "fixtures/python/mcast_observer.py",
  "fixtures/python/uds_probe_client.py",
];

function assertRuntimeOnly(files: string[], what: string): void {
  const bad = files.filter((f) =>
    f.endsWith("_test.ts") || f.startsWith(".ci/") || f.startsWith("docs/") ||
    f.startsWith("src/testdata/") || f.startsWith("examples/") || f.startsWith("scripts/") ||
    (f.startsWith("schemas/") && !f.endsWith(".schema.json")) || f.startsWith("expectations/") ||
    f.endsWith(".png") ||
    (f.startsWith("fixtures/") && !RUNTIME_FIXTURES.includes(f)) || f.startsWith(".git")
  );
  assert.deepEqual(bad, [], `${what} carries files that do not run`);
  const needs = [
    "mod.ts",
    "deno.json",
    "src/cli/main.ts",
    ...RUNTIME_FIXTURES,
    "schemas/manifest.schema.json",
  ];
  for (const need of needs) {
    assert.ok(files.includes(need), `${what} lacks ${need}`);
  }
}

/** `deno task pack --out dest`: the tarball's path and the files it holds. */
async function npmPack(dest: string): Promise<{ filename: string; files: string[] }> {
  const out = await runCommand(Deno.execPath(), ["task", "--quiet", "pack", "--out", dest], {
    timeoutMs: 120_000,
  });
  assert.equal(out.code, 0, `deno task pack failed: ${out.stderr}`);
  const tarball = out.stdout.trim().split("\n").pop() ?? "";
  assert.equal(tarball.slice(0, dest.length + 1), `${dest}/`, out.stdout);
  const list = await runCommand("tar", ["-tzf", tarball], { timeoutMs: 30_000 });
  assert.equal(list.code, 0, list.stderr);
  const files = list.stdout.trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
  return { filename: basename(tarball), files };
}

Deno.test("publish patterns: directories, * and **", () => {
  assert.ok(patternTest("**/*_test.ts")("a_test.ts"));
  assert.ok(patternTest("**/*_test.ts")("src/x/a_test.ts"));
  assert.ok(!patternTest("**/*_test.ts")("src/x/a_test.tsx"));
  assert.ok(patternTest("src/**/*.ts")("src/a.ts"));
  assert.ok(patternTest("src/**/*.ts")("src/a/b/c.ts"));
  assert.ok(!patternTest("src/**/*.ts")("srcs/a.ts"));
  assert.ok(!patternTest("conformance/*.ts")("conformance/echo/echo.ts"));
  assert.ok(patternTest("src/testdata/")("src/testdata/a/b.ts"));
  assert.ok(!patternTest("src/testdata/")("src/testdata2/b.ts"));
  assert.ok(patternTest("mod.ts")("mod.ts"));
  assert.ok(!patternTest("mod.ts")("mod.tsx"));
  assert.ok(!patternTest("fixtures/c/echo_server.c")("fixtures/c/echo_serverXc"));
});

Deno.test("npm and JSR packages carry the same runtime files only", async () => {
  const dest = await Deno.makeTempDir({ prefix: "sockspec-pack-" });
  try {
    const npm = await npmPack(dest);
    const version = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).version;
    assert.equal(npm.filename, `sockspec-${version}.tgz`);
    assert.equal(`npm install ./${npm.filename}`, NPM_INSTALL, "the README's version is current");
    assertRuntimeOnly(npm.files, "the npm tarball");

    const jsr = await runCommand(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"], {
      timeoutMs: 120_000,
    });
    assert.equal(jsr.code, 0, `deno publish --dry-run failed:\n${jsr.stderr}`);
    const jsrFiles = [...jsr.stderr.matchAll(/file:\/\/(\S+) \(/g)]
      .map((m) => decodeURIComponent(m[1]).slice(ROOT.length)).sort();
    assertRuntimeOnly(jsrFiles, "the JSR package");
    const npmOnly = ["bin/sockspec.cjs", "package.json"];
    assert.deepEqual(npm.files.filter((f) => !npmOnly.includes(f)), jsrFiles);
    assert.deepEqual(await runtimeFiles(ROOT), jsrFiles, "scripts/pack.ts reads publish as JSR");
    assert.deepEqual(npm.files.filter((f) => npmOnly.includes(f)), npmOnly);
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test({
  name: "npm install of the tarball, then npx sockspec in the user's own directory",
  fn: async () => {
    const project = await Deno.makeTempDir({ prefix: "sockspec-user-" });
    try {
      await npmPack(project);
      await Deno.writeTextFile(
        `${project}/package.json`,
        JSON.stringify({ name: "my-project", version: "1.0.0", private: true }),
      );
      const install = await sh(NPM_INSTALL, project, NPM_TIMEOUT_MS);
      assert.equal(install.code, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);

      // The user's server and its manifest, in the user's project ({dir} is the project).
      await Deno.copyFile(`${ROOT}examples/echo_server.mjs`, `${project}/srv.mjs`);
      await Deno.writeTextFile(
        `${project}/srv.json`,
        JSON.stringify({
          name: "my-server",
          kind: "stream-echo",
          transports: ["tcp"],
          command: ["node", "{dir}/srv.mjs", "--tcp", "{host}", "{port}"],
        }),
      );

      const check = await sh(NPX_CHECK, project);
      assert.equal(check.code, 0, `${NPX_CHECK}:\n${check.stdout}\n${check.stderr}`);
      assert.match(check.stdout, /^my-server {2}\(.*\/srv\.json\)$/m);
      assert.match(check.stdout, /^9 passed, 0 failed, 2 skipped$/m);
      const xml = await Deno.readTextFile(`${project}/out.xml`); // written in the user's dir
      assert.match(xml, /<testsuites [^>]*tests="11"[^>]*failures="0"/);
      assert.equal([...xml.matchAll(/<testcase /g)].length, 11);
      assert.equal([...xml.matchAll(/<skipped/g)].length, 2);
      assert.match(xml, /name="echo\/tcp\/1"/);

      // --expect and --target relative to a subdirectory the user runs from: echo/tcp/9
      // listed as FAIL passes, an unexpected result, so the run fails (exit 1).
      await Deno.mkdir(`${project}/ci`);
      await Deno.writeTextFile(
        `${project}/ci/srv.expect.json`,
        JSON.stringify({ "../srv.json": { "*": "PASS", "echo/tcp/9": "FAIL" } }),
      );
      const expect = await sh(
        "npx sockspec check --target ../srv.json --expect ./srv.expect.json --report json=./r.json echo/tcp/9",
        `${project}/ci`,
      );
      assert.equal(expect.code, 1, `${expect.stdout}\n${expect.stderr}`);
      const report = JSON.parse(await Deno.readTextFile(`${project}/ci/r.json`));
      const [result] = report.targets[0].results;
      assert.equal(result.id, "echo/tcp/9");
      assert.equal(result.verdict, "PASS");
      assert.equal(result.expected, "FAIL");

      // Every command's help.
      const help = await sh("npx sockspec --help", project);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage:$/m);
      for (const command of ["check", "serve", "client", "lookup", "bench", "report"]) {
        const out = await sh(`npx sockspec ${command} --help`, project);
        assert.equal(out.code, 0, `sockspec ${command} --help: ${out.stderr}`);
        assert.match(out.stdout, /Usage: sockspec /);
      }
      // No --target: every built-in reference target, the main job, from node_modules.
      const builtIn = await sh("npx sockspec check", project, 300_000);
      assert.equal(builtIn.code, 0, `${builtIn.stdout}\n${builtIn.stderr}`);
      for (const name of ["echo-tcp", "echo-unix", "socketpair", "record-unix", "udp", "mcast"]) {
        assert.match(builtIn.stdout, new RegExp(`^reference-${name} `, "m"));
      }
      assert.match(builtIn.stdout, /^\d+ passed, 0 failed/m);
      assert.doesNotMatch(builtIn.stdout, /ERROR/);
    } finally {
      await Deno.remove(project, { recursive: true });
    }
  },
});
