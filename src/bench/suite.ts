/**
 * Where the conformance suite's time goes: runs every case against every reference target
 * (as `sockspec check` does) and splits each case's time into the target's start-up
 * (`ctx.start`, readiness included), the case's own work (its `run` minus start-ups:
 * sockets, sleeps, checks) and the harness overhead (the rest: temp dir, need checks,
 * tear-down of instances and connections, the leftover-process scan, evidence).
 *
 * Run it as a script (with the permissions `deno task conformance` uses):
 *
 * ```sh
 * deno run --allow-run --allow-read --allow-write --allow-net --allow-env src/bench/suite.ts [ID-PREFIX...]
 * ```
 *
 * @example
 * ```ts
 * import { formatSuiteTiming, timeSuite } from "./suite.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const timing = await timeSuite(referenceTargets(), allCases.filter((c) => c.id === "echo/tcp/1"));
 * console.log(formatSuiteTiming(timing));
 * ```
 * @module
 */

import { allCases } from "../../conformance/mod.ts";
import type { Case } from "../case/case.ts";
import type { Target } from "../harness/manifest.ts";
import { referenceTargets } from "../reference/targets.ts";
import { runAll } from "../harness/runner.ts";
import { selector } from "../harness/select.ts";

/** One case's time, split. */
export interface CaseTiming {
  /** The target's name. */
  target: string;
  /** The case id. */
  id: string;
  /** The case's family (`echo/tcp`). */
  family: string;
  /** Its verdict. */
  verdict: string;
  /** The runner's whole time for the case, in ms. */
  totalMs: number;
  /** Time in `ctx.start` (spawn and readiness), in ms. */
  startMs: number;
  /** The case's own work: its `run` minus start-ups, in ms. */
  bodyMs: number;
  /** The rest: the harness's own overhead, in ms. */
  overheadMs: number;
}

/** The whole suite's time. */
export interface SuiteTiming {
  /** Wall time of the run, in ms. */
  wallMs: number;
  /** One entry per case run. */
  cases: CaseTiming[];
}

/**
 * Runs `cases` against `targets` and times each case (see the module doc).
 *
 * @example
 * ```ts
 * import { timeSuite } from "./suite.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const [echo] = referenceTargets();
 * const { wallMs, cases } = await timeSuite([echo], allCases.filter((c) => c.id === "echo/tcp/1"));
 * console.log(cases[0].id, wallMs); // "echo/tcp/1", and the whole wall time in ms
 * ```
 */
export async function timeSuite(
  targets: readonly Target[],
  cases: readonly Case[],
): Promise<SuiteTiming> {
  const inner = new Map<string, { runMs: number; startMs: number }>();
  const timed = cases.map((c): Case => ({
    ...c,
    async run(ctx) {
      const key = `${ctx.target.name} ${c.id}`;
      const t = { runMs: 0, startMs: 0 };
      inner.set(key, t);
      const t0 = performance.now();
      try {
        return await c.run({
          ...ctx,
          async start(opts) {
            const s0 = performance.now();
            try {
              return await ctx.start(opts);
            } finally {
              t.startMs += performance.now() - s0;
            }
          },
        });
      } finally {
        t.runMs = performance.now() - t0;
      }
    },
  }));
  const t0 = performance.now();
  const report = await runAll(targets, timed);
  const wallMs = performance.now() - t0;
  const out: CaseTiming[] = [];
  for (const t of report.targets) {
    for (const r of t.results) {
      const i = inner.get(`${t.name} ${r.id}`) ?? { runMs: 0, startMs: 0 };
      out.push({
        target: t.name,
        id: r.id,
        family: r.family,
        verdict: r.verdict,
        totalMs: r.durationMs,
        startMs: i.startMs,
        bodyMs: i.runMs - i.startMs,
        overheadMs: r.durationMs - i.runMs,
      });
    }
  }
  return { wallMs, cases: out };
}

/**
 * A table per family: cases, total, start-up, own work and harness overhead (sums, and
 * the overhead per case), then the slowest cases.
 *
 * @example
 * ```ts
 * import { formatSuiteTiming } from "./suite.ts";
 * console.log(formatSuiteTiming({ wallMs: 1, cases: [] }));
 * ```
 */
export function formatSuiteTiming(timing: SuiteTiming, slowest = 10): string {
  const families = new Map<string, CaseTiming[]>();
  for (const c of timing.cases) families.set(c.family, [...(families.get(c.family) ?? []), c]);
  const sum = (cs: CaseTiming[], k: "totalMs" | "startMs" | "bodyMs" | "overheadMs") =>
    cs.reduce((n, c) => n + c[k], 0);
  const row = (cells: (string | number)[]) =>
    cells.map((c, i) =>
      i === 0 ? String(c).padEnd(22) : (typeof c === "number" ? c.toFixed(0) : c).padStart(9)
    ).join(" ");
  const lines = [
    `suite: ${timing.cases.length} cases in ${(timing.wallMs / 1000).toFixed(2)} s ` +
    `(all times in ms; start = ctx.start incl. readiness; own = run minus start; ` +
    `overhead = the rest)`,
    row(["family", "cases", "total", "start", "own", "overhead", "ovh/case"]),
  ];
  const all = [...families.entries()].sort((a, b) => sum(b[1], "totalMs") - sum(a[1], "totalMs"));
  for (const [family, cs] of [...all, ["all", timing.cases] as [string, CaseTiming[]]]) {
    lines.push(row([
      family,
      String(cs.length),
      sum(cs, "totalMs"),
      sum(cs, "startMs"),
      sum(cs, "bodyMs"),
      sum(cs, "overheadMs"),
      (sum(cs, "overheadMs") / Math.max(1, cs.length)).toFixed(1),
    ]));
  }
  lines.push("", `slowest ${slowest} cases:`);
  for (const c of [...timing.cases].sort((a, b) => b.totalMs - a.totalMs).slice(0, slowest)) {
    lines.push(
      `  ${c.target} ${c.id} ${c.verdict}: ${c.totalMs.toFixed(0)} ms ` +
        `(start ${c.startMs.toFixed(0)}, own ${c.bodyMs.toFixed(0)}, ` +
        `overhead ${c.overheadMs.toFixed(0)})`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  // the ids select as `sockspec check`'s do (whole components, * and **)
  const keep = selector({ include: Deno.args });
  const cases = allCases.filter((c) => keep(c.id));
  console.log(formatSuiteTiming(await timeSuite(referenceTargets(), cases)));
}
