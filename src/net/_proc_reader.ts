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
 * Answers each query line of `input` on `output` until `input` ends.
 *
 * @example
 * ```ts
 * import { serveQueries } from "./_proc_reader.ts";
 * const input = ReadableStream.from([new TextEncoder().encode('{"id":1,"op":"stats"}\n')]);
 * const lines: string[] = [];
 * await serveQueries(input, (line) => lines.push(line));
 * lines.length; // 1
 * ```
 */
export async function serveQueries(
  input: ReadableStream<Uint8Array>,
  output: (line: string) => void,
): Promise<void> {
  let buffered = "";
  for await (const text of input.pipeThrough(new TextDecoderStream())) {
    buffered += text;
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
  await serveQueries(Deno.stdin.readable, (line) => {
    const data = encoder.encode(line + "\n");
    for (let off = 0; off < data.length;) off += Deno.stdout.writeSync(data.subarray(off));
  });
  Deno.exit(0);
}
