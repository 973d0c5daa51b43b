import assert from "node:assert/strict";
import {
  holdProcReader,
  markedProcesses,
  netnsOfProcesses,
  processes,
  processesSync,
  readProc,
  tcpListeningPorts,
} from "./proc.ts";
import { listeningPorts } from "./_proc_direct.ts";
import { withTimeout } from "./sockets.ts";

/** The reader runs only where this process may not read /proc itself (no --allow-all). */
const readerUsed = Deno.permissions.querySync({ name: "ffi" }).state !== "granted";

function readerPids(): number[] {
  return processesSync().filter((p) => p.ppid === Deno.pid && p.state !== "Z").map((p) => p.pid)
    .filter((pid) => {
      try {
        return new TextDecoder().decode(
          new Deno.Command("cat", { args: [`/proc/${pid}/cmdline`], stdout: "piped" })
            .outputSync().stdout,
        ).includes("_proc_reader.ts");
      } catch {
        return false;
      }
    });
}

async function queries(): Promise<void> {
  assert.ok((await processes()).some((p) => p.pid === Deno.pid));
  const own = (await netnsOfProcesses()).find(([, pid]) => pid === Deno.pid);
  assert.ok(own && own[0] > 0, "this process's network namespace");
  assert.match(await readProc("/proc/self/status"), /^Uid:/m);
  assert.equal(await readProc("/proc/no-such-file"), "");
  const v4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const v6 = Deno.listen({ hostname: "::1", port: 0 });
  try {
    const ports = await tcpListeningPorts();
    assert.ok(ports.includes(v4.addr.port), `${v4.addr.port} in ${ports}`);
    assert.ok(ports.includes(v6.addr.port), `${v6.addr.port} in ${ports}`);
  } finally {
    v4.close();
    v6.close();
  }
  const marker = `SOCKSPEC_PROC_TEST=${crypto.randomUUID()}`;
  const child = new Deno.Command("sleep", {
    args: ["30"],
    env: { [marker.split("=")[0]]: marker.split("=")[1] },
  }).spawn();
  try {
    assert.deepEqual(await markedProcesses(marker), [child.pid]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.deepEqual(await markedProcesses(marker), []);
}

Deno.test("the /proc queries answer the same without and with the reader held", async () => {
  await queries();
  const release = holdProcReader();
  try {
    await queries();
  } finally {
    await release();
  }
});

Deno.test({
  name:
    "the reader is one process for all holders, outlives SIGINT, SIGTERM and SIGHUP, and ends with its last holder",
  ignore: !readerUsed,
  async fn() {
    const first = holdProcReader();
    const second = holdProcReader();
    await processes();
    const [pid, ...more] = readerPids();
    assert.ok(pid, "a reader runs while held");
    assert.deepEqual(more, [], "one reader for both holders");
    // a Ctrl-C or a CI runner's SIGTERM reaches the whole process group
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) Deno.kill(pid, signal);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await processes()).some((p) => p.pid === pid), "it still answers");
    await first();
    assert.deepEqual(readerPids(), [pid], "it stays while one holder is left");
    await second();
    await second(); // releasing twice is harmless
    assert.deepEqual(readerPids(), [], "it has exited");
  },
});

Deno.test("listeningPorts reads the LISTEN lines of /proc/net/tcp and tcp6", () => {
  const table = [
    "  sl  local_address rem_address   st tx_queue rx_queue",
    "   0: 0100007F:2710 00000000:0000 0A 00000000:00000000",
    "   1: 0100007F:2711 0100007F:A000 01 00000000:00000000",
    "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0",
  ].join("\n");
  assert.deepEqual(listeningPorts(table), [10000, 8080]);
});

Deno.test("processes() leaves out kernel threads, and keeps every user process", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    for (const list of [await processes(), processesSync()]) {
      assert.ok(list.some((p) => p.pid === child.pid), "a user process is listed");
      assert.ok(!list.some((p) => p.pid === 2), "kthreadd (pid 2) is not");
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test({
  name:
    "a reader that stops answering is given up after 10 s: it is killed, and queries answer by spawning",
  ignore: !readerUsed,
  async fn() {
    const release = holdProcReader();
    try {
      await processes();
      const [pid] = readerPids();
      assert.ok(pid, "a reader runs while held");
      Deno.kill(pid, "SIGSTOP"); // it still holds its pipes, but answers nothing
      const started = performance.now();
      const text = await withTimeout(readProc("/proc/self/status"), 20_000, "the answer");
      assert.match(text, /^Uid:/m);
      const waited = performance.now() - started;
      assert.ok(waited >= 9_900 && waited < 20_000, `answered after ${Math.round(waited)} ms`);
      assert.deepEqual(readerPids(), [], "the stopped reader was killed");
      assert.ok((await processes()).some((p) => p.pid === Deno.pid), "later queries answer");
    } finally {
      await release();
    }
    assert.deepEqual(readerPids(), []);
  },
});
