/**
 * The supervisor (target.ts): what a target starts with (its environment), how readiness
 * on stdout is found (line by line over the whole stream, bounded, interruptible), what a
 * readiness ERROR tells, and that teardown finds every descendant, including one that left
 * the session with setsid, and names it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseManifest } from "./manifest.ts";
import {
  type Instance,
  INSTANCE_MARKER,
  LINE_LIMIT,
  OutputCapture,
  StartError,
  startInstance,
} from "./target.ts";
import { markedProcesses, processesSync } from "../net/proc.ts";

/** Live processes whose command line mentions `marker`. */
function mentioning(marker: string): number[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,stat=,args="], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes(marker) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

function target(command: string[], extra: Record<string, unknown> = {}) {
  return parseManifest({
    name: "t",
    kind: "stream-echo",
    transports: ["unix"],
    command,
    killGraceMs: 300,
    ...extra,
  }, "inline.json");
}

/** Runs `fn` with a fresh temp dir, then checks that nothing mentioning it runs, and removes it. */
async function inTmp(fn: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  try {
    await fn(tmp);
  } finally {
    const left = mentioning(tmp);
    killAll(left);
    await Deno.remove(tmp, { recursive: true });
    assert.deepEqual(left, [], "no process mentioning the temp dir is left");
  }
}

// A server that daemonizes a helper: fork, setsid, fork again; the grandchild keeps the
// listening socket and ignores SIGTERM, in a session of its own. argv[1] tags it.
const DAEMONIZING = `
import os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[2]); s.listen()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.execvp(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', 'daemon', sys.argv[1]])
    os._exit(0)
while True:
    c, _ = s.accept(); c.close()
`;

Deno.test("a grandchild that left the session with setsid is found, named and killed", async () => {
  await inTmp(async (tmp) => {
    const t = target(["python3", "-c", DAEMONIZING, "{tmp}", "{path}"]);
    const server = await startInstance(t, { tmp });
    // wait (bounded) until the daemon has exec'd, so that its argv names it
    let daemon: number[] = [];
    for (let i = 0; i < 100 && daemon.length === 0; i++) {
      daemon = mentioning(`daemon ${tmp}`);
      if (daemon.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(daemon.length, 1, "the daemon is running");
    const sessions = new Set(
      processesSync().filter((p) => p.pid === daemon[0]).map((p) => p.session),
    );
    assert.ok(!sessions.has(server.pid!), "the daemon is in a session of its own");
    await server.stop();
    assert.deepEqual(mentioning(`daemon ${tmp}`), [], "the daemon was killed");
    assert.deepEqual(server.leftBehind.map((p) => p.pid), daemon);
    assert.match(
      server.leftBehindNotes().join("\n"),
      new RegExp(`^left pid ${daemon[0]} \\(\`.*python.*daemon ${tmp}\`\\) running after SIGTERM$`),
    );
    assert.deepEqual(await markedProcesses(server.marker!), [], "nothing with its marker is alive");
  });
});

Deno.test("a target that leaves nothing behind reports nothing", async () => {
  await inTmp(async (tmp) => {
    const t = target([
      "python3",
      "-c",
      DAEMONIZING.replace("os.setsid()", "os._exit(0)"),
      "{tmp}",
      "{path}",
    ]);
    const server = await startInstance(t, { tmp });
    await server.stop();
    assert.deepEqual(server.leftBehind, []);
  });
});

Deno.test("a target starts with a small environment; inheritEnv passes more", async () => {
  Deno.env.set("SOCKSPEC_TEST_SECRET", "hush");
  Deno.env.set("PYTHONUNBUFFERED", "1");
  try {
    for (const inherit of [undefined, ["SOCKSPEC_TEST_SECRET"]]) {
      await inTmp(async (tmp) => {
        const t = target(["sh", "-c", "env; echo ready; exec sleep 30", "{tmp}"], {
          ready: { kind: "stdout", pattern: "^ready$", timeoutMs: 5000 },
          env: { FROM_MANIFEST: "{tmp}/x" },
          ...(inherit ? { inheritEnv: inherit } : {}),
        });
        const server = await startInstance(t, { tmp });
        await server.stop();
        const env = new Map(
          server.stdout.text().split("\n").filter((l) => l.includes("=")).map((
            l,
          ) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        assert.equal(env.get("TMPDIR"), tmp);
        assert.equal(env.get("PATH"), Deno.env.get("PATH"));
        assert.equal(env.get("HOME"), Deno.env.get("HOME"));
        assert.ok(env.has("LANG"));
        assert.equal(env.get("FROM_MANIFEST"), `${tmp}/x`);
        assert.ok(env.get(INSTANCE_MARKER), "the instance marker is set");
        assert.ok(!env.has("PYTHONUNBUFFERED"), "the caller's PYTHONUNBUFFERED is not passed");
        assert.equal(env.get("SOCKSPEC_TEST_SECRET"), inherit ? "hush" : undefined);
      });
    }
  } finally {
    Deno.env.delete("SOCKSPEC_TEST_SECRET");
    Deno.env.delete("PYTHONUNBUFFERED");
  }
});

Deno.test("the ready line is found after more than a MiB of log", async () => {
  await inTmp(async (tmp) => {
    const t = target([
      "sh",
      "-c",
      "head -c 2500000 /dev/zero | tr '\\0' x | fold -w 100; printf '\\nready\\n'; exec sleep 30",
      "{tmp}",
    ], { ready: { kind: "stdout", pattern: "^ready$", timeoutMs: 10_000 } });
    const server = await startInstance(t, { tmp });
    await server.stop();
    assert.ok(server.stdout.total > 2_500_000);
  });
});

Deno.test("a line longer than the cap is cut, not kept whole, and a later line still matches", async () => {
  await inTmp(async (tmp) => {
    const t = target([
      "sh",
      "-c",
      "head -c 3000000 /dev/zero | tr '\\0' a; printf 'ready\\nready\\n'; exec sleep 30",
      "{tmp}",
    ], { ready: { kind: "stdout", pattern: "^ready$", timeoutMs: 10_000 } });
    const server = await startInstance(t, { tmp });
    await server.stop();
  });
});

const HOSTILE = "^ready (a+)+$";

Deno.test("a catastrophic ready pattern cannot outlast its timeout", async () => {
  await inTmp(async (tmp) => {
    const t = target(["sh", "-c", `echo "ready ${"a".repeat(40)}b"; exec sleep 30`, "{tmp}"], {
      ready: { kind: "stdout", pattern: HOSTILE, timeoutMs: 1000 },
    });
    const t0 = performance.now();
    await assert.rejects(startInstance(t, { tmp }), /did not become ready within 1000 ms/);
    const took = performance.now() - t0;
    assert.ok(took < 4000, `the readiness ERROR came after ${Math.round(took)} ms`);
  });
});

Deno.test("a catastrophic ready pattern still matches a line it matches, quickly", async () => {
  await inTmp(async (tmp) => {
    const t = target(["sh", "-c", `echo "ready ${"a".repeat(40)}"; exec sleep 30`, "{tmp}"], {
      ready: { kind: "stdout", pattern: HOSTILE, timeoutMs: 5000 },
    });
    const server = await startInstance(t, { tmp });
    await server.stop();
  });
});

Deno.test("a catastrophic ready pattern cannot delay an interrupt", async () => {
  await inTmp(async (tmp) => {
    // 64 KiB of a's: this line takes the backtracking engine forever
    const t = target(
      ["sh", "-c", `printf 'ready '; head -c 65536 /dev/zero | tr '\\0' a; echo b; exec sleep 30`],
      { ready: { kind: "stdout", pattern: "^ready (a|aa)+\\1c$", timeoutMs: 20_000 } },
    );
    const controller = new AbortController();
    const t0 = performance.now();
    const started = startInstance(t, { tmp, signal: controller.signal });
    setTimeout(() => controller.abort(), 500);
    await assert.rejects(started, /the start was given up/);
    const took = performance.now() - t0;
    assert.ok(took < 2500, `the interrupt took effect after ${Math.round(took)} ms`);
  });
});

Deno.test("a readiness ERROR shows the command and the tails of stdout and stderr", async () => {
  await inTmp(async (tmp) => {
    const t = target(
      ["sh", "-c", "echo out-line; echo err-line >&2; exec sleep 30", "{tmp}"],
      { ready: { kind: "stdout", pattern: "^never$", timeoutMs: 500 } },
    );
    const err = await startInstance(t, { tmp }).then(
      (i: Instance) => i.stop().then(() => assert.fail("it became ready")),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StartError, String(err));
    assert.deepEqual(err.argv, [
      "sh",
      "-c",
      "echo out-line; echo err-line >&2; exec sleep 30",
      tmp,
    ]);
    assert.match(err.message, /Its command: sh -c/);
    assert.match(err.stdoutTail, /out-line/);
    assert.match(err.stderrTail, /err-line/);
  });
});

Deno.test("inheritEnv must be a list of variable names; the file and field are named", () => {
  for (const bad of ["PATH", ["1X"], ["A=B"], [3]]) {
    assert.throws(
      () => target(["true"], { inheritEnv: bad }),
      /inline\.json: field 'inheritEnv[^']*': (is .*; )?must /,
    );
  }
  assert.deepEqual(target(["true"], { inheritEnv: ["DENO_DIR"] }).inheritEnv, ["DENO_DIR"]);
});

Deno.test("OutputCapture keeps the first lines and the last ones, counts them all, and splits across chunks", async () => {
  const encode = (t: string) => new TextEncoder().encode(t);
  for (const count of [3, 1010, 5000]) {
    const text = Array.from({ length: count }, (_, i) => `line ${i + 1}\r\n`).join("");
    // chunks that split lines, and a multi-byte character, at arbitrary places
    const bytes = encode(`é${text}`);
    const chunks = [];
    for (let at = 0; at < bytes.length; at += 777) chunks.push(bytes.subarray(at, at + 777));
    const capture = new OutputCapture(ReadableStream.from(chunks));
    await capture.done;
    assert.equal(capture.lineCount, count);
    assert.equal(capture.lines[0].text, "éline 1");
    assert.equal(capture.lines.length, Math.min(count, LINE_LIMIT));
    assert.deepEqual(
      capture.lastLines(25).map((l) => l.text),
      Array.from(
        { length: Math.min(25, count) },
        (_, i) => `line ${count - Math.min(25, count) + i + 1}`,
      )
        .map((l) => (l === "line 1" ? "éline 1" : l)),
    );
  }
});
