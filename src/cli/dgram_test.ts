import assert from "node:assert/strict";
import { UsageError } from "./_args.ts";
import { CLI_PATH } from "../reference/targets.ts";
import { UNBOUND_ERROR } from "../reference/dgram/client.ts";
import { serveDgram } from "../reference/dgram/server.ts";
import { openDatagram, receiveWithin, toDenoAddr } from "../net/datagram.ts";
import { udpClientMain, udpServeMain, unixgramClientMain, unixgramServeMain } from "./dgram.ts";

Deno.test("usage errors name what to fix", async () => {
  await assert.rejects(udpServeMain([]), UsageError);
  await assert.rejects(
    udpServeMain(["127.0.0.1:1", "--zero", "maybe"]),
    /--zero takes ignore or echo/,
  );
  await assert.rejects(udpServeMain(["127.0.0.1:1", "--buffer", "0"]), /--buffer must be/);
  await assert.rejects(udpClientMain(["localhost"]), /not HOST:PORT/);
  await assert.rejects(udpClientMain(["127.0.0.1:1", "--unbound"]), /unixgram only/);
  await assert.rejects(unixgramClientMain(["/tmp/x", "--bind", "/tmp/y", "--unbound"]), /not both/);
  await assert.rejects(unixgramClientMain(["/tmp/x", "--size", "1", "--message", "m"]), /not both/);
  await assert.rejects(unixgramServeMain(["a", "b"]), /socket path/);
});

Deno.test("sockspec client udp, as a process with only net permission: [Errno 90] and exit 1", async () => {
  const server = await serveDgram({ listen: { transport: "udp", hostname: "127.0.0.1", port: 0 } });
  try {
    const port = (server.addr as Deno.NetAddr).port;
    const run = (size: string) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--no-prompt",
          "--unstable-net",
          "--allow-net=127.0.0.1,0.0.0.0",
          CLI_PATH,
          "client",
          "udp",
          `127.0.0.1:${port}`,
          "--size",
          size,
          "--timeout",
          "3000",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const over = await run("65508");
    const text = new TextDecoder().decode(over.stdout);
    assert.equal(over.code, 1, text + new TextDecoder().decode(over.stderr));
    assert.match(text, /\n\[Errno 90\] Message too long\nclosing socket\n$/);
    const fits = await run("65507");
    assert.equal(fits.code, 0, new TextDecoder().decode(fits.stderr));
    assert.match(
      new TextDecoder().decode(fits.stdout),
      /\nreceived b'sockspec [^\n]*\nclosing socket\n$/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("sockspec serve unixgram: exit 1 naming a path it must not touch; exit 0 on SIGTERM, node removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgcmd-" });
  const serve = (path: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--unstable-net",
        `--allow-read=${dir}`,
        "--allow-write",
        "--allow-net",
        CLI_PATH,
        "serve",
        "unixgram",
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    });
  try {
    await Deno.writeTextFile(`${dir}/file`, "keep me");
    const refused = await serve(`${dir}/file`).output();
    assert.equal(refused.code, 1);
    assert.match(
      new TextDecoder().decode(refused.stderr),
      new RegExp(`^sockspec serve unixgram: ${dir}/file: the path exists and is a regular file`),
    );
    assert.equal(await Deno.readTextFile(`${dir}/file`), "keep me");
    const child = serve(`${dir}/s`).spawn();
    for (let i = 0; i < 250; i++) {
      try {
        if (Deno.lstatSync(`${dir}/s`).isSocket) break;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGTERM");
    const status = await child.output();
    assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
    assert.throws(() => Deno.lstatSync(`${dir}/s`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sockspec client unixgram --unbound, as a process: says no answer can come, exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockspec-dgcmd-" });
  const path = `${dir}/server`;
  const logged: string[] = [];
  const server = await serveDgram({
    listen: { transport: "unixgram", path },
    log: (l) => logged.push(l),
  });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--unstable-net",
        `--allow-write=${path}`,
        `--allow-net=unix:${path}`,
        CLI_PATH,
        "client",
        "unixgram",
        path,
        "--unbound",
        "--timeout",
        "3000",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 1, text + new TextDecoder().decode(out.stderr));
    assert.deepEqual(text.split("\n").slice(1), [UNBOUND_ERROR, "closing socket", ""], text);
    assert.match(text, /^sending b'/);
    // the server went on: a bound client is answered
    const bound = openDatagram({ transport: "unixgram", path: `${dir}/client` });
    try {
      await bound.send(
        new TextEncoder().encode("after"),
        toDenoAddr({ transport: "unixgram", path }),
      );
      const got = await receiveWithin(bound, 3000);
      assert.equal(new TextDecoder().decode(got?.[0]), "after");
      assert.match(logged.join("\n"), /cannot answer the 42-byte datagram from an unbound/);
    } finally {
      bound.close();
    }
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
