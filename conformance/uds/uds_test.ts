/**
 * A FAIL built on an echo through the socket node says why the echo failed (wrong bytes, or
 * how many bytes came back before the peer closed).
 *
 * The permission case as a non-root user: runs `sockspec check uds/perm/1` as uid/gid 65534
 * against the reference targets. (Run as root, the case probes as uid 65534 itself; run as
 * 65534, it has to deny its own user through the node's mode.) Needs root to switch users;
 * ignored otherwise.
 *
 * uid 65534 needs a Deno it can execute (the one running the tests may live under /root:
 * then it is hard linked, or copied, into a scratch dir), read access to the sources (else
 * they are copied), and its own TMPDIR, HOME and DENO_DIR. All of it is removed afterwards,
 * and the test checks that no temp dir and no process was left behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PROBE_UID, udsLifecycleCases } from "./uds.ts";
import { commandExists, parseManifest, type Target } from "../../src/harness/manifest.ts";
import { currentUid, processesSync, readProcSync } from "../../src/net/proc.ts";
import { runCase } from "../../src/harness/runner.ts";
import { familyOf } from "../../src/case/case.ts";
import { accepts, echoFailure } from "../../src/checks/node.ts";
import { withServer } from "../../src/testdata/with_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const decoder = new TextDecoder();

interface Output {
  code: number;
  text: string;
}

async function runAs(argv: string[], opts: { cwd: string; env: Record<string, string> }): Promise<
  Output
> {
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      uid: PROBE_UID,
      gid: PROBE_UID,
      cwd: opts.cwd,
      clearEnv: true,
      env: opts.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    return { code: out.code, text: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
  } catch (err) {
    return { code: -1, text: (err as Error).message };
  }
}

/** A Deno executable uid 65534 can run: this one, or a hard link (or copy) of it in `dir`. */
async function denoForProbeUser(dir: string, env: Record<string, string>): Promise<string> {
  const own = Deno.execPath();
  if ((await runAs([own, "--version"], { cwd: "/", env })).code === 0) return own;
  const copy = `${dir}/deno`;
  try {
    await Deno.link(await Deno.realPath(own), copy);
  } catch {
    await Deno.copyFile(own, copy);
  }
  await Deno.chmod(copy, 0o755);
  const check = await runAs([copy, "--version"], { cwd: "/", env });
  assert.equal(check.code, 0, `uid ${PROBE_UID} cannot run ${copy}: ${check.text}`);
  return copy;
}

/**
 * The npm packages of the lockfile (ajv and what it depends on, ajv-formats, yaml), copied
 * from this user's Deno cache into uid 65534's, so the probe user needs no network.
 */
async function shareNpmCache(cache: string): Promise<void> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const from = `${JSON.parse(new TextDecoder().decode(info.stdout)).npmCache}/registry.npmjs.org`;
  const to = `${cache}/npm/registry.npmjs.org`;
  await Deno.mkdir(to, { recursive: true });
  for (const pkg of AJV_PACKAGES) {
    const cp = await new Deno.Command("cp", { args: ["-a", `${from}/${pkg}`, `${to}/`] }).output();
    assert.ok(cp.success, `cannot copy ${from}/${pkg}: ${new TextDecoder().decode(cp.stderr)}`);
  }
  const own = await new Deno.Command("chown", {
    args: ["-R", `${PROBE_UID}:${PROBE_UID}`, `${cache}/npm`],
  }).output();
  assert.ok(own.success, `cannot chown ${cache}/npm`);
}

/** The packages of deno.lock (the lockfile makes Deno fetch every one of them). */
const AJV_PACKAGES = [
  "ajv",
  "ajv-formats",
  "fast-deep-equal",
  "fast-uri",
  "json-schema-traverse",
  "require-from-string",
  "yaml",
];

/** The sources as uid 65534 can read them: the repo itself, or a copy in `dir`. */
async function sourcesForProbeUser(
  dir: string,
  deno: string,
  env: Record<string, string>,
): Promise<string> {
  const list = [
    deno,
    "run",
    "--allow-read",
    "--allow-env",
    "--allow-run",
    "src/cli/main.ts",
    "check",
  ];
  if ((await runAs([...list, "--list", "uds/perm"], { cwd: ROOT, env })).code === 0) return ROOT;
  const copy = `${dir}/repo`;
  const walk = async (from: string, to: string) => {
    await Deno.mkdir(to, { recursive: true });
    for await (const e of Deno.readDir(from)) {
      if (e.isDirectory) await walk(`${from}/${e.name}`, `${to}/${e.name}`);
      else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  };
  for (const sub of ["src", "conformance", "schemas"]) {
    await walk(`${ROOT}/${sub}`, `${copy}/${sub}`);
  }
  await Deno.copyFile(`${ROOT}/deno.json`, `${copy}/deno.json`);
  await Deno.copyFile(`${ROOT}/deno.lock`, `${copy}/deno.lock`);
  await new Deno.Command("chmod", { args: ["-R", "a+rX", copy] }).output();
  const check = await runAs([...list, "--list", "uds/perm"], { cwd: copy, env });
  assert.equal(check.code, 0, `uid ${PROBE_UID} cannot run the copied sources: ${check.text}`);
  return copy;
}

Deno.test({
  name: "uds/perm/1 passes when the suite itself runs as uid 65534 (denying its own user)",
  ignore: currentUid() !== 0,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "sockspec-uid-" });
    try {
      await Deno.chmod(work, 0o755);
      const mine = ["tmp", "home", "cache"].map((d) => `${work}/${d}`);
      for (const d of mine) {
        await Deno.mkdir(d);
        await Deno.chown(d, PROBE_UID, PROBE_UID);
      }
      const [tmp, home, cache] = mine;
      const env = {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        TMPDIR: tmp,
        DENO_DIR: cache,
        NO_COLOR: "1",
      };
      await shareNpmCache(cache);
      const deno = await denoForProbeUser(work, env);
      const repo = await sourcesForProbeUser(work, deno, env);
      const report = `${tmp}/report.json`;
      const run = await runAs([
        deno,
        "run",
        "--allow-run",
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        "src/cli/main.ts",
        "check",
        "--json",
        report,
        "uds/perm/1",
      ], { cwd: repo, env });
      assert.equal(run.code, 0, `sockspec check as uid ${PROBE_UID} failed:\n${run.text}`);

      const json = JSON.parse(await Deno.readTextFile(report));
      assert.equal(json.runtime.uid, PROBE_UID);
      const results = (json.targets as {
        name: string;
        results: {
          id: string;
          verdict: string;
          message: string;
          observed: Record<string, unknown>;
        }[];
      }[]).flatMap((t) => t.results.map((r) => ({ target: t.name, ...r })));
      const perm = results.filter((r) => r.id === "uds/perm/1");
      assert.ok(
        perm.some((r) => r.target === "reference-echo-unix"),
        `no uds/perm/1 result for reference-echo-unix:\n${run.text}`,
      );
      for (const r of perm) {
        assert.equal(r.verdict, "PASS", `${r.target}: ${r.verdict}: ${r.message}`);
        assert.match(
          r.message,
          new RegExp(
            `^uid ${PROBE_UID} \\(sockspec client echo\\) got \\[Errno 13\\] Permission denied and exited 1 with node mode 0555`,
          ),
        );
        assert.deepEqual(r.observed, { probeUid: PROBE_UID, mode: "0555" });
      }
      await Deno.remove(report);
      const left = [...Deno.readDirSync(tmp)].map((e) => e.name);
      assert.deepEqual(left, [], `left behind in TMPDIR ${tmp}`);
      const running = processesSync().filter((p) =>
        p.pid !== Deno.pid && readProcSync(`/proc/${p.pid}/cmdline`).includes(work)
      );
      assert.deepEqual(running.map((p) => p.pid), [], "processes left running");
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

/** A Unix socket server that answers each client wrongly (fixtures/python/uds_wrong_echo.py). */
const WRONG_ECHO = new URL("../../fixtures/python/uds_wrong_echo.py", import.meta.url).pathname;

/** The fixture as a target, in one of its modes. */
function wrongEcho(mode: string): Target {
  return parseManifest({
    name: `wrong-echo-${mode}`,
    kind: "stream-echo",
    transports: ["unix"],
    command: ["python3", WRONG_ECHO, mode, "{path}"],
    timeoutMs: 1000,
  }, "/test/wrong-echo.json");
}

for (
  const [mode, cause] of [
    ["upper", "sent b'after the stale node', got b'AFTER THE STALE NODE'"],
    [
      "half",
      "peer closed the connection after 10 of 20 bytes; 10 of 20 bytes came back: b'after the '",
    ],
    ["close", "peer closed the connection after 0 of 20 bytes; 0 of 20 bytes came back"],
  ]
) {
  Deno.test({
    name: `uds/lifecycle/2 says why the echo failed (server mode ${mode})`,
    ignore: !commandExists("python3"),
    async fn() {
      const c = udsLifecycleCases.find((c) => c.id === "uds/lifecycle/2")!;
      const r = await runCase(wrongEcho(mode), c);
      assert.equal(r.verdict, "FAIL", r.message);
      assert.ok(
        r.message.includes(`but did not echo: ${cause}`),
        `the message gives the cause (${cause}): ${r.message}`,
      );
    },
  });

  // The case's readiness wait may connect and close before it echoes; the fixture must
  // answer the echo after such a probe, or the message above depends on timing.
  Deno.test({
    name: `the wrong-echo fixture (mode ${mode}) outlives a connect-and-close probe`,
    ignore: !commandExists("python3"),
    async fn() {
      await withServer(wrongEcho(mode), async (server) => {
        const path = server.path!;
        assert.ok(await accepts(path, 500), `a connect-and-close probe of ${path} is accepted`);
        assert.equal(await echoFailure(path, "after the stale node", 1000), cause);
        assert.ok(server.running, `the fixture died: ${server.describe()}`);
        assert.equal(server.stderr.text(), "", "the fixture reported no client error");
      });
    },
  });
}

Deno.test("uds cases: unique ids, two titled families (lifecycle, perm), a hint on every case", () => {
  const ids = udsLifecycleCases.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids}`);
  const titles = new Map<string, Set<string | undefined>>();
  for (const c of udsLifecycleCases) {
    const family = familyOf(c.id);
    assert.ok(["uds/lifecycle", "uds/perm"].includes(family), `${c.id} is in no uds family`);
    titles.set(family, (titles.get(family) ?? new Set()).add(c.familyTitle));
    assert.ok(c.hint && c.hint.length < 120, `${c.id}: a short hint`);
    assert.equal(c.transport, "unix");
  }
  for (const [family, set] of titles) {
    assert.equal(set.size, 1, `${family}: one title`);
    assert.ok([...set][0], `${family} has a title`);
  }
});
