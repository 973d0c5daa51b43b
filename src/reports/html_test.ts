import assert from "node:assert/strict";
import { htmlReport } from "./html.ts";
import { Browser, CHROMIUM, MISSING, openPage } from "../testdata/chromium.ts";
import { summarize } from "./report.ts";
import { sampleReport } from "../testdata/sample_report.ts";
import { describeBytes } from "../case/evidence.ts";

Deno.test({
  name: CHROMIUM
    ? "HTML matrix in headless Chromium: cells counted, a failing cell's details read after a click"
    : `HTML matrix browser test SKIPPED: ${MISSING}`,
  ignore: !CHROMIUM,
  sanitizeResources: false,
  async fn() {
    const report = sampleReport();
    const dir = await Deno.makeTempDir({ prefix: "sockspec-html-test-" });
    const file = `${dir}/report.html`;
    await Deno.writeTextFile(file, htmlReport(report));
    const browser = await Browser.launch();
    try {
      const page = await openPage(browser, file);
      assert.equal(await page.evaluate(`document.documentElement.dataset.ready`), "1");
      // The matrix: one cell per result, one column per target, one row per case id.
      const total = summarize(report).total;
      assert.equal(await page.evaluate(`document.querySelectorAll("td.cell").length`), total);
      assert.equal(await page.evaluate(`document.querySelectorAll("th.target").length`), 3);
      const ids = new Set(report.targets.flatMap((t) => t.results.map((r) => r.id)));
      assert.equal(await page.evaluate(`document.querySelectorAll("tr.case").length`), ids.size);
      assert.equal(
        await page.evaluate(`document.querySelectorAll("td.na").length`),
        ids.size * 3 - total,
      );
      const counts = await page.evaluate(`(() => {
        const n = {};
        for (const c of document.querySelectorAll("td.cell")) {
          const k = [...c.classList].find((x) => x !== "cell");
          n[k] = (n[k] || 0) + 1;
        }
        return n;
      })()`);
      assert.deepEqual(counts, {
        pass: 6,
        fail: 2,
        error: 1,
        skip: 1,
        expected: 1,
        "unexpected-pass": 1,
        warn: 1,
        info: 1,
      });
      // Each verdict has its own colour.
      const colours = await page.evaluate(
        `[...new Set([...document.querySelectorAll("td.cell")].map((c) => [...c.classList].find((x) => x !== "cell") + "=" + getComputedStyle(c).backgroundImage + getComputedStyle(c).backgroundColor))]`,
      );
      assert.equal(
        new Set(colours.map((c: string) => c.split("=")[1])).size,
        8,
        colours.join("\n"),
      );

      // Click the failing cell of my-echo-tcp echo/tcp/2 and read the details.
      await page.click(`td.cell[data-t="0"][data-r="1"]`);
      const d = await page.evaluate(`(() => {
        const q = (f) => [...document.querySelectorAll('#details [data-field="' + f + '"]')].map((e) => e.textContent);
        return {
          label: q("label"), id: q("id"), target: q("target"), requirement: q("requirement"),
          message: q("message"), hex: q("hex"), repr: q("repr"), stderr: q("stderr"),
          transcript: q("transcript"), timing: q("timing"), notes: q("notes"),
          selected: document.querySelectorAll("td.cell.selected").length, hash: location.hash,
          scripts: document.scripts.length, injected: document.querySelectorAll("#details script, #details b").length,
        };
      })()`);
      assert.deepEqual(d.label, ["FAIL"]);
      assert.deepEqual(d.id, ["echo/tcp/2"]);
      assert.deepEqual(d.target, ["my-echo-tcp"]);
      assert.deepEqual(d.requirement, [
        'Requirement of echo/tcp/2: the echo comes back <exactly> & "byte-exact".',
      ]);
      assert.match(d.message[0], /^FAIL: echo differs: first difference at byte 16/);
      assert.equal(d.hex.length, 2);
      assert.equal(
        d.hex[0].split("\n")[0],
        "0000  54 68 69 73 20 69 73 20 74 68 65 20 6d 65 73 73  This is the mess",
      );
      assert.deepEqual(d.repr, [
        "b'This is the message.  It will be repeated.'",
        "b'This is the mess\\x00\\x1b[31m</script><b>|`x`|'",
      ]);
      assert.match(
        d.stderr[0],
        // deno-lint-ignore no-control-regex
        /OSError: \[Errno 32\] Broken pipe \x07 <script>alert\(1\)<\/script>/,
      );
      assert.match(d.transcript[0], /^starting up on 127\.0\.0\.1 port 10000/);
      assert.match(d.timing[0], /start1Ms12\.5 ms/);
      assert.match(d.notes[0], /target pid 4242/);
      assert.equal(d.selected, 1);
      assert.equal(d.hash, "#cell=0/echo%2Ftcp%2F2");
      assert.equal(d.scripts, 2, "only the report's own two script elements");
      assert.equal(d.injected, 0, "evidence text is never parsed as HTML");

      // The wire log as a timeline: events in order, the long run of reads folded, expandable.
      const tl = await page.evaluate(`(() => {
        const t = document.querySelector('#details [data-field="timeline"]');
        const rows = [...t.querySelectorAll(":scope > tbody > tr:not(.folded)")];
        return {
          rows: rows.map((r) => [...r.children].map((c) => c.textContent.trim()).slice(1, 4).join(" ")),
          fold: t.querySelector("details.fold summary").textContent,
          foldedVisible: t.querySelector("tr.folded").checkVisibility(),
        };
      })()`);
      assert.deepEqual(tl.rows.slice(0, 8), [
        "target 1 · start pid 4242, ready",
        "target 1 · stdout: waiting for a connection",
        "#1 · connect 127.0.0.1:10000",
        "#1 → write 42 B",
        "target 1 · stdout: received b'This is the mess'",
        "#1 ← read 16 B",
        "#1 ← read 23 B",
        "#1 ← read 16 B",
      ]);
      assert.match(tl.fold, /^… 4,094 more 16-byte reads \(65,504 B, until \+54\.950 ms\) …$/);
      assert.equal(tl.foldedVisible, false, "the folded run starts closed");
      assert.deepEqual(tl.rows.slice(-4), [
        "#1 ← eof",
        "#1 · close",
        "target 1 · stderr: OSError: [Errno 32] Broken pipe",
        "target 1 · exit pid 4242, exited with code 1",
      ]);
      await page.click(`#details details.fold summary`);
      // the toggle event comes as a task after the click: wait for it (bounded)
      let opened = false;
      for (let i = 0; i < 40 && !opened; i++) {
        opened = await page.evaluate(
          `document.querySelector("#details tr.folded").checkVisibility()`,
        );
        if (!opened) await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(opened, true, "a click expands the folded run");
      // The diff: the sentence, and the differing byte marked on each side.
      const diff = await page.evaluate(`(() => {
        const d = document.querySelector('#details [data-field="diff"]');
        return { text: d.querySelector("p").textContent, marks: [...d.querySelectorAll("mark")].map((m) => m.textContent) };
      })()`);
      assert.equal(
        diff.text,
        "echo: 42 bytes expected, 39 came: the first difference is at offset 16: expected b'age.  It will be', got b'\\x00\\x1b[31m</script><'",
      );
      assert.deepEqual(diff.marks, ["61", "00"]);
      const extra = await page.evaluate(
        `["hint", "rerun"].map((f) => document.querySelector('#details [data-field="' + f + '"]')?.textContent)`,
      );
      assert.deepEqual(extra, [
        "send back exactly the bytes each recv returned, not a re-encoded string",
        "deno task sockspec check --target /srv/targets/my-echo-tcp.json echo/tcp/2 --seed 12345",
      ]);
      // Everything in the panel fits its width (no dump wider than the panel).
      const overflow = await page.evaluate(`(() => {
        const d = document.getElementById("details");
        return [...d.querySelectorAll("pre, table")].filter((e) => e.offsetParent && e.scrollWidth > d.clientWidth).length;
      })()`);
      assert.equal(overflow, 0);

      // An unexpected pass explains itself.
      await page.click(`td.cell[data-t="2"][data-r="1"]`);
      const x = await page.evaluate(
        `[document.querySelector('#details [data-field="label"]').textContent, document.querySelector('#details [data-field="expectation"]').textContent]`,
      );
      assert.deepEqual(x, ["XPASS", "UNEXPECTED: expected FAIL, got PASS"]);

      // The filter hides rows where every result is PASS or SKIP.
      await page.click("#only-problems");
      const shown = await page.evaluate(
        `[...document.querySelectorAll("tr.case")].filter((r) => r.offsetParent !== null).map((r) => r.dataset.case)`,
      );
      assert.ok(
        shown.length < ids.size && shown.includes("echo/tcp/2") && !shown.includes("echo/unix/1"),
        shown.join(","),
      );

      // Self-contained: nothing but the file itself was loaded.
      assert.deepEqual(page.requests, [`file://${file}`]);
      const png = await page.screenshot();
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

      // A link with #cell=... opens with that cell selected.
      const linked = await openPage(browser, file + "#cell=1/echo%2Funix%2F10");
      assert.equal(
        await linked.evaluate(`document.querySelector('#details [data-field="id"]').textContent`),
        "echo/unix/10",
      );
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "docs screenshot (set SOCKSPEC_SCREENSHOT=docs/img/html-report.png and SOCKSPEC_SCREENSHOT_REPORT=report.json)",
  ignore: !CHROMIUM || !Deno.env.get("SOCKSPEC_SCREENSHOT"),
  sanitizeResources: false,
  async fn() {
    const { parseJsonReport } = await import("./json.ts");
    const source = Deno.env.get("SOCKSPEC_SCREENSHOT_REPORT");
    const report = source
      ? parseJsonReport(await Deno.readTextFile(source), source)
      : sampleReport();
    const dir = await Deno.makeTempDir({ prefix: "sockspec-html-shot-" });
    const browser = await Browser.launch();
    try {
      await Deno.writeTextFile(`${dir}/report.html`, htmlReport(report));
      const select = Deno.env.get("SOCKSPEC_SCREENSHOT_CELL") ?? "";
      const page = await openPage(browser, `${dir}/report.html${select ? `#cell=${select}` : ""}`);
      await Deno.writeFile(Deno.env.get("SOCKSPEC_SCREENSHOT")!, await page.screenshot());
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: CHROMIUM
    ? "HTML in headless Chromium: a long hex dump shows its head and tail, expands, and fits a narrow panel"
    : `HTML hex dump browser test SKIPPED: ${MISSING}`,
  ignore: !CHROMIUM,
  sanitizeResources: false,
  async fn() {
    const report = sampleReport();
    const all = new Uint8Array(256).map((_, i) => i);
    report.targets[0].results[1].evidence.bytes = [describeBytes("received", all)];
    const dir = await Deno.makeTempDir({ prefix: "sockspec-html-test-" });
    const file = `${dir}/report.html`;
    await Deno.writeTextFile(file, htmlReport(report));
    const browser = await Browser.launch();
    try {
      for (const [width, perLine] of [[1280, 16], [420, 8]] as const) {
        const page = await openPage(browser, `${file}#cell=0/echo%2Ftcp%2F2`, {
          width,
          height: 800,
        });
        const dump = await page.evaluate(`(() => {
          const d = document.querySelector('#details [data-field="hex"]');
          const pres = d.querySelectorAll("pre");
          const panel = document.getElementById("details");
          return {
            short: pres[0].textContent.split("\\n"),
            summary: d.querySelector("summary").textContent,
            fullVisible: pres[1].checkVisibility(),
            fits: [...panel.querySelectorAll('[data-field="hex"] pre, pre[data-field="hex"], [data-field="repr"]')].every((p) => !p.checkVisibility() || p.scrollWidth <= panel.clientWidth),
          };
        })()`);
        const lines = 256 / perLine;
        assert.equal(dump.short.length, 7, dump.short.join("\n"));
        assert.match(dump.short[0], /^0000 {2}00 01 02 03/);
        assert.equal(dump.short[4], `  ⋯ ${lines - 6} more lines ⋯`);
        assert.match(
          dump.short[6],
          new RegExp(`^${(256 - perLine).toString(16).padStart(4, "0")}  `),
        );
        assert.equal(dump.summary, `all ${lines} lines`);
        assert.equal(dump.fullVisible, false);
        assert.equal(dump.fits, true, `the dump fits the panel at ${width} px`);
        await page.click(`#details [data-field="hex"] summary`);
        assert.equal(
          await page.evaluate(
            `document.querySelectorAll('#details [data-field="hex"] pre')[1].textContent.split("\\n").length`,
          ),
          lines,
        );
      }
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("HTML: an interrupted run names the signal, and a target that left processes is named", () => {
  const quiet = htmlReport(sampleReport());
  assert.doesNotMatch(quiet, /class="interrupted"|class="left"/);
  const report = { ...sampleReport(), interrupted: true };
  report.interruption = { signal: "SIGTERM", exitCode: 143 };
  report.targets[1].results[0].leftProcesses = 2;
  report.targets[1].results[1].leftProcesses = 1;
  const html = htmlReport(report);
  assert.match(html, /The run was interrupted by SIGTERM: this report is partial\./);
  assert.ok(
    html.includes(
      `${
        report.targets[1].name
      } left 3 process(es) running in 2 case(s); teardown killed them (see each case&#39;s evidence).`,
    ),
    "the left-behind line",
  );
});
