import assert from "node:assert/strict";
import { loadManifest, ManifestError, parseManifest, substitute } from "./manifest.ts";

const good = {
  name: "t",
  kind: "stream-echo",
  transports: ["unix"],
  command: ["python3", "{dir}/s.py", "{path}"],
};

Deno.test("a valid manifest gets defaults", () => {
  const t = parseManifest(good, "/srv/t.json");
  assert.equal(t.dir, "/srv");
  assert.equal(t.host, "127.0.0.1");
  assert.equal(t.ready.kind, "listen");
  assert.equal(t.timeoutMs, 5000);
  assert.equal(t.cwd, "{tmp}");
});

Deno.test("bad manifests name the file and the field, and say what to do", async (t) => {
  const bad: [string, unknown, RegExp][] = [
    ["unknown key", { ...good, colour: "red" }, /x\.json: field 'colour': unknown key/],
    ["missing kind", { ...good, kind: undefined }, /field 'kind': missing or unknown/],
    [
      "missing command",
      { name: "t", kind: "stream-echo", transports: ["tcp"] },
      /field 'command': missing/,
    ],
    [
      "unknown placeholder",
      { ...good, command: ["python3", "{prot}"] },
      /field 'command\[1\]': unknown placeholder \{prot\}/,
    ],
    [
      "command not found",
      { ...good, command: ["no-such-server-binary"] },
      /command 'no-such-server-binary' not found on PATH/,
    ],
    ["bad transport", { ...good, transports: ["sctp"] }, /field 'transports'/],
    [
      "bad property",
      { ...good, properties: { chunkSize: "16" } },
      /field 'properties.chunkSize': must be int/,
    ],
    [
      "unknown property",
      { ...good, properties: { speed: 1 } },
      /field 'properties.speed': unknown property/,
    ],
    ["bad ready kind", { ...good, ready: { kind: "soon" } }, /field 'ready.kind'/],
    ["stdout without pattern", { ...good, ready: { kind: "stdout" } }, /field 'ready.pattern'/],
    ["both command and attach", { ...good, attach: { port: 1 } }, /field 'attach': give either/],
  ];
  for (const [what, json, message] of bad) {
    await t.step(what, () => {
      assert.throws(
        () => parseManifest(json, "x.json"),
        (e: unknown) => e instanceof ManifestError && message.test(e.message),
      );
    });
  }
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

Deno.test("substitute fills placeholders and refuses ones without a value", () => {
  assert.equal(substitute("[{host}]:{port}", { host: "::1", port: "80" }), "[::1]:80");
  assert.throws(
    () => substitute("{path}", { path: undefined }),
    /placeholder \{path\} has no value here/,
  );
});
