/**
 * Shards for CI matrices and merging reports. `--shard i/n` splits the run's
 * (target, case) pairs deterministically: the pairs are listed in run order (targets in
 * the order given, each target's applicable, selected cases in case order) and pair k goes
 * to shard `k mod n + 1`, so every shard gets a near-equal share of every target. Every
 * shard's report lists every target, even one with no case in that shard, so merging keeps
 * the run's target order. {@linkcode mergeReports} combines shard reports (or reports of
 * runs over different targets) into one report.
 *
 * @example
 * ```ts
 * import { parseShard, shardCases } from "./shard.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * const plan = shardCases(referenceTargets(), allCases, () => true, parseShard("1/2"));
 * console.log(plan.map((cases) => cases.length));
 * ```
 * @module
 */

import type { Case } from "../case/case.ts";
import { UsageError } from "./usage.ts";
import type { Target } from "./manifest.ts";
import type { MergedPart, RunReport, ShardInfo, TargetReport } from "../reports/report.ts";
import { REPORT_FORMAT_VERSION } from "../reports/report.ts";
import { applicableCases } from "./plan.ts";

/**
 * Parses `i/n` (1 ≤ i ≤ n ≤ 1000) as given to `--shard`.
 *
 * @example
 * ```ts
 * import { parseShard } from "./shard.ts";
 * parseShard("2/3"); // { index: 2, count: 3 }
 * ```
 */
export function parseShard(text: string): ShardInfo {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 1000 || index < 1 || index > count) {
    throw new UsageError(
      `--shard takes i/n with 1 <= i <= n (for example 1/3), not '${text}'`,
    );
  }
  return { index, count };
}

/**
 * The cases each target runs: its applicable cases that `select` keeps (it is given the case
 * and the target) and, with `shard`, only those whose (target, case) pair falls in that
 * shard. One array per target, in target order (empty when the shard has none of that
 * target's cases).
 *
 * @example
 * ```ts
 * import { shardCases } from "./shard.ts";
 * import { allCases } from "../../conformance/mod.ts";
 * import { referenceTargets } from "../reference/targets.ts";
 * shardCases(referenceTargets(), allCases, (c) => c.level === "MUST", { index: 1, count: 2 });
 * ```
 */
export function shardCases(
  targets: readonly Target[],
  cases: readonly Case[],
  select: (c: Case, target: Target) => boolean,
  shard?: ShardInfo,
): Case[][] {
  let k = 0;
  return targets.map((target) =>
    applicableCases(target, cases).filter((c) => select(c, target)).filter(() => {
      const mine = !shard || k % shard.count === shard.index - 1;
      k++;
      return mine;
    })
  );
}

/** A report that cannot be merged; the message names the file and says what to do. */
export class MergeError extends Error {
  /**
   * A merge error.
   *
   * @example
   * ```ts
   * import { MergeError } from "./shard.ts";
   * const err = new MergeError("shard 2/3 is missing; give every shard's JSON report");
   * console.log(err.name); // "MergeError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

/** Options of {@linkcode mergeReports}. */
export interface MergeOptions {
  /** Names for the reports in messages (file paths); default `report 1`, `report 2`, ... */
  names?: readonly string[];
  /** Case ids in report order; results are sorted by it (unknown ids go last, in order). */
  order?: readonly string[];
}

/**
 * Merges reports into one: shard reports of one sharded run (every shard 1..n exactly
 * once), or reports of runs over different targets or cases. Targets are matched by name
 * and manifest; a (target, case) pair given twice is an error, as are reports that
 * disagree on `--strict`. The merged report keeps each result as it was (expectations
 * included), is interrupted when a part was (with that part's signal), and lists the parts
 * in `mergedFrom`.
 *
 * @example
 * ```ts
 * import { mergeReports } from "./shard.ts";
 * import type { RunReport } from "../reports/report.ts";
 * function mergeShards(one: RunReport, two: RunReport): RunReport {
 *   return mergeReports([one, two]); // the targets and results of both, summed again
 * }
 * ```
 */
export function mergeReports(reports: readonly RunReport[], opts: MergeOptions = {}): RunReport {
  const name = (i: number) => opts.names?.[i] ?? `report ${i + 1}`;
  if (reports.length === 0) throw new MergeError("no reports to merge; give JSON report files");
  reports.forEach((r, i) => {
    if (r.formatVersion !== REPORT_FORMAT_VERSION) {
      throw new MergeError(
        `${
          name(i)
        }: report format version ${r.formatVersion}, this sockspec reads ${REPORT_FORMAT_VERSION}`,
      );
    }
    if (r.strict !== reports[0].strict) {
      throw new MergeError(
        `${name(i)} was run ${r.strict ? "with" : "without"} --strict but ${name(0)} ${
          reports[0].strict ? "with" : "without"
        }; merge reports of the same run`,
      );
    }
  });
  const sharded = reports.filter((r) => r.shard);
  if (sharded.length && sharded.length !== reports.length) {
    const i = reports.findIndex((r) => !r.shard);
    throw new MergeError(
      `${name(i)} is not a shard report but others are; merge the shards of one run`,
    );
  }
  if (sharded.length) {
    const count = reports[0].shard!.count;
    const seen = new Map<number, number>();
    reports.forEach((r, i) => {
      if (r.shard!.count !== count) {
        throw new MergeError(
          `${name(i)} is shard ${r.shard!.index}/${r.shard!.count} but ${name(0)} is ${
            reports[0].shard!.index
          }/${count}; merge the shards of one run`,
        );
      }
      const before = seen.get(r.shard!.index);
      if (before !== undefined) {
        throw new MergeError(
          `${name(before)} and ${name(i)} are both shard ${r.shard!.index}/${count}`,
        );
      }
      seen.set(r.shard!.index, i);
    });
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
    if (missing.length) {
      throw new MergeError(
        `shard${missing.length > 1 ? "s" : ""} ${
          missing.map((i) => `${i}/${count}`).join(", ")
        } missing; give every shard's JSON report (did a shard job fail before writing it?)`,
      );
    }
  }

  const rank = new Map((opts.order ?? []).map((id, i) => [id, i]));
  const targets: TargetReport[] = [];
  const byKey = new Map<string, { target: TargetReport; from: Map<string, number> }>();
  reports.forEach((report, i) => {
    for (const t of report.targets) {
      const key = `${t.name}\0${t.source}`;
      let slot = byKey.get(key);
      if (!slot) {
        slot = {
          target: { ...t, results: [], durationMs: 0 },
          from: new Map(),
        };
        byKey.set(key, slot);
        targets.push(slot.target);
      }
      slot.target.durationMs += t.durationMs;
      for (const r of t.results) {
        const before = slot.from.get(r.id);
        if (before !== undefined) {
          throw new MergeError(
            `${t.name} ${r.id} is in both ${name(before)} and ${name(i)}; ` +
              "merge reports of disjoint work (the shards of one run)",
          );
        }
        slot.from.set(r.id, i);
        slot.target.results.push(structuredClone(r));
      }
    }
  });
  for (const t of targets) {
    const seq = new Map(t.results.map((r, i) => [r.id, i]));
    const key = (id: string) => rank.get(id) ?? rank.size + seq.get(id)!;
    t.results.sort((a, b) => key(a.id) - key(b.id));
  }

  const starts = reports.map((r) => Date.parse(r.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...reports.map((r, i) => starts[i] + r.durationMs));
  const parts: MergedPart[] = reports.flatMap((r) =>
    r.mergedFrom ??
      [{
        shard: r.shard ? `${r.shard.index}/${r.shard.count}` : "-",
        startedAt: r.startedAt,
        durationMs: r.durationMs,
      }]
  );
  const expectations = [...new Set(reports.flatMap((r) => r.expectations ?? []))];
  const merged: RunReport = {
    formatVersion: REPORT_FORMAT_VERSION,
    tool: reports[0].tool,
    runtime: reports[0].runtime,
    startedAt: new Date(start).toISOString(),
    durationMs: Math.max(0, end - start),
    strict: reports[0].strict,
    interrupted: reports.some((r) => r.interrupted),
    mergedFrom: parts,
    targets,
  };
  if (expectations.length) merged.expectations = expectations;
  // the signal that interrupted a part (the first part's, when several were)
  const interruption = reports.find((r) => r.interruption)?.interruption;
  if (interruption) merged.interruption = { ...interruption };
  // one seed when every part ran with it (each result's re-run command keeps its own)
  const seeds = new Set(reports.map((r) => r.seed));
  if (seeds.size === 1 && reports[0].seed !== undefined) merged.seed = reports[0].seed;
  return merged;
}
