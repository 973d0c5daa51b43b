import assert from "node:assert/strict";
import { freePort, sleep } from "../net/sockets.ts";
import { OutputCapture } from "../harness/target.ts";
import { CLI_PATH } from "../reference/targets.ts";
import { runRecordClient } from "../reference/record/client.ts";

function sockspec(permissions: string[], args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", ...permissions, CLI_PATH, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return {
    child,
    stdout: new OutputCapture(child.stdout),
    stderr: new OutputCapture(child.stderr),
  };
}

async function exitWithin(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
  ]);
  clearTimeout(timer);
  if (!status) {
    child.kill("SIGKILL");
    await child.status;
    assert.fail(`sockspec did not exit within ${ms} ms`);
  }
  return status;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`sockspec serve record: serves over ${signal === "SIGTERM" ? "TCP" : "a Unix socket"}, exits 0 on ${signal}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "sockspec-recc-" });
    const path = `${dir}/sock`;
    const port = freePort();
    const tcp = signal === "SIGTERM";
    const run = sockspec(
      tcp ? ["--allow-net=127.0.0.1"] : [
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        `--allow-net=unix:${path},unix:${path}.bind/s`,
      ],
      [
        "serve",
        "record",
        ...(tcp ? ["--tcp", `127.0.0.1:${port}`] : ["--unix", path]),
        "--transcript",
        "--reply",
      ],
    );
    try {
      assert.ok(
        await run.stdout.waitFor(/^waiting for a connection$/m, 10_000),
        `the server did not start: ${run.stderr.text()}`,
      );
      const lines: string[] = [];
      const code = await runRecordClient({
        connectTo: tcp
          ? { transport: "tcp", hostname: "127.0.0.1", port }
          : { transport: "unix", path },
        reply: true,
        print: (l) => lines.push(l),
      });
      assert.equal(code, 0, lines.join("\n"));
      assert.match(lines[2], /"repr":"\(1, b'ab', 2\.700000047683716\)"/);
      assert.ok(await run.stdout.waitFor(/^unpacked: \(1, b'ab', 2\.700000047683716\)$/m, 2000));
      await sleep(20);
      run.child.kill(signal);
      const status = await exitWithin(run.child, 5000);
      assert.equal(status.code, 0, run.stderr.text());
      assert.ok(run.stdout.text().includes("received b'0100000061620000cdcc2c40'\n"));
      if (!tcp) assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    } finally {
      try {
        run.child.kill("SIGKILL");
      } catch {
        // exited
      }
      await run.child.status;
      await Promise.all([run.stdout.done, run.stderr.done]);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("sockspec serve record: a bad --format or address is a usage error (exit 2)", async () => {
  for (
    const [args, message] of [
      [
        ["--tcp", "127.0.0.1:0", "--format", "I 2 s"],
        /--format 'I 2 s' is not a usable struct format: bad char in struct format/,
      ],
      [["--tcp", "127.0.0.1:0", "--format", "0s"], /a record of 0 bytes carries nothing/],
      [
        ["--tcp", "127.0.0.1:0", "--unix", "/tmp/x"],
        /give exactly one of --tcp HOST:PORT or --unix PATH/,
      ],
    ] as const
  ) {
    const run = sockspec([], ["serve", "record", ...args]);
    const status = await exitWithin(run.child, 10_000);
    await run.stderr.done;
    assert.equal(status.code, 2, run.stderr.text());
    assert.match(run.stderr.text(), message);
    await run.stdout.done;
  }
});
