/**
 * Running a client target for a case: start its `command` with `{host}`, `{port}` and
 * `{path}` of the server the case plays, supervised exactly as a server is (its own
 * session under `setsid`, output captured and bounded, torn down after the case), wait for
 * it to exit within the target's timeout, and describe what it did for messages; and the
 * verifiers the client families share ({@linkcode expectTranscript},
 * {@linkcode expectGaveUp}, {@linkcode neverConnected}).
 *
 * @module
 */

import {
  type Case,
  type CaseContext,
  Failure,
  type Outcome,
  pass,
  Skip,
  TargetError,
} from "../../src/case/case.ts";
import { commandExists } from "../../src/harness/manifest.ts";
import { type Instance, startInstance } from "../../src/harness/target.ts";
import { currentUid } from "../../src/net/proc.ts";
import { formatAddress, sleep, type StreamAddress } from "../../src/net/sockets.ts";
import type { MatchOk, MatchResult } from "../../src/transcript/transcript.ts";

/** Where the client is pointed: the fake server's port or socket path. */
export interface ClientWhere {
  /** `{port}`: the server's TCP or UDP port. */
  port?: number;
  /** `{path}`: the server's Unix socket path. */
  path?: string;
}

/** Options of {@linkcode startClient}. */
export interface ClientOptions {
  /** Extra environment variables for this run (such as `SOCKSPEC_MESSAGE_SIZE`). */
  env?: Record<string, string>;
  /**
   * Run the client without the privilege to ignore file permissions: as root, without
   * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (so the kernel checks the socket node's mode
   * bits against it as for any user), through `setpriv`. Not root: as it is.
   */
  unprivileged?: boolean;
}

/** The client each case started last: its output tails go into the evidence of a FAIL. */
const lastClient = new WeakMap<CaseContext, Instance>();

/**
 * The case with the output tails of the client it ran attached to its evidence when it
 * gives FAIL or ERROR (the runner does this for the targets it starts; client cases start
 * their client themselves).
 */
export function withClientTails(c: Case): Case {
  const attach = (ctx: CaseContext) => {
    const client = lastClient.get(ctx);
    if (client) ctx.evidence.tails(client.stdout.tail(), client.stderr.tail());
  };
  return {
    ...c,
    async run(ctx) {
      try {
        const outcome = await c.run(ctx);
        if (outcome.verdict === "FAIL" || outcome.verdict === "ERROR") attach(ctx);
        return outcome;
      } catch (err) {
        if (!(err instanceof Skip)) attach(ctx);
        throw err;
      }
    },
  };
}

const CLEAR_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"];

/**
 * Starts the client target against a server at `where`; it is stopped after the case.
 * Throws {@linkcode TargetError} when it cannot be started.
 */
export async function startClient(
  ctx: CaseContext,
  where: ClientWhere,
  opts: ClientOptions = {},
): Promise<Instance> {
  const target = ctx.target;
  if (!target.command) {
    throw new TargetError(
      `client target '${target.name}' has no command: sockspec must start a client itself (${target.source})`,
    );
  }
  if (target.transports.length !== 1) {
    throw new TargetError(
      `client target '${target.name}' lists ${target.transports.length} transports (${
        target.transports.join(", ")
      }); a client manifest lists exactly one, the way its command connects (${target.source})`,
    );
  }
  let command = target.command;
  if (opts.unprivileged && currentUid() === 0) {
    if (!commandExists("setpriv")) {
      throw new Skip(
        "needs the command 'setpriv' (util-linux) to run the client without root's permission override; install it",
      );
    }
    command = [...CLEAR_DAC, ...command];
  }
  // a fresh dir per start (its {tmp} and default cwd), inside the case's temp dir
  const dir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "client-" });
  let instance: Instance;
  try {
    instance = await startInstance({ ...target, command }, {
      tmp: dir,
      port: where.port,
      path: where.path,
      env: opts.env,
      wait: false,
      signal: ctx.signal,
    });
  } catch (err) {
    if (err instanceof TargetError) throw err;
    throw new TargetError(
      `client target '${target.name}': ${
        (err as Error).message
      } (check the command's placeholders in ${target.source})`,
    );
  }
  ctx.defer(() => instance.stop());
  lastClient.set(ctx, instance);
  ctx.evidence.note(`client: ${(instance.argv ?? []).join(" ").slice(0, 400)}`);
  return instance;
}

/** What a client run did, once it exited or its time was up. */
export interface ClientRun {
  /** The supervised process. */
  instance: Instance;
  /** Its exit status, or undefined when it was still running at the limit. */
  status?: Deno.CommandStatus;
  /** How long it ran (until it exited, or until the limit), in ms. */
  ms: number;
  /** The limit it was given, in ms. */
  limitMs: number;
  /** What it printed on stdout (the first MiB). */
  stdout: string;
  /** What it printed on stderr (the first MiB). */
  stderr: string;
}

/**
 * Waits up to `limitMs` (default: the target's `timeoutMs`) for the client to exit, then
 * gathers its output. A client still running is left running (the case's teardown stops it).
 */
export async function awaitClient(
  ctx: CaseContext,
  instance: Instance,
  limitMs = ctx.timeoutMs,
  startedAt = performance.now(),
): Promise<ClientRun> {
  const left = Math.max(0, limitMs - (performance.now() - startedAt));
  const status = await instance.waitExit(left);
  const ms = Math.round(performance.now() - startedAt);
  if (status) {
    // its output ends when it exits (a child of its own may hold it open: bounded)
    await Promise.race([
      Promise.all([instance.stdout.done, instance.stderr.done]),
      sleep(300),
    ]);
  }
  ctx.evidence.timing("clientMs", ms);
  const run = {
    instance,
    status,
    ms,
    limitMs,
    stdout: instance.stdout.text(),
    stderr: instance.stderr.text(),
  };
  ctx.evidence.transcript(run.stdout);
  return run;
}

/** Starts the client and waits for it: {@linkcode startClient} then {@linkcode awaitClient}. */
export async function runClient(
  ctx: CaseContext,
  where: ClientWhere,
  opts: ClientOptions = {},
): Promise<ClientRun> {
  const t0 = performance.now();
  const instance = await startClient(ctx, where, opts);
  return await awaitClient(ctx, instance, ctx.timeoutMs, t0);
}

/**
 * How the run ended, for messages: `exited with code 1 after 35 ms`, `was still running
 * after 1000 ms`, `was killed by SIGSEGV after 12 ms`.
 */
export function describeEnd(run: ClientRun): string {
  const s = run.status;
  if (!s) return `was still running after ${run.ms} ms`;
  return s.signal
    ? `was killed by ${s.signal} after ${run.ms} ms`
    : `exited with code ${s.code} after ${run.ms} ms`;
}

/**
 * The last lines the client printed (stdout, then stderr), runs of one repeated line
 * collapsed (`received b'' (×4817)`, with `+` when more of them scrolled out of the kept
 * tail), for messages; `(no output)` when it printed nothing.
 */
export function outputTail(run: ClientRun, lines = 3): string {
  const collapse = (capture: ClientRun["instance"]["stdout"]) => {
    const text = capture.tail(TAIL_BYTES);
    const all = text.split("\n").map((l) => l.trimEnd());
    const cut = capture.total > text.length;
    if (cut) all.shift(); // a partial first line
    const out: { line: string; n: number }[] = [];
    for (const l of all.filter((l) => l !== "")) {
      const last = out.at(-1);
      if (last && last.line === l) last.n++;
      else out.push({ line: l, n: 1 });
    }
    return out.map((o, i) => o.n > 1 ? `${o.line} (×${o.n}${cut && i === 0 ? "+" : ""})` : o.line);
  };
  const shown = [...collapse(run.instance.stdout), ...collapse(run.instance.stderr)].slice(
    -lines,
  );
  if (shown.length === 0) return "(no output)";
  const text = shown.join(" | ");
  return text.length > 400 ? `...${text.slice(-400)}` : text;
}

/** How much of the end of each output stream {@linkcode outputTail} looks at. */
const TAIL_BYTES = 4096;

/** Every non-empty line of the client's stdout and stderr. */
export function outputLines(run: ClientRun): string[] {
  return `${run.stdout}\n${run.stderr}`.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
}

/** A FAIL for a client that never connected to the server at `address`, saying how it ended. */
export function neverConnected(address: StreamAddress, run: ClientRun): Failure {
  return new Failure(
    `the client never connected to ${formatAddress(address)}; it ${describeEnd(run)}: ${
      outputTail(run)
    }`,
  );
}

/**
 * The verifier for a client's transcript: `result` (its output matched against SPEC
 * `section`, such as `SPEC §4`) fits, and the client exited 0; it throws a
 * {@linkcode Failure} otherwise. With `endOnMismatch`, a mismatch of a client still running
 * says so: `the transcript does not match SPEC: ... (the client was still running after ...)`.
 */
export function expectTranscript(
  run: ClientRun,
  result: MatchResult,
  section: string,
  endOnMismatch = true,
): MatchOk {
  if (!result.ok) {
    const end = endOnMismatch && !run.status ? ` (the client ${describeEnd(run)})` : "";
    throw new Failure(`the transcript does not match SPEC: ${result.message}${end}`);
  }
  if (!run.status || run.status.code !== 0) {
    throw new Failure(`the transcript matches ${section}, but the client ${describeEnd(run)}`);
  }
  return result;
}

/** How {@linkcode expectGaveUp} words a client that did not give up. */
export interface GiveUpWords {
  /** Its transcript lines: anything else it prints is it saying something. */
  transcriptLine: RegExp;
  /** After `the client was still running after N ms`, before `; its output ends with`. */
  stillRunning: string;
  /** What a client that exited 0 behaved as if: `it had been answered`. */
  asIf: string;
}

/**
 * The verifier for a client that got no (whole) answer, `what` having happened: it must end
 * within its time, with a non-zero status, having said something besides its transcript.
 */
export function expectGaveUp(run: ClientRun, what: string, words: GiveUpWords): Outcome {
  if (!run.status) {
    throw new Failure(
      `${what}; the client ${describeEnd(run)}${words.stillRunning}; its output ends with: ${
        outputTail(run)
      }`,
    );
  }
  if (run.status.code === 0) {
    throw new Failure(`${what}; the client exited 0 as if ${words.asIf}: ${outputTail(run)}`);
  }
  const said = outputLines(run).filter((l) => !words.transcriptLine.test(l));
  if (said.length === 0) {
    throw new Failure(
      `${what}; the client ${describeEnd(run)} without saying why (only transcript lines): ${
        outputTail(run)
      }`,
    );
  }
  return pass(`${what}; the client ${describeEnd(run)}, saying ${JSON.stringify(said.at(-1))}`);
}
