/**
 * The tutorials' values (SPEC §1, §5 and §6): the message the echo clients send, the
 * multicast sender's message, and the struct record the record client packs. A leaf module, so the reference programs take these
 * without loading the transcript matcher.
 *
 * @example
 * ```ts
 * import { TUTORIAL_FORMAT, TUTORIAL_MESSAGE } from "./tutorial.ts";
 * TUTORIAL_MESSAGE.length; // 42
 * TUTORIAL_FORMAT; // "I 2s f"
 * ```
 * @module
 */

import type { StructValue } from "../python/struct.ts";

const encoder = new TextEncoder();

/** The tutorial's 42-byte message, `b'This is the message.  It will be repeated.'`. */
export const TUTORIAL_MESSAGE: Uint8Array = encoder.encode(
  "This is the message.  It will be repeated.",
);

/** The tutorial's struct format (SPEC §6): native order, size and alignment. */
export const TUTORIAL_FORMAT = "I 2s f";

/** The tutorial's record values, `(1, b'ab', 2.7)`, as the struct codec takes them. */
export const TUTORIAL_VALUES: readonly StructValue[] = [1, encoder.encode("ab"), 2.7];

/** The multicast sender's message, `b'very important data'` (19 bytes). */
export const MULTICAST_MESSAGE: Uint8Array = encoder.encode("very important data");
