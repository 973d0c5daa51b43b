import assert from "node:assert/strict";
import { namesCases, SPEC_PROTOCOLS, SPEC_SERVICES } from "./names.ts";
import { ManifestError, parseManifest, type Target } from "../../src/harness/manifest.ts";
import { referenceTargets } from "../../src/reference/targets.ts";
import { runCase } from "../../src/harness/runner.ts";
import type { CaseResult } from "../../src/reports/report.ts";
import { runPython, skipWithoutPython } from "../../src/testdata/python_oracle.ts";

const runtime = referenceTargets().find((t) => t.kind === "runtime")!;

async function run(target: Target, id: string): Promise<CaseResult> {
  const c = namesCases.find((c) => c.id === id);
  assert.ok(c, `no case ${id}`);
  return await runCase(target, c);
}

Deno.test("a built-in runtime target exists, with no command and no transports", () => {
  assert.ok(runtime, "referenceTargets() has no target of kind runtime");
  assert.equal(runtime.command, undefined);
  assert.deepEqual(runtime.transports, []);
  assert.equal(runtime.ready.kind, "none");
});

Deno.test("path properties: {dir} and relative paths resolve against the manifest's dir", () => {
  const t = parseManifest({
    name: "rt",
    kind: "runtime",
    properties: { servicesFile: "{dir}/netdb/services", protocolsFile: "netdb/protocols" },
  }, "/srv/fixtures/rt.json");
  assert.equal(t.properties.servicesFile, "/srv/fixtures/netdb/services");
  assert.equal(t.properties.protocolsFile, "/srv/fixtures/netdb/protocols");
  const abs = parseManifest(
    { name: "rt", kind: "runtime", properties: { hostsFile: "/etc/hosts" } },
    "/srv/rt.json",
  );
  assert.equal(abs.properties.hostsFile, "/etc/hosts");
  assert.throws(
    () =>
      parseManifest(
        { name: "rt", kind: "runtime", properties: { hostsFile: "{tmp}/hosts" } },
        "/srv/rt.json",
      ),
    (e) =>
      e instanceof ManifestError && /properties\.hostsFile/.test(e.message) &&
      /only \{dir\}/.test(e.message),
  );
  assert.throws(
    () => parseManifest({ name: "rt", kind: "runtime", properties: { inetModule: 7 } }, "x.json"),
    /properties\.inetModule.*must be of type string/,
  );
});

const PY = `
import json, socket, sys
spec = json.load(sys.stdin)
out = {"byname": {}, "byport": {}, "proto": {}}
for name, port in spec["services"]:
    try: out["byname"][name] = socket.getservbyname(name)
    except OSError: out["byname"][name] = None
    try: out["byport"][str(port)] = socket.getservbyport(port)
    except OSError: out["byport"][str(port)] = None
for name, _ in spec["protocols"]:
    try: out["proto"][name] = socket.getprotobyname(name)
    except OSError: out["proto"][name] = None
infos = socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
out["addrinfo"] = repr([(int(f), int(t), p, c, sa) for f, t, p, c, sa in infos])
json.dump(out, sys.stdout)
`;

async function python(): Promise<Record<string, unknown> | undefined> {
  const input = { services: SPEC_SERVICES, protocols: SPEC_PROTOCOLS };
  return await runPython(PY, input, { timeoutMs: 10_000 }) as Record<string, unknown> | undefined;
}

Deno.test("on this machine the runtime cases observe what python3's socket module sees", async (t) => {
  const py = await python();
  if (py === undefined) return await skipWithoutPython(t);
  const check = async (
    id: string,
    want: Record<string, unknown>,
    spec: Record<string, unknown>,
  ) => {
    const r = await run(runtime, id);
    assert.deepEqual(r.observed, want, `${id}: ${r.message}`);
    const equal = Object.entries(spec).every(([k, v]) => want[k] === v);
    assert.equal(r.verdict, equal ? "PASS" : "FAIL", `${id}: ${r.message}`);
    if (!equal) {
      for (const [k, v] of Object.entries(spec)) {
        if (want[k] !== v) assert.ok(r.message.includes(`${k} `), `${id} names ${k}: ${r.message}`);
      }
    }
  };
  await check(
    "names/services/1",
    py.byname as Record<string, unknown>,
    Object.fromEntries(SPEC_SERVICES),
  );
  await check(
    "names/services/2",
    py.byport as Record<string, unknown>,
    Object.fromEntries(SPEC_SERVICES.map(([n, p]) => [String(p), n])),
  );
  await check(
    "names/protocols/1",
    py.proto as Record<string, unknown>,
    Object.fromEntries(SPEC_PROTOCOLS),
  );
  const r = await run(runtime, "names/addrinfo/1");
  const call = "getaddrinfo('localhost', 80, 0, SOCK_STREAM, 0, AI_CANONNAME)";
  assert.equal(r.observed[call], py.addrinfo, r.message);
});

Deno.test("a broken inetModule or hostsFile is an ERROR that names it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-names-" });
  try {
    await Deno.writeTextFile(
      `${dir}/half.ts`,
      "export function inetAton(_t: string): Uint8Array {\n  return new Uint8Array(4);\n}\n",
    );
    const half = parseManifest(
      { name: "rt", kind: "runtime", properties: { inetModule: "{dir}/half.ts" } },
      `${dir}/rt.json`,
    );
    const r = await run(half, "names/inet/1");
    assert.equal(r.verdict, "ERROR", r.message);
    assert.match(r.message, /half\.ts does not export inetNtoa, inetPton, inetNtop/);
    const noHosts = parseManifest(
      { name: "rt", kind: "runtime", properties: { hostsFile: "{dir}/nope" } },
      `${dir}/rt.json`,
    );
    const h = await run(noHosts, "names/addrinfo/1");
    assert.equal(h.verdict, "ERROR", h.message);
    assert.ok(h.message.includes(`${dir}/nope`), h.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
