import assert from "node:assert/strict";
import { EofError, TimeoutError } from "../net/sockets.ts";
import { errnoError } from "../python/errno.ts";
import { bytesCount, difference, whatWasSeen } from "./stream.ts";
import { ordinal } from "../case/evidence.ts";

const e = (s: string) => new TextEncoder().encode(s);

Deno.test("ordinal and bytesCount", () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal), [
    "1st",
    "2nd",
    "3rd",
    "4th",
    "11th",
    "12th",
    "13th",
    "21st",
    "22nd",
    "101st",
  ]);
  assert.equal(bytesCount(1), "1 byte");
  assert.equal(bytesCount(0), "0 bytes");
});

Deno.test("difference: expected … actual …, or what is missing or extra", () => {
  assert.equal(difference(e("abcd"), e("abXd")), "expected b'cd' at byte 2, actual b'Xd'");
  assert.equal(
    difference(e("abc."), e("abc")),
    "3 of 4 bytes came back (the last byte b'.' is missing)",
  );
  assert.equal(
    difference(e("abcdef"), e("ab")),
    "2 of 6 bytes came back (the last 4 bytes are missing: b'cdef')",
  );
  assert.equal(
    difference(e("ab"), e("abcd")),
    "4 bytes came back for 2 sent: 2 bytes extra, starting b'cd'",
  );
});

Deno.test("whatWasSeen: a read's partial data, an early close, errno text once", () => {
  const message = e("This is the message.");
  assert.equal(
    whatWasSeen(new TimeoutError("reading", 1000, message.subarray(0, 19)), message),
    "19 came back, then nothing for 1000 ms (the last byte b'.' is missing)",
  );
  assert.equal(
    whatWasSeen(new TimeoutError("reading", 500), message),
    "nothing came back for 500 ms (the last 20 bytes are missing, ending b' is the message.')",
  );
  assert.equal(
    whatWasSeen(new EofError(20, message.subarray(0, 4)), message),
    "the server closed the connection after 4 of 20 bytes (the last 16 bytes are missing: b' is the message.')",
  );
  const refused = whatWasSeen(errnoError("ECONNREFUSED"));
  assert.equal(refused, "[Errno 111] Connection refused");
  assert.doesNotMatch(
    whatWasSeen(new Error("Connection reset by peer (os error 104)")),
    /os error/,
  );
});
