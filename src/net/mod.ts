/**
 * Socket plumbing, in one place: stream connect/read/write with timeouts, datagram sockets
 * and their limits, and the `/proc` reads the harness uses (Deno refuses `/proc` without
 * `--allow-all`, so these go through one reader).
 *
 * @example
 * ```ts
 * import { connect, readExactly, writeAll } from "@sockspec/sockspec/net";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await connect({ transport: "tcp", hostname: "127.0.0.1", port: listener.addr.port });
 * const peer = await listener.accept();
 * await writeAll(conn, new TextEncoder().encode("hi"), 1000);
 * console.log(new TextDecoder().decode(await readExactly(peer, 2, 1000))); // "hi"
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 * @module
 */

export * from "./sockets.ts";
export * from "./datagram.ts";
export * from "./proc.ts";
