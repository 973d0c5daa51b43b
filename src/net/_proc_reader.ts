/**
 * The /proc reader: a child Deno that answers /proc queries for a sockspec process that may
 * not read /proc itself. It runs with `--allow-all` (the only way Deno 2.9 reads /proc),
 * loads nothing but `_proc_direct.ts`, and reads one JSON query per line on stdin:
 * `{"id":1,"op":"read","path":"/proc/net/tcp"}`; it writes one JSON line per query:
 * `{"id":1,"value":...}` or `{"id":1,"error":"..."}`.
 *
 * It ends when its stdin ends (sockspec closed it, or exited in any way), and ignores
 * SIGINT, SIGTERM and SIGHUP: a Ctrl-C or a CI runner's SIGTERM reaches the whole process
 * group, and sockspec still needs the reader while it tears its targets down.
 *
 * @example
 * ```ts ignore
 * // started by proc.ts: deno run --allow-all --no-config _proc_reader.ts
 * ```
 * @module
 */

import { answer, type ProcQuery } from "./_proc_direct.ts";

/**
 * Answers each query line read by `read` (into the buffer it is given; `null` at the end of
 * input) on `output`, until the input ends. Plain reads: a stream pipeline cost more CPU per
 * query than the query itself.
 *
 * @example
 * ```ts
 * import { serveQueries } from "./_proc_reader.ts";
 * const input = [new TextEncoder().encode('{"id":1,"op":"stats"}\n')];
 * const lines: string[] = [];
 * await serveQueries(async (buf) => {
 *   const next = input.shift();
 *   if (!next) return null;
 *   buf.set(next);
 *   return next.length;
 * }, (line) => lines.push(line));
 * lines.length; // 1
 * ```
 */
export async function serveQueries(
  read: (buf: Uint8Array) => Promise<number | null>,
  output: (line: string) => void,
): Promise<void> {
  const buf = new Uint8Array(64 << 10);
  const decoder = new TextDecoder();
  let buffered = "";
  for (let n = await read(buf); n !== null; n = await read(buf)) {
    buffered += decoder.decode(buf.subarray(0, n), { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (line) output(reply(line));
    }
  }
}

function reply(line: string): string {
  let id: unknown;
  try {
    const query = JSON.parse(line) as ProcQuery & { id: unknown };
    id = query.id;
    return JSON.stringify({ id, value: answer(query) });
  } catch (err) {
    return JSON.stringify({ id, error: String(err) });
  }
}

if (import.meta.main) {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => {});
  }
  const encoder = new TextEncoder();
  await serveQueries((buf) => Deno.stdin.read(buf), (line) => {
    const data = encoder.encode(line + "\n");
    for (let off = 0; off < data.length;) off += Deno.stdout.writeSync(data.subarray(off));
  });
  Deno.exit(0);
}
