import assert from "node:assert/strict";
import { Ajv2020 } from "npm:ajv@8.17.1/dist/2020.js";
import {
  KINDS,
  loadManifest,
  loadTargets,
  ManifestError,
  MAX_MANIFEST_MS,
  parseManifest,
  parseTargets,
  placeholdersIn,
  substitute,
} from "./manifest.ts";
import { startInstance } from "./target.ts";
import schema from "../../schemas/manifest.schema.json" with { type: "json" };

const ROOT = new URL("../../", import.meta.url).pathname;

const good = {
  name: "t",
  kind: "stream-echo",
  transports: ["unix"],
  command: ["python3", "{dir}/s.py", "{path}"],
};
const tcp = { ...good, transports: ["tcp"], command: ["python3", "-c", "pass", "{port}"] };

Deno.test("a valid manifest gets defaults", () => {
  const t = parseManifest(good, "/srv/t.json");
  assert.equal(t.dir, "/srv");
  assert.equal(t.host, "127.0.0.1");
  assert.equal(t.ready.kind, "listen");
  assert.equal(t.timeoutMs, 5000);
  assert.equal(t.cwd, "{tmp}");
  assert.deepEqual(t.files, {});
});

/** Each mistake: the manifest and what the message must say (file, field, what to do). */
const MISTAKES: [string, unknown, RegExp][] = [
  ["unknown key", { ...good, colour: "red" }, /x\.json: field 'colour': unknown key; known keys/],
  ["missing name", { ...good, name: undefined }, /field 'name': missing/],
  ["missing kind", { ...good, kind: undefined }, /field 'kind': missing; one of stream-echo/],
  ["unknown kind", { ...good, kind: "http" }, /field 'kind': is "http"; must be one of/],
  [
    "missing command",
    { name: "t", kind: "stream-echo", transports: ["tcp"] },
    /field 'command': missing; give the command/,
  ],
  [
    "unknown placeholder",
    { ...good, command: ["python3", "{prot}"] },
    /field 'command\[1\]': unknown placeholder \{prot\}; known here: \{host\}/,
  ],
  [
    "a lone brace",
    { ...good, command: ["awk", "{ print $1 }"] },
    /field 'command\[1\]': '\{ print \$1 \}' is not a placeholder; write \{\{ and \}\}/,
  ],
  [
    "a lone closing brace",
    { ...good, env: { X: "a}b" } },
    /field 'env\.X': a lone '\}'.*write \}\} for a literal \}/,
  ],
  [
    "{port} without a TCP/UDP transport",
    { ...good, command: ["python3", "{dir}/s.py", "{port}"] },
    /field 'command\[2\]': \{port\} has no value: the manifest lists no tcp or udp transport/,
  ],
  [
    "{path} without a Unix transport",
    { ...tcp, env: { SOCK: "{path}" } },
    /field 'env\.SOCK': \{path\} has no value: the manifest lists no unix or unixgram/,
  ],
  [
    "{port} in a file without a TCP/UDP transport",
    { ...good, files: { "a.conf": "port {port}" } },
    /field 'files\.a\.conf': \{port\} has no value/,
  ],
  [
    "a transport the kind cannot use",
    { ...good, transports: ["udp"] },
    /field 'transports\[0\]': a stream-echo target cannot use udp; it takes tcp, unix/,
  ],
  [
    "a transport for a kind that takes none",
    { name: "p", kind: "program", transports: ["tcp"], command: ["python3", "x.py"] },
    /field 'transports\[0\]': a program target cannot use tcp; it takes none/,
  ],
  ["an unknown transport", { ...good, transports: ["sctp"] }, /field 'transports\[0\]': is "sctp"/],
  [
    "no transport",
    { ...good, transports: [] },
    /field 'transports': missing; list how the target is reached, one or more of tcp, unix/,
  ],
  [
    "command not found",
    { ...good, command: ["no-such-server-binary"] },
    /field 'command\[0\]': command 'no-such-server-binary' not found on PATH/,
  ],
  [
    "a relative command",
    { ...good, command: ["./run.sh"] },
    /field 'command\[0\]': '\.\/run\.sh' is a relative path.*use \{dir\}\/run\.sh/,
  ],
  [
    "a {dir} command that does not exist",
    { ...good, command: ["{dir}/nope.sh"] },
    /field 'command\[0\]': \/srv\/nope\.sh does not exist/,
  ],
  [
    "a host that is a name",
    { ...tcp, host: "example.com" },
    /field 'host': 'example\.com' is a name, not an address.*use 127\.0\.0\.1 or ::1/,
  ],
  [
    "a host that is not this machine's",
    { ...tcp, host: "10.255.255.1" },
    /field 'host': 10\.255\.255\.1 is not an address of this machine.*attach/,
  ],
  [
    "a timeout past the limit",
    { ...good, timeoutMs: 99999999999 },
    /field 'timeoutMs': must be <= 600000/,
  ],
  [
    "a ready timeout past the limit",
    { ...good, ready: { timeoutMs: 600001 } },
    /'ready\.timeoutMs'/,
  ],
  ["a kill grace past the limit", { ...good, killGraceMs: 1e9 }, /field 'killGraceMs': must be <=/],
  ["a zero timeout", { ...good, timeoutMs: 0 }, /field 'timeoutMs': must be >= 1/],
  [
    "a fractional timeout",
    { ...good, timeoutMs: 2.5 },
    /field 'timeoutMs': must be a whole number/,
  ],
  [
    "a bad property",
    { ...good, properties: { chunkSize: "16" } },
    /field 'properties\.chunkSize': must be a whole number/,
  ],
  [
    "an unknown property",
    { ...good, properties: { speed: 1 } },
    /field 'properties\.speed': unknown key; known keys here: chunkSize/,
  ],
  ["a bad mode", { ...good, properties: { mode: "rw" } }, /field 'properties\.mode': is "rw"/],
  ["a bad ready kind", { ...good, ready: { kind: "soon" } }, /field 'ready\.kind'/],
  ["stdout without pattern", { ...good, ready: { kind: "stdout" } }, /field 'ready\.pattern'/],
  ["both command and attach", { ...good, attach: { port: 1 } }, /field 'attach': give either/],
  [
    "a fixed port without a command",
    { name: "t", kind: "stream-echo", transports: ["tcp"], port: 7 },
    /field 'port': a fixed port is for a server that sockspec starts; .*attach\.port/,
  ],
  ["a port out of range", { ...tcp, port: 70000 }, /field 'port': must be <= 65535/],
  [
    "a file name outside {tmp}",
    { ...good, files: { "../x.conf": "" } },
    /field 'files': file name "\.\.\/x\.conf" must be a relative path inside \{tmp\}/,
  ],
  [
    "{port} with services",
    {
      name: "m",
      command: ["python3", "x.py", "{port}"],
      services: [{ name: "a", kind: "stream-echo", transports: ["tcp"] }],
    },
    /field 'command\[2\]': \{port\} is ambiguous with services; name one, such as \{port\.a\}/,
  ],
  [
    "kind at the top with services",
    {
      name: "m",
      kind: "stream-echo",
      command: ["python3"],
      services: [{ name: "a", kind: "stream-echo", transports: ["tcp"] }],
    },
    /field 'kind': with services, give it in each service/,
  ],
  [
    "a service given twice",
    {
      name: "m",
      command: ["python3"],
      services: [
        { name: "a", kind: "stream-echo", transports: ["tcp"] },
        { name: "a", kind: "stream-echo", transports: ["unix"] },
      ],
    },
    /field 'services\[1\]\.name': 'a' is given twice/,
  ],
  [
    "a service's transport its kind cannot use",
    {
      name: "m",
      command: ["python3"],
      services: [{ name: "a", kind: "dgram-echo", transports: ["tcp"] }],
    },
    /field 'services\[0\]\.transports\[0\]': a dgram-echo target cannot use tcp/,
  ],
];

Deno.test("each manifest mistake names the file and the field, and says what to do", async (t) => {
  for (const [what, json, message] of MISTAKES) {
    await t.step(what, () => {
      assert.throws(
        () => parseTargets(json, "x.json".replace("x", "/srv/x")),
        (e: unknown) => {
          assert.ok(e instanceof ManifestError, `not a ManifestError: ${e}`);
          assert.match(e.message, message);
          assert.match(e.message, /^\/srv\/x\.json: field '/);
          return true;
        },
      );
    });
  }
});

Deno.test("a command next to the manifest but not on PATH: use {dir}/...", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  try {
    await Deno.writeTextFile(`${dir}/rel-server.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/rel-server.sh`, 0o755);
    const json = { ...good, command: ["rel-server.sh", "{path}"] };
    assert.throws(
      () => parseManifest(json, `${dir}/m.json`),
      /field 'command\[0\]': 'rel-server\.sh' is not on PATH, but it is next to the manifest; use \{dir\}\/rel-server\.sh/,
    );
    parseManifest({ ...json, command: ["{dir}/rel-server.sh", "{path}"] }, `${dir}/m.json`);
    await Deno.chmod(`${dir}/rel-server.sh`, 0o644);
    assert.throws(
      () => parseManifest({ ...json, command: ["{dir}/rel-server.sh"] }, `${dir}/m.json`),
      /rel-server\.sh is not executable; chmod \+x it/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an attached server may be on another host; started ones may use localhost or ::1", () => {
  const far = { name: "far", kind: "stream-echo", transports: ["tcp"], host: "192.0.2.7" };
  assert.equal(parseManifest({ ...far, attach: { port: 7 } }, "x.json").host, "192.0.2.7");
  assert.equal(parseManifest({ ...tcp, host: "localhost" }, "x.json").host, "localhost");
  assert.equal(parseManifest({ ...tcp, host: "::1" }, "x.json").host, "::1");
});

Deno.test("the schema's kinds are the kind table's; the bounds are the CLI's", () => {
  assert.deepEqual([...schema.$defs.kind.enum].sort(), Object.keys(KINDS).sort());
  assert.equal(schema.$defs.ms.maximum, MAX_MANIFEST_MS);
});

Deno.test("every manifest in the repo names the schema and validates against it", async () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(schema);
  const files: string[] = [];
  const walk = async (d: string, depth: number) => {
    if (depth > 8) return;
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p, depth + 1);
      else if (e.name.endsWith(".json") && !e.name.endsWith(".expect.json")) files.push(p);
    }
  };
  await walk(`${ROOT}fixtures`, 0);
  assert.ok(files.length > 90, `${files.length} manifests`);
  for (const file of files) {
    const json = JSON.parse(await Deno.readTextFile(file));
    const dir = file.slice(0, file.lastIndexOf("/"));
    assert.equal(
      new URL(json.$schema, `file://${dir}/`).pathname,
      `${ROOT}schemas/manifest.schema.json`,
      `${file}: "$schema" must point at schemas/manifest.schema.json`,
    );
    assert.ok(validate(json), `${file}: ${JSON.stringify(validate.errors)}`);
    await loadTargets(file); // and sockspec's own checks accept it
  }
});

Deno.test("placeholders: {{ and }} are literal braces", () => {
  assert.deepEqual(placeholdersIn("awk '{{print $1}}' {tmp}/x:{port}"), ["tmp", "port"]);
  assert.equal(substitute("awk '{{print $1}}' {port}", { port: "7" }), "awk '{print $1}' 7");
  assert.equal(substitute("${{HOME}}", {}), "${HOME}");
  assert.equal(substitute("{{{port}}}", { port: "7" }), "{7}");
  assert.equal(substitute("[{host}]:{port}", { host: "::1", port: "80" }), "[::1]:80");
  assert.throws(
    () => substitute("{path}", { path: undefined }),
    /placeholder \{path\} has no value here/,
  );
  const t = parseManifest({ ...good, command: ["sh", "-c", "echo ${{X}} {{}}", "{path}"] }, "x");
  assert.equal(t.command![2], "echo ${{X}} {{}}");
});

Deno.test("files are written into {tmp} with placeholders before the start", async () => {
  const t = parseManifest({
    ...tcp,
    command: ["python3", "-c", "import time; time.sleep(30)"],
    ready: { kind: "none" },
    files: { "conf/a.conf": "server {{ listen {host}:{port}; }}\n", "b": "{tmp}" },
  }, "/srv/x.json");
  const dir = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  try {
    const i = await startInstance(t, { tmp: dir });
    try {
      assert.equal(
        await Deno.readTextFile(`${dir}/conf/a.conf`),
        `server { listen 127.0.0.1:${i.port}; }\n`,
      );
      assert.equal(await Deno.readTextFile(`${dir}/b`), dir);
    } finally {
      await i.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("services: one target per service, each with its own port or path", () => {
  const targets = parseTargets({
    name: "multi",
    command: ["python3", "x.py", "{port.v4}", "{port.v6}", "{path.local}", "{port.dgram}"],
    services: [
      { name: "v4", kind: "stream-echo", transports: ["tcp"] },
      { name: "v6", kind: "stream-echo", transports: ["tcp"], host: "::1" },
      { name: "local", kind: "stream-echo", transports: ["unix"] },
      { name: "dgram", kind: "dgram-echo", transports: ["udp"], port: 7 },
    ],
  }, "/srv/multi.json");
  assert.deepEqual(targets.map((t) => [t.name, t.source, t.host, t.ready.kind]), [
    ["multi.v4", "/srv/multi.json#v4", "127.0.0.1", "listen"],
    ["multi.v6", "/srv/multi.json#v6", "::1", "listen"],
    ["multi.local", "/srv/multi.json#local", "127.0.0.1", "listen"],
    ["multi.dgram", "/srv/multi.json#dgram", "127.0.0.1", "bound"],
  ]);
  assert.equal(targets[3].port, 7);
  assert.equal(targets[0].services?.length, 4);
  assert.throws(() => parseManifest({ ...targets, name: "x" }, "x.json"), ManifestError);
});

Deno.test("loadManifest reports unreadable files and invalid JSON with the path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-test-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
    await assert.rejects(loadManifest(`${dir}/bad.json`), /bad\.json: invalid JSON/);
    await assert.rejects(
      loadManifest(`${dir}/missing.json`),
      /missing\.json: cannot read the file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
