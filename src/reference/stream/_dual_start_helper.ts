/**
 * Test helper for the dual-start race (unix_listen_test.ts, scripts/abuse.ts): reads lines
 * `go PATH` on stdin; for each, calls {@linkcode listenUnix} on PATH at once and answers
 * `ok PATH` (it listens, and keeps listening until stdin ends) or `refused PATH MESSAGE`.
 * Two of these, given the same line at the same moment, race for the same path for real.
 *
 * @module
 */

import { listenUnix, type UnixListening } from "./unix_listen.ts";

const held: UnixListening[] = [];
const out = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
let pending = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (!line.startsWith("go ")) continue;
    const path = line.slice(3);
    try {
      held.push(await listenUnix(path));
      out(`ok ${path}`);
    } catch (err) {
      out(`refused ${path} ${(err as Error).message.replaceAll("\n", " ")}`);
    }
  }
}
for (const h of held) h.close();
