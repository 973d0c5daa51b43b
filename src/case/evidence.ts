/**
 * Evidence that a case attaches to its verdict: bytes sent and received (hex and Python
 * repr), a wire log, byte diffs, timings, notes, a transcript excerpt and the tail of the
 * target's output.
 *
 * ## The wire log
 *
 * Every event on the wire goes into one log, on one clock (µs since the case started):
 *
 * - stream connections made with `ctx.connect` are recorded by the runner without any work
 *   in the case: `connect` (or `connect-failed` with the errno line), every `write` (→) and
 *   `read` (←) with its byte count, `eof` when the target closed its side, `shutdown` (our
 *   `closeWrite`), `close`, and `reset`/`error` when a read or write failed. Each event
 *   names its connection (`conn`: 1 for the case's first connection, 2 for the second ...).
 * - the target's stdout and stderr lines (`stdout`/`stderr`, `instance` numbers the
 *   instances the case started), its `start` and its `exit` (added by the runner).
 * - datagrams, which the case records itself: wrap the socket once with
 *   {@linkcode EvidenceRecorder.datagrams} (every `send` and `receive` is then logged), or
 *   call {@linkcode EvidenceRecorder.datagram} for each datagram:
 *
 * ```ts ignore
 * const sock = ctx.track(ctx.evidence.datagrams(openDatagram({ transport: "udp", hostname, port: 0 })));
 * await sock.send(data, addr);            // logged as `send` on socket 1, with the peer
 * const [reply] = await sock.receive();   // logged as `recv`
 * ctx.evidence.datagram("out", data, { socket: 2, peer: "127.0.0.1:9999" }); // by hand
 * ctx.evidence.event("timeout", "no reply within 1000 ms");                  // any other step
 * ```
 *
 * Each event keeps at most {@linkcode WIRE_HEAD} bytes from its start and
 * {@linkcode WIRE_TAIL} from its end (hex), with its full byte count. Long runs of transfers
 * of one kind on one connection (say 65,536 reads of 16 bytes, or the writes and the reads
 * of a 1 MiB exchange, which interleave) are kept as their first {@linkcode RUN_KEPT} and one
 * aggregate event with `repeat` (how many more), their bytes, `lastUs`, the tail of the last
 * one and `each` (their size, when they are all one size); a case keeps at most
 * {@linkcode MAX_WIRE_EVENTS} events (the first ones and the last ones; `wireOmitted`
 * counts those in between).
 *
 * ## Diffs
 *
 * Where a case compares expected bytes with received bytes it calls
 * {@linkcode EvidenceRecorder.diff}: it records the first difference (offset, context on
 * each side as hex and repr, what is missing or extra) and returns it, so the message can
 * say it too (`describeDiff` in `diff.ts`). The shared verifier `readExpected`
 * (`src/checks/expect.ts`) reads what a connection must deliver, records it and the diff, and
 * throws the FAIL that names the step: `reading 42 bytes of the echo: 41 came back, then
 * nothing for 1000 ms (the last byte b'.' is missing)`.
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
import { type ByteDiff, firstDifference } from "./diff.ts";
import { errnoLine } from "../python/errno.ts";

export type { ByteDiff, DiffSide } from "./diff.ts";

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
  /** The wire log, in time order (see the module doc); the runner always writes it. */
  wire?: WireEvent[];
  /** Events left out of the middle of a long wire log, and their bytes. */
  wireOmitted?: { events: number; bytes: number };
  /** First differences between expected and received bytes; the runner always writes it. */
  diffs?: ByteDiff[];
}

/** What a wire event is (see the module doc). */
export type WireKind =
  | "connect"
  | "connect-failed"
  | "write"
  | "read"
  | "eof"
  | "shutdown"
  | "close"
  | "reset"
  | "error"
  | "send"
  | "recv"
  | "start"
  | "exit"
  | "stdout"
  | "stderr"
  | "event";

/** One event in the wire log. */
export interface WireEvent {
  /** µs since the case started. */
  atUs: number;
  /** What happened. */
  kind: WireKind;
  /** The stream connection it belongs to (1 = the case's first `ctx.connect`). */
  conn?: number;
  /** The datagram socket it belongs to (1 = the first socket the case recorded). */
  socket?: number;
  /** The target instance it belongs to (1 = the case's first `ctx.start`). */
  instance?: number;
  /** `out`: from sockspec to the target; `in`: from the target. */
  dir?: "out" | "in";
  /** How many bytes (of one event, or of all events of a run with `repeat`). */
  bytes?: number;
  /** Hex of the first bytes (at most {@linkcode WIRE_HEAD}). */
  head?: string;
  /** Hex of the last bytes (at most {@linkcode WIRE_TAIL}) when `head` does not hold them all. */
  tail?: string;
  /** A line of text: the address, the errno line, the output line, the exit status. */
  text?: string;
  /** This event stands for `repeat` more events of the same shape that followed it. */
  repeat?: number;
  /** With `repeat`: when the last of them happened (µs). */
  lastUs?: number;
  /** With `repeat`: the size of every event the aggregate stands for, when they are all one size. */
  each?: number;
}

/** Bytes kept from the start of each wire event. */
export const WIRE_HEAD = 32;
/** Bytes kept from the end of each wire event (beyond the head). */
export const WIRE_TAIL = 16;
/** Events of one shape kept one by one before the rest of the run is folded into one. */
export const RUN_KEPT = 8;
/** The most wire events a case keeps. */
export const MAX_WIRE_EVENTS = 2000;
/** Of those, how many are the last events (the rest are the first ones). */
const WIRE_LAST = 400;

/** Options of {@linkcode EvidenceRecorder.datagram}. */
export interface DatagramEventOptions {
  /** The socket number (default 1). */
  socket?: number;
  /** The peer address, as text. */
  peer?: string;
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
  #evidence: Evidence = { bytes: [], timings: {}, notes: [], wire: [], diffs: [] };
  #t0: number;
  #first: WireEvent[] = [];
  #last: WireEvent[] = [];
  #omitted = { events: 0, bytes: 0 };
  #sockets = 0;
  #conns = 0;
  #output: WireEvent[] = [];

  /**
   * A recorder whose wire clock starts now (or at `t0`, a `performance.now()` value).
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * const evidence = new EvidenceRecorder(performance.now());
   * ```
   */
  constructor(t0: number = performance.now()) {
    this.#t0 = t0;
  }

  /** µs since the case started, for `at` (a `performance.now()` value; default now). */
  #us(at = performance.now()): number {
    return Math.max(0, Math.round((at - this.#t0) * 1000));
  }

  /**
   * Adds an event to the wire log (the runner and the wrappers call this; cases normally
   * use {@linkcode EvidenceRecorder.datagram} or {@linkcode EvidenceRecorder.event}).
   * `data` is kept as head and tail (and its length as `bytes`); `at` is when it happened
   * (a `performance.now()` value; default now). Long runs fold (see the module doc).
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().wireEvent({ kind: "write", conn: 1, dir: "out" }, new Uint8Array(42));
   * ```
   */
  wireEvent(event: Omit<WireEvent, "atUs">, data?: Uint8Array, at?: number): void {
    const e: WireEvent = { atUs: this.#us(at), ...event };
    if (data) Object.assign(e, { bytes: data.length, ...headTail(data) });
    if (e.kind === "stdout" || e.kind === "stderr") {
      if (this.#output.length < MAX_WIRE_EVENTS / 2) this.#output.push(e);
      return;
    }
    if (isTransfer(e)) {
      const run = this.#run(e);
      if (run.aggregate) {
        const agg = run.aggregate;
        // a long run of one size ends at the first event of another (the short last read)
        if (!(agg.each !== undefined && agg.each !== e.bytes && agg.repeat! >= RUN_KEPT)) {
          agg.repeat!++;
          agg.lastUs = e.atUs;
          agg.bytes = (agg.bytes ?? 0) + (e.bytes ?? 0);
          if (agg.each !== e.bytes) delete agg.each;
          if (data && data.length) agg.tail = toHex(data.subarray(-WIRE_TAIL));
          return;
        }
      } else if (run.count >= RUN_KEPT) {
        this.#push({
          ...e,
          repeat: 0,
          lastUs: e.atUs,
          ...(e.bytes !== undefined ? { each: e.bytes } : {}),
        });
        return;
      }
    }
    this.#push(e);
  }

  /**
   * The run `e` would continue: the latest stored transfers on `e`'s connection or socket
   * (a write/read exchange interleaves two runs), how many of them have `e`'s shape, and the
   * aggregate of that shape to fold `e` into, when only aggregates follow it.
   */
  #run(e: WireEvent): { count: number; aggregate?: WireEvent } {
    const all = this.#last.length ? this.#last : this.#first;
    let count = 0;
    let onlyAggregates = true;
    for (let i = all.length - 1; i >= 0; i--) {
      const x = all[i];
      if (!isTransfer(x) || x.conn !== e.conn || x.socket !== e.socket) break;
      if (sameShape(x, e)) {
        if (x.repeat !== undefined && onlyAggregates) return { count, aggregate: x };
        count++;
      }
      if (x.repeat === undefined) onlyAggregates = false;
    }
    return { count };
  }

  #push(e: WireEvent): void {
    if (this.#first.length < MAX_WIRE_EVENTS - WIRE_LAST) {
      this.#first.push(e);
      return;
    }
    this.#last.push(e);
    if (this.#last.length > WIRE_LAST) {
      const dropped = this.#last.shift()!;
      this.#omitted.events += 1 + (dropped.repeat ?? 0);
      this.#omitted.bytes += dropped.bytes ?? 0;
    }
  }

  /** A new connection number for a stream connection (1, 2, ...). */
  nextConn(): number {
    return ++this.#conns;
  }

  /** How many stream connections (made or failed) have been numbered so far. */
  get connections(): number {
    return this.#conns;
  }

  /**
   * How many connections were made before `at` (a `performance.now()` value).
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().connectionsBefore(performance.now()); // 0
   * ```
   */
  connectionsBefore(at: number): number {
    const us = this.#us(at);
    return [...this.#first, ...this.#last].filter((e) => e.kind === "connect" && e.atUs <= us)
      .length;
  }

  /**
   * Records one datagram sent (`out`) or received (`in`), and returns its bytes.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * const evidence = new EvidenceRecorder();
   * evidence.datagram("out", new Uint8Array([1, 2]), { socket: 1, peer: "127.0.0.1:9000" });
   * ```
   */
  datagram(dir: "out" | "in", data: Uint8Array, opts: DatagramEventOptions = {}): Uint8Array {
    this.wireEvent(
      {
        kind: dir === "out" ? "send" : "recv",
        socket: opts.socket ?? 1,
        dir,
        ...(opts.peer ? { text: opts.peer } : {}),
      },
      data,
    );
    return data;
  }

  /**
   * Wraps a datagram socket so that every `send` and `receive` (and a failed one) goes into
   * the wire log under a new socket number. Returns the wrapper; use it in place of `conn`.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * const evidence = new EvidenceRecorder();
   * const sock = evidence.datagrams(Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }));
   * sock.close();
   * ```
   */
  datagrams<T extends Deno.DatagramConn>(conn: T): T {
    const socket = ++this.#sockets;
    const peer = (a: Deno.Addr) =>
      a.transport === "udp" || a.transport === "tcp"
        ? `${a.hostname}:${a.port}`
        : (a as Deno.UnixAddr).path || "(unbound)";
    return new Proxy(conn, {
      get: (target, prop) => {
        if (prop === "send") {
          return async (data: Uint8Array, addr: Deno.Addr) => {
            try {
              const n = await target.send(data, addr);
              this.datagram("out", data, { socket, peer: peer(addr) });
              return n;
            } catch (err) {
              this.wireEvent({ kind: "error", socket, dir: "out", text: errnoLine(err) }, data);
              throw err;
            }
          };
        }
        if (prop === "receive") {
          return async (p?: Uint8Array) => {
            try {
              const [data, addr] = await target.receive(p);
              this.datagram("in", data, { socket, peer: peer(addr) });
              return [data, addr];
            } catch (err) {
              if (!(err instanceof Deno.errors.BadResource)) {
                this.wireEvent({ kind: "error", socket, dir: "in", text: errnoLine(err) });
              }
              throw err;
            }
          };
        }
        if (prop === "close") {
          return () => {
            this.wireEvent({ kind: "close", socket });
            target.close();
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /**
   * Wraps a stream connection so that every `read`, `write`, `closeWrite` and `close` goes
   * into the wire log under a new connection number, after a `connect` event naming
   * `address`. The runner does this for every `ctx.connect`; a case that connects some
   * other way can call it too. Returns the wrapper; use it in place of `conn`.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * const evidence = new EvidenceRecorder();
   * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const { port } = listener.addr;
   * const conn = evidence.stream(await Deno.connect({ hostname: "127.0.0.1", port }), "127.0.0.1");
   * conn.close();
   * listener.close();
   * ```
   */
  stream<T extends Deno.Conn>(conn: T, address: string): T {
    const id = this.nextConn();
    this.wireEvent({ kind: "connect", conn: id, text: address });
    let closed = false;
    const failed = (dir: "in" | "out", err: unknown, step: string) => {
      atStep(err, `${step} on the ${ordinal(id)} connection (to ${address})`);
      if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
      const reset = err instanceof Deno.errors.ConnectionReset ||
        err instanceof Deno.errors.BrokenPipe;
      this.wireEvent({ kind: reset ? "reset" : "error", conn: id, dir, text: errnoLine(err) });
    };
    return new Proxy(conn, {
      get: (target, prop) => {
        if (prop === "read") {
          return async (p: Uint8Array) => {
            try {
              const n = await target.read(p);
              if (n === null) this.wireEvent({ kind: "eof", conn: id, dir: "in" });
              else this.wireEvent({ kind: "read", conn: id, dir: "in" }, p.subarray(0, n));
              return n;
            } catch (err) {
              failed("in", err, "reading");
              throw err;
            }
          };
        }
        if (prop === "write") {
          return async (p: Uint8Array) => {
            try {
              const n = await target.write(p);
              this.wireEvent({ kind: "write", conn: id, dir: "out" }, p.subarray(0, n));
              return n;
            } catch (err) {
              failed("out", err, `writing ${p.length} bytes`);
              throw err;
            }
          };
        }
        if (prop === "closeWrite") {
          return async () => {
            this.wireEvent({ kind: "shutdown", conn: id, dir: "out" });
            return await target.closeWrite();
          };
        }
        if (prop === "close") {
          return () => {
            if (!closed) this.wireEvent({ kind: "close", conn: id });
            closed = true;
            target.close();
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /**
   * Records a connect that failed (refused, timed out), as `connect-failed` with the errno
   * line, under a new connection number.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().connectFailed("127.0.0.1:9", new Error("Connection refused (os error 111)"));
   * ```
   */
  connectFailed(address: string, err: unknown): void {
    this.wireEvent({
      kind: "connect-failed",
      conn: this.nextConn(),
      text: `${address}: ${errnoLine(err)}`,
    });
  }

  /**
   * Records any other step of the case in the wire log (a timeout, a signal it sent, a
   * file it changed), with `text` saying what.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * new EvidenceRecorder().event("timeout", "no reply within 1000 ms");
   * ```
   */
  event(what: string, text?: string): void {
    this.wireEvent({ kind: "event", text: text ? `${what}: ${text}` : what });
  }

  /**
   * Compares `expected` with `actual`: when they differ, records the first difference
   * (see `diff.ts`) and returns it; when they are equal, returns undefined.
   *
   * @example
   * ```ts
   * import { EvidenceRecorder } from "./evidence.ts";
   * const d = new EvidenceRecorder().diff(new Uint8Array([1, 2]), new Uint8Array([1]), "echo");
   * d?.kind; // "missing"
   * ```
   */
  diff(expected: Uint8Array, actual: Uint8Array, label = "bytes"): ByteDiff | undefined {
    const d = firstDifference(expected, actual, label);
    if (d && this.#evidence.diffs!.length < 16) this.#evidence.diffs!.push(d);
    return d;
  }

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
   * new EvidenceRecorder().toJSON(); // { bytes: [], timings: {}, notes: [], wire: [], diffs: [] }
   * ```
   */
  toJSON(): Evidence & { wire: WireEvent[]; diffs: ByteDiff[] } {
    const wire = [...this.#first, ...this.#last, ...this.#output].sort((a, b) => a.atUs - b.atUs);
    const out = structuredClone({ ...this.#evidence, diffs: this.#evidence.diffs ?? [], wire });
    if (this.#omitted.events) Object.assign(out, { wireOmitted: { ...this.#omitted } });
    return out;
  }
}

/** The property under which {@linkcode atStep} notes the step an error happened at. */
const STEP = Symbol("sockspec.step");

/**
 * Notes on `err` (without changing its type or message, so a case that catches it sees the
 * runtime's own error) which step of the case it happened at; the verdict's message then
 * names the step. Returns `err`.
 *
 * @example
 * ```ts
 * import { atStep, stepOf } from "./evidence.ts";
 * stepOf(atStep(new Error("x"), "the 2nd connect")); // "the 2nd connect"
 * ```
 */
export function atStep(err: unknown, step: string): unknown {
  if (err instanceof Error && !(STEP in err)) {
    Object.defineProperty(err, STEP, { value: step, enumerable: false });
  }
  return err;
}

/**
 * 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st ...
 *
 * @example
 * ```ts
 * import { ordinal } from "./evidence.ts";
 * ordinal(2); // "2nd"
 * ```
 */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13
    ? "th"
    : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/**
 * The step {@linkcode atStep} noted on `err`, if any.
 *
 * @example
 * ```ts
 * import { stepOf } from "./evidence.ts";
 * stepOf(new Error("x")); // undefined
 * ```
 */
export function stepOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as { [STEP]?: string })[STEP] : undefined;
}

/** Head and tail hex of `data` for a wire event. */
function headTail(data: Uint8Array): { head: string; tail?: string } {
  if (data.length <= WIRE_HEAD + WIRE_TAIL) return { head: toHex(data) };
  return {
    head: toHex(data.subarray(0, WIRE_HEAD)),
    tail: toHex(data.subarray(data.length - WIRE_TAIL)),
  };
}

/**
 * True when `b` continues a run of `a`'s shape: the same kind of transfer (read, write,
 * send, recv) on the same connection or socket, in the same direction, to the same peer.
 * Sizes may differ: an aggregate keeps `each` only while they do not.
 */
function sameShape(a: WireEvent, b: WireEvent): boolean {
  return a.kind === b.kind && a.conn === b.conn && a.socket === b.socket && a.dir === b.dir &&
    a.instance === b.instance && a.text === b.text && isTransfer(a);
}

/** A read, write, send or recv: the events that fold. */
function isTransfer(e: WireEvent): boolean {
  return e.kind === "read" || e.kind === "write" || e.kind === "send" || e.kind === "recv";
}
