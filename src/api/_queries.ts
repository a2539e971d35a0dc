/**
 * The API's lists and lookups: clients, sessions, subscriptions and
 * retained messages, filtered and paged as the query asks.
 *
 * @module
 */

import { isValidTopicFilter } from "../../packets/topic.ts";
import type { Server } from "../server/server.ts";
import {
  badField,
  booleanField,
  HttpError,
  integerField,
  json,
  queryOf,
  quote,
  stringField,
} from "./_http.ts";
import { topicName } from "./_input.ts";
import {
  type ClientView,
  connectedClientView,
  messageView,
  offlineClientView,
  sessionView,
  subscriptionView,
} from "./_views.ts";

const PAGE_LIMIT = 100;
const MAX_PAGE_LIMIT = 1000;

/** The 404 of a client id with neither a connection nor a session. */
export function unknownClient(clientId: string): HttpError {
  return new HttpError(
    404,
    `Cannot find client: no client or session ${quote(clientId)}`,
    { field: "clientId" },
  );
}

/** One page of a list, as `?offset=` and `?limit=` ask. */
function page<T>(items: T[], url: URL): Response {
  const query = queryOf(url);
  const offset = integerField(query, "offset", "list", 0, 2 ** 31) ?? 0;
  const limit = integerField(query, "limit", "list", 1, MAX_PAGE_LIMIT) ??
    PAGE_LIMIT;
  return json({
    total: items.length,
    offset,
    limit,
    items: items.slice(offset, offset + limit),
  });
}

/** A client connected now, or offline with its session. */
export function clientView(server: Server, clientId: string): ClientView {
  const client = server.client(clientId);
  const session = server.session(clientId);
  if (client !== undefined) return connectedClientView(client, session);
  if (session !== undefined) return offlineClientView(session);
  throw unknownClient(clientId);
}

/** `GET /api/v1/clients`: `prefix`, `username`, `connected`, paged. */
export function listClients(server: Server, url: URL): Response {
  const query = queryOf(url);
  const prefix = stringField(query, "prefix", "list clients") ?? "";
  const username = stringField(query, "username", "list clients");
  const connected = booleanField(query, "connected", "list clients");
  const views: ClientView[] = [];
  const online = new Set<string>();
  if (connected !== false) {
    for (const c of server.clients()) {
      online.add(c.clientId);
      views.push(connectedClientView(c, server.session(c.clientId)));
    }
  }
  if (connected !== true) {
    for (const s of server.sessions()) {
      if (!s.connected && !online.has(s.clientId)) {
        views.push(offlineClientView(s));
      }
    }
  }
  const kept = views.filter((v) =>
    v.clientId.startsWith(prefix) &&
    (username === undefined || v.username === username)
  ).sort((a, b) =>
    a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0
  );
  return page(kept, url);
}

/** `GET /api/v1/sessions`: `prefix`, `connected`, paged. */
export function listSessions(server: Server, url: URL): Response {
  const query = queryOf(url);
  const prefix = stringField(query, "prefix", "list sessions") ?? "";
  const connected = booleanField(query, "connected", "list sessions");
  const kept = server.sessions()
    .filter((s) =>
      s.clientId.startsWith(prefix) &&
      (connected === undefined || s.connected === connected)
    )
    .sort((a, b) =>
      a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0
    )
    .map(sessionView);
  return page(kept, url);
}

/**
 * `GET /api/v1/subscriptions`: of one `clientId`, those that match a
 * `topic` name, those whose client id or filter holds `search`; paged.
 */
export function listSubscriptions(server: Server, url: URL): Response {
  const query = queryOf(url);
  const clientId = stringField(query, "clientId", "list subscriptions");
  const topic = query.topic === undefined
    ? undefined
    : topicName(query, "topic", "list subscriptions");
  if (clientId !== undefined && server.session(clientId) === undefined) {
    throw unknownClient(clientId);
  }
  const search = stringField(query, "search", "list subscriptions");
  const found = server.subscriptions({
    ...(clientId !== undefined ? { clientId } : {}),
    ...(topic !== undefined ? { topic } : {}),
  }).map((s) => subscriptionView(s, s.clientId));
  const kept = search === undefined
    ? found
    : found.filter((s) =>
      s.clientId.includes(search) || s.topicFilter.includes(search)
    );
  return page(kept, url);
}

/** `GET /api/v1/retained`: one `topic`, or those a `filter` matches, paged. */
export function listRetained(server: Server, url: URL): Response {
  const query = queryOf(url);
  if (query.topic !== undefined) {
    const topic = topicName(query, "topic", "find retained message");
    const message = server.retained(topic).find((m) => m.topic === topic);
    if (message === undefined) {
      throw new HttpError(
        404,
        `Cannot find retained message: none on topic ${quote(topic)}`,
        { field: "topic" },
      );
    }
    return json(messageView(message));
  }
  const filter = stringField(query, "filter", "list retained messages") ?? "#";
  if (!isValidTopicFilter(filter)) {
    throw badField(
      "filter",
      `Cannot list retained messages: ${
        quote(filter)
      } is not a valid topic filter`,
    );
  }
  const messages = server.retained(filter)
    .sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0);
  return page(messages.map(messageView), url);
}
