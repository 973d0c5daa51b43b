/**
 * The reference implementations, sockspec's embedded default target: a stream echo server
 * and client (TCP and Unix sockets, with careful stale-socket cleanup), a packed-record
 * server and client, UDP and Unix datagram echo, a multicast receiver and sender, the
 * socketpair program, and the built-in targets that run each of them with the fewest Deno
 * permissions it needs.
 *
 * @example
 * ```ts
 * import { referenceTargets } from "@sockspec/sockspec/reference";
 * for (const t of referenceTargets()) console.log(t.name, t.kind, t.transports.join(","));
 * ```
 * @module
 */

export * from "./targets.ts";
export { type EchoServer, type EchoServerOptions, serveEcho } from "./echo/server.ts";
export { type EchoClientOptions, runEchoClient } from "./echo/client.ts";
export {
  type RecordServer,
  type RecordServerOptions,
  serveRecords,
  TUTORIAL_FORMAT,
} from "./record/server.ts";
export { type RecordClientOptions, runRecordClient, TUTORIAL_VALUES } from "./record/client.ts";
export { type DgramServer, type DgramServerOptions, serveDgram } from "./dgram/server.ts";
export { type DgramClientOptions, runDgramClient } from "./dgram/client.ts";
export {
  DEFAULT_GROUP,
  DEFAULT_PORT,
  type MulticastReceiver,
  type MulticastReceiverOptions,
  type MulticastSenderOptions,
  runMulticastSender,
  serveMulticast,
} from "./multicast/multicast.ts";
export {
  type CloseResult,
  listenUnix,
  UnixListenError,
  type UnixListening,
} from "./stream/unix_listen.ts";

// Types the references refer to, defined elsewhere.
export type { NodeId } from "./stream/unix_listen.ts";
export type { DatagramAddress } from "../net/datagram.ts";
export type { StreamAddress } from "../net/sockets.ts";
export type { BytesLike, Struct, StructValue } from "../python/struct.ts";
export type { Properties, Readiness, Service, Target } from "../harness/manifest.ts";
export type { TargetKind, Transport } from "../case/verdict.ts";
