/**
 * sockspec: a conformance suite for socket servers.
 *
 * It restates the behaviours documented by the classic Python `socket` tutorials (chunked
 * TCP and Unix-domain echo, stale socket-file cleanup, permissions on a socket file, UDP
 * datagram sizes, multicast with acks, `struct` records, socketpair, timeouts) as
 * declarative cases, ships a reference implementation of each behaviour, and checks any
 * server over the wire, on the file system, in exit codes and in what it prints.
 *
 * This root module is what a user writing their own tests needs: the cases, the case
 * model, the runner, manifests, the report model, and the reference targets (the report
 * writers, console, JSON, JUnit, Markdown and HTML, are in `./reports`).
 * Everything else has its own documented entry point: `./case`, `./harness`, `./checks`,
 * `./net`, `./python` (with `./struct`, `./repr`, `./inet`), `./transcript`, `./reports`,
 * `./reference`, `./conformance`, `./cli` and `./bench`.
 *
 * Datagram and multicast cases need Deno's `--unstable-net`; without it they SKIP and say so.
 *
 * @example Run the stream echo cases against a server described by a manifest
 * ```ts
 * import { allCases, closingLine, loadManifest, matches, runAll, summarize } from "./mod.ts";
 *
 * const target = await loadManifest("fixtures/targets/python-echo-unix.json");
 * // whole id components, as `sockspec check echo/unix/1` selects: not echo/unix/10 or /11
 * const report = await runAll([target], allCases, { select: (c) => matches("echo/unix/1", c.id) });
 * console.log(closingLine(summarize(report))); // 1 passed, 0 failed, 0 skipped
 * ```
 *
 * @module
 */

// The cases, and the model to write more.
export { allCases } from "./conformance/mod.ts";
export {
  type Case,
  type CaseContext,
  fail,
  Failure,
  inFamily,
  type Level,
  type Needs,
  type Observed,
  type Outcome,
  pass,
  Skip,
  type TargetKind,
  type Transport,
  type Verdict,
} from "./src/case/case.ts";
export {
  type BytesEvidence,
  type DatagramEventOptions,
  type Evidence,
  EvidenceRecorder,
  type WireEvent,
  type WireKind,
} from "./src/case/evidence.ts";
export type { ByteDiff, DiffSide } from "./src/case/diff.ts";
export { Random } from "./src/case/random.ts";

// Targets: manifests, supervised instances and the built-in references.
export {
  loadManifest,
  ManifestError,
  type Properties,
  type Readiness,
  type Service,
  type Target,
} from "./src/harness/manifest.ts";
export { type Instance, type OutputCapture, type StartOptions } from "./src/harness/target.ts";
export type { StreamAddress } from "./src/net/sockets.ts";
export { referenceTargets } from "./src/reference/targets.ts";

// The one runner.
export { runAll, runCase, type RunOptions } from "./src/harness/runner.ts";
export { matches } from "./src/harness/select.ts";

// The report model (its writers are in `./reports`).
export {
  type CaseResult,
  closingLine,
  judge,
  type Judgement,
  type MergedPart,
  type RunReport,
  type ShardInfo,
  summarize,
  type Summary,
  type TargetReport,
} from "./src/reports/report.ts";
