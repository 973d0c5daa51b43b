// sockspec imported by URL (standing in for JSR): the repository served over loopback
// HTTP, mod.ts imported from http://127.0.0.1:PORT/ in a child Deno that has no file of
// sockspec's, and the reference targets run green from there; the CLI run by URL too.
import assert from "node:assert/strict";
import { normalize } from "node:path";
import { ROOT, runCommand } from "../testdata/run_cli.ts";
import { JSR_BASE, URL_CHECK } from "../testdata/readme_commands.ts";
import { commandExists } from "../harness/manifest.ts";

const TYPES: Record<string, string> = {
  ts: "application/typescript",
  json: "application/json",
  c: "text/plain",
  py: "text/plain",
};

/** Serves the repository's files read-only on 127.0.0.1 (port 0); counts what it served. */
function serveRepo() {
  const served = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = normalize(decodeURIComponent(new URL(req.url).pathname)).replace(/^\/+/, "");
    const type = TYPES[path.split(".").pop() ?? ""];
    if (path.startsWith("..") || type === undefined) return new Response("no", { status: 404 });
    try {
      const body = await Deno.readFile(`${ROOT}${path}`);
      served.add(path);
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, served, base: `http://127.0.0.1:${server.addr.port}/` };
}

// Two cases of each family against every reference target: echo (tcp, tcp6, unix), uds,
// record (tcp, unix), program (socketpair), names (runtime), dgram (udp, udp6, unixgram), mcast.
const SCRIPT = (base: string) => `
import { allCases, closingLine, referenceTargets, runAll, summarize } from "${base}mod.ts";
const pick = (id) => /\\/[12]$/.test(id);
const report = await runAll(referenceTargets(), allCases, { select: (c) => pick(c.id) });
const results = report.targets.flatMap((t) =>
  t.results.map((r) => ({ target: t.name, id: r.id, verdict: r.verdict, message: r.message }))
);
const summary = summarize(report);
console.log(JSON.stringify({ line: closingLine(summary), exitCode: summary.exitCode, results }));
`;

Deno.test("mod.ts imported by URL runs the reference targets green", async () => {
  const { server, served, base } = serveRepo();
  const dir = await Deno.makeTempDir({ prefix: "sockspec-url-" });
  try {
    await Deno.writeTextFile(`${dir}/user.ts`, SCRIPT(base));
    const out = await runCommand(Deno.execPath(), [
      "run",
      "--quiet",
      "--no-config",
      "--unstable-net",
      // a local module importing from a host other than JSR and the like needs this
      `--allow-import=${new URL(base).host}`,
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      `${dir}/user.ts`,
    ], { cwd: dir, timeoutMs: 240_000 });
    assert.equal(out.code, 0, out.stderr);
    const { line, exitCode, results } = JSON.parse(out.stdout) as {
      line: string;
      exitCode: number;
      results: { target: string; id: string; verdict: string; message: string }[];
    };
    // green as sockspec judges it: no MUST case fails (a SHOULD may, as on the host's own
    // /etc/services), and nothing ERRORs (a server that cannot start from the URL would)
    assert.equal(exitCode, 0, out.stdout);
    assert.deepEqual(results.filter((r) => r.verdict === "ERROR"), [], line);
    const targets = new Set(results.map((r) => r.target));
    for (
      const name of [
        "reference-echo-tcp",
        "reference-echo-unix",
        "reference-socketpair",
        "reference-runtime",
        "reference-record-unix",
        "reference-udp",
        "reference-unixgram",
        "reference-mcast",
      ]
    ) assert.ok(targets.has(name), `no results for ${name}`);
    const passed = results.filter((r) => r.verdict === "PASS").length;
    assert.ok(passed >= 20, `only ${passed} passed: ${line}`);
    // The servers ran from the URL: their modules came from this server, not from files.
    for (const path of ["src/cli/programs.ts", "src/reference/socketpair/socketpair.ts"]) {
      assert.ok(served.has(path), `${path} was never fetched`);
    }
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI run by URL checks a manifest relative to the user's directory", async () => {
  const { server, base } = serveRepo();
  const dir = await Deno.makeTempDir({ prefix: "sockspec-url-" });
  try {
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
    const [command, ...args] = URL_CHECK.replace(JSR_BASE, base)
      .split(" ");
    assert.equal(command, "deno");
    const out = await runCommand(
      Deno.execPath(),
      [args[0], "--quiet", ...args.slice(1), "--report", "json=./r.json"],
      { cwd: dir, timeoutMs: 120_000 },
    );
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    assert.match(out.stdout, /^9 passed, 0 failed, 2 skipped$/m);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.targets[0].name, "my-server");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "imported by URL, the bench's C baseline is fetched from the URL and built",
  ignore: !commandExists("cc"),
  fn: async () => {
    const { server, served, base } = serveRepo();
    const dir = await Deno.makeTempDir({ prefix: "sockspec-url-" });
    try {
      await Deno.writeTextFile(
        `${dir}/user.ts`,
        `import { buildCEcho } from "${base}src/cli/bench.ts";
console.log(JSON.stringify(await buildCEcho(${JSON.stringify(dir)})));`,
      );
      const out = await runCommand(Deno.execPath(), [
        "run",
        "--quiet",
        "--no-config",
        `--allow-import=${new URL(base).host}`,
        "--allow-run",
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        `${dir}/user.ts`,
      ], { cwd: dir, timeoutMs: 120_000 });
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout), { binary: `${dir}/echo_server` });
      assert.ok(served.has("fixtures/c/echo_server.c"), "the C source was not fetched");
      assert.ok((await Deno.stat(`${dir}/echo_server`)).isFile);
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
