import assert from "node:assert/strict";
import {
  intOption,
  messageOption,
  modeOption,
  parseCommand,
  parseOptions,
  STREAM_OPTIONS,
  streamAddress,
  timeoutOption,
  UsageError,
} from "./_args.ts";

function capturingLog<T>(fn: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return { result: fn(), lines };
  } finally {
    console.log = original;
  }
}

Deno.test("parseCommand: --help prints the help and returns undefined; options parse otherwise", () => {
  const options = { ...STREAM_OPTIONS, chunk: { type: "string" } } as const;
  const help = capturingLog(() => parseCommand(["--help"], "Usage: x [--chunk N]", options));
  assert.equal(help.result, undefined);
  assert.deepEqual(help.lines, ["Usage: x [--chunk N]"]);
  const run = capturingLog(() =>
    parseCommand(["--unix", "/tmp/s", "--chunk", "6"], "Usage: x", options)
  );
  assert.deepEqual(run.lines, [], "nothing is printed without --help");
  assert.equal(run.result?.values.unix, "/tmp/s");
  assert.equal(run.result?.values.chunk, "6");
  assert.equal(run.result?.values.tcp, undefined);
});

Deno.test("parseCommand: unknown options and unwanted positionals are usage errors", () => {
  assert.throws(() => parseCommand(["--nope"], "h", STREAM_OPTIONS), UsageError);
  assert.throws(() => parseCommand(["--nope"], "h", STREAM_OPTIONS), /; see --help$/);
  assert.throws(() => parseCommand(["extra"], "h", STREAM_OPTIONS), UsageError);
  const parsed = parseCommand(["127.0.0.1:1", "--tcp", "h:1"], "h", STREAM_OPTIONS, true);
  assert.deepEqual(parsed?.positionals, ["127.0.0.1:1"]);
});

Deno.test("streamAddress: exactly one of --tcp HOST:PORT or --unix PATH", () => {
  assert.deepEqual(streamAddress({ unix: "./uds_socket" }), {
    transport: "unix",
    path: "./uds_socket",
  });
  assert.deepEqual(streamAddress({ tcp: "[::1]:10000" }), {
    transport: "tcp",
    hostname: "::1",
    port: 10000,
  });
  assert.deepEqual(streamAddress({ tcp: ":0" }), {
    transport: "tcp",
    hostname: "0.0.0.0",
    port: 0,
  });
  for (const values of [{}, { tcp: "h:1", unix: "/tmp/s" }]) {
    assert.throws(
      () => streamAddress(values),
      (err) =>
        err instanceof UsageError &&
        err.message === "give exactly one of --tcp HOST:PORT or --unix PATH",
    );
  }
  assert.throws(() => streamAddress({ tcp: "localhost" }), /'localhost' is not HOST:PORT/);
});

Deno.test("modeOption: three octal digits, for --unix only", () => {
  assert.equal(modeOption(undefined, "tcp"), undefined);
  assert.equal(modeOption(undefined, "unix"), undefined);
  assert.equal(modeOption("0600", "unix"), 0o600);
  assert.equal(modeOption("755", "unix"), 0o755);
  assert.equal(modeOption("0000", "unix"), 0);
  for (const bad of ["0800", "rw", "06000", "", "60"]) {
    assert.throws(
      () => modeOption(bad, "unix"),
      (err) =>
        err instanceof UsageError &&
        err.message === `--mode must be octal such as 0600, not '${bad}'`,
      bad,
    );
  }
  assert.throws(
    () => modeOption("0600", "tcp"),
    (err) => err instanceof UsageError && err.message === "--mode applies to --unix only",
  );
  // the octal check comes first
  assert.throws(() => modeOption("x", "tcp"), /--mode must be octal/);
});

Deno.test("timeoutOption and messageOption", () => {
  assert.equal(timeoutOption(undefined), undefined);
  assert.equal(timeoutOption("2000"), 2000);
  assert.equal(timeoutOption("3600000"), 3_600_000);
  assert.throws(
    () => timeoutOption("0"),
    /--timeout must be a whole number from 1 to 3600000, not '0'/,
  );
  assert.throws(() => timeoutOption("600001", 600_000), /from 1 to 600000/);
  assert.equal(messageOption(undefined), undefined);
  assert.deepEqual(messageOption("hé"), new Uint8Array([0x68, 0xc3, 0xa9]));
  assert.deepEqual(messageOption(""), new Uint8Array(0));
});

Deno.test("one number parser: whole numbers only, and a negative value is a value", () => {
  const { values } = parseOptions(["--jobs", "-1"], { jobs: { type: "string" } });
  assert.equal(values.jobs, "-1");
  assert.throws(
    () => intOption("jobs", values.jobs, 1, 64),
    /--jobs must be a whole number from 1 to 64, not '-1'/,
  );
  for (const bad of ["", " 4", "0x10", "1e3", "2.0", "4 "]) {
    assert.throws(() => intOption("jobs", bad, 1, 64), UsageError, JSON.stringify(bad));
  }
  assert.equal(intOption("jobs", "064", 1, 64), 64);
  assert.equal(intOption("jobs", undefined, 1, 64), undefined);
  // A negative number after a boolean option is still a positional, not a value.
  const flag = parseOptions(["--list", "x"], { list: { type: "boolean" } }, true);
  assert.deepEqual(flag.positionals, ["x"]);
});
