/**
 * A small driver of headless Chromium over the DevTools protocol, through
 * Deno's WebSocket: launch it on a temporary profile, open a page, run
 * JavaScript in it, wait for what it shows, click and type through the
 * DOM, take screenshots, and collect console errors and exceptions. Close
 * it (or `await using`) to stop the browser by its PID and remove the
 * profile.
 *
 * @module
 */

/** Options of {@linkcode Browser.launch}. */
export interface LaunchOptions {
  /** Width and height of the page's viewport; 1280 × 900 by default. */
  readonly width?: number;
  readonly height?: number;
  /** Milliseconds to wait for the browser to start; 20,000 by default. */
  readonly timeout?: number;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

type EventHandler = (params: Record<string, unknown>) => void;

/** A headless Chromium and its DevTools connection. */
export class Browser implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  readonly #socket: WebSocket;
  readonly #closed: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  readonly #handlers = new Map<string, EventHandler[]>();
  readonly #width: number;
  readonly #height: number;
  #next = 1;
  #closing: Promise<void> | undefined;

  constructor(
    child: Deno.ChildProcess,
    profile: string,
    socket: WebSocket,
    size: { width: number; height: number },
  ) {
    this.#child = child;
    this.#profile = profile;
    this.#socket = socket;
    this.#width = size.width;
    this.#height = size.height;
    this.#closed = new Promise((resolve) =>
      socket.addEventListener("close", () => resolve(), { once: true })
    );
    socket.addEventListener("message", (event) => this.#receive(event.data));
  }

  /** Starts `chromium --headless` on a new profile and connects to it. */
  static async launch(options: LaunchOptions = {}): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "gmqtt-chromium-" });
    const width = options.width ?? 1280;
    const height = options.height ?? 900;
    const child = new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-component-update",
        "--mute-audio",
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    try {
      const deadline = Date.now() + (options.timeout ?? 20_000);
      let endpoint: string | undefined;
      while (endpoint === undefined) {
        if (exited) throw new Error("chromium exited before it listened");
        if (Date.now() > deadline) {
          throw new Error("chromium did not write DevToolsActivePort in time");
        }
        try {
          const [port, path] = (await Deno.readTextFile(
            `${profile}/DevToolsActivePort`,
          )).split("\n");
          if (port && path) endpoint = `ws://127.0.0.1:${port}${path}`;
        } catch {
          // Not written yet.
        }
        if (endpoint === undefined) await delay(50);
      }
      const socket = new WebSocket(endpoint);
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener("open", () => resolve(), { once: true });
        socket.addEventListener(
          "error",
          () => reject(new Error("DevTools connection failed")),
          { once: true },
        );
      });
      return new Browser(child, profile, socket, { width, height });
    } catch (error) {
      if (!exited) child.kill("SIGKILL");
      await status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  #receive(data: unknown): void {
    const message = JSON.parse(String(data)) as {
      id?: number;
      result?: Record<string, unknown>;
      error?: { message: string };
      method?: string;
      params?: Record<string, unknown>;
      sessionId?: string;
    };
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(message.error.message));
      else pending?.resolve(message.result ?? {});
      return;
    }
    const key = `${message.sessionId ?? ""} ${message.method}`;
    for (const handler of this.#handlers.get(key) ?? []) {
      handler(message.params ?? {});
    }
  }

  /** Sends one DevTools command, to a page's session when given. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({
        id,
        method,
        params,
        ...(sessionId === undefined ? {} : { sessionId }),
      }));
    });
  }

  /** Calls `handler` with each event of that name from a session. */
  on(sessionId: string, method: string, handler: EventHandler): void {
    const key = `${sessionId} ${method}`;
    const list = this.#handlers.get(key) ?? [];
    list.push(handler);
    this.#handlers.set(key, list);
  }

  /** Opens a new page (tab) at a URL, with the viewport of the launch. */
  async open(url: string): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await this.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this, sessionId as string);
    await page.start({ width: this.#width, height: this.#height });
    await page.goto(url);
    return page;
  }

  /** Closes the browser, stops its process and removes its profile. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Asked politely first; its process is stopped by PID if it lingers.
    this.send("Browser.close").catch(() => {});
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      delay(5000).then(() => false),
    ]);
    if (!exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await this.#child.status;
    if (this.#socket.readyState !== WebSocket.CLOSED) this.#socket.close();
    await this.#closed;
    for (const pending of this.#pending.values()) {
      pending.reject(new Error("The browser closed"));
    }
    this.#pending.clear();
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** One page of a {@linkcode Browser}. */
export class Page {
  readonly #browser: Browser;
  readonly #session: string;
  /** Console errors, uncaught exceptions and error log entries, in order. */
  readonly errors: string[] = [];

  constructor(browser: Browser, sessionId: string) {
    this.#browser = browser;
    this.#session = sessionId;
  }

  #send(
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    return this.#browser.send(method, params, this.#session);
  }

  /** Listens for errors and sets the viewport. */
  async start(size: { width: number; height: number }): Promise<void> {
    const browser = this.#browser;
    browser.on(this.#session, "Runtime.consoleAPICalled", (p) => {
      if (p.type !== "error" && p.type !== "assert") return;
      const args = p.args as { value?: unknown; description?: string }[];
      this.errors.push(
        `console.${p.type}: ${
          args.map((a) => a.description ?? String(a.value)).join(" ")
        }`,
      );
    });
    browser.on(this.#session, "Runtime.exceptionThrown", (p) => {
      const details = p.exceptionDetails as {
        text: string;
        exception?: { description?: string };
      };
      this.errors.push(
        `exception: ${details.exception?.description ?? details.text}`,
      );
    });
    browser.on(this.#session, "Log.entryAdded", (p) => {
      const entry = p.entry as {
        level: string;
        source: string;
        text: string;
        url?: string;
      };
      if (entry.level !== "error") return;
      this.errors.push(
        `${entry.source}: ${entry.text}${entry.url ? ` (${entry.url})` : ""}`,
      );
    });
    await this.#send("Runtime.enable");
    await this.#send("Log.enable");
    await this.#send("Page.enable");
    await this.#send("Emulation.setDeviceMetricsOverride", {
      width: size.width,
      height: size.height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  }

  /** Makes the page see a light or dark `prefers-color-scheme`. */
  async colorScheme(scheme: "light" | "dark"): Promise<void> {
    await this.#send("Emulation.setEmulatedMedia", {
      features: [{ name: "prefers-color-scheme", value: scheme }],
    });
  }

  /** Loads a URL and waits until the document has loaded. */
  async goto(url: string): Promise<void> {
    await this.#send("Page.navigate", { url });
    await this.waitFor(
      `document.readyState === "complete" && location.href !== "about:blank"`,
    );
  }

  /**
   * Evaluates an expression in the page (awaiting a promise) and returns
   * its value.
   */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const answer = await this.#send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    }) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (answer.exceptionDetails !== undefined) {
      const d = answer.exceptionDetails;
      throw new Error(
        `In the page: ${d.exception?.description ?? d.text}\n${expression}`,
      );
    }
    return answer.result.value as T;
  }

  /**
   * Polls an expression until it is truthy; returns its value.
   *
   * @throws {Error} If it is still falsy after `timeout` milliseconds.
   */
  async waitFor<T = unknown>(expression: string, timeout = 10_000): Promise<T> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await this.evaluate<T>(expression).catch(() => undefined);
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(`Still false after ${timeout} ms: ${expression}`);
      }
      await delay(50);
    }
  }

  /** Waits for an element whose text holds `text`; returns its text. */
  waitForText(
    selector: string,
    text: string,
    timeout = 10_000,
  ): Promise<string> {
    return this.waitFor<string>(
      `(() => {
        const t = document.querySelector(${
        JSON.stringify(selector)
      })?.textContent;
        return t !== undefined && t.includes(${JSON.stringify(text)}) ? t : "";
      })()`,
      timeout,
    );
  }

  /** The text of an element, or `undefined` if there is none. */
  text(selector: string): Promise<string | undefined> {
    return this.evaluate<string | undefined>(
      `document.querySelector(${
        JSON.stringify(selector)
      })?.textContent ?? undefined`,
    );
  }

  /** Focuses and clicks an element. */
  async click(selector: string): Promise<void> {
    await this.evaluate(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("No element " + ${JSON.stringify(selector)});
      el.focus();
      el.click();
    })()`);
  }

  /**
   * Sets the value of an input, text area or select as typing would, with
   * its input and change events.
   */
  async type(selector: string, value: string): Promise<void> {
    await this.evaluate(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("No element " + ${JSON.stringify(selector)});
      el.focus();
      el.value = ${JSON.stringify(value)};
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    })()`);
  }

  /** Submits a form as its submit button would. */
  async submit(selector: string): Promise<void> {
    await this.evaluate(`(() => {
      const form = document.querySelector(${JSON.stringify(selector)});
      if (!form) throw new Error("No form " + ${JSON.stringify(selector)});
      form.requestSubmit();
    })()`);
  }

  /** Takes a PNG screenshot of the viewport, writes it, returns its bytes. */
  async screenshot(path: string): Promise<Uint8Array> {
    const { data } = await this.#send("Page.captureScreenshot", {
      format: "png",
    });
    const bytes = Uint8Array.fromBase64(data as string);
    await Deno.writeFile(path, bytes);
    return bytes;
  }
}

/**
 * The number of distinct colours of a PNG (8-bit RGB or RGBA, as Chromium
 * writes them), decoded here: a blank page has one.
 */
export async function pngColours(png: Uint8Array): Promise<number> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => png[i] === b)) throw new Error("Not a PNG");
  let width = 0, height = 0, channels = 0;
  const data: Uint8Array[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      const header = new DataView(body.buffer, body.byteOffset, body.length);
      width = header.getUint32(0);
      height = header.getUint32(4);
      const depth = body[8], colourType = body[9], interlace = body[12];
      if (depth !== 8 || interlace !== 0) throw new Error("Unexpected PNG");
      channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
      if (channels === 0) throw new Error(`PNG colour type ${colourType}`);
    } else if (type === "IDAT") {
      data.push(body);
    }
    at += 12 + length;
  }
  const inflated = new Uint8Array(
    await new Response(
      new Blob(data as BlobPart[]).stream().pipeThrough(
        new DecompressionStream("deflate"),
      ),
    ).arrayBuffer(),
  );
  const stride = width * channels;
  let previous = new Uint8Array(stride);
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) {
    const start = y * (stride + 1);
    const filter = inflated[start];
    const line = inflated.slice(start + 1, start + 1 + stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels]! : 0;
      const b = previous[x]!;
      const c = x >= channels ? previous[x - channels]! : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[x] = (line[x]! + add) & 0xff;
    }
    for (let x = 0; x < stride; x += channels) {
      colours.add(
        (line[x]! << 16) | (line[x + 1]! << 8) | line[x + 2]!,
      );
    }
    previous = line;
  }
  return colours.size;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
