/**
 * The web dashboard's files (`src/api/dashboard/`), served at `/ui/`:
 * read once through `fetch` beside this module, so that they come from a
 * checkout (`file:`) as from the published package (`https:`), then kept
 * in memory with an ETag, and sent with a Content-Security-Policy that
 * lets the page load nothing but the broker's own files.
 *
 * @module
 */

import type { Logger } from "../observe/logger.ts";
import { HttpError, json } from "./_http.ts";

/** Each file of the dashboard with its content type. */
const FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
  "app.js": "text/javascript; charset=utf-8",
  "api.js": "text/javascript; charset=utf-8",
  "dom.js": "text/javascript; charset=utf-8",
  "chart.js": "text/javascript; charset=utf-8",
  "overview.js": "text/javascript; charset=utf-8",
  "clients.js": "text/javascript; charset=utf-8",
  "subscriptions.js": "text/javascript; charset=utf-8",
  "retained.js": "text/javascript; charset=utf-8",
  "publish.js": "text/javascript; charset=utf-8",
  "watch.js": "text/javascript; charset=utf-8",
};

/** The policy of every dashboard file: the broker's own files only. */
export const DASHBOARD_CSP =
  "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

interface File {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

/** The dashboard's files of one API, read on the first request. */
export class DashboardFiles {
  readonly #logger: Logger | undefined;
  #files: Promise<Map<string, File>> | undefined;

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
  }

  /**
   * Answers a request for one file: 304 when the client has it.
   *
   * @param request The request, for its `If-None-Match`.
   * @param name The file's name, such as "app.js".
   */
  async serve(request: Request, name: string): Promise<Response> {
    if (!Object.hasOwn(FILES, name)) {
      throw new HttpError(404, `Cannot find /ui/${name}: no such file`);
    }
    let files: Map<string, File>;
    try {
      files = await (this.#files ??= this.#read());
    } catch (error) {
      // Read again on the next request.
      this.#files = undefined;
      this.#logger?.error("dashboard files not read", {
        error: String(error),
      });
      return json(
        { error: "Cannot serve the dashboard: its files could not be read" },
        503,
      );
    }
    const file = files.get(name)!;
    const headers = {
      "content-type": file.type,
      "cache-control": "no-cache",
      etag: file.etag,
      "content-security-policy": DASHBOARD_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    };
    if (request.headers.get("if-none-match") === file.etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(file.bytes, { headers });
  }

  async #read(): Promise<Map<string, File>> {
    const entries = await Promise.all(
      Object.entries(FILES).map(async ([name, type]) => {
        const url = new URL(`./dashboard/${name}`, import.meta.url);
        const response = await fetch(url);
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`${url.href}: status ${response.status}`);
        }
        const bytes = new Uint8Array(await response.arrayBuffer());
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", bytes),
        );
        const etag = `"${digest.subarray(0, 12).toBase64()}"`;
        return [name, { bytes, type, etag }] as const;
      }),
    );
    return new Map(entries);
  }
}
