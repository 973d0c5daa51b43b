#!/usr/bin/env node
// A user's stream echo server, in plain Node.js: the server that examples/my_server_test.ts
// and examples/echo_server.json put under sockspec.
//
//   node echo_server.mjs --tcp HOST PORT    echo over TCP
//   node echo_server.mjs --unix PATH        echo over a Unix socket (a stale node is removed first)
//
// Each connection's bytes are written back as they arrive; when the client shuts down its
// write side the server ends the connection. SIGTERM and SIGINT close the server (and remove
// the socket node) and exit 0.
import { createServer } from "node:net";
import { rmSync } from "node:fs";

const [mode, ...rest] = process.argv.slice(2);
const server = createServer({ allowHalfOpen: true }, (socket) => {
  socket.on("data", (chunk) => socket.write(chunk));
  socket.on("end", () => socket.end());
  socket.on("error", () => socket.destroy());
});
server.on("error", (err) => {
  console.error(`echo_server: ${err.message}`);
  process.exit(1);
});

let where;
if (mode === "--tcp" && rest.length === 2) {
  where = `${rest[0]}:${rest[1]}`;
  server.listen({ host: rest[0], port: Number(rest[1]) });
} else if (mode === "--unix" && rest.length === 1) {
  where = rest[0];
  rmSync(rest[0], { force: true });
  server.listen({ path: rest[0] });
} else {
  console.error("usage: echo_server.mjs --tcp HOST PORT | --unix PATH");
  process.exit(2);
}
server.on("listening", () => console.log(`listening on ${where}`));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    if (mode === "--unix") rmSync(where, { force: true });
    process.exit(0);
  });
}
