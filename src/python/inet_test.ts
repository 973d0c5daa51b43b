import assert from "node:assert/strict";
import { Random } from "../case/random.ts";
import {
  AF_INET,
  AF_INET6,
  inetAton,
  inetAtonExact,
  inetNtoa,
  inetNtop,
  inetPton,
  SocketError,
} from "./inet.ts";
import { fromHex, toHex } from "./repr.ts";
import { runPython, skipWithoutPython } from "../testdata/python_oracle.ts";

Deno.test("SPEC §9 vectors", () => {
  assert.equal(toHex(inetAton("192.168.1.1")), "c0a80101");
  assert.equal(toHex(inetAton("127.0.0.1")), "7f000001");
  assert.equal(inetNtoa(fromHex("c0a80101")), "192.168.1.1");
  assert.equal(inetNtoa(fromHex("7f000001")), "127.0.0.1");
  const v6 = "2002:ac10:10a:1234:21e:52ff:fe74:40e";
  assert.equal(toHex(inetPton(AF_INET6, v6)), "2002ac10010a1234021e52fffe74040e");
  assert.equal(inetNtop(AF_INET6, fromHex("2002ac10010a1234021e52fffe74040e")), v6);
});

Deno.test("inet_ntop prints IPv6 the way glibc does", () => {
  const cases: [string, string][] = [
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["00010000000000000000000000000000", "1::"],
    ["00000000000000000000000001020304", "::1.2.3.4"],
    ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
    ["00000000000000000000fffe01020304", "::fffe:102:304"],
    ["0000000000000000000000000000ffff", "::ffff"],
    ["00000000000000000000000000010000", "::0.1.0.0"],
    ["0000000000000000ffff000001020304", "::ffff:0:102:304"],
    ["00010002000300040005000600070000", "1:2:3:4:5:6:7:0"], // one zero group: not compressed
    ["00010000000100000000000100000001", "1:0:1::1:0:1"], // leftmost of equal runs
    ["20010db8000000010000000000000001", "2001:db8:0:1::1"],
    ["00000000000000000000ffff00000000", "::ffff:0.0.0.0"],
  ];
  for (const [hex, text] of cases) {
    assert.equal(inetNtop(AF_INET6, fromHex(hex)), text, hex);
    assert.equal(toHex(inetPton(AF_INET6, text)), hex, text);
  }
});

Deno.test("errors carry Python's type, errno and message", () => {
  const check = (fn: () => unknown, line: string, errno?: number) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SocketError, String(e));
      assert.equal(e.pythonLine(), line);
      assert.equal(e.errno, errno);
      assert.ok(e.message.startsWith(e.pyStr), e.message);
      return;
    }
    assert.fail(`no error, expected ${line}`);
  };
  check(() => inetAton("1.2.3.4.5"), "OSError: illegal IP address string passed to inet_aton");
  check(() => inetAton("a\0b"), "ValueError: embedded null character");
  check(() => inetNtoa(new Uint8Array(3)), "OSError: packed IP wrong length for inet_ntoa");
  check(() => inetPton(AF_INET, "127.1"), "OSError: illegal IP address string passed to inet_pton");
  check(
    () => inetPton(AF_INET6, "1::2::3"),
    "OSError: illegal IP address string passed to inet_pton",
  );
  check(
    () => inetPton(0, "1.2.3.4"),
    "OSError: [Errno 97] Address family not supported by protocol",
    97,
  );
  check(
    () => inetNtop(AF_INET6, new Uint8Array(15)),
    "ValueError: invalid length of packed IP address string",
  );
  check(
    () => inetNtop(AF_INET, new Uint8Array(16)),
    "ValueError: invalid length of packed IP address string",
  );
  check(() => inetNtop(3, new Uint8Array(4)), "ValueError: unknown address family 3");
  assert.match(
    String((() => {
      try {
        inetAton("300.1.1.1");
      } catch (e) {
        return (e as Error).message;
      }
    })()),
    /"300\.1\.1\.1"/,
  );
});

Deno.test("inet_aton accepts the classic forms; getaddrinfo's exact variant rejects junk", () => {
  assert.equal(toHex(inetAton("127.1")), "7f000001");
  assert.equal(toHex(inetAton("0x7f.1")), "7f000001");
  assert.equal(toHex(inetAton("0177.0.0.1")), "7f000001");
  assert.equal(toHex(inetAton("1.65536")), "01010000");
  assert.equal(toHex(inetAton("127.0.0.1 junk")), "7f000001");
  assert.equal(toHex(inetAtonExact("127.1")!), "7f000001");
  assert.equal(inetAtonExact("127.0.0.1 junk"), undefined);
  assert.equal(inetAtonExact("127.0.0.1 "), undefined);
});

// ---------------------------------------------------------------------------------------
// Agreement with python3.

type PyResult = { ok: string } | { err: string };

const PY_SCRIPT = `
import json, socket, sys
out = []
for op, arg in json.load(sys.stdin):
    try:
        if op == "aton": r = socket.inet_aton(arg).hex()
        elif op == "pton4": r = socket.inet_pton(socket.AF_INET, arg).hex()
        elif op == "pton6": r = socket.inet_pton(socket.AF_INET6, arg).hex()
        elif op == "ntop4": r = socket.inet_ntop(socket.AF_INET, bytes.fromhex(arg))
        elif op == "ntop6": r = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(arg))
        out.append({"ok": r})
    except Exception as e:
        out.append({"err": type(e).__name__ + ": " + str(e)})
json.dump(out, sys.stdout)
`;

/** Runs all requests through one python3 process; `undefined` if python3 is missing. */
async function python(requests: [string, string][]): Promise<PyResult[] | undefined> {
  const results = await runPython(PY_SCRIPT, requests) as PyResult[] | undefined;
  if (results === undefined) return undefined;
  assert.equal(results.length, requests.length, "python3 answered a different number of requests");
  return results;
}

function ours(op: string, arg: string): PyResult {
  try {
    switch (op) {
      case "aton":
        return { ok: toHex(inetAton(arg)) };
      case "pton4":
        return { ok: toHex(inetPton(AF_INET, arg)) };
      case "pton6":
        return { ok: toHex(inetPton(AF_INET6, arg)) };
      case "ntop4":
        return { ok: inetNtop(AF_INET, fromHex(arg)) };
      case "ntop6":
        return { ok: inetNtop(AF_INET6, fromHex(arg)) };
    }
    throw new Error(`unknown op ${op}`);
  } catch (e) {
    if (e instanceof SocketError) return { err: `${e.pyType}: ${e.pyStr}` };
    throw e;
  }
}

/** The project's seeded PRNG (mulberry32), as a function. */
function prng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.float();
}

/** Random IPv6 bytes, biased towards zero runs, mapped and compatible forms. */
function randomV6(rand: () => number): Uint8Array {
  const words = new Array<number>(8);
  const style = rand();
  const word = () => {
    const r = rand();
    return r < 0.45
      ? 0
      : r < 0.55
      ? 0xffff
      : r < 0.7
      ? Math.floor(rand() * 16)
      : Math.floor(rand() * 65536);
  };
  for (let i = 0; i < 8; i++) words[i] = word();
  if (style < 0.15) words.fill(0, 0, 5).fill(0xffff, 5, 6); // ::ffff:a.b.c.d
  else if (style < 0.25) words.fill(0, 0, 6); // ::a.b.c.d (compatible) and neighbours
  else if (style < 0.3) words.fill(0, 0, 7);
  else if (style < 0.4) {
    const start = Math.floor(rand() * 8);
    words.fill(0, start, start + 1 + Math.floor(rand() * (8 - start)));
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 255;
  });
  return out;
}

/** A random edit of a text address, to probe the parsers with near-misses. */
function mutate(text: string, rand: () => number): string {
  const alphabet = "0123456789abcdefABCDEF:.%x ";
  const pos = Math.floor(rand() * (text.length + 1));
  const ch = alphabet[Math.floor(rand() * alphabet.length)];
  const r = rand();
  if (r < 0.33) return text.slice(0, pos) + ch + text.slice(pos);
  if (r < 0.66) return text.slice(0, pos) + text.slice(pos + 1);
  return text.slice(0, pos) + ch + text.slice(pos + 1);
}

Deno.test("property: pton/ntop round-trip and agree with python3 (seeded)", async (t) => {
  const envOk = Deno.permissions.querySync({ name: "env", variable: "SOCKSPEC_SEED" }).state;
  const fixed = envOk === "granted" ? Deno.env.get("SOCKSPEC_SEED") : undefined;
  const seed = Number(fixed ?? Date.now() % 2 ** 31);
  const rand = prng(seed);
  const requests: [string, string][] = [];
  const started = performance.now();
  for (let i = 0; i < 3000; i++) {
    const bytes = randomV6(rand);
    const text = inetNtop(AF_INET6, bytes);
    assert.equal(toHex(inetPton(AF_INET6, text)), toHex(bytes), `seed ${seed}: ${text}`);
    requests.push(["ntop6", toHex(bytes)], ["pton6", text], ["pton6", mutate(text, rand)]);
    // A non-canonical spelling: every group written out, some with leading zeros / uppercase.
    const full = Array.from({ length: 8 }, (_, k) => {
      const w = ((bytes[2 * k] << 8) | bytes[2 * k + 1]).toString(16);
      return rand() < 0.5 ? w.padStart(4, "0").toUpperCase() : w;
    }).join(":");
    requests.push(["pton6", full]);
  }
  for (let i = 0; i < 1000; i++) {
    const bytes = new Uint8Array(4).map(() => (rand() < 0.2 ? 0 : Math.floor(rand() * 256)));
    const text = inetNtop(AF_INET, bytes);
    assert.equal(toHex(inetPton(AF_INET, text)), toHex(bytes), `seed ${seed}: ${text}`);
    assert.equal(inetNtoa(inetAton(text)), text, `seed ${seed}: ${text}`);
    requests.push(["ntop4", toHex(bytes)], ["pton4", text], ["pton4", mutate(text, rand)]);
    requests.push(["aton", mutate(text, rand)]);
  }
  const results = await python(requests);
  if (results === undefined) return await skipWithoutPython(t);
  let mismatches = 0;
  const first: string[] = [];
  requests.forEach(([op, arg], i) => {
    const mine = ours(op, arg);
    if (JSON.stringify(mine) !== JSON.stringify(results[i])) {
      mismatches++;
      if (first.length < 5) {
        first.push(
          `${op}(${JSON.stringify(arg)}): ours ${JSON.stringify(mine)}, python3 ${
            JSON.stringify(results[i])
          }`,
        );
      }
    }
  });
  const ms = Math.round(performance.now() - started);
  console.log(`compared ${requests.length} inet_* calls with python3, seed ${seed}, ${ms} ms`);
  assert.equal(
    mismatches,
    0,
    `seed ${seed} (rerun with SOCKSPEC_SEED=${seed}):\n${first.join("\n")}`,
  );
});

Deno.test("inet_aton and inet_pton agree with python3 on tricky strings", async (t) => {
  const tricky = [
    "127.1",
    "0x7f.1",
    "0177.0.0.1",
    "1",
    "0x7f000001",
    "4294967295",
    "4294967296",
    "127.0.0.1 ",
    "127.0.0.1 junk",
    " 127.0.0.1",
    "127.0.0.1\t",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "1.256.0",
    "1.65536",
    "1.2.65535",
    "1.2.65536",
    "08.0.0.1",
    "0x",
    "0x.1",
    "",
    ".1",
    "1.",
    "1..2",
    "0xffffffff",
    "0XFF.1",
    "1.2.3.4\n",
    "1.2.3.4x",
    "a",
    "00000000000000000000000177.1",
    "0x000000000000000000000000007f.1",
    "1 2",
    "-1",
    "+1",
    "09",
    "1.2.3.0400",
    "1.2.3.0377",
    "1.2.3.0x100",
    "0x100000000",
    "0x1g",
    "0.0.0.0",
    "255.255.255.255",
    "1.2.3.4\v",
    "1.2.3.4\u00a0",
    "99999999999999999999999",
    "0x.0x1",
    "1.0xff.0377.4",
    "0.0.0.00",
    "1.2.3.-4",
    "1.2.3.+4",
    "１.2.3.4",
  ];
  const v6 = [
    "::",
    "::1",
    "1::",
    "::ffff:1.2.3.4",
    "::1.2.3.4",
    "::ffff:0:1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "::ffff:1.2.3",
    "::ffff:01.2.3.4",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1::2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    ":1::",
    "1:::2",
    "12345::",
    "::1 ",
    "FFFF::",
    "::0:0:0",
    "0::0",
    "fe80::1%eth0",
    ":",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7",
    "00001::",
    "::12.3.4.5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3.4:1",
    "1.2.3.4::",
    "::ffff:1.2.3.4.5",
    ":::",
    "1:",
  ];
  const requests: [string, string][] = [
    ...tricky.map((s): [string, string] => ["aton", s]),
    ...tricky.map((s): [string, string] => ["pton4", s]),
    ...v6.map((s): [string, string] => ["pton6", s]),
  ];
  const results = await python(requests);
  if (results === undefined) return await skipWithoutPython(t);
  requests.forEach(([op, arg], i) => {
    assert.deepEqual(ours(op, arg), results[i], `${op}(${JSON.stringify(arg)})`);
  });
});
