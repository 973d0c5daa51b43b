/**
 * Transcripts: the matcher for what a program prints (patterns with `{bytes}`, `{addr}`,
 * `{int}`, `{hex}`, `{str}`, chunk runs, optional lines, variants, and a partial order across
 * processes), and the tutorial programs' transcripts ready-made.
 *
 * @example
 * ```ts
 * import { match, streamClientTranscript } from "@sockspec/sockspec/transcript";
 * const out = "connecting to localhost port 10000\n" +
 *   "sending b'This is the message.  It will be repeated.'\n" +
 *   "received b'This is the mess'\nreceived b'age.  It will be'\nreceived b' repeated.'\n" +
 *   "closing socket\n";
 * console.log(match(streamClientTranscript(), out).ok); // true
 * ```
 * @module
 */

export * from "./transcript.ts";

// A type the transcripts refer to.
export type { StructValue } from "../python/struct.ts";
