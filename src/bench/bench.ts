/**
 * Measuring stream echo servers: throughput (MB/s echoed while the client writes and reads
 * at the same time) and latency (1-byte ping-pong round trips per second, with p50 and
 * p99), over TCP and Unix domain sockets. Every measurement warms up on its connection
 * before its window opens; {@linkcode runBench} repeats runs, interleaves the servers within
 * each run (so they share the machine's load), and reports the median and the spread of
 * each figure, its ratio to a baseline server measured in the same run, and each server's
 * UDS/TCP ratio.
 *
 * Every wait is bounded: a watchdog closes a connection when no echo comes back for the
 * timeout, or when the measurement runs on for the timeout after its window closed, and
 * the measurement then fails with a message naming the address.
 *
 * @example
 * ```ts
 * import { measureRoundTrips, measureThroughput } from "./bench.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
 * })();
 * const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port: listener.addr.port };
 * const opts = { durationMs: 50, warmupMs: 10, size: 65536, timeoutMs: 2000 }; // a real run: seconds
 * console.log((await measureThroughput(addr, opts)).mbPerSecond);
 * console.log((await measureRoundTrips(addr, opts)).p50Us);
 * listener.close();
 * await serving;
 * ```
 * @module
 */

import type { Target } from "../harness/manifest.ts";
import { readProcSync } from "../net/proc.ts";
import { VERSION } from "../reports/report.ts";
import {
  closeQuietly,
  connect,
  formatAddress,
  type StreamAddress,
  TimeoutError,
} from "../net/sockets.ts";
import { type Instance, startInstance } from "../harness/target.ts";

/** The stream transports bench measures. */
export type BenchTransport = "tcp" | "unix";

/** How long one measurement runs, and with what writes. */
export interface MeasureOptions {
  /** The measured window, in ms. */
  durationMs: number;
  /** Traffic before the window opens (not counted), in ms. */
  warmupMs: number;
  /** Bytes per write for throughput (64 KiB by default in the CLI). */
  size: number;
  /** Longest time without progress before the measurement fails, in ms. */
  timeoutMs: number;
  /** Aborting it ends the measurement with an error. */
  signal?: AbortSignal;
  /**
   * Reads the CPU time the server has used so far, in seconds (see
   * {@linkcode sessionCpuSeconds}); called when the window opens and when it closes, and
   * not awaited in between, so the traffic does not pause for it.
   */
  serverCpu?: () => Promise<Map<number, number>>;
}

/** One throughput measurement. */
export interface ThroughputSample {
  /** Bytes echoed back within the window. */
  bytes: number;
  /** The window's length, in seconds. */
  seconds: number;
  /** Echoed bytes per second / 10^6. */
  mbPerSecond: number;
  /** Bytes the client wrote in all (warm-up and drain included); all came back. */
  totalBytes: number;
  /** The server's CPU use over the window, in cores (1 = one core busy), if measured. */
  serverCpu?: number;
}

/** One round-trip measurement. */
export interface RoundTripSample {
  /** Round trips completed within the window. */
  count: number;
  /** The window's length, in seconds. */
  seconds: number;
  /** Round trips per second. */
  perSecond: number;
  /** Median round-trip time, in µs. */
  p50Us: number;
  /** 99th percentile round-trip time, in µs. */
  p99Us: number;
  /** The server's CPU use over the window, in cores (1 = one core busy), if measured. */
  serverCpu?: number;
}

/** The median of a set of runs and how far they spread. */
export interface RunSummary {
  /** The median (mean of the two middle values for an even count). */
  median: number;
  /** The smallest value. */
  min: number;
  /** The largest value. */
  max: number;
  /** (max − min) / median, in percent. */
  spreadPct: number;
  /** How many values. */
  n: number;
}

/**
 * Closes `conn` when no echo comes back for `timeoutMs`, when the measurement runs past
 * `deadline` (a `performance.now()` time), or when `signal` aborts.
 */
class Watchdog {
  #last = performance.now();
  #timer: ReturnType<typeof setInterval>;
  #onAbort: () => void;
  fired: "timeout" | "deadline" | "abort" | undefined;

  constructor(
    conn: Deno.Conn,
    readonly timeoutMs: number,
    readonly deadline: number,
    readonly signal?: AbortSignal,
  ) {
    this.#onAbort = () => {
      this.fired ??= "abort";
      closeQuietly(conn);
    };
    signal?.addEventListener("abort", this.#onAbort);
    if (signal?.aborted) this.#onAbort();
    this.#timer = setInterval(() => {
      const now = performance.now();
      if (now - this.#last > timeoutMs) this.fired ??= "timeout";
      else if (now > deadline) this.fired ??= "deadline";
      if (this.fired) closeQuietly(conn);
    }, Math.max(10, Math.min(250, timeoutMs / 4)));
  }

  /** Echoed bytes arrived at `now`. */
  progress(now: number): void {
    this.#last = now;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.signal?.removeEventListener("abort", this.#onAbort);
  }

  /** Turns an error from a connection the watchdog closed into a clear one. */
  explain(err: unknown, what: string): Error {
    if (this.fired === "timeout") return new TimeoutError(`${what}: no echo`, this.timeoutMs);
    if (this.fired === "deadline") {
      return new Error(
        `${what}: not finished ${this.timeoutMs} ms after the measured window closed; ` +
          `the echo is too slow to drain`,
      );
    }
    if (this.fired === "abort") return new Error(`${what}: interrupted`);
    return new Error(`${what}: ${(err as Error).message}`);
  }
}

/** Server CPU readings at the window's edges, taken without pausing the traffic. */
class CpuWindow {
  #open?: Promise<Map<number, number>>;
  #close?: Promise<Map<number, number>>;

  constructor(readonly read?: () => Promise<Map<number, number>>) {}

  open(): void {
    this.#open = this.read?.();
    this.#open?.catch(() => {});
  }

  close(): void {
    this.#close = this.read?.();
    this.#close?.catch(() => {});
  }

  /** Resolves once the closing reading is done (the connection must stay open until then). */
  async closed(): Promise<void> {
    await this.#close?.catch(() => {});
  }

  /**
   * CPU seconds used between the readings per second of window, summed over the processes
   * alive at the second reading (one that exited meanwhile, such as a fork-per-client
   * server's child for an earlier connection, would otherwise count negative); undefined
   * if unknown.
   */
  async cores(seconds: number): Promise<number | undefined> {
    if (!this.#open || !this.#close) return undefined;
    try {
      const [open, close] = [await this.#open, await this.#close];
      let used = 0;
      for (const [pid, cpu] of close) used += cpu - (open.get(pid) ?? 0);
      return used / seconds;
    } catch {
      return undefined;
    }
  }
}

/**
 * The CPU time (user + system, in seconds) used so far by each live process of session
 * `sid`, by pid: a target sockspec started and every process it forked (a fork-per-client
 * server's children included). Reads every /proc/PID/stat through one `sh` (Deno refuses
 * /proc reads without `--allow-all`); resolution is the kernel's clock tick (10 ms).
 *
 * @example
 * ```ts
 * import { sessionCpuSeconds } from "./bench.ts";
 * import type { Instance } from "../harness/target.ts";
 * async function serverCpu(server: Instance): Promise<number | undefined> {
 *   const bySid = await sessionCpuSeconds(server.pid!); // the target leads its own session
 *   return bySid.get(server.pid!); // seconds used by the server process itself
 * }
 * ```
 */
export async function sessionCpuSeconds(sid: number): Promise<Map<number, number>> {
  const out = await new Deno.Command("sh", {
    args: ["-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const seconds = new Map<number, number>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    // after "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    const f = line.slice(close + 2).split(" ");
    if (Number(f[3]) !== sid || f[0] === "Z") continue;
    seconds.set(
      Number(line.slice(0, line.indexOf(" "))),
      (Number(f[11]) + Number(f[12])) / CLOCK_TICKS,
    );
  }
  return seconds;
}

/** USER_HZ: the unit of /proc/PID/stat times (100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * Echo throughput: the client writes `size`-byte writes and reads the echo at the same
 * time; after the warm-up it counts the bytes that come back for `durationMs`, then stops
 * writing, shuts down its write side and reads the rest (every byte written must come back,
 * then end of stream).
 *
 * @example
 * ```ts
 * import { measureThroughput } from "./bench.ts";
 * async function throughput(path: string): Promise<string> { // an echo server's Unix socket
 *   const addr = { transport: "unix" as const, path };
 *   const sample = await measureThroughput(addr, { durationMs: 1000, warmupMs: 250, size: 65536, timeoutMs: 5000 });
 *   return `${sample.mbPerSecond.toFixed(0)} MB/s`;
 * }
 * ```
 */
export async function measureThroughput(
  addr: StreamAddress,
  opts: MeasureOptions,
): Promise<ThroughputSample> {
  const where = `throughput to ${formatAddress(addr)}`;
  const conn = await connect(addr, opts.timeoutMs);
  const t0 = performance.now();
  const opensAt = t0 + opts.warmupMs;
  const closesAt = opensAt + opts.durationMs;
  const dog = new Watchdog(conn, opts.timeoutMs, closesAt + opts.timeoutMs, opts.signal);
  const cpu = new CpuWindow(opts.serverCpu);
  const out = new Uint8Array(opts.size).map((_, i) => i & 0xff);
  const inBuf = new Uint8Array(Math.max(opts.size, 256 << 10));
  let writing = true;
  let sent = 0;
  let received = 0;
  const writer = (async () => {
    while (writing) sent += await conn.write(out);
    await cpu.closed();
    await conn.closeWrite();
  })();
  writer.catch(() => {});
  let startT = -1;
  let startBytes = 0;
  let endT = -1;
  let endBytes = 0;
  try {
    while (true) {
      const n = await conn.read(inBuf);
      if (n === null) break;
      received += n;
      const now = performance.now();
      dog.progress(now);
      if (startT < 0) {
        if (now >= opensAt) {
          startT = now;
          startBytes = received;
          cpu.open();
        }
      } else if (endT < 0 && now >= closesAt) {
        endT = now;
        endBytes = received;
        writing = false;
        cpu.close();
      }
    }
    await writer;
  } catch (err) {
    throw dog.explain(err, `${where} (sent ${sent} bytes, received ${received})`);
  } finally {
    dog.stop();
    closeQuietly(conn);
  }
  if (endT < 0) {
    throw new Error(
      `${where}: the server ended the connection after ${received} of ${sent} bytes, ` +
        `before the window closed`,
    );
  }
  if (received !== sent) {
    throw new Error(`${where}: sent ${sent} bytes but ${received} came back before end of stream`);
  }
  const seconds = (endT - startT) / 1000;
  const bytes = endBytes - startBytes;
  const serverCpu = await cpu.cores(seconds);
  return { bytes, seconds, mbPerSecond: bytes / seconds / 1e6, totalBytes: sent, serverCpu };
}

/**
 * Latency: the client sends 1 byte and waits for it to come back, over and over, on one
 * connection (TCP_NODELAY set on the client's side); after the warm-up it counts round
 * trips for `durationMs` and keeps each one's time for the percentiles.
 *
 * @example
 * ```ts
 * import { measureRoundTrips } from "./bench.ts";
 * async function roundTrips(port: number): Promise<string> { // an echo server on 127.0.0.1
 *   const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port };
 *   const sample = await measureRoundTrips(addr, { durationMs: 1000, warmupMs: 250, size: 1, timeoutMs: 5000 });
 *   return `${sample.perSecond.toFixed(0)} round trips/s, p99 ${sample.p99Us.toFixed(1)} µs`;
 * }
 * ```
 */
export async function measureRoundTrips(
  addr: StreamAddress,
  opts: MeasureOptions,
): Promise<RoundTripSample> {
  const where = `round trips to ${formatAddress(addr)}`;
  const conn = await connect(addr, opts.timeoutMs);
  if (addr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  const t0 = performance.now();
  const opensAt = t0 + opts.warmupMs;
  const closesAt = opensAt + opts.durationMs;
  const dog = new Watchdog(conn, opts.timeoutMs, closesAt + opts.timeoutMs, opts.signal);
  const ping = new Uint8Array([0x2a]);
  const pong = new Uint8Array(1);
  const cpu = new CpuWindow(opts.serverCpu);
  // Bounded: a round trip takes at least a few µs, so 2 per µs of window is plenty.
  let times = new Float64Array(Math.min(1 << 16, Math.ceil(opts.durationMs * 2000)));
  let count = 0;
  let startT = -1;
  let endT = -1;
  try {
    while (true) {
      const s = performance.now();
      if (s >= closesAt) {
        cpu.close();
        await cpu.closed();
        break;
      }
      await conn.write(ping);
      const n = await conn.read(pong);
      if (n === null) throw new Error("the server closed the connection");
      const e = performance.now();
      dog.progress(e);
      if (s >= opensAt) {
        if (startT < 0) {
          startT = s;
          cpu.open();
        }
        endT = e;
        if (count === times.length) {
          const grown = new Float64Array(times.length * 2);
          grown.set(times);
          times = grown;
        }
        times[count++] = e - s;
      }
    }
  } catch (err) {
    throw dog.explain(err, `${where} (after ${count} round trips)`);
  } finally {
    dog.stop();
    closeQuietly(conn);
  }
  if (count === 0) throw new Error(`${where}: no round trip completed within the window`);
  const sorted = times.subarray(0, count).sort();
  const seconds = (endT - startT) / 1000;
  return {
    count,
    seconds,
    perSecond: count / seconds,
    p50Us: percentile(sorted, 50) * 1000,
    p99Us: percentile(sorted, 99) * 1000,
    serverCpu: await cpu.cores(seconds),
  };
}

/**
 * The `p`th percentile of sorted values (nearest rank).
 *
 * @example
 * ```ts
 * import { percentile } from "./bench.ts";
 * percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50); // 5
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Median, min, max and spread of a set of runs.
 *
 * @example
 * ```ts
 * import { summarizeRuns } from "./bench.ts";
 * summarizeRuns([10, 12, 11]); // { median: 11, min: 10, max: 12, spreadPct: 18.18..., n: 3 }
 * ```
 */
export function summarizeRuns(values: readonly number[]): RunSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, spreadPct: NaN, n };
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const min = sorted[0];
  const max = sorted[n - 1];
  return { median, min, max, spreadPct: median ? ((max - min) / median) * 100 : NaN, n };
}

/** A server to measure: one target per transport (the same target may serve both). */
export interface BenchSubject {
  /** The name shown in the table. */
  name: string;
  /** The target that serves each transport. */
  targets: Partial<Record<BenchTransport, Target>>;
  /** Where it comes from (a manifest path, or `built-in`). */
  source: string;
}

/** Options of {@linkcode runBench}. */
export interface BenchOptions extends Omit<MeasureOptions, "timeoutMs"> {
  /** How many runs (each measures every server once per transport and figure). */
  runs: number;
  /** Which transports to measure. */
  transports: BenchTransport[];
  /** The name of the subject every other is compared with, if any. */
  baseline?: string;
  /** Called after each measurement (for a progress line). */
  onMeasure?: (m: { done: number; total: number; line: string }) => void;
}

/** One subject's figures over one transport. */
export interface BenchResult {
  /** The subject's name. */
  subject: string;
  /** The transport. */
  transport: BenchTransport;
  /** The target's name and manifest. */
  target: { name: string; source: string };
  /** Why the subject could not be measured here (the figures are then partial). */
  error?: string;
  /**
   * Throughput: every run, their summary, the server's CPU use (cores, and CPU seconds
   * per 10^9 bytes echoed) and (unless this is the baseline) the ratio.
   */
  throughput: {
    runs: ThroughputSample[];
    mbPerSecond: RunSummary;
    serverCpu?: RunSummary;
    cpuSecondsPerGB?: RunSummary;
    vsBaseline?: RunSummary;
  };
  /**
   * Round trips: every run, summaries, the server's CPU use (cores, and CPU µs per round
   * trip) and (unless this is the baseline) the ratio.
   */
  roundTrips: {
    runs: RoundTripSample[];
    perSecond: RunSummary;
    p50Us: RunSummary;
    p99Us: RunSummary;
    serverCpu?: RunSummary;
    cpuUsPerRoundTrip?: RunSummary;
    vsBaseline?: RunSummary;
  };
}

/** A subject's UDS/TCP ratio of medians, where it was measured over both. */
export interface UdsTcpRatio {
  /** The subject's name. */
  subject: string;
  /** Unix median throughput / TCP median throughput. */
  throughput?: number;
  /** Unix median round trips per second / TCP median. */
  roundTrips?: number;
}

/** Where the figures were measured. */
export interface Machine {
  /** CPU model name (from /proc/cpuinfo). */
  cpu: string;
  /** Online CPUs. */
  cores: number;
  /** Kernel release. */
  kernel: string;
  /** Deno version. */
  deno: string;
  /** 1, 5 and 15 minute load averages before the first measurement. */
  loadBefore: number[];
  /** The same after the last one. */
  loadAfter: number[];
}

/** Everything `sockspec bench` measured (the JSON it writes). */
export interface BenchReport {
  /** The report format version. */
  formatVersion: 1;
  /** The tool that measured. */
  tool: { name: "sockspec"; version: string };
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** The whole run, in ms. */
  durationMs: number;
  /** The machine. */
  machine: Machine;
  /** The options the run used. */
  options: {
    durationMs: number;
    warmupMs: number;
    size: number;
    runs: number;
    transports: BenchTransport[];
  };
  /** The baseline subject's name, if there was one. */
  baseline?: string;
  /** One line each: what was skipped and why, and how the figures were computed. */
  notes: string[];
  /** One entry per subject and transport. */
  results: BenchResult[];
  /** Each subject's UDS/TCP ratios. */
  udsTcp: UdsTcpRatio[];
}

/**
 * The machine's description, with the current load average in both load fields.
 *
 * @example
 * ```ts
 * import { describeMachine } from "./bench.ts";
 * console.log(describeMachine().cores);
 * ```
 */
export function describeMachine(): Machine {
  const cpuinfo = readProcSync("/proc/cpuinfo");
  const cpu = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? Deno.build.arch;
  const cores = cpuinfo.match(/^processor\s*:/gm)?.length ?? navigator.hardwareConcurrency;
  const kernel = readProcSync("/proc/sys/kernel/osrelease").trim() || Deno.build.os;
  const load = loadAverage();
  return { cpu, cores, kernel, deno: Deno.version.deno, loadBefore: load, loadAfter: load };
}

/**
 * The 1, 5 and 15 minute load averages (from /proc/loadavg; empty when unknown).
 *
 * @example
 * ```ts
 * import { loadAverage } from "./bench.ts";
 * const [one] = loadAverage();
 * ```
 */
export function loadAverage(): number[] {
  return readProcSync("/proc/loadavg").trim().split(/\s+/).slice(0, 3).map(Number).filter((n) =>
    !Number.isNaN(n)
  );
}

/**
 * Measures every subject over each transport `runs` times and summarises. Targets are
 * started once each (in a private temp dir) and stopped at the end, whatever happens.
 * Within a run the subjects take turns, in an order that rotates from run to run, so
 * that all of them see the same load. A subject that fails is reported with its error
 * and left out of later runs; the others go on.
 *
 * @example
 * ```ts
 * import { runBench } from "./bench.ts";
 * import { parseManifest } from "../harness/manifest.ts";
 * const target = parseManifest({
 *   name: "py", kind: "stream-echo", transports: ["tcp"],
 *   command: ["python3", "-c", "import socketserver as s\nclass H(s.BaseRequestHandler):\n def handle(self):\n  while d := self.request.recv(65536): self.request.sendall(d)\ns.TCPServer(('127.0.0.1', {port}), H).serve_forever()"],
 * }, "inline.json");
 * const report = await runBench([{ name: "py", targets: { tcp: target }, source: "inline.json" }], {
 *   durationMs: 50, warmupMs: 10, size: 65536, runs: 1, transports: ["tcp"], // a real run: seconds
 * });
 * console.log(report.results[0].throughput.mbPerSecond.median);
 * ```
 */
export async function runBench(
  subjects: readonly BenchSubject[],
  opts: BenchOptions,
): Promise<BenchReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = describeMachine();
  const notes: string[] = [];
  const results: BenchResult[] = [];
  const instances = new Map<Target, Instance>();
  const starts = new Map<Target, Instance | Error>();
  const dirs: string[] = [];
  const failed = new Map<BenchResult, string>();
  try {
    for (const subject of subjects) {
      for (const t of opts.transports) {
        const target = subject.targets[t];
        if (!target) continue;
        const result: BenchResult = {
          subject: subject.name,
          transport: t,
          target: { name: target.name, source: target.source },
          throughput: { runs: [], mbPerSecond: summarizeRuns([]) },
          roundTrips: {
            runs: [],
            perSecond: summarizeRuns([]),
            p50Us: summarizeRuns([]),
            p99Us: summarizeRuns([]),
          },
        };
        results.push(result);
        if (!starts.has(target)) {
          const dir = await Deno.makeTempDir({ prefix: "sockspec-bench-" });
          dirs.push(dir);
          try {
            const instance = await startInstance(target, { tmp: dir });
            instances.set(target, instance);
            starts.set(target, instance);
          } catch (err) {
            starts.set(target, err as Error);
          }
        }
        const started = starts.get(target);
        if (started instanceof Error) failed.set(result, `could not start: ${started.message}`);
      }
    }
    const total = results.length * 2 * opts.runs;
    let done = 0;
    for (let run = 0; run < opts.runs; run++) {
      for (const t of opts.transports) {
        const here = results.filter((r) => r.transport === t);
        const order = here.map((_, i) => here[(i + run) % here.length]);
        for (const metric of ["throughput", "roundTrips"] as const) {
          for (const result of order) {
            done++;
            if (opts.signal?.aborted) throw new Error("interrupted");
            if (failed.has(result)) continue;
            const subject = subjects.find((s) => s.name === result.subject)!;
            const target = subject.targets[t]!;
            const instance = instances.get(target)!;
            const pid = instance.pid;
            const mopts = {
              ...opts,
              timeoutMs: target.timeoutMs,
              serverCpu: pid === undefined ? undefined : () => sessionCpuSeconds(pid),
            };
            let line: string;
            try {
              if (!instance.running) {
                throw new Error(`the target exited (${instance.describe()})`);
              }
              const addr = instance.address(t);
              if (metric === "throughput") {
                const s = await measureThroughput(addr, mopts);
                result.throughput.runs.push(s);
                line = `${s.mbPerSecond.toFixed(0)} MB/s${cpuNote(s.serverCpu)}`;
              } else {
                const s = await measureRoundTrips(addr, mopts);
                result.roundTrips.runs.push(s);
                line = `${s.perSecond.toFixed(0)} round trips/s, p50 ${s.p50Us.toFixed(1)} µs, ` +
                  `p99 ${s.p99Us.toFixed(1)} µs${cpuNote(s.serverCpu)}`;
              }
            } catch (err) {
              if (opts.signal?.aborted) throw new Error("interrupted");
              const tail = instance.stderr.tail(512).trim();
              failed.set(result, `${(err as Error).message}${tail ? `; stderr: ${tail}` : ""}`);
              line = `ERROR ${failed.get(result)}`;
            }
            opts.onMeasure?.({
              done,
              total,
              line: `run ${run + 1}/${opts.runs} ${result.subject} ${t} ${
                metric === "throughput" ? "throughput" : "round trips"
              }: ${line}`,
            });
          }
        }
      }
    }
  } finally {
    await Promise.all([...instances.values()].map((i) => i.stop()));
    await Promise.all(dirs.map((d) => Deno.remove(d, { recursive: true }).catch(() => {})));
  }
  for (const [result, error] of failed) result.error = error;
  summarizeResults(results, opts.baseline);
  if (opts.baseline) {
    notes.push(
      `ratios to ${opts.baseline}: the median over runs of each run's ratio ` +
        `(the two were measured one after the other in the same run)`,
    );
  }
  machine.loadAfter = loadAverage();
  return {
    formatVersion: 1,
    tool: { name: "sockspec", version: VERSION },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    machine,
    options: {
      durationMs: opts.durationMs,
      warmupMs: opts.warmupMs,
      size: opts.size,
      runs: opts.runs,
      transports: opts.transports,
    },
    baseline: opts.baseline,
    notes,
    results,
    udsTcp: udsTcpRatios(subjects, results),
  };
}

function summarizeResults(results: BenchResult[], baseline?: string): void {
  for (const r of results) {
    r.throughput.mbPerSecond = summarizeRuns(r.throughput.runs.map((s) => s.mbPerSecond));
    r.roundTrips.perSecond = summarizeRuns(r.roundTrips.runs.map((s) => s.perSecond));
    r.roundTrips.p50Us = summarizeRuns(r.roundTrips.runs.map((s) => s.p50Us));
    r.roundTrips.p99Us = summarizeRuns(r.roundTrips.runs.map((s) => s.p99Us));
    const cpu = <S extends { serverCpu?: number }>(runs: S[], per: (s: S) => number = () => 1) => {
      const known = runs.flatMap((s) => (s.serverCpu === undefined ? [] : [s.serverCpu / per(s)]));
      return known.length ? summarizeRuns(known) : undefined;
    };
    r.throughput.serverCpu = cpu(r.throughput.runs);
    r.throughput.cpuSecondsPerGB = cpu(r.throughput.runs, (s) => s.mbPerSecond / 1000);
    r.roundTrips.serverCpu = cpu(r.roundTrips.runs);
    r.roundTrips.cpuUsPerRoundTrip = cpu(r.roundTrips.runs, (s) => s.perSecond / 1e6);
  }
  if (!baseline) return;
  for (const r of results) {
    const base = results.find((b) => b.subject === baseline && b.transport === r.transport);
    if (!base || r === base) continue;
    const paired = (mine: number[], theirs: number[]) =>
      summarizeRuns(mine.slice(0, theirs.length).map((v, i) => v / theirs[i]));
    const tp = paired(
      r.throughput.runs.map((s) => s.mbPerSecond),
      base.throughput.runs.map((s) => s.mbPerSecond),
    );
    const rt = paired(
      r.roundTrips.runs.map((s) => s.perSecond),
      base.roundTrips.runs.map((s) => s.perSecond),
    );
    if (tp.n) r.throughput.vsBaseline = tp;
    if (rt.n) r.roundTrips.vsBaseline = rt;
  }
}

function udsTcpRatios(subjects: readonly BenchSubject[], results: BenchResult[]): UdsTcpRatio[] {
  const out: UdsTcpRatio[] = [];
  for (const s of subjects) {
    const tcp = results.find((r) => r.subject === s.name && r.transport === "tcp");
    const unix = results.find((r) => r.subject === s.name && r.transport === "unix");
    if (!tcp || !unix) continue;
    const ratio = (a: RunSummary, b: RunSummary) => (a.n && b.n ? a.median / b.median : undefined);
    out.push({
      subject: s.name,
      throughput: ratio(unix.throughput.mbPerSecond, tcp.throughput.mbPerSecond),
      roundTrips: ratio(unix.roundTrips.perSecond, tcp.roundTrips.perSecond),
    });
  }
  return out;
}

/**
 * The report as a text table: throughput, round trips and UDS/TCP ratios.
 *
 * @example
 * ```ts
 * import { type BenchReport, formatBenchReport } from "./bench.ts";
 * function print(report: BenchReport): void { // from runBench
 *   console.log(formatBenchReport(report));
 * }
 * ```
 */
export function formatBenchReport(report: BenchReport): string {
  const { machine: m, options: o } = report;
  const lines: string[] = [];
  const load = (l: number[]) => (l.length ? l.map((x) => x.toFixed(2)).join(" ") : "unknown");
  lines.push(
    `sockspec bench ${report.tool.version}, ${report.startedAt}`,
    `machine: ${m.cpu}, ${m.cores} CPUs, Linux ${m.kernel}, Deno ${m.deno}; ` +
      `load average ${load(m.loadBefore)} before, ${load(m.loadAfter)} after`,
    `${o.runs} run(s); each figure: ${fmtSeconds(o.warmupMs)} s warm-up, then ` +
      `${fmtSeconds(o.durationMs)} s measured; throughput with ${o.size}-byte writes. ` +
      `median [min-max] spread=(max-min)/median`,
    "",
  );
  const vs = report.baseline ? `vs ${report.baseline}` : "";
  const nameWidth = Math.max(8, ...report.results.map((r) => r.subject.length));
  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
        .trimEnd();
    return [line(header), ...rows.map(line)];
  };
  const name = (subject: string) => subject.padEnd(nameWidth);
  const ratio = (r: BenchResult, s?: RunSummary) =>
    report.baseline === r.subject
      ? "(baseline)"
      : s
      ? `${fmt(s.median, 2)} [${fmt(s.min, 2)}-${fmt(s.max, 2)}]`
      : "";
  const figures = (s: RunSummary, digits: number) =>
    s.n
      ? [
        fmt(s.median, digits),
        `[${fmt(s.min, digits)}-${fmt(s.max, digits)}]`,
        `${fmt(s.spreadPct, 0)}%`,
      ]
      : ["-", "", ""];
  const cpu = (s?: RunSummary, digits = 2) => (s ? fmt(s.median, digits) : "");

  lines.push("Throughput, MB/s echoed (10^6 bytes/s) while writing and reading at once");
  lines.push(
    ...table(
      ["server", "transport", "median", "[min-max]", "spread", "cpu", "cpu s/GB", vs],
      report.results.map((r) => [
        name(r.subject),
        r.transport,
        ...figures(r.throughput.mbPerSecond, 0),
        cpu(r.throughput.serverCpu),
        cpu(r.throughput.cpuSecondsPerGB, 3),
        ratio(r, r.throughput.vsBaseline),
      ]),
    ),
  );
  lines.push("", "Round trips, 1-byte ping-pong (round trips/s; p50 and p99 in µs)");
  lines.push(
    ...table(
      [
        "server",
        "transport",
        "median",
        "[min-max]",
        "spread",
        "p50",
        "p99",
        "cpu",
        "cpu µs/rt",
        vs,
      ],
      report.results.map((r) => [
        name(r.subject),
        r.transport,
        ...figures(r.roundTrips.perSecond, 0),
        r.roundTrips.p50Us.n ? fmt(r.roundTrips.p50Us.median, 1) : "",
        r.roundTrips.p99Us.n ? fmt(r.roundTrips.p99Us.median, 1) : "",
        cpu(r.roundTrips.serverCpu),
        cpu(r.roundTrips.cpuUsPerRoundTrip, 1),
        ratio(r, r.roundTrips.vsBaseline),
      ]),
    ),
  );
  lines.push(
    "",
    "cpu: the server's CPU use during the window, in cores; cpu s/GB and cpu µs/rt: its CPU " +
      "time per 10^9 bytes echoed and per round trip (medians; from /proc, 10 ms ticks). " +
      "These do not depend on the client.",
  );
  if (report.udsTcp.length) {
    lines.push("", "UDS/TCP ratio of medians (above 1: the Unix socket is faster)");
    lines.push(
      ...table(
        ["server", "", "throughput", "round trips"],
        report.udsTcp.map((u) => [
          name(u.subject),
          "",
          u.throughput === undefined ? "-" : fmt(u.throughput, 2),
          u.roundTrips === undefined ? "-" : fmt(u.roundTrips, 2),
        ]),
      ),
    );
  }
  const errors = report.results.filter((r) => r.error);
  if (errors.length || report.notes.length) lines.push("");
  for (const r of errors) lines.push(`ERROR ${r.subject} ${r.transport}: ${r.error}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}

function cpuNote(cores?: number): string {
  return cores === undefined ? "" : `, server cpu ${cores.toFixed(2)}`;
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function fmtSeconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
