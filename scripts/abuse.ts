/**
 * The abuse battery (issue 17): each attack that once left processes behind or took a
 * reference server down, run against the real harness and the real reference servers,
 * with one line per attack: `held` or `broke`, and its figure.
 *
 *     deno run --allow-run --allow-read --allow-write --allow-net --allow-env scripts/abuse.ts
 *
 * Every attack is bounded in time (ATTACK_MS at most, the whole battery well under three
 * minutes) and in traffic: loopback, Unix sockets in private temp dirs, and namespaces of
 * its own. Exit code 0 when every line says `held`, 1 otherwise. `.ci/run` runs it after
 * the test suite.
 *
 * @module
 */

import { parseManifest } from "../src/harness/manifest.ts";
import { startInstance } from "../src/harness/target.ts";
import { currentUid, markedProcesses } from "../src/net/proc.ts";
import { referenceTargets } from "../src/reference/targets.ts";
import { openDatagram, receiveWithin, toDenoAddr } from "../src/net/datagram.ts";
import { descendants, netnsOf, signalled, whatIsLeft } from "../src/cli/check_signal_test.ts";
import { quantile, resetStorm, roundTrips } from "../src/reference/stream/server_test.ts";
import {
  dualStartTrials,
  replacedNodeAfterExit,
} from "../src/reference/stream/unix_listen_test.ts";
import { CLI_PERMISSIONS, ROOT } from "../src/testdata/run_cli.ts";

/** The longest one attack may take, in ms. */
const ATTACK_MS = 40_000;

interface Outcome {
  held: boolean;
  figure: string;
}

type Attack = [name: string, run: () => Promise<Outcome>];

const enc = new TextEncoder();

function inline(json: Record<string, unknown>) {
  return parseManifest(
    { name: "abuse", kind: "stream-echo", transports: ["unix"], killGraceMs: 300, ...json },
    "abuse.ts",
  );
}

function reference(name: string) {
  const t = referenceTargets().find((t) => t.name === name);
  if (!t) throw new Error(`no reference target ${name}`);
  return t;
}

async function withTmp<T>(fn: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = await Deno.makeTempDir({ prefix: "sockspec-abuse-" });
  try {
    return await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

function left(l: Awaited<ReturnType<typeof whatIsLeft>>): number {
  return l.processes.length + l.mentioning.length + l.files.length + l.sockets.length +
    l.namespaces.length;
}

async function signalAttack(signal: "SIGTERM" | "SIGHUP", code: number): Promise<Outcome> {
  const t0 = performance.now();
  const run = await signalled(
    ["--target", "fixtures/targets/python-echo-unix.json"],
    signal,
    (stderr, pid) => /\[2\//.test(stderr) && descendants(pid).length > 0,
  );
  const took = Math.round(performance.now() - t0);
  const l = await whatIsLeft(run);
  const recorded = JSON.stringify(run.json?.interruption) ===
    JSON.stringify({ signal, exitCode: code });
  return {
    held: run.code === code && recorded && left(l) === 0 && run.children.length > 0,
    figure: `exit ${run.code}, JSON interruption ${recorded ? "recorded" : "missing"}, ` +
      `${l.processes.length + l.mentioning.length} processes, ${l.files.length} files, ` +
      `${l.sockets.length} sockets left (${run.children.length} running at the signal; ${took} ms)`,
  };
}

const DAEMON = `
import os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[2]); s.listen()
for i in range(3):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)
        os._exit(0)
while True:
    c, _ = s.accept(); c.close()
`;

const attacks: Attack[] = [
  ["SIGTERM to check mid-run", () => signalAttack("SIGTERM", 143)],
  ["SIGHUP to check mid-run", () => signalAttack("SIGHUP", 129)],
  ["SIGTERM to check during a multicast case", async () => {
    if (currentUid() !== 0) return { held: true, figure: "not run: needs root" };
    const own = netnsOf(Deno.pid);
    const run = await signalled(["mcast/1"], "SIGTERM", (_s, pid) =>
      descendants(pid).some((p) => {
        const ns = netnsOf(p);
        return ns !== undefined && ns !== own;
      }));
    const l = await whatIsLeft(run);
    return {
      held: run.code === 143 && left(l) === 0 && run.namespaces.length > 0,
      figure: `exit ${run.code}; ${l.namespaces.length} of ${run.namespaces.length} namespaces, ` +
        `${l.processes.length} processes, ${l.files.length} files left`,
    };
  }],
  ["daemonizing grandchildren (fork, setsid, fork; ignore SIGTERM)", () =>
    withTmp(async (tmp) => {
      const server = await startInstance(
        inline({ command: ["python3", "-c", DAEMON, "{tmp}", "{path}"] }),
        { tmp },
      );
      // let the daemons start (bounded)
      for (let i = 0; i < 50 && (await markedProcesses(server.marker!)).length < 4; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await server.stop();
      const alive = (await markedProcesses(server.marker!)).length;
      return {
        held: alive === 0 && server.leftBehind.length === 3,
        figure: `${server.leftBehind.length} left behind and named, ${alive} alive after teardown`,
      };
    })],
  ["2.5 MB of log before the ready line", () =>
    withTmp(async (tmp) => {
      const t = inline({
        command: [
          "sh",
          "-c",
          "head -c 2500000 /dev/zero | tr '\\0' x | fold -w 100; printf '\\nready\\n'; exec sleep 30",
        ],
        ready: { kind: "stdout", pattern: "^ready$", timeoutMs: 10_000 },
      });
      const t0 = performance.now();
      try {
        const server = await startInstance(t, { tmp });
        const ms = Math.round(performance.now() - t0);
        await server.stop();
        return { held: true, figure: `ready after ${ms} ms (${server.stdout.total} bytes before)` };
      } catch (err) {
        return { held: false, figure: (err as Error).message.slice(0, 120) };
      }
    })],
  ["catastrophic ready pattern ^ready (a+)+$ with a 1000 ms timeout", () =>
    withTmp(async (tmp) => {
      const t = inline({
        command: ["sh", "-c", `echo "ready ${"a".repeat(40)}b"; exec sleep 30`],
        ready: { kind: "stdout", pattern: "^ready (a+)+$", timeoutMs: 1000 },
      });
      const t0 = performance.now();
      const ok = await startInstance(t, { tmp }).then(
        (s) => s.stop().then(() => true),
        () => false,
      );
      const ms = Math.round(performance.now() - t0);
      return { held: !ok && ms < 2500, figure: `ERROR after ${ms} ms (timeout 1000 ms)` };
    })],
  [
    "catastrophic ready pattern with a backreference, then an interrupt",
    () =>
      withTmp(async (tmp) => {
        const t = inline({
          command: [
            "sh",
            "-c",
            "printf 'ready '; head -c 65536 /dev/zero | tr '\\0' a; echo b; exec sleep 30",
          ],
          ready: { kind: "stdout", pattern: "^ready (a|aa)+\\1c$", timeoutMs: 20_000 },
        });
        const controller = new AbortController();
        let aborted = 0;
        setTimeout(() => {
          aborted = performance.now();
          controller.abort();
        }, 500);
        await startInstance(t, { tmp, signal: controller.signal }).then((s) => s.stop(), () => {});
        const ms = Math.round(performance.now() - aborted);
        return {
          held: aborted > 0 && ms < 1000,
          figure: `the start ended ${ms} ms after the interrupt`,
        };
      }),
  ],
  ["escape bytes in a target's output (console report)", () =>
    withTmp(async (tmp) => {
      const manifest = `${tmp}/hostile.json`;
      const evil = "\\033]0;pwned\\007\\033[2J\\033[3J\\033[8m\\000\\302\\233";
      await Deno.writeTextFile(
        manifest,
        JSON.stringify({
          name: "escapes",
          kind: "stream-echo",
          transports: ["tcp"],
          command: [
            "sh",
            "-c",
            `printf '${evil}ALL PASS\\n'; printf '${evil}\\n' >&2; exec sleep 30`,
          ],
          ready: { kind: "stdout", pattern: "^never$", timeoutMs: 500 },
          killGraceMs: 300,
        }),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          ...CLI_PERMISSIONS,
          `${ROOT}src/cli/main.ts`,
          "check",
          "--target",
          manifest,
          "echo/tcp/1",
        ],
        env: { NO_COLOR: "1", TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const all = new Uint8Array([...out.stdout, ...out.stderr]);
      const count = (b: number) => all.filter((x) => x === b).length;
      const c1 = new TextDecoder().decode(all).match(/[\u0080-\u009f]/g)?.length ?? 0;
      const [esc, bel, nul] = [count(0x1b), count(0x07), count(0x00)];
      const shown = new TextDecoder().decode(out.stdout).includes("\\x1b]0;pwned");
      return {
        held: esc + bel + nul + c1 === 0 && shown,
        figure:
          `${esc} ESC, ${bel} BEL, ${nul} NUL, ${c1} C1 raw in ${all.length} bytes of output; shown escaped: ${shown}`,
      };
    })],
  ["a Unix datagram client that never reads (reference-unixgram)", () =>
    withTmp(async (tmp) => {
      const server = await startInstance(reference("reference-unixgram"), { tmp: `${tmp}` });
      const to = toDenoAddr({ transport: "unixgram", path: server.path! });
      const stalled = openDatagram({ transport: "unixgram", path: `${tmp}/stalled` });
      const others = Array.from({ length: 8 }, (_, i) =>
        openDatagram({ transport: "unixgram", path: `${tmp}/c${i}` }));
      try {
        const big = new Uint8Array(2000).fill(0x61);
        for (let i = 0; i < 100; i++) {
          await Promise.race([
            stalled.send(big, to).catch(() => {}),
            new Promise((r) =>
              setTimeout(r, 200)
            ),
          ]);
        }
        const t0 = performance.now();
        const waits = await Promise.all(others.map(async (c, i) => {
          const msg = enc.encode(`client ${i}`);
          await Promise.race([c.send(msg, to), new Promise((r) => setTimeout(r, 1000))]);
          const got = await receiveWithin(c, 3000);
          return got && new TextDecoder().decode(got[0]) === `client ${i}`
            ? performance.now() - t0
            : undefined;
        }));
        const answered = waits.filter((w) => w !== undefined) as number[];
        return {
          held: answered.length === 8,
          figure: `${answered.length}/8 other clients answered, slowest after ${
            Math.round(Math.max(0, ...answered))
          } ms`,
        };
      } finally {
        for (const c of [stalled, ...others]) c.close();
        await server.stop();
      }
    })],
  ...(["reference-echo-tcp", "reference-record-tcp"] as const).map((name): Attack => [
    `20 resets per second for 10 s (${name})`,
    () =>
      withTmp(async (tmp) => {
        const server = await startInstance(reference(name), { tmp });
        try {
          const addr = {
            transport: "tcp" as const,
            hostname: server.target.host,
            port: server.port!,
          };
          const storm = resetStorm(server.port!, 20, 10);
          const payload = name === "reference-record-tcp"
            ? new Uint8Array([1, 0, 0, 0, 0x61, 0x62, 0, 0, 0xcd, 0xcc, 0x2c, 0x40])
            : new Uint8Array([0x61]);
          const times = await roundTrips(addr, storm.status, payload);
          await storm.output();
          const p99 = quantile(times, 0.99);
          return {
            held: p99 < 50 && times.length > 50,
            figure: `p99 round trip ${p99.toFixed(1)} ms over ${times.length} clients (max ${
              Math.max(...times).toFixed(1)
            } ms)`,
          };
        } finally {
          await server.stop();
        }
      }),
  ]),
  ["two servers started at once on one stale path, 100 trials", async () => {
    const { both, neither } = await dualStartTrials(100);
    return {
      held: both === 0 && neither === 0,
      figure: `${both} of 100 with both running, ${neither} with neither`,
    };
  }],
  ["library close() of a replaced node, then process exit", async () => {
    const r = await replacedNodeAfterExit();
    return {
      held: r.intact && r.serves && r.extra.length === 0,
      figure: `close() said ${r.closeResult}; after exit the replacement is ${
        r.intact ? "intact" : "gone"
      } and ${r.serves ? "serves" : "does not serve"}`,
    };
  }],
];

async function bounded(run: () => Promise<Outcome>): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<Outcome>((r) =>
        timer = setTimeout(
          () => r({ held: false, figure: `did not finish within ${ATTACK_MS} ms` }),
          ATTACK_MS,
        )
      ),
    ]);
  } catch (err) {
    return { held: false, figure: `failed: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

if (import.meta.main) {
  const t0 = performance.now();
  let broke = 0;
  for (const [name, run] of attacks) {
    const { held, figure } = await bounded(run);
    if (!held) broke++;
    console.log(`${held ? "held " : "broke"}  ${name}: ${figure}`);
  }
  console.log(
    `${attacks.length - broke} held, ${broke} broke (${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s)`,
  );
  Deno.exit(broke ? 1 : 0);
}
