// The README's first section, "Use it in your project": it comes first, its commands are
// exactly the ones the tests run (src/testdata/readme_commands.ts), the examples test runs
// by its README command, and the action snippet uses only inputs action.yml declares.
import assert from "node:assert/strict";
import { parse } from "npm:yaml@2.9.1";
import { ROOT, runCommand } from "./src/testdata/run_cli.ts";
import {
  EXAMPLES_TEST,
  JSR_BASE,
  NPM_INSTALL,
  NPX_CHECK,
  URL_CHECK,
} from "./src/testdata/readme_commands.ts";

const readme = await Deno.readTextFile(`${ROOT}README.md`);
const section = readme.split(/^## /m)[1];

/** The fenced code blocks of `text` with their language. */
function blocks(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1],
    body: m[2],
  }));
}

Deno.test("README: 'Use it in your project' comes first and shows the tested commands", () => {
  assert.ok(section.startsWith("Use it in your project\n"), "it is not the first ## section");
  const commands = blocks(section).filter((b) => b.lang === "sh")
    .flatMap((b) => b.body.trim().split("\n"));
  assert.deepEqual(commands, [NPM_INSTALL, NPX_CHECK, URL_CHECK, EXAMPLES_TEST]);
  const version = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).version;
  assert.equal(NPM_INSTALL, `npm install ./sockspec-${version}.tgz`);
  assert.ok(JSR_BASE.endsWith(`/${version}/`), `${JSR_BASE} is not version ${version}`);
});

Deno.test("README: the action snippet uses action.yml's inputs", async () => {
  const action = parse(await Deno.readTextFile(`${ROOT}action.yml`));
  const [snippet] = blocks(section).filter((b) => b.lang === "yaml");
  const [step] = parse(snippet.body);
  assert.match(step.uses, /^[\w-]+\/sockspec@v\d+\.\d+\.\d+$/);
  for (const key of Object.keys(step.with)) assert.ok(key in action.inputs, `no input ${key}`);
  for (const input of Object.keys(action.inputs)) {
    assert.ok(section.includes(`\`${input}\``), `the README does not list the input ${input}`);
  }
});

Deno.test("README: the examples test passes, run by its README command", async () => {
  const [command, ...args] = EXAMPLES_TEST.split(" ");
  assert.equal(command, "deno");
  const out = await runCommand(Deno.execPath(), args, { timeoutMs: 180_000 });
  assert.equal(out.code, 0, `${EXAMPLES_TEST}:\n${out.stdout}\n${out.stderr}`);
  assert.match(out.stdout, /ok \| 1 passed \(11 steps\) \| 0 failed/);
});
