import assert from "node:assert/strict";
import {
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  AI_V4MAPPED,
  createConnection,
  formatSockaddr,
  getaddrinfo,
  IPPROTO_TCP,
  type Resolver,
  SOCK_DGRAM,
  SOCK_STREAM,
} from "./addrinfo.ts";
import { AF_INET, AF_INET6, SocketError } from "./inet.ts";
import { runPython, skipWithoutPython } from "../testdata/python_oracle.ts";

// Only names from /etc/hosts and numeric hosts reach the real resolver here: an unknown name
// would be sent to the DNS server, and tests keep their traffic on loopback.

Deno.test("SPEC: localhost gives AF_INET, SOCK_STREAM, IPPROTO_TCP first, glibc's order", async () => {
  const infos = await getaddrinfo("localhost", 10000);
  assert.deepEqual(infos[0], [AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 10000]]);
  assert.deepEqual(infos.map(([f, t, p]) => [f, t, p]).slice(0, 3), [[2, 1, 6], [2, 2, 17], [
    2,
    3,
    0,
  ]]);
  const canon = await getaddrinfo("localhost", 10000, { type: SOCK_STREAM, flags: AI_CANONNAME });
  assert.equal(canon[0][3], "localhost");
});

Deno.test("null host: loopback, or the wildcards with AI_PASSIVE", async () => {
  assert.deepEqual(
    (await getaddrinfo(null, 10000, { type: SOCK_STREAM })).map((i) => i[4]),
    [["::1", 10000, 0, 0], ["127.0.0.1", 10000]],
  );
  assert.deepEqual(
    (await getaddrinfo(null, 10000, { type: SOCK_STREAM, flags: AI_PASSIVE })).map((i) => i[4]),
    [["0.0.0.0", 10000], ["::", 10000, 0, 0]],
  );
});

function gaiLine(e: unknown): string {
  assert.ok(e instanceof SocketError, String(e));
  return e.pythonLine();
}

Deno.test("an unknown host raises gaierror -2 naming the host", async () => {
  const notFound: Resolver = () =>
    Promise.reject(
      Object.assign(new Error("getaddrinfo ENOTFOUND nope.invalid"), { code: "ENOTFOUND" }),
    );
  await assert.rejects(getaddrinfo("nope.invalid", 80, { resolve: notFound }), (e) => {
    assert.equal(gaiLine(e), "socket.gaierror: [Errno -2] Name or service not known");
    assert.match(
      (e as Error).message,
      /^\[Errno -2\] Name or service not known: .*'nope\.invalid'/,
    );
    assert.equal((e as SocketError).errno, -2);
    return true;
  });
  const again: Resolver = () =>
    Promise.reject(Object.assign(new Error("x"), { code: "EAI_AGAIN" }));
  await assert.rejects(getaddrinfo("x.example", 80, { resolve: again }), /\[Errno -3\]/);
  await assert.rejects(
    getaddrinfo("fe80::1%lo", 80),
    /^SocketError: \[Errno -2\] .*'fe80::1%lo'.*use the interface index/,
  );
  await assert.rejects(
    getaddrinfo("localhost", 80, { flags: AI_NUMERICHOST }),
    /^SocketError: \[Errno -2\] Name or service not known: .*'localhost'.*AI_NUMERICHOST/,
  );
});

Deno.test("a resolver's order and IPv6 scope are kept", async () => {
  const fake: Resolver = () =>
    Promise.resolve([{ address: "fe80::1%7", family: 6 }, { address: "10.0.0.1", family: 4 }]);
  const infos = await getaddrinfo("dual.test", "http", { resolve: fake, flags: AI_CANONNAME });
  assert.deepEqual(infos, [
    [AF_INET6, SOCK_STREAM, IPPROTO_TCP, "dual.test", ["fe80::1", 80, 0, 7]],
    [AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["10.0.0.1", 80]],
  ]);
  const mappedInfos = await getaddrinfo("v4only.test", 5, {
    resolve: () => Promise.resolve([{ address: "10.0.0.1", family: 4 }]),
    family: AF_INET6,
    type: SOCK_DGRAM,
    flags: AI_V4MAPPED,
  });
  assert.deepEqual(mappedInfos, [[AF_INET6, SOCK_DGRAM, 17, "", ["::ffff:10.0.0.1", 5, 0, 0]]]);
});

Deno.test("formatSockaddr prints like Python's repr of a sockaddr", () => {
  assert.equal(formatSockaddr(["127.0.0.1", 65141]), "('127.0.0.1', 65141)");
  assert.equal(formatSockaddr(["::1", 10000, 0, 0]), "('::1', 10000, 0, 0)");
  assert.equal(formatSockaddr("./uds_socket"), "'./uds_socket'");
  assert.equal(formatSockaddr(""), "''");
  assert.equal(
    formatSockaddr({ transport: "tcp", hostname: "127.0.0.1", port: 1 }),
    "('127.0.0.1', 1)",
  );
  assert.equal(formatSockaddr({ transport: "udp", hostname: "::", port: 2 }), "('::', 2, 0, 0)");
  assert.equal(formatSockaddr({ transport: "unix", path: "./s" }), "'./s'");
});

// ---------------------------------------------------------------------------------------
// Agreement with python3's socket.getaddrinfo on this machine.

type Case = [
  host: string | null,
  port: number | string | null,
  family: number,
  type: number,
  proto: number,
  flags: number,
];

function cases(): Case[] {
  const named = ["localhost", "LOCALHOST"];
  const numeric = [
    "127.0.0.1",
    "127.1",
    "0x7f.1",
    "::1",
    "fe80::1%1",
    "::1%1",
    "::ffff:1.2.3.4",
    "0:0::1",
  ];
  const hosts: (string | null)[] = [...named, ...numeric, null];
  const ports: (number | string | null)[] = [
    10000,
    "http",
    "https",
    "80",
    null,
    0,
    70000,
    -1,
    "nosuchservice",
    " 80",
    "",
    "fsp",
  ];
  const typeProtos = [
    [0, 0],
    [1, 0],
    [2, 0],
    [3, 0],
    [5, 0],
    [0, 6],
    [0, 17],
    [1, 17],
    [2, 6],
    [3, 6],
    [0, 132],
    [0, 99],
    [7, 0],
  ];
  const flagSets = [
    0,
    AI_CANONNAME,
    AI_PASSIVE,
    AI_NUMERICHOST,
    AI_NUMERICSERV,
    AI_CANONNAME | AI_NUMERICHOST,
    0x10000,
  ];
  const out: Case[] = [];
  for (const h of hosts) {
    for (const p of ports) out.push([h, p, 0, 0, 0, 0]);
    for (const [t, pr] of typeProtos) out.push([h, 80, 0, t, pr, 0], [h, "http", 0, t, pr, 0]);
    for (const f of flagSets) out.push([h, 80, 0, 0, 0, f]);
    out.push([h, 80, AF_INET, 0, 0, 0], [h, 80, 99, 0, 0, 0]);
    // AF_INET6 for a name only in /etc/hosts as IPv4 would ask the DNS server: numeric only.
    if (!named.includes(h ?? "")) {
      out.push([h, 80, AF_INET6, 1, 0, 0], [h, 80, AF_INET6, 1, 0, AI_V4MAPPED]);
    }
  }
  out.push(["127.0.0.1 junk", 80, 0, 0, 0, AI_NUMERICHOST], ["", 80, 0, 0, 0, AI_NUMERICHOST]);
  return out;
}

const PY_SCRIPT = `
import json, socket, sys
out = []
for host, port, family, type_, proto, flags in json.load(sys.stdin):
    try:
        r = socket.getaddrinfo(host, port, family, type_, proto, flags)
        out.append({"ok": [[int(f), int(t), p, c, list(sa)] for f, t, p, c, sa in r]})
    except socket.gaierror as e:
        out.append({"err": str(e)})
json.dump(out, sys.stdout)
`;

Deno.test("getaddrinfo agrees with python3 on hosts-file names, numeric hosts, services and hints", async (t) => {
  const all = cases();
  const expected = await runPython(PY_SCRIPT, all, { timeoutMs: 30_000 }) as unknown[] | undefined;
  if (expected === undefined) return await skipWithoutPython(t);
  const bad: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const [host, port, family, type, proto, flags] = all[i];
    let mine: unknown;
    try {
      mine = { ok: await getaddrinfo(host, port, { family, type, proto, flags }) };
    } catch (e) {
      mine = { err: e instanceof SocketError ? e.pyStr : String(e) };
    }
    if (JSON.stringify(mine) !== JSON.stringify(expected[i])) {
      bad.push(
        `getaddrinfo${JSON.stringify(all[i])}: ours ${JSON.stringify(mine)}, python3 ${
          JSON.stringify(expected[i])
        }`,
      );
    }
  }
  console.log(`compared ${all.length} getaddrinfo calls with python3`);
  assert.equal(bad.length, 0, bad.slice(0, 8).join("\n"));
});

// ---------------------------------------------------------------------------------------
// createConnection

Deno.test("createConnection connects to localhost", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = listener.addr as Deno.NetAddr;
    const accepted = listener.accept();
    const conn = await createConnection("localhost", port, { timeoutMs: 2000 });
    const server = await accepted;
    assert.equal((conn.remoteAddr as Deno.NetAddr).port, port);
    conn.close();
    server.close();
  } finally {
    listener.close();
  }
});

Deno.test("createConnection throws the last error naming host:port and the addresses", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close(); // now nothing listens there
  await assert.rejects(createConnection("127.0.0.1", port, { timeoutMs: 2000 }), (e) => {
    assert.ok(e instanceof Deno.errors.ConnectionRefused, String(e));
    assert.match(
      (e as Error).message,
      new RegExp(`127\\.0\\.0\\.1:${port}.*\\('127\\.0\\.0\\.1', ${port}\\)`),
    );
    return true;
  });
});

Deno.test("createConnection times out an address, tries the next, closes a late connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = listener.addr as Deno.NetAddr;
    let lateClosed = false;
    let lateSettled!: () => void;
    const settled = new Promise<void>((r) => (lateSettled = r));
    const tried: string[] = [];
    const connect = (o: Deno.ConnectOptions): Promise<Deno.TcpConn> => {
      tried.push(`${o.hostname}:${o.port}`);
      if (o.hostname === "::1") {
        // Succeeds only after the 50 ms timeout has fired.
        return new Promise((res) =>
          setTimeout(() => {
            res({ close: () => (lateClosed = true) } as unknown as Deno.TcpConn);
            setTimeout(lateSettled, 0);
          }, 300)
        );
      }
      return Deno.connect(o);
    };
    const resolve: Resolver = () =>
      Promise.resolve([{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }]);
    const accepted = listener.accept();
    const conn = await createConnection("dual.test", port, { timeoutMs: 50, connect, resolve });
    (await accepted).close();
    conn.close();
    assert.deepEqual(tried, [`::1:${port}`, `127.0.0.1:${port}`]);
    await settled;
    assert.ok(lateClosed, "the connection that succeeded after its timeout was not closed");

    const never = () => new Promise<Deno.TcpConn>(() => {});
    await assert.rejects(
      createConnection("dual.test", port, {
        timeoutMs: 20,
        connect: never,
        resolve,
      }),
      (e) => {
        assert.ok(e instanceof Deno.errors.TimedOut, String(e));
        assert.match(
          (e as Error).message,
          /dual\.test:\d+\) failed; tried \('::1', \d+, 0, 0\), \('127\.0\.0\.1', \d+\)/,
        );
        return true;
      },
    );
  } finally {
    listener.close();
  }
});
