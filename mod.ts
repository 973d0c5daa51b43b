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
 * import { allCases, closingLine, loadManifest, runAll, summarize } from "./mod.ts";
 *
 * const target = await loadManifest("fixtures/targets/python-echo-unix.json");
 * const report = await runAll([target], allCases, { select: (c) => c.id.startsWith("echo/unix/1") });
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

export * from "./src/case.ts";
export * from "./src/evidence.ts";
export * from "./src/manifest.ts";
export * from "./src/target.ts";
export * from "./src/runner.ts";
export * from "./src/report.ts";
export * from "./src/console_report.ts";
export * from "./src/json_report.ts";
export * from "./src/junit_report.ts";
export * from "./src/markdown_report.ts";
export * from "./src/html_report.ts";
export * from "./src/expectations.ts";
export * from "./src/shard.ts";
export * from "./src/reference_targets.ts";
export * from "./src/sockets.ts";
export * from "./src/errno.ts";
export * from "./src/repr.ts";
export * from "./src/proc.ts";
export * from "./src/struct.ts";
export * from "./src/transcript.ts";
export * from "./src/inet.ts";
export * from "./src/netdb.ts";
export * from "./src/addrinfo.ts";
export * from "./src/netns.ts";
export * from "./src/bench.ts";
export * from "./src/flaky.ts";
export {
  type DatagramAddress,
  maxUdpPayload,
  UDP_MAX_IPV4,
  UDP_MAX_IPV6,
} from "./src/reference/dgram_socket.ts";
export { allCases } from "./conformance/mod.ts";
