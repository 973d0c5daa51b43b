/**
 * Evidence that a case attaches to its verdict: bytes sent and received (hex and Python
 * repr), timings, notes, a transcript excerpt and the tail of the target's output.
 *
 * @example
 * ```ts
 * import { EvidenceRecorder } from "./evidence.ts";
 * const evidence = new EvidenceRecorder();
 * evidence.sent(new TextEncoder().encode("ping"));
 * evidence.timing("roundTripMs", 0.4);
 * console.log(evidence.toJSON().bytes[0].repr); // b'ping'
 * ```
 * @module
 */

import { bytesRepr, toHex } from "../python/repr.ts";

/** Bytes shown in a report: at most {@linkcode BYTES_SHOWN} of them, as hex and repr. */
export interface BytesEvidence {
  /** What these bytes are: `sent`, `received`, `expected`, ... */
  label: string;
  /** The full length, even when only a prefix is shown. */
  length: number;
  /** Hex of the shown prefix. */
  hex: string;
  /** Python bytes repr of the shown prefix. */
  repr: string;
  /** True when only a prefix is shown. */
  truncated: boolean;
}

/** Everything a report shows under a case's verdict. */
export interface Evidence {
  /** Bytes sent, received, expected. */
  bytes: BytesEvidence[];
  /** Named durations in ms. */
  timings: Record<string, number>;
  /** Free-form facts, one line each. */
  notes: string[];
  /** An excerpt of what the target printed, where the case checked it. */
  transcript?: string;
  /** The tail of the target's stdout (FAIL and ERROR only). */
  stdoutTail?: string;
  /** The tail of the target's stderr (FAIL and ERROR only). */
  stderrTail?: string;
}

/** How many bytes of a payload a report shows. */
export const BYTES_SHOWN = 256;

/**
 * Describes bytes for a report, keeping at most {@linkcode BYTES_SHOWN} of them.
 *
 * @example
 * ```ts
 * import { describeBytes } from "./evidence.ts";
 * describeBytes("sent", new Uint8Array([0x61])); // { label: "sent", length: 1, hex: "61", repr: "b'a'", truncated: false }
 * ```
 */
export function describeBytes(label: string, data: Uint8Array): BytesEvidence {
  const shown = data.subarray(0, BYTES_SHOWN);
  return {
    label,
    length: data.length,
    hex: toHex(shown),
    repr: bytesRepr(shown),
    truncated: data.length > shown.length,
  };
}

/** Collects a case's evidence while it runs. Methods return their input for chaining. */
export class EvidenceRecorder {
  #evidence: Evidence = { bytes: [], timings: {}, notes: [] };

  /**
   * Records bytes under a label, and returns them.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().bytes("expected", new Uint8Array([1, 2]));
   * ```
   */
  bytes(label: string, data: Uint8Array): Uint8Array {
    this.#evidence.bytes.push(describeBytes(label, data));
    return data;
  }

  /**
   * Records bytes sent to the target, and returns them.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().sent(new Uint8Array([1]));
   * ```
   */
  sent(data: Uint8Array): Uint8Array {
    return this.bytes("sent", data);
  }

  /**
   * Records bytes received from the target, and returns them.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().received(new Uint8Array([1]));
   * ```
   */
  received(data: Uint8Array): Uint8Array {
    return this.bytes("received", data);
  }

  /**
   * Records a duration in ms (rounded to 0.1 ms).
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().timing("echoMs", 1.234);
   * ```
   */
  timing(name: string, ms: number): void {
    this.#evidence.timings[name] = Math.round(ms * 10) / 10;
  }

  /**
   * Records a note: one line of fact.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().note("server pid 1234 exited with code 1");
   * ```
   */
  note(line: string): void {
    this.#evidence.notes.push(line);
  }

  /**
   * Records a transcript excerpt (at most 4 KiB are kept).
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().transcript("waiting for a connection\n");
   * ```
   */
  transcript(text: string): void {
    this.#evidence.transcript = text.length > 4096 ? text.slice(0, 4096) + "\n[...]" : text;
  }

  /**
   * Attaches output tails of the target (the runner does this for FAIL and ERROR).
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().tails("", "Traceback ...");
   * ```
   */
  tails(stdoutTail: string, stderrTail: string): void {
    if (stdoutTail) this.#evidence.stdoutTail = stdoutTail;
    if (stderrTail) this.#evidence.stderrTail = stderrTail;
  }

  /**
   * The evidence collected so far.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().toJSON(); // { bytes: [], timings: {}, notes: [] }
   * ```
   */
  toJSON(): Evidence {
    return structuredClone(this.#evidence);
  }
}
