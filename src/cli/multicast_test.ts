import assert from "node:assert/strict";
import { UsageError } from "./_args.ts";
import { mcastClientMain, mcastServeMain } from "./multicast.ts";

Deno.test("multicast commands refuse what is not a group, port or TTL", async () => {
  await assert.rejects(mcastServeMain(["--group", "10.0.0.1"]), /IPv4 multicast group/);
  await assert.rejects(mcastServeMain(["--port", "70000"]), /--port must be/);
  await assert.rejects(mcastClientMain(["--group", "224.3.29"]), UsageError);
  await assert.rejects(mcastClientMain(["--ttl", "256"]), /--ttl must be/);
  await assert.rejects(mcastClientMain(["extra"]), UsageError);
  assert.equal(await mcastClientMain(["--help"]), 0);
});
