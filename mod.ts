/**
 * sockspec: a conformance suite for socket servers.
 *
 * It restates the behaviours documented by the classic Python `socket` tutorials (chunked
 * TCP and Unix-domain echo, stale socket-file cleanup, permissions on a socket file, UDP
 * datagram sizes, multicast with acks, `struct` records, socketpair, timeouts) as
 * declarative cases, ships a reference implementation of each behaviour, and checks any
 * server over the wire, on the file system, in exit codes and in what it prints.
 *
 * This module exports the case model and runner (to run the cases from code), the target
 * manifests, the reports, and the Python-compatible helpers the cases are built from: the
 * `struct` codec, bytes and value repr, transcripts, and name/address functions.
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
 * @example Python-compatible bytes
 * ```ts
 * import { bytesRepr, pack, reprValues } from "./mod.ts";
 *
 * const record = pack("I 2s f", 1, new TextEncoder().encode("ab"), 2.7);
 * console.log(bytesRepr(record)); // b'\x01\x00\x00\x00ab\x00\x00\xcd\xcc,@'
 * ```
 *
 * @module
 */

export * from "./src/case/case.ts";
export * from "./src/case/evidence.ts";
export * from "./src/harness/manifest.ts";
export * from "./src/harness/target.ts";
export * from "./src/harness/runner.ts";
export * from "./src/harness/select.ts";
export * from "./src/reports/report.ts";
export * from "./src/reports/console.ts";
export * from "./src/reports/json.ts";
export * from "./src/reports/junit.ts";
export * from "./src/reports/markdown.ts";
export * from "./src/reports/html.ts";
export * from "./src/harness/expectations.ts";
export * from "./src/harness/shard.ts";
export * from "./src/reference/targets.ts";
export * from "./src/net/sockets.ts";
export * from "./src/python/errno.ts";
export * from "./src/python/repr.ts";
export * from "./src/net/proc.ts";
export * from "./src/python/struct.ts";
export * from "./src/transcript/transcript.ts";
export * from "./src/python/inet.ts";
export * from "./src/python/netdb.ts";
export * from "./src/python/addrinfo.ts";
export * from "./src/harness/netns.ts";
export * from "./src/bench/bench.ts";
export * from "./src/harness/flaky.ts";
export {
  type DatagramAddress,
  maxUdpPayload,
  UDP_MAX_IPV4,
  UDP_MAX_IPV6,
} from "./src/net/datagram.ts";
export { allCases } from "./conformance/mod.ts";
