import assert from "node:assert/strict";
import { SPEC_SERVICES } from "../../conformance/names/names.ts";
import { SocketError } from "./inet.ts";
import {
  getprotobyname,
  getservbyname,
  getservbyport,
  readProtocols,
  readServices,
  SERVICES_PATH,
} from "./netdb.ts";
import { runPython, skipWithoutPython } from "../testdata/python_oracle.ts";

const hasServices = (() => {
  try {
    return Deno.statSync(SERVICES_PATH).isFile;
  } catch {
    return false;
  }
})();
const needsNetbase = { ignore: !hasServices };
if (!hasServices) {
  console.log(`${SERVICES_PATH} missing: install Debian netbase to run these tests`);
}

function pyError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SocketError, String(e));
    return `${e.pythonLine()} | ${e.message}`;
  }
  assert.fail("no error");
}

Deno.test({
  name: "SPEC §9 services and protocols",
  ...needsNetbase,
  fn() {
    for (const [name, port] of SPEC_SERVICES) {
      assert.equal(getservbyname(name), port, name);
      assert.equal(getservbyname(name, "tcp"), port, name);
    }
    // getservbyport gives the official name: on Debian 143 is "imap2" (alias "imap").
    for (const [name, port] of SPEC_SERVICES) {
      assert.ok([name, name + "2"].includes(getservbyport(port)), `${port}`);
    }
    assert.equal(getservbyport(80), "http");
    assert.equal(getservbyport(21, "udp"), "fsp");
    assert.equal(getservbyname("www"), 80);
    assert.equal(getprotobyname("icmp"), 1);
    assert.equal(getprotobyname("udp"), 17);
    assert.equal(getprotobyname("tcp"), 6);
    assert.equal(getprotobyname("TCP"), 6);
  },
});

Deno.test({
  name: "missing names raise Python's errors naming what was looked up",
  ...needsNetbase,
  fn() {
    assert.match(
      pyError(() => getservbyname("nope")),
      /^OSError: service\/proto not found \|.*"nope"/,
    );
    assert.match(pyError(() => getservbyname("http", "udp")), /"http"\/udp/);
    assert.match(pyError(() => getservbyname("HTTP")), /service\/proto not found/);
    assert.match(pyError(() => getservbyport(0)), /^OSError: port\/proto not found \|.*\b0\b/);
    assert.match(pyError(() => getservbyport(80, "udp")), /80\/udp/);
    assert.match(
      pyError(() => getservbyport(65536)),
      /^OverflowError: getservbyport: port must be 0-65535\./,
    );
    assert.match(pyError(() => getservbyport(-1)), /OverflowError/);
    assert.match(pyError(() => getprotobyname("nope")), /^OSError: protocol not found \|.*"nope"/);
  },
});

Deno.test("a missing file is named and netbase is suggested", () => {
  const dir = Deno.makeTempDirSync({ prefix: "sockspec-netdb-" });
  try {
    const path = `${dir}/services`;
    const msg = pyError(() => getservbyname("http", undefined, { path }));
    assert.match(msg, /^OSError: service\/proto not found/);
    assert.ok(msg.includes(`${path} is missing`), msg);
    assert.match(msg, /netbase/);
    assert.match(pyError(() => getprotobyname("tcp", { path })), /protocol not found.*netbase/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a custom file: first match wins, aliases and comments count", () => {
  const dir = Deno.makeTempDirSync({ prefix: "sockspec-netdb-" });
  try {
    const services = `${dir}/services`;
    Deno.writeTextFileSync(
      services,
      "# comment\nfoo 1234/tcp bar # foo service\nfoo 1235/udp\nbaz 1234/tcp\nbad line\n",
    );
    assert.equal(getservbyname("foo", undefined, { path: services }), 1234);
    assert.equal(getservbyname("bar", undefined, { path: services }), 1234);
    assert.equal(getservbyname("foo", "udp", { path: services }), 1235);
    assert.equal(getservbyport(1234, undefined, { path: services }), "foo");
    assert.equal(getservbyport(1235, "udp", { path: services }), "foo");
    assert.equal(readServices(services).length, 3);
    const protocols = `${dir}/protocols`;
    Deno.writeTextFileSync(protocols, "ip 0 IP\nxyz 99 XYZ # test\n");
    assert.equal(getprotobyname("XYZ", { path: protocols }), 99);
    assert.deepEqual(readProtocols(protocols).map((p) => p.number), [0, 99]);
    assert.match(pyError(() => getprotobyname("tcp", { path: protocols })), new RegExp(protocols));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "every service and port in /etc/services agrees with python3",
  ...needsNetbase,
  async fn(t) {
    const entries = readServices();
    const requests: [string, string | number, string | null][] = [];
    for (const s of entries) {
      for (const name of [s.name, ...s.aliases]) {
        requests.push(["name", name, s.proto], ["name", name, null]);
      }
      requests.push(["port", s.port, s.proto], ["port", s.port, null]);
    }
    for (const p of readProtocols()) {
      for (const name of [p.name, ...p.aliases]) requests.push(["proto", name, null]);
    }
    requests.push(["name", "nope", null], ["port", 0, null], ["proto", "nope", null]);
    const script = `
import json, socket, sys
out = []
for op, a, proto in json.load(sys.stdin):
    try:
        if op == "name": r = socket.getservbyname(a, proto) if proto else socket.getservbyname(a)
        elif op == "port": r = socket.getservbyport(a, proto) if proto else socket.getservbyport(a)
        else: r = socket.getprotobyname(a)
        out.append({"ok": r})
    except OSError as e:
        out.append({"err": str(e)})
json.dump(out, sys.stdout)
`;
    const results = await runPython(script, requests) as unknown[] | undefined;
    if (results === undefined) return await skipWithoutPython(t);
    requests.forEach(([op, a, proto], i) => {
      let mine: unknown;
      try {
        const p = proto ?? undefined;
        mine = {
          ok: op === "name"
            ? getservbyname(String(a), p)
            : op === "port"
            ? getservbyport(Number(a), p)
            : getprotobyname(String(a)),
        };
      } catch (e) {
        mine = { err: (e as SocketError).pyStr };
      }
      assert.deepEqual(mine, results[i], `${op}(${a}, ${proto})`);
    });
    console.log(`compared ${requests.length} service/protocol look-ups with python3`);
  },
});
