import assert from "node:assert/strict";

const cli = new URL("./main.ts", import.meta.url).pathname;
const PERMS = ["--allow-run", "--allow-read", "--allow-write", "--allow-net", "--allow-env"];

function sockspec(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, cli, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env,
  });
}

function running(marker: string): string[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,stat=,args="], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes(marker) && !/^\s*\d+\s+Z/.test(l)
  );
}

Deno.test("a bad manifest exits 2 with the file and the field named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  try {
    const file = `${dir}/server.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        name: "x",
        kind: "stream-echo",
        transports: ["tcp"],
        command: ["nope-not-here"],
      }),
    );
    const out = await sockspec(["check", "--target", file]).output();
    assert.equal(out.code, 2);
    const err = new TextDecoder().decode(out.stderr);
    assert.match(
      err,
      new RegExp(`${file}: field 'command\\[0\\]': command 'nope-not-here' not found on PATH`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors exit 2 and say what to do", async () => {
  const out = await sockspec(["check", "--level", "sometimes"]).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--level takes must, should, info/);
  const unknown = await sockspec(["check", "no/such/case"]).output();
  assert.equal(unknown.code, 2);
  assert.match(
    new TextDecoder().decode(unknown.stderr),
    /'no\/such\/case' matches no case id .*; see sockspec check --list/,
  );
});

Deno.test("Ctrl-C tears the targets down, prints the partial report and exits 130", async () => {
  // A private TMPDIR, so that whatever the run leaves there is its own.
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  const child = sockspec(["check", "--target", "fixtures/targets/python-echo-unix.json"], {
    TMPDIR: tmp,
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 20_000;
  while (!seen.includes("[2/") && Date.now() < deadline) {
    const { value, done } = await stderr.read();
    if (done) break;
    seen += value;
  }
  assert.match(seen, /\[2\//, "the run made progress before the interrupt");
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
  clearTimeout(timer);
  stderr.releaseLock();
  await child.stderr.cancel().catch(() => {});
  assert.equal(status.code, 130, stdout);
  assert.match(stdout, /the run was interrupted: this report is partial/);
  assert.match(stdout, /^\d+ passed, \d+ failed, \d+ skipped\b.*$/m);
  assert.deepEqual(running("fixtures/python/echo_server.py"), [], "no target process is left");
  const left = [...Deno.readDirSync(tmp)].map((e) => e.name);
  await Deno.remove(tmp, { recursive: true });
  assert.deepEqual(left, [], "no temp dir or socket file is left");
});
