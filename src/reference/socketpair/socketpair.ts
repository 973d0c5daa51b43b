/**
 * Reference socketpair program (SPEC §7): a parent process and a child process connected by
 * an unnamed `AF_UNIX` `SOCK_STREAM` socket pair exchange `b'ping'` and `b'pong'`.
 *
 * The parent starts the same Deno executable on this module with `--child`, through
 * `node:child_process` with `stdio: ["inherit", "inherit", "inherit", "pipe"]`: Deno (like
 * Node's libuv) creates the extra "pipe" as a `socketpair(AF_UNIX, SOCK_STREAM)`, keeps one
 * end and passes the other to the child as fd 3. Both print into the same stdout:
 *
 * ```text
 * in parent, sending message
 * in child, waiting for message
 * message from parent: b'ping'
 * response from child: b'pong'
 * ```
 *
 * (the first two lines in either order). Exit status 0 when both processes succeeded; 1 when
 * the child failed, or a wait timed out (the child is killed then). Run it with:
 *
 * ```sh
 * deno run --allow-run="$(deno eval 'console.log(Deno.execPath())')" \
 *   --allow-env=NODE_V8_COVERAGE src/reference/socketpair/socketpair.ts [--hold-ms N] [--timeout-ms N]
 * ```
 *
 * The built-in target `reference-socketpair` (src/reference/targets.ts) runs it this way,
 * with `--timeout-ms 3000`, against the `program/socketpair/N` cases.
 *
 * `--allow-run` must name the resolved executable (`Deno.execPath()`, not a symlink such as
 * `/usr/local/bin/deno`). `--allow-env=NODE_V8_COVERAGE` is there because Deno's
 * `child_process.spawn` reads that variable even when given an explicit environment. The
 * child runs with no permissions and an empty environment. `--hold-ms N` makes the child
 * wait N ms after printing `message from parent` before it answers, so that a test can
 * observe the pair while both ends are open; `--timeout-ms N` (default 5000) bounds every
 * wait.
 *
 * @example
 * ```ts
 * import { main } from "./socketpair.ts";
 * const status = await main(["--timeout-ms", "5000"]);
 * ```
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { Socket } from "node:net";
import { bytesRepr } from "../../python/repr.ts";
import { sleep, withTimeout } from "../../net/sockets.ts";

/** The parent's message. */
export const PING: Uint8Array = new TextEncoder().encode("ping");
/** The child's answer. */
export const PONG: Uint8Array = new TextEncoder().encode("pong");
/** The default bound on every wait, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Parsed command line of the program. */
export interface SocketpairArgs {
  /** Run as the child (fd 3 is the child's end of the pair). */
  child: boolean;
  /** How long the child waits before answering (default 0). */
  holdMs: number;
  /** Bound on every wait (default {@linkcode DEFAULT_TIMEOUT_MS}). */
  timeoutMs: number;
}

/**
 * Parses `[--child] [--hold-ms N] [--timeout-ms N]`; throws on anything else.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./socketpair.ts";
 * parseArgs(["--hold-ms", "1000"]); // { child: false, holdMs: 1000, timeoutMs: 5000 }
 * ```
 */
export function parseArgs(args: string[]): SocketpairArgs {
  const out: SocketpairArgs = { child: false, holdMs: 0, timeoutMs: DEFAULT_TIMEOUT_MS };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--child") out.child = true;
    else if (arg === "--hold-ms" || arg === "--timeout-ms") {
      const value = Number(args[++i]);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`${arg} needs a whole number of milliseconds, got ${args[i]}`);
      }
      out[arg === "--hold-ms" ? "holdMs" : "timeoutMs"] = value;
    } else {
      throw new Error(`unknown argument ${arg}; usage: [--hold-ms N] [--timeout-ms N]`);
    }
  }
  return out;
}

/** One `recv(1024)`: the first chunk that arrives, or empty bytes at end of stream. */
function receive(socket: Socket): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (data: Uint8Array) => {
      socket.off("data", done).off("end", onEnd).off("error", reject);
      socket.pause();
      if (data.length > 1024) socket.unshift(data.subarray(1024));
      resolve(data.subarray(0, 1024));
    };
    const onEnd = () => done(new Uint8Array(0));
    socket.once("data", done).once("end", onEnd).once("error", reject);
    socket.resume();
  });
}

/** Writes all of `data` and half-closes the socket, resolving when it is flushed. */
function sendAndEnd(socket: Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.end(data, () => resolve());
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", reject);
  });
}

async function runChild(args: SocketpairArgs): Promise<number> {
  const socket = new Socket({ fd: 3, allowHalfOpen: true, readable: true, writable: true });
  socket.pause();
  console.log("in child, waiting for message");
  const message = await withTimeout(
    receive(socket),
    args.timeoutMs,
    "waiting for the parent's message",
  );
  console.log(`message from parent: ${bytesRepr(message)}`);
  if (args.holdMs > 0) await sleep(args.holdMs);
  await withTimeout(sendAndEnd(socket, PONG), args.timeoutMs, "sending the answer to the parent");
  socket.destroy();
  return 0;
}

async function runParent(args: SocketpairArgs): Promise<number> {
  const module = new URL(import.meta.url).href;
  const childArgs = ["run", "--no-prompt", "--no-config", module, "--child"];
  childArgs.push("--hold-ms", String(args.holdMs), "--timeout-ms", String(args.timeoutMs));
  let child: ChildProcess;
  try {
    child = spawn(Deno.execPath(), childArgs, {
      stdio: ["inherit", "inherit", "inherit", "pipe"],
      env: {},
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    throw new Error(
      `${error.message}; run with --allow-run=${Deno.execPath()} --allow-env=NODE_V8_COVERAGE`,
    );
  }
  const status = exited(child);
  status.catch(() => {}); // reported below, after the exchange
  const socket = child.stdio[3] as Socket | null;
  try {
    if (!socket) throw new Error("the child has no fd 3: spawn did not create the socket pair");
    console.log("in parent, sending message");
    socket.write(PING);
    const response = await withTimeout(
      receive(socket),
      args.timeoutMs,
      "waiting for the child's answer",
    );
    console.log(`response from child: ${bytesRepr(response)}`);
    socket.destroy();
    const { code, signal } = await withTimeout(
      status,
      args.timeoutMs,
      "waiting for the child to exit",
    );
    if (code === 0) return 0;
    console.error(`socketpair: child ${child.pid} failed: exit code ${code}, signal ${signal}`);
    return 1;
  } catch (error) {
    socket?.destroy();
    const killed = child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
    console.error(
      `socketpair: ${error instanceof Error ? error.message : error}` +
        (killed ? `; killed child ${child.pid}` : ""),
    );
    return 1;
  }
}

/**
 * Runs the program (the parent, or the child with `--child`) and returns its exit status.
 * Reports problems on stderr.
 *
 * @example
 * ```ts
 * import { main } from "./socketpair.ts";
 * if (import.meta.main) Deno.exitCode = await main(Deno.args);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  let args: SocketpairArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`socketpair: ${(error as Error).message}`);
    return 2;
  }
  try {
    return await (args.child ? runChild(args) : runParent(args));
  } catch (error) {
    console.error(`socketpair ${args.child ? "child" : "parent"}: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
