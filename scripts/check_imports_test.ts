import assert from "node:assert/strict";
import { cycles, importEdges, layerViolations } from "./check_imports.ts";

const script = new URL("./check_imports.ts", import.meta.url).pathname;

async function scratch(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-imports-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

async function runScript(dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", script, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("check_imports: the project itself has no cycle", async () => {
  const root = new URL("..", import.meta.url).pathname;
  assert.deepEqual(cycles(await importEdges(root)), []);
});

Deno.test("check_imports: a cycle planted in a copy fails the check and is listed", async () => {
  const dir = await scratch({
    "src/case/case.ts":
      'import type { Target } from "../harness/manifest.ts";\nexport type C = 1;\n',
    "src/harness/manifest.ts":
      'import type { C } from "../case/case.ts";\nexport type Target = C;\n',
    "src/python/a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n',
    "src/python/b.ts": 'export { a as b } from "./a.ts";\n',
  });
  try {
    const { code, text } = await runScript(dir);
    assert.equal(code, 1, text);
    assert.match(text, /cycle: src\/python\/a\.ts -> src\/python\/b\.ts/);
    assert.match(text, /cycle: src\/case\/case\.ts -> src\/harness\/manifest\.ts/);
    assert.match(text, /2 cycles/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check_imports: an upward import is a layer violation; comments do not count", async () => {
  const dir = await scratch({
    "src/reference/server.ts": 'import { help } from "../cli/help.ts";\nexport const s = help;\n',
    "src/cli/help.ts":
      '/** import { s } from "../reference/server.ts"; */\nexport const help = "";\n',
    "conformance/echo/echo.ts":
      'import { s } from "../../src/reference/server.ts";\nexport const e = s;\n',
  });
  try {
    const edges = await importEdges(dir);
    assert.equal(edges.length, 2);
    const bad = layerViolations(edges);
    assert.equal(bad.length, 2, bad.join("\n"));
    assert.match(bad.join("\n"), /src\/reference may not import src\/cli/);
    assert.match(bad.join("\n"), /may not share their code or constants/);
    const { code } = await runScript(dir);
    assert.equal(code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
