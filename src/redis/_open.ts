/**
 * Opens one connection: TCP, then TLS for `rediss://`, then the opening
 * commands: `HELLO 3` with `AUTH` and `SETNAME` (or, on a Redis without
 * RESP3 or when RESP2 is asked for, `AUTH` and `CLIENT SETNAME`), then
 * `SELECT` for a database other than 0.
 *
 * @module
 */

import {
  type ConnectionEvents,
  messageOf,
  RespConnection,
} from "./_connection.ts";
import type { ResolvedRedisOptions } from "./options.ts";
import {
  type RedisArgument,
  RedisConnectionError,
  RedisError,
  type RedisReply,
  RedisTimeoutError,
} from "./types.ts";
import type { RedisUrl } from "./url.ts";

/** A connection ready for commands. */
export interface Opened {
  readonly connection: RespConnection;
  readonly protocol: 2 | 3;
}

/**
 * Sends one command on a connection that is not ready yet.
 *
 * @param connection The connection.
 * @param args The command.
 * @param expect Replies that answer it.
 * @returns The reply, or the replies if `expect` > 1.
 */
export function call(
  connection: RespConnection,
  args: readonly RedisArgument[],
  expect = 1,
): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    connection.send(args, {
      resolve,
      reject,
      name: args[0],
      errorsAsValues: false,
      expect,
      timeout: 0, // The connect timeout covers it.
      sentAt: Date.now(),
    });
  });
}

/**
 * Connects and says hello. An abort of `signal` (its reason a
 * {@linkcode RedisConnectionError}) closes whatever was opened.
 *
 * @param url Where, and as whom.
 * @param options TLS roots, protocol, name.
 * @param signal Aborted on timeout or close.
 * @param events Where the connection reports, once open.
 * @param pubsub Whether the connection will subscribe.
 * @returns The connection and its protocol.
 * @throws {RedisConnectionError} Naming the URL and what failed; a
 * {@linkcode RedisTimeoutError} if `signal`'s reason was one.
 */
export async function openConnection(
  url: RedisUrl,
  options: ResolvedRedisOptions,
  signal: AbortSignal,
  events: ConnectionEvents,
  pubsub: boolean,
): Promise<Opened> {
  const address = `${
    url.hostname.includes(":") ? `[${url.hostname}]` : url.hostname
  }:${url.port}`;
  let socket: Deno.Conn | undefined;
  let connection: RespConnection | undefined;
  const onAbort = () => {
    if (connection !== undefined) connection.close(abortReason(signal));
    else closeQuietly(socket);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    signal.throwIfAborted();
    const tcp = await Deno.connect({
      hostname: url.hostname,
      port: url.port,
      signal,
    });
    socket = tcp;
    signal.throwIfAborted();
    try {
      tcp.setNoDelay(true);
      tcp.setKeepAlive(true);
    } catch {
      // The peer is gone already; the first read will say so.
    }
    if (url.tls) {
      const tls = await Deno.startTls(tcp, {
        hostname: url.hostname,
        ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
      });
      socket = tls;
      signal.throwIfAborted();
      await tls.handshake();
    }
    connection = new RespConnection(socket, address, events, pubsub);
    const protocol = await hello(connection, url, options);
    signal.throwIfAborted();
    return { connection, protocol };
  } catch (error) {
    const reason = signal.aborted ? abortReason(signal) : error;
    if (connection !== undefined) {
      connection.close(
        reason instanceof RedisConnectionError
          ? reason
          : new RedisConnectionError(messageOf(reason), { cause: reason }),
      );
      await connection.done;
    } else {
      closeQuietly(socket);
    }
    const message = `Cannot connect to Redis at ${url.redacted}: ${
      messageOf(reason)
    }`;
    throw reason instanceof RedisTimeoutError
      ? new RedisTimeoutError(message, { cause: reason })
      : new RedisConnectionError(message, { cause: reason });
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function abortReason(signal: AbortSignal): RedisConnectionError {
  const reason: unknown = signal.reason;
  return reason instanceof RedisConnectionError
    ? reason
    : new RedisConnectionError("the attempt was aborted", { cause: reason });
}

function closeQuietly(socket: Deno.Conn | undefined): void {
  try {
    socket?.close();
  } catch {
    // Closed already, or handed over to TLS.
  }
}

/** Sends the opening commands; returns the protocol agreed on. */
async function hello(
  connection: RespConnection,
  url: RedisUrl,
  options: ResolvedRedisOptions,
): Promise<2 | 3> {
  let protocol: 2 | 3 = 2;
  if (options.protocol === 3) {
    const args: RedisArgument[] = ["HELLO", 3];
    if (url.password !== undefined) {
      args.push("AUTH", url.username ?? "default", url.password);
    }
    if (options.name !== undefined) args.push("SETNAME", options.name);
    try {
      await call(connection, args);
      protocol = 3;
    } catch (error) {
      // Redis before 6 does not know HELLO; a build may refuse RESP3.
      if (
        !(error instanceof RedisError) ||
        !(error.code === "NOPROTO" || /unknown command/i.test(error.reply))
      ) {
        throw error;
      }
    }
  }
  const rest: Promise<RedisReply>[] = [];
  if (protocol === 2) {
    if (url.password !== undefined) {
      rest.push(call(
        connection,
        url.username === undefined
          ? ["AUTH", url.password]
          : ["AUTH", url.username, url.password],
      ));
    }
    if (options.name !== undefined) {
      rest.push(call(connection, ["CLIENT", "SETNAME", options.name]));
    }
  }
  if (url.db !== 0) rest.push(call(connection, ["SELECT", url.db]));
  // One write; the first refusal (AUTH's, if any) is the one reported.
  await Promise.all(rest);
  return protocol;
}
