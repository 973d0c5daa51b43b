/**
 * Renders one failing case's HTML detail (its message, hint, re-run command, first
 * difference and wire log timeline) and saves a screenshot of the detail panel with
 * headless Chromium, for the docs (`docs/img/failing-case.png`, shown in docs/reports.md).
 * Not a test.
 *
 *     deno run --allow-run --allow-read --allow-write --allow-net --allow-env \
 *       scripts/screenshot_report.ts [--target MANIFEST] [--case ID] [--seed N] [--out PNG]
 *
 * Paths are relative to the repository root.
 *
 * It really runs the case against the target (by default the broken fixture that drops a
 * read shorter than its chunk size, `fixtures/broken/echo-drop-last-chunk.json`). Without
 * `--case` it runs the tutorial client's exchange: the 42-byte message out, read back with
 * the shared verifier `readExpected` (`src/checks/expect.ts`), which records the first
 * difference; with `--case ID` it runs that case from the catalogue instead. The run must
 * give FAIL or ERROR, or the script exits 1. It needs `chromium` on PATH (Debian:
 * `apt-get install chromium`) and `python3` for the fixture.
 *
 * @example
 * ```ts ignore
 * // deno run -A scripts/screenshot_report.ts --out docs/img/failing-case.png
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { allCases } from "../conformance/mod.ts";
import { type Case, pass } from "../src/case/case.ts";
import { readExpected } from "../src/checks/expect.ts";
import { loadManifest } from "../src/harness/manifest.ts";
import { runAll } from "../src/harness/runner.ts";
import { htmlReport } from "../src/reports/html.ts";
import { writeAll } from "../src/net/sockets.ts";
import { Browser, CHROMIUM, MISSING, openPage } from "../src/testdata/chromium.ts";

const root = new URL("../", import.meta.url).pathname;

/** The tutorial client's exchange, checked with the shared verifier. */
const tutorialExchange: Case = {
  id: "docs/tutorial/1",
  requirement: "The tutorial message comes back byte-exact (the tutorial client's exchange).",
  level: "MUST",
  kind: "stream-echo",
  transport: "tcp",
  hint: "echo every chunk recv returns, the short last one too",
  async run(ctx) {
    const server = await ctx.start();
    const conn = await ctx.connect(server.address("tcp"));
    const message = new TextEncoder().encode("This is the message.  It will be repeated.");
    await writeAll(conn, ctx.evidence.sent(message), ctx.timeoutMs);
    await readExpected(ctx, conn, message, "the echo");
    return pass("the echo is byte-exact");
  },
};

async function main(args: string[]): Promise<number> {
  // paths are relative to the repository root, so the re-run command shown is too
  Deno.chdir(root);
  const { values } = parseArgs({
    args,
    options: {
      target: { type: "string", default: "fixtures/broken/echo-drop-last-chunk.json" },
      case: { type: "string" },
      seed: { type: "string", default: "1" },
      out: { type: "string", default: "docs/img/failing-case.png" },
      width: { type: "string", default: "1400" },
      height: { type: "string", default: "1500" },
    },
  });
  if (!CHROMIUM) {
    console.error(`screenshot_report: ${MISSING}`);
    return 2;
  }
  const target = await loadManifest(values.target);
  const c = values.case ? allCases.find((x) => x.id === values.case) : tutorialExchange;
  if (!c) {
    console.error(`screenshot_report: no case ${values.case}; see sockspec check --list`);
    return 2;
  }
  const report = await runAll([target], [c], { seed: Number(values.seed) });
  const result = report.targets[0].results[0];
  if (!result || (result.verdict !== "FAIL" && result.verdict !== "ERROR")) {
    console.error(
      `screenshot_report: ${c.id} on ${target.name} gave ${
        result?.verdict ?? "no result"
      }; pick a failing case`,
    );
    return 1;
  }
  console.error(`${c.id} on ${target.name}: ${result.verdict}: ${result.message}`);
  const dir = await Deno.makeTempDir({ prefix: "sockspec-shot-" });
  const browser = await Browser.launch();
  try {
    await Deno.writeTextFile(`${dir}/report.html`, htmlReport(report));
    const page = await openPage(
      browser,
      `${dir}/report.html#cell=0/${encodeURIComponent(c.id)}`,
      { width: Number(values.width), height: Number(values.height) },
    );
    // open the first folded run, so the picture shows what it holds
    await page.evaluate(
      `document.querySelector("#details details.fold")?.setAttribute("open", "")`,
    );
    await new Promise((r) => setTimeout(r, 200)); // its toggle event shows the folded rows
    // the whole panel, not just what fits the window
    await page.evaluate(
      `Object.assign(document.getElementById("details").style, { maxHeight: "none", position: "static" })`,
    );
    const png = await page.screenshot("#details");
    await Deno.writeFile(values.out, png);
    console.error(`wrote ${values.out} (${png.length} bytes)`);
  } finally {
    await browser.close();
    await Deno.remove(dir, { recursive: true });
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
