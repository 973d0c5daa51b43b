/**
 * Python-style `OSError` lines (`[Errno 111] Connection refused`) from the runtime's errors.
 *
 * The tutorial clients print `[Errno N] message` and exit 1; the reference clients do the
 * same through {@linkcode errnoLine}.
 *
 * @example
 * ```ts
 * import { errnoLine } from "./errno.ts";
 * try {
 *   await Deno.connect({ transport: "unix", path: "/nonexistent/uds_socket" });
 * } catch (e) {
 *   console.log(errnoLine(e)); // [Errno 2] No such file or directory
 * }
 * ```
 * @module
 */

/** Linux errno numbers and their `strerror` texts, for the errors sockets raise. */
export const ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  EPERM: [1, "Operation not permitted"],
  ENOENT: [2, "No such file or directory"],
  EINTR: [4, "Interrupted system call"],
  EBADF: [9, "Bad file descriptor"],
  EAGAIN: [11, "Resource temporarily unavailable"],
  EACCES: [13, "Permission denied"],
  EEXIST: [17, "File exists"],
  ENOTDIR: [20, "Not a directory"],
  EISDIR: [21, "Is a directory"],
  EINVAL: [22, "Invalid argument"],
  EMFILE: [24, "Too many open files"],
  EPIPE: [32, "Broken pipe"],
  ENAMETOOLONG: [36, "File name too long"],
  ENOTSOCK: [88, "Socket operation on non-socket"],
  EDESTADDRREQ: [89, "Destination address required"],
  EMSGSIZE: [90, "Message too long"],
  EPROTOTYPE: [91, "Protocol wrong type for socket"],
  EADDRINUSE: [98, "Address already in use"],
  EADDRNOTAVAIL: [99, "Cannot assign requested address"],
  ENETUNREACH: [101, "Network is unreachable"],
  ECONNABORTED: [103, "Software caused connection abort"],
  ECONNRESET: [104, "Connection reset by peer"],
  ENOTCONN: [107, "Transport endpoint is not connected"],
  ETIMEDOUT: [110, "Connection timed out"],
  ECONNREFUSED: [111, "Connection refused"],
  EHOSTUNREACH: [113, "No route to host"],
};

const BY_NUMBER = new Map(Object.entries(ERRNO).map(([code, [n]]) => [n, code]));

/**
 * The errno code (`ECONNREFUSED`, ...) of an error thrown by Deno or `node:` APIs, if any.
 *
 * @example
 * ```ts
 * import { errnoCode } from "./errno.ts";
 * errnoCode(new Error("Connection refused (os error 111)")); // "ECONNREFUSED"
 * ```
 */
export function errnoCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && code in ERRNO) return code;
  const m = /\(os error (\d+)\)/.exec(err.message);
  return m ? BY_NUMBER.get(Number(m[1])) : undefined;
}

/**
 * Builds an error carrying an errno code, as the runtime's own errors do, with the
 * `strerror` text as its message (for errors sockspec detects itself, such as EMSGSIZE).
 *
 * @example
 * ```ts
 * import { errnoError, errnoLine } from "./errno.ts";
 * errnoLine(errnoError("EMSGSIZE")); // "[Errno 90] Message too long"
 * ```
 */
export function errnoError(code: keyof typeof ERRNO & string, detail?: string): Error {
  const [n, text] = ERRNO[code];
  const err = new Error(`${text} (os error ${n})${detail ? `: ${detail}` : ""}`);
  (err as { code?: string }).code = code;
  return err;
}

/**
 * The line Python prints for an `OSError`: `[Errno 111] Connection refused`. Errors without
 * an errno fall back to their own message.
 *
 * @example
 * ```ts
 * import { errnoLine } from "./errno.ts";
 * errnoLine(new Error("Permission denied (os error 13)")); // "[Errno 13] Permission denied"
 * ```
 */
export function errnoLine(err: unknown): string {
  const code = errnoCode(err);
  if (code) {
    const [n, text] = ERRNO[code];
    return `[Errno ${n}] ${text}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * An error as one line for a report: the errno line once (`[Errno 2] No such file or
 * directory`), then whatever the runtime said beyond its own errno text (the path or the
 * call, `: chmod '/tmp/x'`), never the runtime's `(os error N)` nested inside. Errors without
 * an errno give their message.
 *
 * @example
 * ```ts
 * import { errnoMessage } from "./errno.ts";
 * errnoMessage(new Error("No such file or directory (os error 2): chmod '/tmp/x'"));
 * // "[Errno 2] No such file or directory: chmod '/tmp/x'"
 * ```
 */
export function errnoMessage(err: unknown): string {
  const line = errnoLine(err);
  if (!errnoCode(err) || !(err instanceof Error)) return line;
  const m = /\(os error \d+\)(.*)$/s.exec(err.message);
  let rest = m ? m[1] : "";
  if (!m) {
    // a `code` without the runtime's text (node: errors): keep what is not the errno text
    const [, text] = ERRNO[errnoCode(err)!];
    rest = err.message.replace(text, "").replace(/^[\s,:]+/, "");
    rest = rest ? `: ${rest}` : "";
  }
  return `${line}${rest.replace(/\s+/g, " ").trimEnd()}`;
}
