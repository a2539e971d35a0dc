// Calls to the broker's HTTP API from the page. The credential is kept in
// sessionStorage (this tab only) and sent in the Authorization header of
// every call, never in a URL and never as a cookie. Event streams are read
// with fetch() so that they carry the header too.

const KEY = "gmqtt.authorization";
const API = "../api/v1/";

/** An answer of the API that is not a success. */
export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
  }
}

const unauthorizedListeners = [];

/** Has `fn` called when a call is refused for its credential (401). */
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

function unauthorized() {
  for (const fn of unauthorizedListeners) fn();
}

/** The Authorization header value kept for this tab, if any. */
export function credential() {
  return sessionStorage.getItem(KEY);
}

/** Keeps a bearer token, or basic credentials, for this tab. */
export function signIn(kind, token, user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  const value = kind === "basic"
    ? `Basic ${btoa(String.fromCharCode(...bytes))}`
    : `Bearer ${token}`;
  sessionStorage.setItem(KEY, value);
}

/** Forgets the credential. */
export function signOut() {
  sessionStorage.removeItem(KEY);
}

function headers(extra = {}) {
  const value = credential();
  return value === null ? extra : { ...extra, authorization: value };
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  let field;
  try {
    const body = await response.json();
    if (typeof body.error === "string") message = body.error;
    field = body.field;
  } catch {
    // Not JSON: the status says it.
  }
  if (response.status === 401) unauthorized();
  return new ApiError(response.status, message, field);
}

/**
 * Calls the API: `call("GET", "clients?prefix=a")`; resolves the JSON
 * answer, rejects with an ApiError.
 */
export async function call(method, path, body) {
  const response = await fetch(API + path, {
    method,
    headers: headers(
      body === undefined ? {} : { "content-type": "application/json" },
    ),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: "no-store",
  });
  if (!response.ok) throw await failure(response);
  return await response.json();
}

/** Milliseconds before a dropped stream is opened again. */
const RETRY = 2000;

/**
 * Reads an event stream of the API until `signal` aborts: calls
 * `onEvent(name, data)` for each event, opens it again after a network
 * failure, and calls `onError(error)` (and stops) when the API refuses it.
 */
export async function stream(path, { signal, onEvent, onError, onOpen }) {
  while (!signal.aborted) {
    let response;
    try {
      response = await fetch(API + path, {
        headers: headers({ accept: "text/event-stream" }),
        cache: "no-store",
        signal,
      });
    } catch {
      if (signal.aborted) return;
      await pause(RETRY, signal);
      continue;
    }
    if (!response.ok) {
      onError?.(await failure(response));
      return;
    }
    onOpen?.();
    try {
      await readEvents(response.body, onEvent);
    } catch {
      // The connection dropped; opened again below.
    }
    if (!signal.aborted) await pause(RETRY, signal);
  }
}

/** Parses server-sent events from a byte stream. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
