/**
 * A headless Chromium for the HTML report's browser test and the docs screenshot script,
 * driven over the DevTools protocol (a WebSocket from Deno): {@linkcode Browser.launch}
 * starts it in its own session (so every helper process is ended with it), and
 * {@linkcode openPage} opens a file and returns helpers to evaluate, click and screenshot.
 *
 * @example
 * ```ts
 * import { Browser, CHROMIUM, openPage } from "./chromium.ts";
 * if (CHROMIUM) {
 *   const browser = await Browser.launch();
 *   try {
 *     const page = await openPage(browser, "/tmp/report.html");
 *     await Deno.writeFile("shot.png", await page.screenshot());
 *   } finally {
 *     await browser.close();
 *   }
 * }
 * ```
 * @module
 */

import { commandExists } from "../harness/manifest.ts";
import { sessionMembersSync } from "../net/proc.ts";

/** The Chromium command on PATH, if any. */
export const CHROMIUM: string | undefined = [
  "chromium",
  "chromium-browser",
  "google-chrome",
  "google-chrome-stable",
].find(
  (c) => commandExists(c),
);
/** Why the browser tests cannot run. */
export const MISSING =
  "no chromium on PATH: install Debian's chromium package (apt-get install chromium)";

/** A headless Chromium driven over the DevTools protocol (a WebSocket from Deno). */
export class Browser {
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
    for (let i = 0; i < 50 && sessionMembersSync(pid).length; i++) {
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
export async function openPage(
  browser: Browser,
  file: string,
  size = { width: 1280, height: 800 },
) {
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
    width: size.width,
    height: size.height,
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
  /** A PNG of the viewport, or of the element `selector` matches (all of it, even beyond the viewport). */
  const screenshot = async (selector?: string): Promise<Uint8Array> => {
    const clip = selector
      ? await evaluate(`(() => {
        const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect();
        return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height, scale: 1 };
      })()`)
      : undefined;
    const { data } = await browser.send("Page.captureScreenshot", {
      format: "png",
      ...(clip ? { clip, captureBeyondViewport: true } : {}),
    }, sessionId);
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  };
  return { evaluate, click, screenshot, requests, sessionId };
}
