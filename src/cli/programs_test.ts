import assert from "node:assert/strict";
import { CLIENTS, SERVERS } from "./programs.ts";
import { PROGRAMS_PATH, sockspecCommand } from "../harness/sockspec_command.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("the built-in targets run the programs entry point", () => {
  assert.ok(sockspecCommand([], ["serve", "echo"]).includes(PROGRAMS_PATH));
});

Deno.test("the programs' module graph holds no npm package, not even behind a dynamic import", async () => {
  // A child Deno resolves every npm specifier in its graph at start-up, dynamic imports
  // included: on a fresh machine, or where the registry needs a certificate the target's
  // small environment does not name, that made each start wait seconds or fail.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--no-config", PROGRAMS_PATH],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, decode(out.stderr));
  const info = JSON.parse(decode(out.stdout)) as {
    modules: { specifier: string }[];
    npmPackages: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(info.npmPackages), []);
  const foreign = info.modules.map((m) => m.specifier).filter((s) =>
    !s.startsWith("file:") && !s.startsWith("node:")
  );
  assert.deepEqual(foreign, []);
});

Deno.test("every reference program starts with an empty Deno cache and nothing to download", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  try {
    for (const [kind, names] of [["serve", SERVERS], ["client", CLIENTS]] as const) {
      for (const name of Object.keys(names)) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--quiet",
            "--cached-only",
            "--no-config",
            PROGRAMS_PATH,
            kind,
            name,
            "--help",
          ],
          env: { DENO_DIR: denoDir },
          stdout: "piped",
          stderr: "piped",
          stdin: "null",
        }).output();
        assert.equal(out.code, 0, `sockspec ${kind} ${name} --help: ${decode(out.stderr)}`);
        assert.match(decode(out.stdout), /Usage: sockspec/);
      }
    }
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("the programs entry point runs only serve and client", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-config", PROGRAMS_PATH, "check"],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.match(decode(out.stderr), /runs serve or client, not 'check'/);
});
