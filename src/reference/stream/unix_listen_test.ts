/**
 * Tests of safe Unix socket listening: in process ({@linkcode listenUnix}), and through
 * `sockspec serve echo --unix` / `sockspec client echo --unix` as child processes, for the
 * exit codes, messages and signals.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PROGRAMS_PATH } from "../targets.ts";
import { closeQuietly, connect, readExactly, sleep, writeAll } from "../../net/sockets.ts";
import { unixListening } from "../../harness/target.ts";
import { holdProcReader } from "../../net/proc.ts";
import { clearStale, isLive, listenUnix, nodeId, UnixListenError } from "./unix_listen.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-ul-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}

/** A socket node that nothing listens on (bound elsewhere, hard linked, listener closed). */
function staleNode(path: string): Deno.FileInfo {
  const bound = `${path}.b`;
  const listener = Deno.listen({ transport: "unix", path: bound });
  Deno.linkSync(bound, path);
  Deno.linkSync(bound, `${path}.keep`); // keeps the inode, so its number is not reused
  listener.close();
  return Deno.lstatSync(path);
}

async function echoOnce(path: string, listener: Deno.UnixListener): Promise<void> {
  const client = await connect({ transport: "unix", path }, 2000);
  const server = await listener.accept();
  try {
    await writeAll(client, new TextEncoder().encode("ping"), 2000);
    const got = await readExactly(server, 4, 2000);
    assert.equal(new TextDecoder().decode(got), "ping");
  } finally {
    closeQuietly(client);
    closeQuietly(server);
  }
}

async function refusal(path: string): Promise<UnixListenError> {
  const err = await listenUnix(path).then(
    (s) => {
      s.close();
      throw new Error(`listenUnix(${path}) should have refused`);
    },
    (e) => e,
  );
  assert.ok(err instanceof UnixListenError, `${err}`);
  assert.ok(err.message.startsWith(`${path}: `), err.message);
  return err;
}

Deno.test("listenUnix: creates a socket node, serves, and removes its own node on close", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/uds_socket`;
    const server = await listenUnix(path);
    const info = Deno.lstatSync(path);
    assert.ok(info.isSocket);
    assert.deepEqual(server.node, { dev: info.dev, ino: info.ino });
    assert.ok(await unixListening(path));
    await echoOnce(path, server.listener);
    const pending = server.listener.accept();
    assert.equal(server.close(), "removed");
    await assert.rejects(pending, Deno.errors.BadResource);
    await assert.rejects(server.listener.accept(), Deno.errors.BadResource);
    assert.equal(lstat(path), undefined, "the node must be gone right after close()");
    assert.equal(server.close(), "already-closed");
  });
});

Deno.test("listenUnix: the listener's own close() goes through the owner check", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s`;
    const server = await listenUnix(path);
    server.listener.close();
    assert.equal(lstat(path), undefined);
    assert.equal(server.close(), "already-closed");
  });
});

Deno.test({
  name: "listenUnix: close() leaves a node that replaced its own alone",
  // The real listener is deliberately never closed (Deno would remove the path at its
  // drop), so this test leaves a resource and a pending accept behind, as the server does.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withDir(async (dir) => {
      const path = `${dir}/s`;
      const server = await listenUnix(path);
      const pending = server.listener.accept();
      await Deno.remove(path);
      await Deno.writeTextFile(path, "the successor's file\n");
      const successor = Deno.lstatSync(path);
      assert.equal(server.close(), "replaced");
      await assert.rejects(pending, Deno.errors.BadResource);
      await sleep(50);
      assert.equal(Deno.readTextFileSync(path), "the successor's file\n");
      assert.equal(Deno.lstatSync(path).ino, successor.ino);
    });
  },
});

Deno.test("listenUnix: close() when the node is already gone", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s`;
    const server = await listenUnix(path);
    await Deno.remove(path);
    assert.equal(server.close(), "gone");
    assert.equal(lstat(path), undefined);
  });
});

Deno.test("listenUnix: a stale socket node is removed and a fresh one bound", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s`;
    const stale = staleNode(path);
    assert.equal(await isLive(path), false);
    const server = await listenUnix(path);
    try {
      const now = Deno.lstatSync(path);
      assert.ok(now.isSocket);
      assert.notEqual(now.ino, stale.ino);
      await echoOnce(path, server.listener);
    } finally {
      server.close();
    }
  });
});

Deno.test("listenUnix: refuses a live server's path and leaves it serving", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s`;
    const live = Deno.listen({ transport: "unix", path });
    try {
      const before = Deno.lstatSync(path);
      const accepted = live.accept().then((c) => c.close());
      const err = await refusal(path);
      assert.match(err.message, /a live server is listening there/);
      await accepted; // the probe connection reached the live server
      assert.equal(Deno.lstatSync(path).ino, before.ino);
      await echoOnce(path, live);
    } finally {
      live.close();
    }
  });
});

Deno.test("listenUnix: refuses a regular file, a directory and a symbolic link, untouched", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "keep me\n");
    const fileInfo = Deno.lstatSync(file);
    assert.match((await refusal(file)).message, /is a regular file; not touching it/);
    assert.equal(Deno.readTextFileSync(file), "keep me\n");
    assert.equal(Deno.lstatSync(file).ino, fileInfo.ino);

    const sub = `${dir}/dir`;
    await Deno.mkdir(sub);
    await Deno.writeTextFile(`${sub}/inside`, "x");
    assert.match((await refusal(sub)).message, /is a directory; not touching it/);
    assert.equal(Deno.readTextFileSync(`${sub}/inside`), "x");

    const link = `${dir}/link`;
    const stale = `${dir}/stale`;
    staleNode(stale);
    await Deno.symlink(stale, link);
    assert.match((await refusal(link)).message, /is a symbolic link; not touching it/);
    assert.ok(Deno.lstatSync(link).isSymlink);
    assert.ok(Deno.lstatSync(stale).isSocket, "the stale node behind the link stays too");
  });
});

Deno.test("listenUnix: a socket it cannot probe (a datagram socket) is left alone", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/g`;
    const dgram = Deno.listenDatagram({ transport: "unixpacket", path });
    try {
      const err = await refusal(path);
      assert.match(err.message, /cannot tell whether a server is listening there/);
      assert.match(err.message, /\[Errno 91\] Protocol wrong type for socket/);
      assert.ok(Deno.lstatSync(path).isSocket);
    } finally {
      dgram.close();
    }
  });
});

Deno.test("listenUnix: 107 bytes is the longest path; 108 is refused before bind", async () => {
  await withDir(async (dir) => {
    const name = (n: number) => `${dir}/${"x".repeat(n - dir.length - 1)}`;
    const ok = name(107);
    assert.equal(new TextEncoder().encode(ok).length, 107);
    const server = await listenUnix(ok);
    assert.ok(Deno.lstatSync(ok).isSocket);
    server.close();
    const long = name(108);
    const err = await refusal(long);
    assert.match(err.message, /the path is 108 bytes, over the 107-byte limit/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing may be created");
  });
});

Deno.test("listenUnix: a missing directory and an empty path are clear errors", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/no/such/dir/s`;
    assert.match((await refusal(path)).message, /\[Errno 2\] No such file or directory/);
    await assert.rejects(listenUnix(""), /the path is empty/);
  });
});

Deno.test("clearStale: nothing at the path is fine", async () => {
  await withDir(async (dir) => {
    await clearStale(`${dir}/nothing`);
    assert.equal(await isLive(`${dir}/nothing`), false);
  });
});

// ---------------------------------------------------------------------------------------
// The reference server and client as processes.

function unixPerms(path: string): string[] {
  const both = `${path},${path}.lock`;
  return [`--allow-read=${both}`, `--allow-write=${both}`, `--allow-net=unix:${path}`];
}

function spawnServer(path: string, extra: string[] = [], perms: string[] = []): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...unixPerms(path),
      ...perms,
      PROGRAMS_PATH,
      "serve",
      "echo",
      "--unix",
      path,
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(
  child: Deno.ChildProcess,
  ms = 10_000,
): Promise<{ code: number; signal: Deno.Signal | null; stdout: string; stderr: string }> {
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      signal: out.signal,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) until the server at `path` has served a client. */
async function served(path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const conn = await connect({ transport: "unix", path }, 1000);
      try {
        await writeAll(conn, new TextEncoder().encode("hi"), 2000);
        await readExactly(conn, 2, 2000);
        return;
      } finally {
        closeQuietly(conn);
      }
    } catch {
      await sleep(20);
    }
  }
  throw new Error(`no echo server at ${path} within 10 s`);
}

async function client(path: string): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...unixPerms(path),
      PROGRAMS_PATH,
      "client",
      "echo",
      "--unix",
      path,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`serve echo --unix: ${signal} removes the node and exits 0`, async () => {
    await withDir(async (dir) => {
      const path = `${dir}/uds_socket`;
      const child = spawnServer(path);
      await served(path);
      child.kill(signal);
      const end = await finish(child);
      assert.equal(end.code, 0, end.stderr);
      assert.equal(end.signal, null);
      assert.equal(lstat(path), undefined, `the node at ${path} is still there`);
    });
  });
}

Deno.test("serve echo --unix: after its node was replaced, SIGTERM exits 0 promptly and keeps the replacement", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/uds_socket`;
    const child = spawnServer(path);
    await served(path);
    await Deno.remove(path);
    await Deno.writeTextFile(path, "successor\n");
    const t0 = performance.now();
    child.kill("SIGTERM");
    const end = await finish(child, 5000);
    assert.equal(end.code, 0, `exit ${end.code} ${end.signal ?? ""}: ${end.stderr}`);
    assert.ok(performance.now() - t0 < 3000, "it must not hang on its accept");
    assert.equal(Deno.readTextFileSync(path), "successor\n");
  });
});

Deno.test("serve echo --unix: refuses to start with exit 1 and a message naming the path", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "keep\n");
    const live = Deno.listen({ transport: "unix", path: `${dir}/live` });
    const probed = live.accept().then((c) => c.close());
    const long = `${dir}/${"y".repeat(120)}`;
    try {
      for (
        const [path, why] of [
          [file, "is a regular file"],
          [`${dir}/live`, "a live server is listening there"],
          [long, "over the 107-byte limit"],
        ]
      ) {
        const end = await finish(spawnServer(path));
        assert.equal(end.code, 1, `${path}: ${end.stderr}`);
        assert.ok(end.stderr.startsWith(`sockspec serve echo: ${path}: `), end.stderr);
        assert.ok(end.stderr.includes(why), end.stderr);
      }
      await probed;
      assert.equal(Deno.readTextFileSync(file), "keep\n");
    } finally {
      live.close();
    }
  });
});

Deno.test("serve echo --unix --mode 0600: the node has mode 0600; without --allow-sys a clear error", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/uds_socket`;
    const child = spawnServer(path, ["--mode", "0600"], ["--allow-sys"]);
    await served(path);
    assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o600);
    child.kill("SIGTERM");
    const end = await finish(child);
    assert.equal(end.code, 0, end.stderr);
    assert.equal(lstat(path), undefined);

    const denied = await finish(spawnServer(path, ["--mode", "0600"]));
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /--allow-sys/);
    assert.equal(lstat(path), undefined, "nothing may be created");
  });
});

Deno.test("serve echo --unix --mode 0600: a chmod the moment the node listens does not stop it (nothing after listen touches the node)", async () => {
  // uds/perm/1 chmods the node as soon as the target is ready (its node listens); a server
  // that checks the node's mode after listen saw the case's mode and refused to serve.
  const release = holdProcReader();
  try {
    await withDir(async (dir) => {
      for (let round = 0; round < 10; round++) {
        const path = `${dir}/uds_socket_${round}`;
        const child = spawnServer(path, ["--mode", "0600"], ["--allow-sys"]);
        try {
          const deadline = Date.now() + 10_000;
          while (!(await unixListening(path)) && Date.now() < deadline) {
            // poll as fast as the reader answers
          }
          await Deno.chmod(path, 0o777);
          await served(path);
          assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o777, "the chmod stays");
        } finally {
          child.kill("SIGTERM");
          const end = await finish(child);
          assert.equal(end.code, 0, `round ${round}: ${end.stderr}`);
        }
      }
    });
  } finally {
    await release();
  }
});

Deno.test("client echo --unix: [Errno 2] and [Errno 111] on stdout, exit 1", async () => {
  await withDir(async (dir) => {
    const missing = await client(`${dir}/nothing`);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^\[Errno 2\] No such file or directory$/m);
    const path = `${dir}/stale`;
    staleNode(path);
    const refused = await client(path);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /^\[Errno 111\] Connection refused$/m);
  });
});

/**
 * Two processes start a server on the same stale path at the same moment, `trials` times.
 * Returns how many trials ended with both listening, and the refusals seen.
 */
export async function dualStartTrials(
  trials: number,
): Promise<{ both: number; neither: number; refusals: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dual-" });
  const helper = new URL("./_dual_start_helper.ts", import.meta.url).pathname;
  const spawn = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-net", helper],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  const sides = [spawn(), spawn()];
  const writers = sides.map((s) => s.stdin.getWriter());
  const readers = sides.map((s) => s.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const buffers = ["", ""];
  const nextLine = async (i: number): Promise<string> => {
    const deadline = Date.now() + 10_000;
    while (!buffers[i].includes("\n")) {
      if (Date.now() > deadline) throw new Error(`helper ${i} gave no answer in 10 s`);
      const { value, done } = await readers[i].read();
      if (done) throw new Error(`helper ${i} ended`);
      buffers[i] += value;
    }
    const nl = buffers[i].indexOf("\n");
    const line = buffers[i].slice(0, nl);
    buffers[i] = buffers[i].slice(nl + 1);
    return line;
  };
  let both = 0;
  let neither = 0;
  const refusals: string[] = [];
  try {
    // stale nodes: bound by python and closed without unlinking
    const paths = Array.from({ length: trials }, (_, i) => `${dir}/s${i}`);
    const made = await new Deno.Command("python3", {
      args: [
        "-c",
        "import socket,sys\nfor p in sys.argv[1:]:\n s=socket.socket(socket.AF_UNIX); s.bind(p); s.close()",
        ...paths,
      ],
    }).output();
    assert.ok(made.success, "python3 made the stale nodes");
    for (const path of paths) {
      const go = new TextEncoder().encode(`go ${path}\n`);
      await Promise.all(writers.map((w) => w.write(go)));
      const answers = await Promise.all([nextLine(0), nextLine(1)]);
      const oks = answers.filter((a) => a.startsWith("ok "));
      if (oks.length === 2) both++;
      if (oks.length === 0) neither++;
      refusals.push(...answers.filter((a) => a.startsWith("refused ")));
    }
  } finally {
    for (const w of writers) await w.close().catch(() => {});
    await Promise.all(sides.map((s) => s.status));
    for (const r of readers) r.releaseLock();
    await Deno.remove(dir, { recursive: true });
  }
  return { both, neither, refusals };
}

Deno.test("two servers started at once on one stale path: exactly one serves, the other refuses", async () => {
  const { both, neither, refusals } = await dualStartTrials(100);
  assert.equal(both, 0, `${both} of 100 trials ended with both listening`);
  assert.equal(neither, 0, `${neither} of 100 trials ended with neither listening`);
  for (const r of refusals) {
    assert.match(r, /a live server is listening there|another server is starting at this path/);
  }
});

/** What {@linkcode replacedNodeAfterExit} found once the library user had exited. */
export interface AfterExit {
  /** What the user's close() returned. */
  closeResult: string;
  /** Its exit code. */
  code: number;
  /** The replacement's node is still at the path (same device and inode). */
  intact: boolean;
  /** A client connecting to the path reaches the replacement. */
  serves: boolean;
  /** Everything in the directory besides the path. */
  extra: string[];
}

/**
 * A process uses {@linkcode listenUnix} as a library: it listens, another server replaces
 * its node (a live Python server), it calls close() and ends without `Deno.exit`, so its
 * runtime drops its resources. Afterwards: is the replacement intact, and does it serve?
 */
export async function replacedNodeAfterExit(): Promise<AfterExit> {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-keep-" });
  const path = `${dir}/s`;
  const lib = new URL("./unix_listen.ts", import.meta.url).href;
  const script = `
    import { listenUnix } from "${lib}";
    const server = await listenUnix(${JSON.stringify(path)});
    const accepting = server.listener.accept().catch(() => {});
    console.log("listening");
    for await (const _ of Deno.stdin.readable) break;
    console.log(server.close());
    await accepting;
  `;
  const user = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = user.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let replacement: Deno.ChildProcess | undefined;
  try {
    assert.match((await out.read()).value ?? "", /listening/);
    replacement = new Deno.Command("python3", {
      args: [
        "-c",
        "import os,socket,sys\np=sys.argv[1]\nos.unlink(p)\ns=socket.socket(socket.AF_UNIX)\ns.bind(p)\ns.listen()\nprint('up', flush=True)\nwhile True:\n c,_=s.accept(); c.sendall(b'replacement'); c.close()",
        path,
      ],
      stdout: "piped",
    }).spawn();
    const up = replacement.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await up.read()).value ?? "", /up/);
    up.releaseLock();
    const node = Deno.lstatSync(path);
    const w = user.stdin.getWriter();
    await w.write(new TextEncoder().encode("go\n"));
    await w.close();
    let said = "";
    for (;;) {
      const { value, done } = await out.read();
      if (done) break;
      said += value;
    }
    const status = await user.status;
    const now = nodeId(path);
    const intact = now?.dev === node.dev && now?.ino === node.ino;
    let serves = false;
    try {
      const conn = await connect({ transport: "unix", path }, 2000);
      serves = new TextDecoder().decode(await readExactly(conn, 11, 2000)) === "replacement";
      closeQuietly(conn);
    } catch {
      serves = false;
    }
    const extra = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== "s");
    return { closeResult: said.trim(), code: status.code, intact, serves, extra };
  } finally {
    out.releaseLock();
    try {
      replacement?.kill("SIGKILL");
    } catch {
      // gone
    }
    await replacement?.status;
    await replacement?.stdout.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("library close(): a node that replaced ours survives the process exit (no Deno.exit)", async () => {
  const r = await replacedNodeAfterExit();
  assert.equal(r.code, 0);
  assert.equal(r.closeResult, "replaced");
  assert.ok(r.intact, "the replacement's node is intact after the exit");
  assert.ok(r.serves, "the replacement still serves through the path");
  assert.deepEqual(r.extra, [], "nothing else is left beside the path");
});
