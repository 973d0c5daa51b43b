/**
 * Python-compatible address-form helpers: `inet_aton`, `inet_ntoa`, `inet_pton` and
 * `inet_ntop` for IPv4 and IPv6, with the exact parsing rules, output forms and error
 * messages that CPython shows on Linux (glibc).
 *
 * - {@linkcode inetAton} accepts the classic forms glibc accepts (`127.1`, `0x7f.1`,
 *   octal `0177.0.0.1`, a single 32-bit number, trailing whitespace and anything after it).
 * - {@linkcode inetPton} is strict (dotted quad only, no leading zeros; IPv6 with at most one
 *   `::` and an optional dotted IPv4 tail).
 * - {@linkcode inetNtop} prints IPv6 as glibc does: lowercase, no leading zeros, the longest
 *   run of two or more zero groups compressed to `::` (leftmost on ties), and a dotted tail
 *   for `::a.b.c.d` (first six groups zero) and `::ffff:a.b.c.d` (IPv4-mapped) only.
 *
 * @example
 * ```ts
 * import { AF_INET6, inetAton, inetNtop, inetPton } from "./inet.ts";
 * import { toHex } from "./repr.ts";
 * toHex(inetAton("127.1")); // "7f000001"
 * inetNtop(AF_INET6, inetPton(AF_INET6, "0:0:0:0:0:ffff:102:304")); // "::ffff:1.2.3.4"
 * ```
 * @module
 */

/** `socket.AF_INET` on Linux. */
export const AF_INET = 2;
/** `socket.AF_INET6` on Linux. */
export const AF_INET6 = 10;

/** The Python exception class a {@linkcode SocketError} stands for. */
export type PyErrorType = "OSError" | "ValueError" | "OverflowError" | "socket.gaierror";

/** Options of a {@linkcode SocketError}. */
export interface SocketErrorOptions {
  /** Python's `errno` attribute, when Python's exception has one. */
  errno?: number;
  /** What the error is about (the name, address or case), appended to the message. */
  detail?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The error the helpers of this package throw: it carries the Python exception type,
 * Python's `errno` (where Python has one) and Python's exact `str(e)` in
 * {@linkcode SocketError.pyStr}; `message` adds what the error is about.
 *
 * @example
 * ```ts
 * import { inetAton, SocketError } from "./inet.ts";
 * try {
 *   inetAton("256.0.0.1");
 * } catch (e) {
 *   if (e instanceof SocketError) console.log(e.pythonLine());
 *   // OSError: illegal IP address string passed to inet_aton
 * }
 * ```
 */
export class SocketError extends Error {
  /** The Python exception type, e.g. `OSError` or `socket.gaierror`. */
  readonly pyType: PyErrorType;
  /** Python's `errno`, or `undefined` where Python's exception has none. */
  readonly errno: number | undefined;
  /** Python's message text without the `[Errno N]` prefix (its `strerror`). */
  readonly strerror: string;
  /** What the error is about (name, address), or `undefined`. */
  readonly detail: string | undefined;

  /** Makes an error of Python type `pyType` with Python message `strerror`. */
  constructor(pyType: PyErrorType, strerror: string, options: SocketErrorOptions = {}) {
    const pyStr = options.errno === undefined ? strerror : `[Errno ${options.errno}] ${strerror}`;
    super(options.detail ? `${pyStr}: ${options.detail}` : pyStr, { cause: options.cause });
    this.name = "SocketError";
    this.pyType = pyType;
    this.errno = options.errno;
    this.strerror = strerror;
    this.detail = options.detail;
  }

  /** Python's `str(e)`, e.g. `[Errno -2] Name or service not known`. */
  get pyStr(): string {
    return this.errno === undefined ? this.strerror : `[Errno ${this.errno}] ${this.strerror}`;
  }

  /** The last line of Python's traceback, e.g. `socket.gaierror: [Errno -2] Name or ...`. */
  pythonLine(): string {
    return `${this.pyType}: ${this.pyStr}`;
  }
}

const ILLEGAL_ATON = "illegal IP address string passed to inet_aton";
const ILLEGAL_PTON = "illegal IP address string passed to inet_pton";

function checkNul(text: string): void {
  if (text.includes("\0")) {
    throw new SocketError("ValueError", "embedded null character", {
      detail: `address ${JSON.stringify(text)}`,
    });
  }
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isSpace = (c: string) => c === " " || (c >= "\t" && c <= "\r");

/**
 * glibc's `inet_aton_end`: parses the classic forms and returns the address as a 32-bit
 * unsigned number and the index where parsing stopped, or `undefined` if invalid.
 */
function atonEnd(text: string): { value: number; end: number } | undefined {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!isDigit(text[i])) return undefined;
    // strtoul(cp, &endp, 0): 0x/0X prefix (only with a hex digit after it), 0 octal, else decimal.
    let base = 10;
    let start = i;
    if (text[i] === "0") {
      if ((text[i + 1] === "x" || text[i + 1] === "X") && /[0-9a-fA-F]/.test(text[i + 2] ?? "")) {
        base = 16;
        start = i + 2;
      } else {
        base = 8;
      }
    }
    const digitRe = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
    let j = start;
    while (j < text.length && digitRe.test(text[j])) j++;
    const value = BigInt(
      (base === 16 ? "0x" : base === 8 ? "0o" : "") + (text.slice(start, j) || "0"),
    );
    if (value > 0xffffffffn) return undefined;
    i = j;
    if (text[i] === ".") {
      if (parts.length > 2 || value > 0xffn) return undefined;
      parts.push(Number(value));
      i++;
      continue;
    }
    if (i < text.length && !isSpace(text[i])) return undefined;
    const max = [0xffffffff, 0xffffff, 0xffff, 0xff][parts.length];
    if (value > BigInt(max)) return undefined;
    let word = 0;
    parts.forEach((p, k) => (word += p * 2 ** (24 - 8 * k)));
    return { value: word + Number(value), end: i };
  }
}

function wordBytes(word: number): Uint8Array {
  return new Uint8Array([word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255, word & 255]);
}

/**
 * Python's `socket.inet_aton(text)`: the 4 packed bytes of an IPv4 address in any of the
 * classic forms glibc accepts (`a.b.c.d`, `a.b.c`, `a.b`, `a`; each part decimal, `0x` hex
 * or `0` octal). Like glibc, whitespace ends the address and what follows is ignored.
 *
 * @throws {SocketError} `OSError: illegal IP address string passed to inet_aton`.
 * @example
 * ```ts
 * import { inetAton } from "./inet.ts";
 * inetAton("192.168.1.1"); // Uint8Array [192, 168, 1, 1]
 * inetAton("0x7f.1"); // Uint8Array [127, 0, 0, 1]
 * ```
 */
export function inetAton(text: string): Uint8Array {
  checkNul(text);
  const parsed = atonEnd(text);
  if (!parsed) throw new SocketError("OSError", ILLEGAL_ATON, { detail: JSON.stringify(text) });
  return wordBytes(parsed.value);
}

/**
 * glibc's `__inet_aton_exact`, used by `getaddrinfo` for numeric hosts: like
 * {@linkcode inetAton} but nothing may follow the address. Returns `undefined` if invalid.
 *
 * @example
 * ```ts
 * import { inetAtonExact } from "./inet.ts";
 * inetAtonExact("127.1"); // Uint8Array [127, 0, 0, 1]
 * inetAtonExact("127.0.0.1 junk"); // undefined
 * ```
 */
export function inetAtonExact(text: string): Uint8Array | undefined {
  const parsed = atonEnd(text);
  return parsed && parsed.end === text.length ? wordBytes(parsed.value) : undefined;
}

/**
 * Python's `socket.inet_ntoa(packed)`: dotted-quad text of 4 packed bytes.
 *
 * @throws {SocketError} `OSError: packed IP wrong length for inet_ntoa` unless 4 bytes.
 * @example
 * ```ts
 * import { inetNtoa } from "./inet.ts";
 * inetNtoa(new Uint8Array([0x7f, 0, 0, 1])); // "127.0.0.1"
 * ```
 */
export function inetNtoa(packed: Uint8Array): string {
  if (packed.length !== 4) {
    throw new SocketError("OSError", "packed IP wrong length for inet_ntoa", {
      detail: `got ${packed.length} bytes, need 4`,
    });
  }
  return Array.from(packed).join(".");
}

/** glibc's strict `inet_pton4`; returns 4 bytes or `undefined`. */
function pton4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let octets = 0;
  let sawDigit = false;
  let k = 0;
  for (const ch of text) {
    if (isDigit(ch)) {
      const next = out[k] * 10 + Number(ch);
      if (sawDigit && out[k] === 0) return undefined;
      if (next > 255) return undefined;
      out[k] = next;
      if (!sawDigit) {
        if (++octets > 4) return undefined;
        sawDigit = true;
      }
    } else if (ch === "." && sawDigit) {
      if (octets === 4) return undefined;
      k++;
      sawDigit = false;
    } else {
      return undefined;
    }
  }
  return octets < 4 ? undefined : out;
}

/** glibc's `inet_pton6`; returns 16 bytes or `undefined`. */
function pton6(text: string): Uint8Array | undefined {
  const tmp = new Uint8Array(16);
  let tp = 0;
  let colonp = -1;
  let src = 0;
  if (text.length === 0) return undefined;
  if (text[0] === ":") {
    src++;
    if (src === text.length || text[src] !== ":") return undefined;
  }
  let curtok = src;
  let xdigits = 0;
  let val = 0;
  while (src < text.length) {
    const ch = text[src++];
    const digit = /^[0-9a-fA-F]$/.test(ch) ? parseInt(ch, 16) : -1;
    if (digit >= 0) {
      if (xdigits === 4) return undefined;
      val = (val << 4) | digit;
      xdigits++;
      continue;
    }
    if (ch === ":") {
      curtok = src;
      if (xdigits === 0) {
        if (colonp >= 0) return undefined;
        colonp = tp;
        continue;
      } else if (src === text.length) {
        return undefined;
      }
      if (tp + 2 > 16) return undefined;
      tmp[tp++] = val >> 8;
      tmp[tp++] = val & 255;
      xdigits = 0;
      val = 0;
      continue;
    }
    if (ch === "." && tp + 4 <= 16) {
      const v4 = pton4(text.slice(curtok));
      if (v4) {
        tmp.set(v4, tp);
        tp += 4;
        xdigits = 0;
        break;
      }
    }
    return undefined;
  }
  if (xdigits > 0) {
    if (tp + 2 > 16) return undefined;
    tmp[tp++] = val >> 8;
    tmp[tp++] = val & 255;
  }
  if (colonp >= 0) {
    if (tp === 16) return undefined;
    const n = tp - colonp;
    const tail = tmp.slice(colonp, tp);
    tmp.fill(0, colonp);
    tmp.set(tail, 16 - n);
    tp = 16;
  }
  return tp === 16 ? tmp : undefined;
}

function familyNotSupported(family: number, fn: string): SocketError {
  return new SocketError("OSError", "Address family not supported by protocol", {
    errno: 97,
    detail: `${fn} family ${family}; use AF_INET (${AF_INET}) or AF_INET6 (${AF_INET6})`,
  });
}

/**
 * Python's `socket.inet_pton(family, text)`: packed bytes (4 for `AF_INET`, 16 for
 * `AF_INET6`) of an address in its strict standard text form.
 *
 * @throws {SocketError} `OSError: illegal IP address string passed to inet_pton`, or
 * `OSError: [Errno 97] Address family not supported by protocol` for another family.
 * @example
 * ```ts
 * import { AF_INET6, inetPton } from "./inet.ts";
 * import { toHex } from "./repr.ts";
 * toHex(inetPton(AF_INET6, "2002:ac10:10a:1234:21e:52ff:fe74:40e"));
 * // "2002ac10010a1234021e52fffe74040e"
 * ```
 */
export function inetPton(family: number, text: string): Uint8Array {
  checkNul(text);
  let out: Uint8Array | undefined;
  if (family === AF_INET) out = pton4(text);
  else if (family === AF_INET6) out = pton6(text);
  else throw familyNotSupported(family, "inet_pton");
  if (!out) {
    throw new SocketError("OSError", ILLEGAL_PTON, {
      detail: `${JSON.stringify(text)} is not an ${family === AF_INET ? "IPv4" : "IPv6"} address`,
    });
  }
  return out;
}

/** glibc's `inet_ntop6` on 16 bytes. */
function ntop6(b: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    [bestBase, bestLen] = [curBase, curLen];
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (
      i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))
    ) {
      out += Array.from(b.subarray(12)).join(".");
      break;
    }
    out += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

/**
 * Python's `socket.inet_ntop(family, packed)`: the standard text of 4 (`AF_INET`) or 16
 * (`AF_INET6`) packed bytes, printed exactly as glibc prints it.
 *
 * @throws {SocketError} `ValueError: invalid length of packed IP address string`, or
 * `ValueError: unknown address family N`.
 * @example
 * ```ts
 * import { AF_INET6, inetNtop } from "./inet.ts";
 * import { fromHex } from "./repr.ts";
 * inetNtop(AF_INET6, fromHex("2002ac10010a1234021e52fffe74040e"));
 * // "2002:ac10:10a:1234:21e:52ff:fe74:40e"
 * inetNtop(AF_INET6, fromHex("00000000000000000000ffff01020304")); // "::ffff:1.2.3.4"
 * ```
 */
export function inetNtop(family: number, packed: Uint8Array): string {
  const need = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
  if (need === 0) {
    throw new SocketError("ValueError", `unknown address family ${family}`, {
      detail: `use AF_INET (${AF_INET}) or AF_INET6 (${AF_INET6})`,
    });
  }
  if (packed.length !== need) {
    throw new SocketError("ValueError", "invalid length of packed IP address string", {
      detail: `got ${packed.length} bytes, need ${need}`,
    });
  }
  return family === AF_INET ? Array.from(packed).join(".") : ntop6(packed);
}
