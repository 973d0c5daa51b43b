/**
 * Private network namespaces for cases and tests: created on demand, configured with
 * `ip`, and always removed, with every step bounded in time.
 *
 * Each namespace is made by a holder process, `unshare --net -- sh -c '... exec cat'`,
 * whose standard input sockspec keeps open. Nothing is bind-mounted under /run/netns, so
 * nothing outlives its processes: {@linkcode Netns.close} kills whatever runs inside (only
 * processes sockspec started there can be inside) and the holder, then checks that no
 * process holds the namespace any more. If sockspec itself dies, the holder reads end of
 * file and exits, and the kernel frees the namespace with the last process in it.
 *
 * {@linkcode createLan} builds a small Ethernet segment out of namespaces: a hub namespace
 * with a bridge (multicast snooping off, so the bridge floods group traffic to every port,
 * like a plain switch) and one namespace per host, each joined to the bridge by a veth
 * pair, with 224.0.0.0/4 routed to the segment. Commands run inside a namespace through
 * `nsenter --net=/proc/PID/ns/net`, which switches namespace and execs the command, so the
 * process id sockspec sees is the command's own.
 *
 * Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), `unshare`, `nsenter` (util-linux) and `ip`
 * (iproute2).
 *
 * @example
 * ```ts
 * import { netnsUnavailable, withNetns } from "./netns.ts";
 * if (netnsUnavailable() === undefined) { // root, with unshare, nsenter and ip
 *   const out = await withNetns("demo", async (ns) => {
 *     const r = await ns.run(["ip", "-o", "link"], { timeoutMs: 2000 });
 *     return r.stdout; // only lo, and it is up
 *   });
 *   console.log(out);
 * }
 * ```
 * @module
 */

import { commandExists } from "./manifest.ts";
import { currentUid, netnsOfProcesses, processes, sessionMembers } from "../net/proc.ts";
import { sleep } from "../net/sockets.ts";

/** The longest any single namespace step (spawn, configure, remove) may take, in ms. */
export const NETNS_STEP_MS = 5000;

/** What a bounded command run gave. */
export interface BoundedResult {
  /** Exit code (null when killed). */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: Deno.Signal | null;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
  /** True when it ran out of time and was killed. */
  timedOut: boolean;
  /** How long it ran, in ms. */
  durationMs: number;
  /** Its process id (also its session and process group id when `setsid` was found). */
  pid: number;
  /** Set when writing `stdin` failed (it exited or closed its input before reading it all). */
  stdinError?: string;
}

/** Options of {@linkcode runBounded}. */
export interface BoundedOptions {
  /** Kill it (SIGKILL) after this many ms. */
  timeoutMs: number;
  /** Text written to its standard input (then closed). Default: no input. */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/**
 * How long, after the command exits or is killed, its output may take to end, in ms: a
 * process it left behind can hold the pipes open. After that the output read so far is kept.
 */
export const OUTPUT_GRACE_MS = 500;

let setsidFound: boolean | undefined;
function hasSetsid(): boolean {
  setsidFound ??= commandExists("setsid");
  return setsidFound;
}

/** Resolves after `ms` (or when `done` settles first); the timer never outlives it. */
async function within(done: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      done.then(() => {}, () => {}),
      new Promise((r) => (timer = setTimeout(r, ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads `stream` to its end in the background; `cancel` stops early, keeping what came. */
function drain(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        chunks.push(value);
      }
    } catch {
      // cancelled, or the pipe broke: keep what came
    }
  })();
  return {
    done,
    cancel: () => reader.cancel().catch(() => {}),
    text: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return new TextDecoder().decode(out);
    },
  };
}

/**
 * SIGKILL to the process group `pid` leads (or to `pid` alone, when it leads none), then
 * to everything left in its session, in a few rounds (something may fork meanwhile).
 */
async function killSession(pid: number, grouped: boolean): Promise<void> {
  try {
    Deno.kill(grouped ? -pid : pid, "SIGKILL");
  } catch {
    // gone (or no group)
  }
  if (!grouped) return;
  for (let round = 0; round < 5; round++) {
    const left = await sessionMembers(pid);
    if (left.length === 0) return;
    for (const p of left) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

/**
 * Runs `argv` to completion, killing it after `timeoutMs`. Never throws for a failing
 * command (look at `code`); throws only when it cannot be started (`Deno.errors.NotFound`
 * for a command not on PATH).
 *
 * It runs under `setsid` (when found), so it leads its own session and process group:
 * on timeout SIGKILL goes to the whole group, then to anything else left in the session,
 * and whatever it leaves running in its session after it exits is killed too. Its input is
 * written while its output is read (no deadlock however much either holds), and the output
 * read ends at most {@linkcode OUTPUT_GRACE_MS} after it exits or is killed, so the whole
 * run takes at most `timeoutMs` plus that grace.
 *
 * @example
 * ```ts
 * import { runBounded } from "./netns.ts";
 * const r = await runBounded(["sh", "-c", "echo hi; exit 3"], { timeoutMs: 2000 });
 * console.log(r.code, r.stdout); // 3 "hi\n"
 * ```
 */
export async function runBounded(
  argv: readonly string[],
  opts: BoundedOptions,
): Promise<BoundedResult> {
  const t0 = performance.now();
  const grouped = hasSetsid();
  // Under setsid a missing command would only be setsid's exit 127: say NotFound as a
  // direct spawn does.
  if (grouped && !argv[0].includes("/") && !commandExists(argv[0])) {
    throw new Deno.errors.NotFound(`${argv[0]}: command not found on PATH`);
  }
  const child = new Deno.Command(grouped ? "setsid" : argv[0], {
    args: grouped ? [...argv] : argv.slice(1),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
    cwd: opts.cwd,
  }).spawn();
  const stdout = drain(child.stdout);
  const stderr = drain(child.stderr);
  let stdinError: string | undefined;
  const written = opts.stdin === undefined ? Promise.resolve() : (async () => {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    } catch (err) {
      stdinError = (err as Error).message;
      await writer.abort().catch(() => {});
    }
  })();
  let timedOut = false;
  let killed: Promise<void> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killed = killSession(child.pid, grouped);
  }, opts.timeoutMs);
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    clearTimeout(timer);
  }
  // The command is gone; something it left behind may still hold its pipes.
  await within(Promise.all([stdout.done, stderr.done]), OUTPUT_GRACE_MS);
  // (without setsid its pid is reaped now and may be reused: nothing more to kill safely)
  await killed;
  if (grouped) await killSession(child.pid, grouped);
  await Promise.all([stdout.cancel(), stderr.cancel()]);
  await within(Promise.all([stdout.done, stderr.done, written]), OUTPUT_GRACE_MS);
  return {
    code: status.signal ? null : status.code,
    signal: status.signal,
    stdout: stdout.text(),
    stderr: stderr.text(),
    timedOut,
    durationMs: performance.now() - t0,
    pid: child.pid,
    ...(stdinError === undefined ? {} : { stdinError }),
  };
}

/**
 * Why network namespaces cannot be made here, or undefined when they can (root, and
 * `unshare`, `nsenter` and `ip` on PATH).
 *
 * @example
 * ```ts
 * import { netnsUnavailable } from "./netns.ts";
 * const why = netnsUnavailable();
 * if (why) console.log(`skipping: ${why}`);
 * ```
 */
export function netnsUnavailable(): string | undefined {
  if (currentUid() !== 0) return "network namespaces need root (run as uid 0)";
  for (const cmd of ["unshare", "nsenter", "ip"]) {
    if (!commandExists(cmd)) {
      return `network namespaces need '${cmd}' on PATH; install ${
        cmd === "ip" ? "iproute2" : "util-linux"
      }`;
    }
  }
  return undefined;
}

/** A network namespace error: the message names the namespace and the step. */
export class NetnsError extends Error {
  /**
   * An error about namespace `name`.
   *
   * @example
   * ```ts
   * import { NetnsError } from "./netns.ts";
   * const err = new NetnsError("sockspec-1-a", "ip link set lo up failed: ...");
   * console.log(err.message); // names the namespace and the step
   * ```
   */
  constructor(readonly ns: string, detail: string) {
    super(`network namespace ${ns}: ${detail}`);
    this.name = "NetnsError";
  }
}

/**
 * The pids of the processes whose network namespace has inode `inode`.
 *
 * @example
 * ```ts
 * import { netnsMembers } from "./netns.ts";
 * netnsMembers(4026531840); // [] unless something runs there
 * ```
 */
export async function netnsMembers(inode: number): Promise<number[]> {
  const live = new Set((await processes()).filter((p) => p.state !== "Z").map((p) => p.pid));
  return (await netnsOfProcesses()).filter(([ns, pid]) => ns === inode && live.has(pid))
    .map(([, pid]) => pid);
}

/**
 * The network namespaces that some process is in right now, by inode.
 *
 * @example
 * ```ts
 * import { liveNetns } from "./netns.ts";
 * const before = await liveNetns();
 * // ... run something that must not leave a namespace behind ...
 * const left = [...await liveNetns()].filter((ns) => !before.has(ns));
 * ```
 */
export async function liveNetns(): Promise<Set<number>> {
  return new Set((await netnsOfProcesses()).map(([ns]) => ns));
}

/** One private network namespace, held open until {@linkcode Netns.close}. */
export class Netns {
  #holder: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #closed?: Promise<void>;

  /**
   * Wraps a started holder. Use {@linkcode createNetns}.
   *
   * @example
   * ```ts
   * import { createNetns, netnsUnavailable } from "./netns.ts";
   * if (netnsUnavailable() === undefined) {
   *   const ns = await createNetns("demo"); // a Netns
   *   await ns.close();
   * }
   * ```
   */
  constructor(
    readonly name: string,
    holder: Deno.ChildProcess,
    stdin: WritableStreamDefaultWriter<Uint8Array>,
    readonly inode: number,
  ) {
    this.#holder = holder;
    this.#stdin = stdin;
  }

  /** The holder's pid: `/proc/PID/ns/net` is the namespace. */
  get pid(): number {
    return this.#holder.pid;
  }

  /**
   * `argv` prefixed so that it runs inside the namespace (nsenter execs it: same pid).
   *
   * @example
   * ```ts
   * import type { Netns } from "./netns.ts";
   * function inside(ns: Netns): string[] {
   *   return ns.wrap(["ip", "addr"]); // ["nsenter", "--net=/proc/1234/ns/net", "--", "ip", "addr"]
   * }
   * ```
   */
  wrap(argv: readonly string[]): string[] {
    return ["nsenter", `--net=/proc/${this.pid}/ns/net`, "--", ...argv];
  }

  /**
   * Runs `argv` inside the namespace, bounded by `opts.timeoutMs`.
   *
   * @example
   * ```ts
   * import type { Netns } from "./netns.ts";
   * async function addresses(ns: Netns): Promise<string> {
   *   const r = await ns.run(["ip", "-br", "addr"], { timeoutMs: 2000 });
   *   return r.stdout;
   * }
   * ```
   */
  run(argv: readonly string[], opts: BoundedOptions): Promise<BoundedResult> {
    return runBounded(this.wrap(argv), opts);
  }

  /**
   * Runs `ip` commands inside the namespace in one batch (`ip -batch -`); throws
   * {@linkcode NetnsError} naming the failing command.
   *
   * @example
   * ```ts
   * import type { Netns } from "./netns.ts";
   * async function configure(ns: Netns): Promise<void> {
   *   await ns.ip(["addr add 10.203.0.2/24 dev eth0", "link set eth0 up"]);
   * }
   * ```
   */
  async ip(commands: readonly string[]): Promise<void> {
    const r = await this.run(["ip", "-batch", "-"], {
      timeoutMs: NETNS_STEP_MS,
      stdin: commands.join("\n") + "\n",
    });
    if (r.code !== 0) {
      throw new NetnsError(
        this.name,
        `ip -batch failed (${
          r.timedOut ? `no answer within ${NETNS_STEP_MS} ms` : `exit ${r.code}`
        }): ${r.stderr.trim() || r.stdout.trim()}; commands: ${commands.join("; ")}`,
      );
    }
  }

  /**
   * The processes inside the namespace other than its holder.
   *
   * @example
   * ```ts
   * import type { Netns } from "./netns.ts";
   * async function leftovers(ns: Netns): Promise<number[]> {
   *   return await ns.members(); // [] when nothing else runs inside
   * }
   * ```
   */
  async members(): Promise<number[]> {
    return (await netnsMembers(this.inode)).filter((pid) => pid !== this.pid);
  }

  /**
   * Removes the namespace: SIGKILL to every process still inside it (only processes
   * started there by sockspec can be), then to the holder; waits (bounded) until no
   * process holds it. Throws {@linkcode NetnsError} if something still does. Idempotent.
   *
   * @example
   * ```ts
   * import { createNetns, netnsUnavailable } from "./netns.ts";
   * if (netnsUnavailable() === undefined) {
   *   const ns = await createNetns("demo");
   *   await ns.close();
   *   await ns.close(); // idempotent
   * }
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + NETNS_STEP_MS;
    for (let round = 0; Date.now() < deadline; round++) {
      for (const pid of await this.members()) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      if (round === 0) {
        await this.#stdin.close().catch(() => {});
        try {
          this.#holder.kill("SIGKILL");
        } catch {
          // gone
        }
        await Promise.race([this.#holder.status, sleep(NETNS_STEP_MS)]);
      }
      if ((await netnsMembers(this.inode)).length === 0) return;
      await sleep(20);
    }
    const left = await netnsMembers(this.inode);
    if (left.length) {
      throw new NetnsError(
        this.name,
        `processes ${left.join(", ")} still hold it ${NETNS_STEP_MS} ms after removal began`,
      );
    }
  }
}

/**
 * Creates a private network namespace with its loopback interface up. `name` is only a
 * label for messages. Throws {@linkcode NetnsError} when it cannot (not root, no unshare,
 * no answer within {@linkcode NETNS_STEP_MS}); nothing is left behind then.
 *
 * @example
 * ```ts
 * import { createNetns, netnsUnavailable } from "./netns.ts";
 * if (netnsUnavailable() === undefined) {
 *   const ns = await createNetns("demo");
 *   try {
 *     console.log((await ns.run(["ip", "-br", "link"], { timeoutMs: 2000 })).stdout);
 *   } finally {
 *     await ns.close();
 *   }
 * }
 * ```
 */
export async function createNetns(name: string): Promise<Netns> {
  const why = netnsUnavailable();
  if (why) throw new NetnsError(name, why);
  const holder = new Deno.Command("unshare", {
    args: [
      "--net",
      "--",
      "sh",
      "-c",
      "ip link set lo up && stat -L -c 'inode %i' /proc/self/ns/net && exec cat >/dev/null",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = holder.stdin.getWriter();
  const reader = holder.stdout.getReader();
  const errText = new Response(holder.stderr).text();
  let inode: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    let text = "";
    const deadline = new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), NETNS_STEP_MS)));
    while (inode === undefined) {
      const chunk = await Promise.race([reader.read(), deadline]);
      if (chunk === "timeout") throw new Error(`not ready within ${NETNS_STEP_MS} ms`);
      if (chunk.done) {
        await holder.status;
        throw new Error(`unshare failed: ${(await errText).trim() || "no output"}`);
      }
      text += new TextDecoder().decode(chunk.value);
      const m = /inode (\d+)\n/.exec(text);
      if (m) inode = Number(m[1]);
    }
  } catch (err) {
    try {
      holder.kill("SIGKILL");
    } catch {
      // gone
    }
    await holder.status;
    throw new NetnsError(name, `cannot create it: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  // Keep draining so the holder never blocks on a full pipe.
  holder.stdout.pipeTo(new WritableStream()).catch(() => {});
  return new Netns(name, holder, stdin, inode);
}

/**
 * Runs `fn` with a fresh namespace and removes it afterwards, whatever happens.
 *
 * @example
 * ```ts
 * import { netnsUnavailable, withNetns } from "./netns.ts";
 * if (netnsUnavailable() === undefined) {
 *   await withNetns("demo", (ns) => ns.run(["ip", "route"], { timeoutMs: 2000 })); // closed after
 * }
 * ```
 */
export async function withNetns<T>(name: string, fn: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = await createNetns(name);
  try {
    return await fn(ns);
  } finally {
    await ns.close();
  }
}

/** A host on a {@linkcode Lan}: its namespace, its address and its interface name. */
export interface LanHost {
  /** The host's namespace. */
  ns: Netns;
  /** Its IPv4 address on the segment. */
  address: string;
  /** Its interface on the segment (`eth0` for hosts, `br0` for the hub). */
  device: string;
}

/** A small Ethernet segment of namespaces; see {@linkcode createLan}. */
export interface Lan {
  /** The hub: owns the bridge, address `.1`. */
  hub: LanHost;
  /** The hosts, by name, addresses `.2`, `.3`, ... in the order given. */
  hosts: Record<string, LanHost>;
  /** The /24 prefix, such as `10.203.0`. */
  prefix: string;
  /** The segment's broadcast address (`.255`). */
  broadcast: string;
  /** Removes every namespace (see {@linkcode Netns.close}). */
  close(): Promise<void>;
}

/**
 * Builds a segment: a hub namespace with bridge `br0` (`PREFIX.1/24`, multicast snooping
 * off) and one namespace per name in `hosts` with `eth0` (`PREFIX.2/24`, ...), each linked
 * to the bridge by a veth pair; 224.0.0.0/4 is routed to the segment everywhere. On any
 * failure everything made so far is removed before the error is thrown.
 *
 * @example
 * ```ts
 * import { createLan, netnsUnavailable } from "./netns.ts";
 * if (netnsUnavailable() === undefined) {
 *   const lan = await createLan(["a", "b"]);
 *   try {
 *     console.log(lan.hosts.a.address); // 10.203.0.2
 *   } finally {
 *     await lan.close();
 *   }
 * }
 * ```
 */
export async function createLan(
  hosts: readonly string[],
  opts: { prefix?: string; label?: string } = {},
): Promise<Lan> {
  const prefix = opts.prefix ?? "10.203.0";
  const label = opts.label ?? `sockspec-${Deno.pid}`;
  if (hosts.length === 0 || hosts.length > 200) throw new RangeError("1 to 200 hosts");
  const made: Netns[] = [];
  const close = async () => {
    const errors: string[] = [];
    for (const ns of made) await ns.close().catch((e) => errors.push((e as Error).message));
    if (errors.length) throw new Error(errors.join("; "));
  };
  try {
    const all = await Promise.all(
      ["hub", ...hosts].map(async (h) => {
        const ns = await createNetns(`${label}-${h}`);
        made.push(ns);
        return ns;
      }),
    );
    const [hubNs, ...hostNs] = all;
    const hubCommands = [
      "link add br0 type bridge mcast_snooping 0",
      `addr add ${prefix}.1/24 dev br0`,
      "link set br0 up",
    ];
    hostNs.forEach((ns, i) => {
      hubCommands.push(
        `link add veth${i} type veth peer name eth0 netns ${ns.pid}`,
        `link set veth${i} master br0`,
        `link set veth${i} up`,
      );
    });
    hubCommands.push("route add 224.0.0.0/4 dev br0");
    await hubNs.ip(hubCommands);
    await Promise.all(hostNs.map((ns, i) =>
      ns.ip([
        `addr add ${prefix}.${i + 2}/24 dev eth0`,
        "link set eth0 up",
        "route add 224.0.0.0/4 dev eth0",
      ])
    ));
    const lanHosts: Record<string, LanHost> = {};
    hosts.forEach((h, i) => {
      lanHosts[h] = { ns: hostNs[i], address: `${prefix}.${i + 2}`, device: "eth0" };
    });
    return {
      hub: { ns: hubNs, address: `${prefix}.1`, device: "br0" },
      hosts: lanHosts,
      prefix,
      broadcast: `${prefix}.255`,
      close,
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
