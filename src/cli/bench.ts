/**
 * `sockspec bench`: measures stream echo servers (the reference server in its large-buffer
 * mode by default, or the targets given with `--target`) against a small blocking C echo
 * server built from `fixtures/c/echo_server.c` with `cc` in a temp dir (skipped, with a
 * note, when there is no `cc`). Prints the table, and writes the JSON report with `--json`.
 *
 * @example
 * ```ts
 * import { benchMain } from "./bench.ts";
 * // A real measurement takes seconds: 3 runs of 0.5 s per server and transport, plus builds.
 * function quickBench(dir: string): Promise<number> {
 *   return benchMain(["--duration", "0.5", "--runs", "3", "--json", `${dir}/bench.json`]);
 * }
 * ```
 * @module
 */

import {
  type BenchReport,
  type BenchSubject,
  type BenchTransport,
  formatBenchReport,
  runBench,
} from "../bench/bench.ts";
import { parseOptions, UsageError } from "./_args.ts";
import { commandExists, loadManifest, parseManifest, type Target } from "../harness/manifest.ts";
import { ownFile, sockspecCommand } from "../reference/targets.ts";

/** Help for `sockspec bench`. */
export const BENCH_HELP =
  `Usage: sockspec bench [--target FILE]... [--transport tcp|unix|both] [options]

Measures stream echo servers: throughput (MB/s echoed while the client writes and reads
at the same time) and 1-byte ping-pong round trips per second (p50, p99), over TCP and
Unix domain sockets; the UDS/TCP ratio of each; and each figure as a ratio of a small
blocking C echo server (fixtures/c/echo_server.c, built with cc in a temp dir; skipped
with a note when cc is missing) measured in the same run. Each figure warms up first;
runs are repeated and the median and spread (max-min)/median reported.

With no --target it measures sockspec's reference echo server in its large-buffer mode
(sockspec serve echo --large). Targets are stream-echo manifests; a target may declare
both transports, or two manifests named NAME-tcp and NAME-unix count as one server.

Options:
  --target FILE          a stream-echo target manifest (repeatable)
  --transport T          tcp, unix or both (default both)
  --duration S           seconds measured per figure and run (default 1)
  --warmup S             seconds of traffic before each measurement (default duration/4)
  --size BYTES           bytes per write for throughput (default 65536)
  --runs N               repeat every measurement N times (default 5)
  --json FILE            also write the full report (every run) as JSON
  --no-baseline          do not build or measure the C baseline
  --help                 show this help

Benchmark traffic stays on loopback and Unix sockets. Figures are noisy on a busy machine:
check the load average printed with the table.

Exit: 0 measured, 1 a server could not be measured (the table says why), 2 usage or
manifest error, 130 interrupted.`;

/** The C baseline's source file: a path, or a URL when sockspec is imported by URL. */
export const C_ECHO_SOURCE: string = ownFile(
  new URL("../../fixtures/c/echo_server.c", import.meta.url),
);

/** The baseline's name in tables and reports. */
export const C_ECHO_NAME = "c-echo";

/**
 * The reference echo server in large-buffer mode, one target per transport, with the
 * fewest Deno permissions each needs.
 *
 * @example
 * ```ts
 * import { referenceBenchSubject } from "./bench.ts";
 * referenceBenchSubject().targets.unix?.command?.includes("--large"); // true
 * ```
 */
export function referenceBenchSubject(): BenchSubject {
  const unixPerms = [
    "--allow-read={tmp}",
    "--allow-write={tmp}",
    "--allow-net=unix:{path},unix:{path}.bind/s",
  ];
  const target = (t: BenchTransport, perms: string[], listen: string[]) =>
    parseManifest({
      name: `reference-echo-large-${t}`,
      description: `sockspec's stream echo server in large-buffer mode over ${t}`,
      kind: "stream-echo",
      transports: [t],
      command: sockspecCommand(perms, ["serve", "echo", ...listen, "--large"]),
    }, "built-in");
  return {
    name: "reference-echo-large",
    source: "built-in",
    targets: {
      tcp: target("tcp", ["--allow-net={host}"], ["--tcp", "{host}:{port}"]),
      unix: target("unix", unixPerms, ["--unix", "{path}"]),
    },
  };
}

/**
 * Builds the C baseline into `dir` with `cc -O2` (bounded to 60 s). Returns the binary's
 * path, or why it could not be built (no `cc`, or the compiler's error).
 *
 * @example
 * ```ts
 * import { buildCEcho } from "./bench.ts";
 * const dir = await Deno.makeTempDir();
 * const built = await buildCEcho(dir);
 * if ("skipped" in built) console.log(built.skipped); else console.log(built.binary);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function buildCEcho(dir: string): Promise<{ binary: string } | { skipped: string }> {
  if (!commandExists("cc")) {
    return {
      skipped:
        "C baseline skipped: no cc on PATH (install a C compiler, e.g. gcc, to compare with it)",
    };
  }
  const binary = `${dir}/echo_server`;
  let source = C_ECHO_SOURCE;
  if (/^[a-z]+:/.test(source)) {
    // imported by URL: cc needs a file, so fetch the source next to the binary
    try {
      const response = await fetch(source, { signal: AbortSignal.timeout(30_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      source = `${dir}/echo_server.c`;
      await Deno.writeTextFile(source, await response.text());
    } catch (err) {
      return { skipped: `C baseline skipped: cannot fetch ${source}: ${(err as Error).message}` };
    }
  }
  const child = new Deno.Command("cc", {
    args: ["-O2", "-o", binary, source],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already done
    }
  }, 60_000);
  const out = await child.output();
  clearTimeout(timer);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 5).join("; ");
    return { skipped: `C baseline skipped: cc -O2 ${source} failed: ${err}` };
  }
  return { binary };
}

/**
 * The C baseline as a subject: one process serving both transports.
 *
 * @example
 * ```ts
 * import { cEchoSubject } from "./bench.ts";
 * function transportsOf(binary: string) { // binary: what buildCEcho built
 *   return cEchoSubject(binary).targets.tcp?.transports; // ["tcp", "unix"]
 * }
 * ```
 */
export function cEchoSubject(binary: string): BenchSubject {
  const target = parseManifest({
    name: C_ECHO_NAME,
    description: "blocking C echo server, 64 KiB buffer, fork per client (the baseline)",
    kind: "stream-echo",
    transports: ["tcp", "unix"],
    command: [binary, "--tcp", "{host}", "{port}", "--unix", "{path}"],
  }, "built-in");
  return { name: C_ECHO_NAME, source: C_ECHO_SOURCE, targets: { tcp: target, unix: target } };
}

/**
 * Groups targets into subjects: a target serves each stream transport it declares, and
 * targets named `NAME-tcp` and `NAME-unix` (or `-uds`) make one subject `NAME`.
 *
 * @example
 * ```ts
 * import { subjectsOf } from "./bench.ts";
 * import { loadManifest } from "../harness/manifest.ts";
 * const subjects = subjectsOf([
 *   await loadManifest("fixtures/targets/python-echo-tcp.json"),
 *   await loadManifest("fixtures/targets/python-echo-unix.json"),
 * ]);
 * subjects.map((s) => s.name); // ["python-echo"]
 * ```
 */
export function subjectsOf(targets: readonly Target[]): BenchSubject[] {
  const subjects: BenchSubject[] = [];
  for (const target of targets) {
    if (target.kind !== "stream-echo") {
      throw new UsageError(
        `${target.source}: bench measures stream-echo targets; this one is ${target.kind}`,
      );
    }
    const stream = target.transports.filter((t): t is BenchTransport =>
      t === "tcp" || t === "unix"
    );
    if (stream.length === 0) {
      throw new UsageError(`${target.source}: the target declares neither tcp nor unix`);
    }
    const name = stream.length === 1 ? target.name.replace(/-(tcp|unix|uds)$/, "") : target.name;
    let subject = subjects.find((s) => s.name === name);
    if (!subject) {
      subject = { name, source: target.source, targets: {} };
      subjects.push(subject);
    }
    for (const t of stream) {
      if (subject.targets[t]) {
        throw new UsageError(
          `${target.source}: server '${name}' already has a ${t} target (${
            subject.targets[t]!.source
          }); give each server one target per transport`,
        );
      }
      subject.targets[t] = target;
    }
    if (subject.source !== target.source) subject.source = `${subject.source}, ${target.source}`;
  }
  return subjects;
}

function seconds(name: string, text: string | undefined, min: number, max: number) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a number of seconds from ${min} to ${max}, not '${text}'`,
    );
  }
  return Math.round(n * 1000);
}

function whole(name: string, text: string | undefined, min: number, max: number) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return n;
}

/**
 * Runs `sockspec bench ARGS`; resolves with the exit status.
 *
 * @example
 * ```ts
 * import { benchMain } from "./bench.ts";
 * await benchMain(["--help"]); // 0
 * ```
 */
export async function benchMain(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    target: { type: "string", multiple: true },
    transport: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    size: { type: "string" },
    runs: { type: "string" },
    json: { type: "string" },
    "no-baseline": { type: "boolean" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  const transport = values.transport ?? "both";
  if (!["tcp", "unix", "both"].includes(transport)) {
    throw new UsageError(`--transport must be tcp, unix or both, not '${transport}'`);
  }
  const transports: BenchTransport[] = transport === "both"
    ? ["tcp", "unix"]
    : [transport as BenchTransport];
  const durationMs = seconds("duration", values.duration, 0.05, 600) ?? 1000;
  const warmupMs = seconds("warmup", values.warmup, 0, 600) ?? Math.round(durationMs / 4);
  const size = whole("size", values.size, 1, 16 << 20) ?? 65536;
  const runs = whole("runs", values.runs, 1, 1000) ?? 5;

  const targets: Target[] = [];
  for (const file of values.target ?? []) targets.push(await loadManifest(file));
  const subjects = targets.length ? subjectsOf(targets) : [referenceBenchSubject()];
  if (!subjects.some((s) => transports.some((t) => s.targets[t]))) {
    throw new UsageError(`no target serves ${transports.join(" or ")}; see --transport`);
  }

  const notes: string[] = [];
  let baseline: string | undefined;
  const buildDir = await Deno.makeTempDir({ prefix: "sockspec-bench-cc-" });
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  let report: BenchReport;
  try {
    if (!values["no-baseline"]) {
      const built = await buildCEcho(buildDir);
      if ("binary" in built) {
        subjects.unshift(cEchoSubject(built.binary));
        baseline = C_ECHO_NAME;
      } else {
        notes.push(built.skipped);
        console.error(`sockspec bench: ${built.skipped}`);
      }
    }
    const measured = subjects.filter((s) => transports.some((t) => s.targets[t]));
    const figures = measured.reduce(
      (n, s) => n + transports.filter((t) => s.targets[t]).length * 2 * runs,
      0,
    );
    console.error(
      `sockspec bench: ${figures} measurements of ${(warmupMs + durationMs) / 1000} s each (${
        measured.map((s) => s.name).join(", ")
      }; ${transports.join(", ")})`,
    );
    report = await runBench(measured, {
      durationMs,
      warmupMs,
      size,
      runs,
      transports,
      baseline,
      signal: controller.signal,
      onMeasure: ({ done, total, line }) => console.error(`[${done}/${total}] ${line}`),
    });
  } catch (err) {
    if (controller.signal.aborted) {
      console.error("sockspec bench: interrupted");
      return 130;
    }
    throw err;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await Deno.remove(buildDir, { recursive: true }).catch(() => {});
  }
  report.notes.unshift(...notes);
  console.log(formatBenchReport(report));
  if (values.json) {
    try {
      await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
    } catch (err) {
      console.error(`sockspec bench: cannot write ${values.json}: ${(err as Error).message}`);
      return 2;
    }
    console.error(`sockspec bench: wrote ${values.json}`);
  }
  return report.results.some((r) => r.error) ? 1 : 0;
}
