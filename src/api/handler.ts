/**
 * The HTTP API as a plain `Request` to `Response` function: monitor, manage
 * and publish through a server's library API.
 *
 * @module
 */

import type { Logger } from "../observe/logger.ts";
import { publishErrorField } from "../protocol/publish_check.ts";
import { authorizer, type BasicCredentials } from "./_auth.ts";
export type { BasicCredentials };
import {
  publishOptions,
  subscriptionsOf,
  topicFiltersOf,
  topicName,
} from "./_input.ts";
import {
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../observe/prometheus.ts";
import type { Server } from "../server/server.ts";
import { VERSION } from "../observe/sys.ts";
import {
  badField,
  booleanField,
  errorResponse,
  HttpError,
  json,
  queryOf,
  quote,
  readJsonObject,
  requiredString,
} from "./_http.ts";
import {
  clientView,
  listClients,
  listRetained,
  listSessions,
  listSubscriptions,
  unknownClient,
} from "./_queries.ts";
import { sessionView, subscriptionView } from "./_views.ts";
import { DashboardFiles } from "./_dashboard.ts";
import { StatsFeed } from "./_stats.ts";
import { WatchStreams } from "./_watch.ts";

/** Options for {@linkcode apiHandler}. */
export interface ApiOptions {
  /** Bearer token a request must carry; none by default. */
  token?: string;
  /** Basic credentials a request may carry instead; none by default. */
  basic?: BasicCredentials;
  /** Largest request body, in bytes; 1 MiB by default. */
  maxBodySize?: number;
  /** When the broker started, in milliseconds; when the handler was made by default. */
  startedAt?: number;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
  /** Where unexpected errors are reported; nowhere by default. */
  logger?: Logger;
  /**
   * Whether `serveApi()` may listen on an address other than loopback
   * without `token` or `basic`; false by default, so anyone who can reach
   * the address cannot manage the broker by mistake.
   */
  allowUnauthenticated?: boolean;
  /**
   * Whether `/` and `/ui/` serve the web dashboard; true by default. Its
   * files ask for no credentials (they hold no data); every call the page
   * makes does.
   */
  dashboard?: boolean;
  /**
   * Watch streams (`GET /api/v1/watch`) open at once, 8 by default; one
   * more gets 429.
   */
  maxWatchStreams?: number;
  /**
   * Messages a watch stream sends per second at most, 50 by default; the
   * rest are counted and reported as skipped.
   */
  watchRate?: number;
}

type Handler = (
  request: Request,
  url: URL,
  param: string,
) => Response | Promise<Response>;
type Route = Partial<Record<"GET" | "POST" | "DELETE", Handler>>;

/**
 * Makes the HTTP API of a server as a request handler, to serve with
 * `Deno.serve` (see {@linkcode serveApi}) or mount in an existing HTTP
 * server. Every answer is JSON except `GET /metrics` (Prometheus text),
 * the event streams (`text/event-stream`) and the dashboard's files. When
 * `token` or `basic` is set, every path but `/healthz` and the dashboard's
 * files asks for it. Bad input gets a 4xx whose JSON body names the bad
 * `field`.
 *
 * | method and path                        | what it does                          |
 * | -------------------------------------- | ------------------------------------- |
 * | `GET /healthz`                         | liveness                              |
 * | `GET /metrics`                         | Prometheus metrics                    |
 * | `GET /api/v1/broker`                   | version, uptime, listeners            |
 * | `GET /api/v1/clients`                  | clients, paginated and filtered       |
 * | `GET /api/v1/clients/{id}`             | one client                            |
 * | `POST /api/v1/clients/{id}/kick`       | disconnect it (`discardSession`)      |
 * | `GET /api/v1/clients/{id}/subscriptions` | its subscriptions                   |
 * | `GET /api/v1/sessions`                 | sessions, offline ones included       |
 * | `GET /api/v1/sessions/{id}`            | one session and its queue             |
 * | `DELETE /api/v1/sessions/{id}`         | disconnect and discard the session    |
 * | `GET /api/v1/subscriptions`            | by `clientId`, matching `topic`, `search` |
 * | `POST /api/v1/subscribe`               | subscribe a client id                 |
 * | `POST /api/v1/unsubscribe`             | unsubscribe a client id               |
 * | `GET /api/v1/retained`                 | by `filter`, or one `topic`           |
 * | `DELETE /api/v1/retained?topic=`       | delete one                            |
 * | `POST /api/v1/publish`                 | publish a message                     |
 * | `GET /api/v1/stats/stream`             | overview and rates, once a second     |
 * | `GET /api/v1/watch?filter=`            | messages routed to a filter, live     |
 * | `GET /`, `GET /ui/`                    | the web dashboard                     |
 *
 * @example Ask a server for its health and metrics without a socket
 * ```ts
 * import { apiHandler, Server } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const server = new Server();
 * const handle = apiHandler(server, { token: "s3cret" });
 * const health = await handle(new Request("http://localhost/healthz"));
 * strictEqual(health.status, 200);
 * await health.body?.cancel();
 * const denied = await handle(new Request("http://localhost/metrics"));
 * strictEqual(denied.status, 401);
 * await denied.body?.cancel();
 * const metrics = await handle(
 *   new Request("http://localhost/metrics", {
 *     headers: { authorization: "Bearer s3cret" },
 *   }),
 * );
 * strictEqual(metrics.status, 200);
 * await metrics.text();
 * ```
 * @param server The server to show and act on.
 * @param options Credentials, limits and clock.
 * @returns A function answering one request.
 * @throws {TypeError} If the options carry a `hostname` (as those of
 * `serveApi()` do) that is not loopback, with neither credentials nor
 * `allowUnauthenticated`.
 * @throws {RangeError} If `maxWatchStreams` or `watchRate` is not a
 * positive integer.
 */
export function apiHandler(
  server: Server,
  options: ApiOptions = {},
): (request: Request) => Promise<Response> {
  // serveApi() hands its own options over, the address it binds included.
  const hostname = (options as { hostname?: unknown }).hostname;
  if (typeof hostname === "string") checkApiExposure(hostname, options);
  const now = options.now ?? Date.now;
  const startedAt = options.startedAt ?? server.startedAt ?? now();
  const maxBodySize = options.maxBodySize ?? 1 << 20;
  const body = (request: Request) => readJsonObject(request, maxBodySize);
  const authorized = authorizer(options);
  const dashboard = options.dashboard ?? true;
  const files = new DashboardFiles(options.logger);
  const stats = new StatsFeed(server, { now, startedAt });
  const watches = new WatchStreams(server, {
    maxStreams: positive(options.maxWatchStreams, "maxWatchStreams", 8),
    rate: positive(options.watchRate, "watchRate", 50),
  });

  const routes: [RegExp, Route][] = [
    [/^\/healthz$/, { GET: () => json({ status: "ok" }) }],
    [/^\/metrics$/, {
      GET: () =>
        new Response(
          renderPrometheus(server.metrics(), {
            memory: Deno.memoryUsage(),
            startTime: startedAt,
          }),
          { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } },
        ),
    }],
    [/^\/api\/v1\/broker$/, {
      GET: () =>
        json({
          name: "gmqtt",
          version: VERSION,
          startedAt: new Date(startedAt).toISOString(),
          uptime: Math.max(0, Math.floor((now() - startedAt) / 1000)),
          listeners: server.addresses,
        }),
    }],
    [/^\/api\/v1\/clients$/, { GET: (_, url) => listClients(server, url) }],
    [/^\/api\/v1\/clients\/([^/]+)$/, {
      GET: (_, __, id) => json(clientView(server, id)),
    }],
    [/^\/api\/v1\/clients\/([^/]+)\/kick$/, {
      POST: async (request, url, id) => {
        const input = { ...queryOf(url), ...await body(request) };
        const discard = booleanField(input, "discardSession", "kick") ?? false;
        if (!await server.kick(id, { discardSession: discard })) {
          throw unknownClient(id);
        }
        return json({ clientId: id, kicked: true, discardSession: discard });
      },
    }],
    [/^\/api\/v1\/clients\/([^/]+)\/subscriptions$/, {
      GET: (_, __, id) => {
        if (server.session(id) === undefined) throw unknownClient(id);
        return json(
          server.subscriptions({ clientId: id }).map((s) =>
            subscriptionView(s, s.clientId)
          ),
        );
      },
    }],
    [/^\/api\/v1\/sessions$/, { GET: (_, url) => listSessions(server, url) }],
    [/^\/api\/v1\/sessions\/([^/]+)$/, {
      GET: (_, __, id) => {
        const session = server.session(id);
        if (session === undefined) throw unknownClient(id);
        return json(sessionView(session));
      },
      DELETE: async (_, __, id) => {
        if (!await server.kick(id, { discardSession: true })) {
          throw unknownClient(id);
        }
        return json({ clientId: id, discarded: true });
      },
    }],
    [/^\/api\/v1\/subscriptions$/, {
      GET: (_, url) => listSubscriptions(server, url),
    }],
    [/^\/api\/v1\/subscribe$/, {
      POST: async (request) => subscribe(server, await body(request)),
    }],
    [/^\/api\/v1\/unsubscribe$/, {
      POST: async (request) => unsubscribe(server, await body(request)),
    }],
    [/^\/api\/v1\/retained$/, {
      GET: (_, url) => listRetained(server, url),
      DELETE: (_, url) => {
        const topic = topicName(queryOf(url), "topic", "delete retained");
        if (!server.deleteRetained(topic)) {
          throw new HttpError(
            404,
            `Cannot delete retained message: none on topic ${quote(topic)}`,
            { field: "topic" },
          );
        }
        return json({ topic, deleted: true });
      },
    }],
    [/^\/api\/v1\/publish$/, {
      POST: async (request) => {
        try {
          await server.publish(publishOptions(await body(request)));
        } catch (error) {
          const field = publishErrorField(error);
          if (field === undefined) throw error;
          throw badField(field, (error as Error).message);
        }
        return json({ published: true });
      },
    }],
    [/^\/api\/v1\/stats\/stream$/, { GET: () => stats.open() }],
    [/^\/api\/v1\/watch$/, {
      GET: (_, url) =>
        watches.open(requiredString(queryOf(url), "filter", "watch")),
    }],
  ];

  return async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (dashboard && isDashboardPath(url.pathname)) {
        return await serveDashboard(request, url.pathname, files);
      }
      const path = url.pathname.length > 1 && url.pathname.endsWith("/")
        ? url.pathname.slice(0, -1)
        : url.pathname;
      if (path !== "/healthz" && !await authorized(request)) {
        throw new HttpError(
          401,
          "Cannot authorize: credentials are missing or wrong",
          {
            field: "authorization",
            headers: {
              "www-authenticate": options.basic !== undefined
                ? 'Basic realm="gmqtt", charset="UTF-8"'
                : 'Bearer realm="gmqtt"',
            },
          },
        );
      }
      for (const [pattern, route] of routes) {
        const match = pattern.exec(path);
        if (match === null) continue;
        const method = request.method === "HEAD" ? "GET" : request.method;
        const handler = route[method as keyof Route];
        if (handler === undefined) {
          throw new HttpError(
            405,
            `Cannot ${request.method} ${path}: use ${
              Object.keys(route).join(", ")
            }`,
            { headers: { allow: Object.keys(route).join(", ") } },
          );
        }
        let param = "";
        if (match[1] !== undefined) {
          try {
            param = decodeURIComponent(match[1]);
          } catch {
            throw badField(
              "clientId",
              "Cannot read client id: bad escape in path",
            );
          }
        }
        return await handler(request, url, param);
      }
      throw new HttpError(404, `Cannot find ${path}: no such endpoint`);
    } catch (error) {
      await request.body?.cancel().catch(() => {});
      if (error instanceof HttpError) return errorResponse(error);
      options.logger?.error("api request failed", {
        method: request.method,
        url: request.url,
        error: String(error),
      });
      return json({ error: "Cannot answer: internal error" }, 500);
    }
  };
}

function isDashboardPath(path: string): boolean {
  return path === "/" || path === "/ui" || path.startsWith("/ui/");
}

/** `/` and `/ui` lead to `/ui/`, where the files are, by relative links. */
function serveDashboard(
  request: Request,
  path: string,
  files: DashboardFiles,
): Response | Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    throw new HttpError(405, `Cannot ${request.method} ${path}: use GET`, {
      headers: { allow: "GET" },
    });
  }
  if (path === "/" || path === "/ui") {
    return new Response(null, { status: 302, headers: { location: "ui/" } });
  }
  const name = path.slice("/ui/".length);
  return files.serve(request, name === "" ? "index.html" : name);
}

/** A positive integer option, or its default. */
function positive(
  value: number | undefined,
  name: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot serve the API: ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

/**
 * Refuses to serve the API on an address other than loopback without
 * credentials, unless `allowUnauthenticated`. Internal: `serveApi()` runs it
 * through {@linkcode apiHandler}; not exported from `mod.ts`.
 *
 * @param hostname The address the API is to listen on.
 * @param options The API's credentials and `allowUnauthenticated`.
 * @throws {TypeError} If the API would be open to anyone on the network.
 */
export function checkApiExposure(hostname: string, options: ApiOptions): void {
  if (
    options.allowUnauthenticated === true || options.token !== undefined ||
    options.basic !== undefined || isLoopback(hostname)
  ) return;
  throw new TypeError(
    `Cannot serve the API on ${
      JSON.stringify(hostname)
    } without credentials: set token or basic, listen on 127.0.0.1, or set allowUnauthenticated`,
  );
}

/**
 * Whether an address reaches only this machine: `localhost`, 127.0.0.0/8
 * or `::1`. Internal, not exported from `mod.ts`.
 *
 * @param hostname An address or host name, IPv6 with or without brackets.
 * @returns Whether it is a loopback address.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost" || host === "::1") return true;
  if (/^(?:0{1,4}:){7}0{0,3}1$/.test(host)) return true;
  const v4 = host.replace(/^::ffff:/, "");
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function sessionFor(
  server: Server,
  input: Record<string, unknown>,
  what: string,
): string {
  const clientId = requiredString(input, "clientId", what);
  if (server.session(clientId) === undefined) throw unknownClient(clientId);
  return clientId;
}

function subscribe(server: Server, input: Record<string, unknown>): Response {
  const subscriptions = subscriptionsOf(input);
  const clientId = sessionFor(server, input, "subscribe");
  const created = server.subscribe(clientId, subscriptions);
  return json({
    clientId,
    subscriptions: subscriptions.map((s, i) => ({
      topic: s.topicFilter,
      qos: s.qos,
      created: created[i] ?? false,
    })),
  });
}

function unsubscribe(server: Server, input: Record<string, unknown>): Response {
  const raw = topicFiltersOf(input);
  const clientId = sessionFor(server, input, "unsubscribe");
  const removed = server.unsubscribe(clientId, raw);
  return json({
    clientId,
    topics: raw.map((topic, i) => ({ topic, removed: removed[i] ?? false })),
  });
}
