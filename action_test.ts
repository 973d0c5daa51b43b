// action.yml, validated with @action-validator/cli (as is docs/examples/conformance.yml),
// and its steps run here as a runner would run them: each step's `run` script with bash
// -eo pipefail, its env and working-directory with the inputs substituted, and the GITHUB_*
// files in a temp dir. The Markdown report must be appended to the step summary.
import assert from "node:assert/strict";
import { parse } from "npm:yaml@2.9.1";
import { ROOT, runCommand } from "./src/testdata/run_cli.ts";

/** The validator, pinned, run through npx (it comes from the npm registry or cache). */
const VALIDATOR = "@action-validator/cli@0.6.0";

interface Step {
  name: string;
  id?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
  "working-directory"?: string;
}
interface Action {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(await Deno.readTextFile(`${ROOT}action.yml`)) as Action;

/** `${{ … }}` as the runner would expand it, for the expressions action.yml uses. */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const input = /^inputs\.([\w-]+)$/.exec(expr);
    if (input) {
      assert.ok(input[1] in action.inputs, `action.yml uses undeclared input ${input[1]}`);
      return inputs[input[1]] ?? action.inputs[input[1]].default ?? "";
    }
    if (expr === "github.action_path") return ROOT.replace(/\/$/, "");
    throw new Error(
      `action_test.ts cannot expand \${{ ${expr} }}; teach it or simplify action.yml`,
    );
  });
}

interface Runner {
  workspace: string;
  env: Record<string, string>;
  summary: string;
  output: string;
}

async function makeRunner(): Promise<Runner> {
  const root = await Deno.makeTempDir({ prefix: "sockspec-action-" });
  const dirs = { workspace: `${root}/workspace`, temp: `${root}/runner-temp` };
  for (const d of Object.values(dirs)) await Deno.mkdir(d);
  const files = {
    GITHUB_STEP_SUMMARY: `${root}/step_summary.md`,
    GITHUB_OUTPUT: `${root}/output`,
    GITHUB_PATH: `${root}/path`,
    GITHUB_ENV: `${root}/env`,
  };
  for (const f of Object.values(files)) await Deno.writeTextFile(f, "");
  return {
    workspace: dirs.workspace,
    summary: files.GITHUB_STEP_SUMMARY,
    output: files.GITHUB_OUTPUT,
    env: {
      ...files,
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: dirs.workspace,
      GITHUB_ACTION_PATH: ROOT.replace(/\/$/, ""),
      RUNNER_TEMP: dirs.temp,
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    },
  };
}

/** Runs the steps named `names` of action.yml; returns the last step's exit code. */
async function runSteps(
  runner: Runner,
  names: string[],
  inputs: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let last = { code: 0, stdout: "", stderr: "" };
  for (const name of names) {
    const step = action.runs.steps.find((s) => s.name === name);
    assert.ok(step?.run, `action.yml has no run step '${name}'`);
    assert.equal(step.shell, "bash");
    const script = `${runner.env.RUNNER_TEMP}/step.sh`;
    await Deno.writeTextFile(script, expand(step.run, inputs));
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v), inputs)]),
    );
    const cwd = new URL(
      expand(step["working-directory"] ?? ".", inputs),
      `file://${runner.workspace}/`,
    ).pathname;
    last = await runCommand("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd,
      env: { ...runner.env, ...env },
      timeoutMs: 240_000,
    });
    await Deno.remove(script);
  }
  return last;
}

async function writeServer(dir: string): Promise<void> {
  await Deno.copyFile(`${ROOT}examples/echo_server.mjs`, `${dir}/srv.mjs`);
  await Deno.writeTextFile(
    `${dir}/srv.json`,
    JSON.stringify({
      name: "my-server",
      kind: "stream-echo",
      transports: ["tcp"],
      command: ["node", "{dir}/srv.mjs", "--tcp", "{host}", "{port}"],
    }),
  );
}

Deno.test("action.yml and the example workflow pass @action-validator/cli", async () => {
  for (const file of ["action.yml", "docs/examples/conformance.yml"]) {
    const out = await runCommand("npx", ["--yes", VALIDATOR, file], { timeoutMs: 120_000 });
    assert.equal(out.code, 0, `${file}:\n${out.stdout}\n${out.stderr}`);
  }
  // and the validator does reject a broken action
  const dir = await Deno.makeTempDir({ prefix: "sockspec-action-" });
  try {
    await Deno.writeTextFile(
      `${dir}/action.yml`,
      "name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n",
    );
    const out = await runCommand("npx", ["--yes", VALIDATOR, `${dir}/action.yml`], {
      timeoutMs: 120_000,
    });
    assert.notEqual(out.code, 0, "a run step without shell should be rejected");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the action's steps: install, shards, merge; the summary is appended", async () => {
  const runner = await makeRunner();
  try {
    await writeServer(runner.workspace);
    await Deno.writeTextFile(runner.summary, "# an earlier step's summary\n");

    const install = await runSteps(runner, ["Install sockspec"], {});
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    assert.match(install.stdout, /^0\.1\.0$/m);
    // no package input: the action packed its own checkout
    await Deno.stat(`${runner.env.RUNNER_TEMP}/sockspec/sockspec-0.1.0.tgz`);
    assert.equal(
      (await Deno.readTextFile(runner.env.GITHUB_PATH)).trim(),
      `${runner.env.RUNNER_TEMP}/sockspec/node_modules/.bin`,
    );

    for (const shard of ["1/2", "2/2"]) {
      const i = shard[0];
      const out = await runSteps(runner, ["Run sockspec"], {
        targets: "srv.json",
        cases: "echo/tcp",
        shard,
        reports: `json=reports/shard-${i}.json\njunit=reports/junit-${i}.xml`,
      });
      assert.equal(out.code, 0, `shard ${shard}:\n${out.stdout}\n${out.stderr}`);
      await Deno.stat(`${runner.workspace}/reports/junit-${i}.xml`);
    }
    const merged = await runSteps(runner, ["Run sockspec"], {
      merge: "reports/shard-*.json",
      reports: "json=merged/report.json html=merged/report.html",
    });
    assert.equal(merged.code, 0, `${merged.stdout}\n${merged.stderr}`);
    const report = JSON.parse(await Deno.readTextFile(`${runner.workspace}/merged/report.json`));
    assert.equal(report.targets[0].results.length, 11);
    await Deno.stat(`${runner.workspace}/merged/report.html`);

    // A failure: echo/tcp/9 expected to FAIL passes, so the run fails with exit 1; the step
    // still appends its summary and sets the output.
    await Deno.writeTextFile(
      `${runner.workspace}/known.expect.json`,
      JSON.stringify({ "srv.json": { "*": "PASS", "echo/tcp/9": "FAIL" } }),
    );
    const failing = await runSteps(runner, ["Run sockspec"], {
      targets: "srv.json",
      cases: "echo/tcp/9",
      expect: "known.expect.json",
    });
    assert.equal(failing.code, 1, `${failing.stdout}\n${failing.stderr}`);

    const summary = await Deno.readTextFile(runner.summary);
    assert.ok(summary.startsWith("# an earlier step's summary\n"), "the summary was overwritten");
    // four runs, four Markdown reports, in order
    const closing = [...summary.matchAll(/(\d+) passed, (\d+) failed/g)].map((m) => m[0]);
    assert.equal(closing.length, 4, summary);
    assert.equal(closing[2], "9 passed, 0 failed", "the merged run's closing line");
    assert.equal(
      (await Deno.readTextFile(runner.output)).trim().split("\n").join(" "),
      "exit-code=0 exit-code=0 exit-code=0 exit-code=1",
    );
    const leftovers = [...Deno.readDirSync(runner.env.RUNNER_TEMP)].map((e) => e.name);
    assert.deepEqual(leftovers.filter((n) => n.endsWith(".md")), [], "summary files left");
  } finally {
    await Deno.remove(runner.workspace.replace(/\/workspace$/, ""), { recursive: true });
  }
});

Deno.test("the action installs the package input (a tarball relative to working-directory)", async () => {
  const runner = await makeRunner();
  try {
    await Deno.mkdir(`${runner.workspace}/ci`);
    const pack = await runCommand(
      Deno.execPath(),
      ["task", "--quiet", "pack", "--out", `${runner.workspace}/ci`],
      { timeoutMs: 120_000 },
    );
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = pack.stdout.trim().split("\n").pop() ?? "";
    const name = tarball.slice(tarball.lastIndexOf("/") + 1);
    const install = await runSteps(runner, ["Install sockspec"], {
      package: `./${name}`,
      "working-directory": "ci",
    });
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    assert.match(install.stdout, /^0\.1\.0$/m);
    await Deno.stat(`${runner.env.RUNNER_TEMP}/sockspec/node_modules/sockspec/bin/sockspec.cjs`);
    // it installed the given tarball: nothing was packed from the action's checkout
    const packed = [...Deno.readDirSync(`${runner.env.RUNNER_TEMP}/sockspec`)]
      .filter((e) => e.name.endsWith(".tgz"));
    assert.deepEqual(packed, []);
  } finally {
    await Deno.remove(runner.workspace.replace(/\/workspace$/, ""), { recursive: true });
  }
});
