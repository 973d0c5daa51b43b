#!/usr/bin/env node
// The `sockspec` command of the npm package (scripts/pack.ts puts this file in the package
// as bin/sockspec.cjs, so the package root is ..): runs sockspec's CLI (src/cli/main.ts) on the
// deno binary of the pinned `deno` npm dependency, so it needs no global Deno. Relative
// paths in the arguments (--target, --expect, --report) are the user's: the CLI runs in
// the directory the command was started from. Signals are passed on; the exit code (or
// the signal) is the CLI's.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const MAIN = path.join(ROOT, "src", "cli", "main.ts");

// The permissions the CLI documents (the same as `deno task check` in a checkout), and
// --unstable-net for the datagram API. --no-config: a deno.json in the user's project is
// theirs, not sockspec's.
const DENO_FLAGS = [
  "run",
  "--quiet",
  "--no-prompt",
  "--no-config",
  "--unstable-net",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
];

function fail(message) {
  console.error(`sockspec: ${message}`);
  process.exit(2);
}

/** The deno executable of the `deno` package sockspec depends on. */
function denoExecutable() {
  let dir;
  try {
    dir = path.dirname(require.resolve("deno/package.json", { paths: [ROOT] }));
  } catch {
    fail(
      "cannot find the 'deno' npm package that sockspec depends on; reinstall sockspec " +
        "(npm install sockspec) so that npm installs its dependencies",
    );
  }
  const exe = path.join(dir, process.platform === "win32" ? "deno.exe" : "deno");
  if (fs.existsSync(exe)) return exe;
  // Installed with --ignore-scripts: the deno package's own installer finds the binary of
  // this platform's @deno/* package.
  try {
    return require(path.join(dir, "install_api.cjs")).runInstall();
  } catch (err) {
    fail(
      `the 'deno' npm package at ${dir} has no deno binary for ${process.platform}-` +
        `${process.arch} (${err && err.message ? err.message : err}); reinstall it without ` +
        "--ignore-scripts or --no-optional",
    );
  }
}

function run() {
  const child = spawn(denoExecutable(), [...DENO_FLAGS, MAIN, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { DENO_NO_UPDATE_CHECK: "1", ...process.env },
  });
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (signal) => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  for (const signal of signals) process.on(signal, forward);
  child.on("error", (err) => fail(`cannot run deno: ${err.message}`));
  child.on("exit", (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 2);
  });
}

run();
