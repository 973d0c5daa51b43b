/**
 * Python-compatible libraries: the `struct` codec, `repr()` of bytes and values, errno
 * lines, `inet_aton`/`inet_pton` and friends, services and protocols (`getservbyname`),
 * and `getaddrinfo`. Each matches CPython's output exactly; tests compare with python3.
 *
 * @example
 * ```ts
 * import { bytesRepr, pack } from "@sockspec/sockspec/python";
 * const record = pack("I 2s f", 1, new TextEncoder().encode("ab"), 2.7);
 * console.log(bytesRepr(record)); // b'\x01\x00\x00\x00ab\x00\x00\xcd\xcc,@'
 * ```
 * @module
 */

export * from "./struct.ts";
export * from "./repr.ts";
export * from "./errno.ts";
export * from "./inet.ts";
export * from "./netdb.ts";
export * from "./addrinfo.ts";
