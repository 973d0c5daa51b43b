import assert from "node:assert/strict";
import { htmlReport } from "./html.ts";
import { commandExists } from "../harness/manifest.ts";
import { sessionMembers } from "../net/proc.ts";
import { summarize } from "./report.ts";
import { sampleReport } from "../testdata/sample_report.ts";

const CHROMIUM = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"].find(
  (c) => commandExists(c),
);
const MISSING = "no chromium on PATH: install Debian's chromium package (apt-get install chromium)";

/** A headless Chromium driven over the DevTools protocol (a WebSocket from Deno). */
class Browser {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #listeners:
    ((msg: { method: string; params: Record<string, unknown>; sessionId?: string }) => void)[] = [];

  private constructor(
    ws: WebSocket,
    readonly child: Deno.ChildProcess,
    readonly dir: string,
    readonly stderr: () => string,
  ) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result);
      } else {
        for (const l of this.#listeners) l(msg);
      }
    };
  }

  static async launch(): Promise<Browser> {
    const dir = await Deno.makeTempDir({ prefix: "sockspec-chromium-" });
    // setsid: Chromium and its helpers get their own session, so all of them can be found and ended.
    const child = new Deno.Command("setsid", {
      args: [
        CHROMIUM!,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        `--user-data-dir=${dir}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let err = "";
    (async () => {
      for await (const chunk of child.stderr) {
        err = (err + new TextDecoder().decode(chunk)).slice(-4000);
      }
    })().catch(() => {});
    let exited = false;
    child.status.then(() => (exited = true));
    const deadline = Date.now() + 30_000;
    let port = "";
    while (Date.now() < deadline && !exited) {
      try {
        port = await Deno.readTextFile(`${dir}/DevToolsActivePort`);
        if (port.includes("\n")) break;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const [portLine, path] = port.trim().split("\n");
    if (!path) {
      await Browser.#end(child, dir);
      throw new Error(`chromium did not open its DevTools port within 30 s; stderr: ${err}`);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${portLine}${path}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("DevTools WebSocket did not open in 10 s")),
        10_000,
      );
      ws.onopen = () => (clearTimeout(timer), resolve());
      ws.onerror = () => (clearTimeout(timer), reject(new Error("DevTools WebSocket failed")));
    });
    return new Browser(ws, child, dir, () => err);
  }

  // deno-lint-ignore no-explicit-any
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within 15 s`));
      }, 15_000);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  on(
    listener: (
      msg: { method: string; params: Record<string, unknown>; sessionId?: string },
    ) => void,
  ) {
    this.#listeners.push(listener);
  }

  waitFor(method: string, sessionId: string, ms = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${ms} ms`)), ms);
      this.on((msg) => {
        if (msg.method === method && msg.sessionId === sessionId) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send("Browser.close"), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      // the browser may close the socket before answering
    }
    this.#ws.close();
    await Browser.#end(this.child, this.dir);
  }

  static async #end(child: Deno.ChildProcess, dir: string): Promise<void> {
    const pid = child.pid;
    const gone = await Promise.race([
      child.status.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!gone) {
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    }
    // Helpers Chromium left in its session.
    for (let i = 0; i < 50 && sessionMembers(pid).length; i++) {
      if (i === 10) {
        try {
          Deno.kill(-pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Opens `file` in a fresh page of `browser` at 1280×800; returns an evaluator. */
async function openPage(browser: Browser, file: string) {
  const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await browser.send("Target.attachToTarget", { targetId, flatten: true });
  const requests: string[] = [];
  browser.on((msg) => {
    if (msg.method === "Network.requestWillBeSent" && msg.sessionId === sessionId) {
      requests.push((msg.params.request as { url: string }).url);
    }
  });
  await browser.send("Page.enable", {}, sessionId);
  await browser.send("Network.enable", {}, sessionId);
  await browser.send("Emulation.setDeviceMetricsOverride", {
    width: 1280,
    height: 800,
    deviceScaleFactor: 1,
    mobile: false,
  }, sessionId);
  const loaded = browser.waitFor("Page.loadEventFired", sessionId);
  await browser.send("Page.navigate", { url: `file://${file}` }, sessionId);
  await loaded;
  // deno-lint-ignore no-explicit-any
  const evaluate = async (expression: string): Promise<any> => {
    const { result, exceptionDetails } = await browser.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
    }, sessionId);
    if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  };
  const click = async (selector: string) => {
    const box = await evaluate(`(() => {
      const e = document.querySelector(${JSON.stringify(selector)});
      e.scrollIntoView({ block: "center" });
      const r = e.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await browser.send("Input.dispatchMouseEvent", {
        type,
        x: box.x,
        y: box.y,
        button: "left",
        clickCount: 1,
      }, sessionId);
    }
  };
  const screenshot = async (): Promise<Uint8Array> => {
    const { data } = await browser.send("Page.captureScreenshot", { format: "png" }, sessionId);
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  };
  return { evaluate, click, screenshot, requests, sessionId };
}

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
