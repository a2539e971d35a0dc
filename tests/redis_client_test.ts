/**
 * The Redis client against a real `redis-server` started by each test, and
 * against fake servers for what Redis does not do on request (stay silent,
 * send garbage).
 *
 * @module
 */

import {
  deepStrictEqual,
  match,
  ok,
  rejects,
  strictEqual,
} from "node:assert/strict";
import { Logger, type LogRecord } from "../src/observe/logger.ts";
import {
  RedisClient,
  type RedisClientOptions,
  RedisConnectionError,
  RedisError,
  RedisProtocolError,
  type RedisReply,
  RedisTimeoutError,
  replyArray,
  replyMap,
  replyNumber,
  replyText,
} from "../src/redis/mod.ts";
import { startRedisServer } from "./_redis.ts";
import { createTestCertificate } from "./_tls.ts";
import { waitFor } from "./_harness.ts";

const certificate = await createTestCertificate();

const bytes = (text: string) => new TextEncoder().encode(text);

/** Fast reconnection, so tests do not wait for the default backoff. */
const FAST: RedisClientOptions = {
  reconnectMinDelay: 5,
  reconnectMaxDelay: 50,
  connectTimeout: 3000,
};

/** A logger that keeps its records. */
function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = new Logger("redis", "debug", {
    handlers: [{ handle: (record) => records.push(record) }],
  });
  return { logger, records };
}

/** Polls an async condition every 5 ms until it holds; throws after 5 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error("Condition still false after 5 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Reads one `field=value` of `CLIENT INFO`. */
async function clientInfo(client: RedisClient, field: string): Promise<string> {
  const info = replyText(await client.send(["CLIENT", "INFO"]));
  return new RegExp(`(?:^| )${field}=(\\S*)`).exec(info)?.[1] ?? "";
}

for (const protocol of [2, 3] as const) {
  Deno.test(`RedisClient runs commands over RESP${protocol}`, async () => {
    await using server = await startRedisServer();
    await using client = new RedisClient(server.url, { protocol });
    strictEqual(await client.send(["SET", "k", "v"]), "OK");
    deepStrictEqual(await client.send(["GET", "k"]), bytes("v"));
    strictEqual(await client.send(["GET", "missing"]), null);
    strictEqual(await client.send(["INCRBY", "n", 41]), 41);
    strictEqual(await client.send(["INCR", "n"]), 42);
    strictEqual(
      await client.send(["HSET", "h", "name", "gmqtt", "qos", 2]),
      2,
    );
    const hash = replyMap(await client.send(["HGETALL", "h"]));
    strictEqual(replyText(hash.get("name") ?? null), "gmqtt");
    strictEqual(replyNumber(hash.get("qos") ?? null), 2);
    await client.send(["ZADD", "z", 1.5, "m"]);
    // A double in RESP3, text in RESP2: read alike.
    strictEqual(replyNumber(await client.send(["ZSCORE", "z", "m"])), 1.5);
    deepStrictEqual(
      replyArray(await client.send(["SMEMBERS", "nothing"])),
      [],
    );
    strictEqual(client.protocol, protocol);
    strictEqual(await clientInfo(client, "resp"), String(protocol));
  });

  Deno.test(`RedisClient logs in as an ACL user over RESP${protocol}`, async () => {
    await using server = await startRedisServer({
      args: ["--user", "alice", "on", ">al1ce", "~*", "&*", "+@all"],
    });
    const url = server.url.replace("redis://", "redis://alice:al1ce@");
    await using client = new RedisClient(url, { protocol, name: "tester" });
    strictEqual(replyText(await client.send(["ACL", "WHOAMI"])), "alice");
    strictEqual(replyText(await client.send(["CLIENT", "GETNAME"])), "tester");
  });

  Deno.test(`RedisClient logs in with requirepass and selects a database over RESP${protocol}`, async () => {
    await using server = await startRedisServer({
      args: ["--requirepass", "s3cret"],
    });
    const url = server.url.replace("redis://", "redis://:s3cret@");
    await using db2 = new RedisClient(`${url}/2`, { protocol });
    await db2.send(["SET", "where", "two"]);
    strictEqual(await clientInfo(db2, "db"), "2");
    await using db0 = new RedisClient(url, { protocol });
    strictEqual(await db0.send(["GET", "where"]), null);
    await db0.send(["SELECT", 2]);
    deepStrictEqual(await db0.send(["GET", "where"]), bytes("two"));
  });

  Deno.test(`RedisSubscriber receives channel and pattern messages over RESP${protocol}`, async () => {
    await using server = await startRedisServer();
    await using client = new RedisClient(server.url, { protocol });
    const got: [string, Uint8Array, string | undefined][] = [];
    await using subscriber = client.subscriber({
      onMessage: (channel, message, pattern) =>
        got.push([channel, message, pattern]),
    });
    await subscriber.subscribe("plain", "other");
    await subscriber.psubscribe("news.*");
    const binary = new Uint8Array(256).map((_, i) => i);
    strictEqual(await client.send(["PUBLISH", "plain", binary]), 1);
    strictEqual(await client.send(["PUBLISH", "news.sport", "goal"]), 1);
    await waitFor(() => got.length === 2);
    deepStrictEqual(got, [
      ["plain", binary, undefined],
      ["news.sport", bytes("goal"), "news.*"],
    ]);
    await subscriber.unsubscribe("plain");
    await subscriber.punsubscribe();
    deepStrictEqual([...subscriber.channels], ["other"]);
    strictEqual(await client.send(["PUBLISH", "plain", "x"]), 0);
    strictEqual(await client.send(["PUBLISH", "news.sport", "x"]), 0);
    strictEqual(await client.send(["PUBLISH", "other", "y"]), 1);
    await waitFor(() => got.length === 3);
    deepStrictEqual(got[2], ["other", bytes("y"), undefined]);
  });
}

Deno.test("RedisClient round-trips every byte value and a 4 MiB payload", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const key = Uint8Array.of(0, 13, 10, 255, 36);
  const all = new Uint8Array(256).map((_, i) => i);
  await client.send(["SET", key, all]);
  deepStrictEqual(await client.send(["GET", key]), all);
  const large = new Uint8Array(4 * 1024 * 1024);
  for (let i = 0; i < large.length; i += 65536) {
    crypto.getRandomValues(large.subarray(i, i + 65536));
  }
  await client.send(["SET", "large", large]);
  deepStrictEqual(await client.send(["GET", "large"]), large);
  // Text arguments are sent as UTF-8.
  await client.send(["SET", "text", "héllo €"]);
  strictEqual(replyText(await client.send(["GET", "text"])), "héllo €");
});

Deno.test("RedisClient sends 10 000 commands of one turn in few writes and keeps their order", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const readsBefore = await readsProcessed(client);
  const replies = await Promise.all(
    Array.from({ length: 10_000 }, (_, i) => client.send(["RPUSH", "l", i])),
  );
  const reads = await readsProcessed(client) - readsBefore;
  deepStrictEqual(replies, Array.from({ length: 10_000 }, (_, i) => i + 1));
  const list = replyArray(await client.send(["LRANGE", "l", 0, -1]));
  deepStrictEqual(list.map(replyNumber), replies.map((n) => n - 1));
  // One write per command would be thousands of reads on the server side.
  ok(reads < 200, `redis-server read ${reads} times for 10 000 commands`);
  const pipelined = await client.pipeline(
    Array.from({ length: 10_000 }, (_, i) => ["LINDEX", "l", i]),
  );
  deepStrictEqual(pipelined.map(replyNumber), replies.map((n) => n - 1));
});

Deno.test("RedisClient.unwritten counts the bytes Redis has not taken yet, and falls back to 0 once it has", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  await client.connect();
  strictEqual(client.unwritten, 0);
  const value = new Uint8Array(1024 * 1024);
  // Redis stops reading: the socket's buffers fill, then the client's.
  Deno.kill(server.pid, "SIGSTOP");
  const sent: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < 32; i++) {
      sent.push(client.send(["SET", `k${i}`, value]));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // 32 MiB sent; what the kernel took is a few MiB at most.
    ok(
      client.unwritten > 16 * 1024 * 1024,
      `only ${client.unwritten} bytes unwritten`,
    );
  } finally {
    Deno.kill(server.pid, "SIGCONT");
  }
  await Promise.all(sent);
  strictEqual(client.unwritten, 0);
  deepStrictEqual(await client.send(["STRLEN", "k31"]), value.length);
});

async function readsProcessed(client: RedisClient): Promise<number> {
  const info = replyText(await client.send(["INFO", "stats"]));
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
}

Deno.test("RedisClient rejects an error reply with Redis's text and the command, and carries on", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  await client.send(["SET", "s", "text"]);
  await rejects(client.send(["INCR", "s"]), (error: unknown) => {
    ok(error instanceof RedisError);
    strictEqual(error.code, "ERR");
    strictEqual(error.command, "INCR");
    match(error.message, /^Redis refused INCR: ERR value is not an integer/);
    return true;
  });
  await rejects(client.send(["LPUSH", "s", "x"]), /WRONGTYPE/);
  strictEqual(await client.send(["PING"]), "PONG");
});

Deno.test("RedisClient.pipeline() returns error replies as values among the results", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const results = await client.pipeline([
    ["SET", "a", "1"],
    ["HSET", "a", "f", "v"],
    ["INCR", "a"],
    ["NOSUCHCOMMAND"],
    ["GET", "a"],
  ]);
  strictEqual(results[0], "OK");
  ok(results[1] instanceof RedisError);
  strictEqual(results[1].code, "WRONGTYPE");
  strictEqual(results[2], 2);
  ok(results[3] instanceof RedisError);
  match(results[3].message, /NOSUCHCOMMAND/);
  deepStrictEqual(results[4], bytes("2"));
  // A transaction: EXEC's array holds the error of the command that failed.
  const [, , , exec] = await client.pipeline([
    ["MULTI"],
    ["INCR", "a"],
    ["LPUSH", "a", "x"],
    ["EXEC"],
  ]);
  const inside = replyArray(exec ?? null);
  strictEqual(inside[0], 3);
  ok(inside[1] instanceof RedisError);
  // A bad argument sends nothing.
  await rejects(
    client.pipeline([["SET", "b", "1"], ["SET", "c", undefined as never]]),
    TypeError,
  );
  strictEqual(await client.send(["EXISTS", "b"]), 0);
});

Deno.test("RedisClient.connect() rejects a wrong password with the URL, masked, and Redis's reason", async () => {
  await using server = await startRedisServer({
    args: ["--requirepass", "right"],
  });
  for (const protocol of [2, 3] as const) {
    const url = server.url.replace("redis://", "redis://:wrong@");
    await using client = new RedisClient(url, { protocol });
    await rejects(client.connect(), (error: unknown) => {
      ok(error instanceof RedisConnectionError);
      match(error.message, /^Cannot connect to Redis at redis:\/\/:\*\*\*@/);
      match(error.message, /WRONGPASS/);
      ok(!error.message.includes("wrong"));
      return true;
    });
  }
  await using anonymous = new RedisClient(server.url);
  await rejects(anonymous.send(["PING"], {}), /NOAUTH/);
});

Deno.test("RedisClient.connect() names the address when the connection is refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  await using client = new RedisClient(`redis://127.0.0.1:${port}`);
  await rejects(client.connect(), (error: unknown) => {
    ok(error instanceof RedisConnectionError);
    match(
      error.message,
      new RegExp(
        `^Cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}/0: .*refused`,
        "i",
      ),
    );
    return true;
  });
  strictEqual(client.connected, false);
});

/**
 * A TCP server that accepts connections and answers through `respond`
 * (nothing if it returns undefined); `await using` closes everything.
 */
function fakeServer(
  respond: (connection: number, request: Uint8Array) => string | undefined,
):
  & { port: number; accepted: () => number; closedByClient: Promise<void> }
  & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  let clientClosed!: () => void;
  const closedByClient = new Promise<void>((resolve) => clientClosed = resolve);
  const serve = async (conn: Deno.Conn, index: number) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) {
          clientClosed();
          return;
        }
        const answer = respond(index, buffer.slice(0, n));
        if (answer !== undefined) await conn.write(bytes(answer));
      }
    } catch {
      // Closed by the test.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  };
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        serving.push(serve(conn, accepted++));
      }
    } catch {
      // The listener was closed.
    }
  })();
  return {
    port: listener.addr.port,
    accepted: () => accepted,
    closedByClient,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) conn.close();
      await accepting;
      await Promise.all(serving);
    },
  };
}

Deno.test("RedisClient times out a command that gets no answer and resets the connection", async () => {
  await using silent = fakeServer(() => undefined);
  await using client = new RedisClient(`redis://127.0.0.1:${silent.port}`, {
    ...FAST,
    protocol: 2, // No HELLO: the first command is the one that waits.
    commandTimeout: 150,
  });
  const started = Date.now();
  await rejects(client.send(["GET", "k"]), (error: unknown) => {
    ok(error instanceof RedisTimeoutError);
    ok(error instanceof RedisConnectionError);
    match(error.message, /did not answer GET within 150 ms/);
    return true;
  });
  ok(Date.now() - started >= 140);
  await silent.closedByClient;
  // A longer timeout for one command is honoured.
  const slow = client.send(["GET", "k"], { timeout: 400 });
  const slowStarted = Date.now();
  await rejects(slow, RedisTimeoutError);
  ok(Date.now() - slowStarted >= 380);
});

Deno.test("RedisClient finds an idle connection that went silent with PING and replaces it", async () => {
  await using silent = fakeServer(() => undefined);
  const lost: Error[] = [];
  await using client = new RedisClient(`redis://127.0.0.1:${silent.port}`, {
    ...FAST,
    protocol: 2, // No HELLO: connected as soon as TCP is.
    pingInterval: 50,
    commandTimeout: 100,
    onDisconnect: (error) => lost.push(error),
  });
  await client.connect();
  await waitFor(() => lost.length > 0);
  ok(lost[0] instanceof RedisTimeoutError);
  match(lost[0].message, /did not answer PING within 100 ms/);
  await waitFor(() => silent.accepted() >= 2);
});

Deno.test("RedisClient falls back to AUTH and RESP2 on a Redis without HELLO", async () => {
  const commands: string[] = [];
  await using old = fakeServer((_connection, request) => {
    // Each command is an array of bulk strings; keep them as words.
    const text = new TextDecoder().decode(request);
    const replies: string[] = [];
    for (const command of text.split(/(?:^|\r\n)\*\d+\r\n/).slice(1)) {
      const words = command.split("\r\n").filter((_, i) => i % 2 === 1);
      commands.push(words.join(" "));
      replies.push(
        words[0] === "HELLO"
          ? "-ERR unknown command 'HELLO', with args beginning with: '3'\r\n"
          : words[0] === "PING"
          ? "+PONG\r\n"
          : "+OK\r\n",
      );
    }
    return replies.join("");
  });
  await using client = new RedisClient(
    `redis://app:pw@127.0.0.1:${old.port}/4`,
    { name: "node-a" },
  );
  strictEqual(await client.send(["PING"]), "PONG");
  strictEqual(client.protocol, 2);
  deepStrictEqual(commands, [
    "HELLO 3 AUTH app pw SETNAME node-a",
    "AUTH app pw",
    "CLIENT SETNAME node-a",
    "SELECT 4",
    "PING",
  ]);
});

Deno.test("RedisClient.connect() times out against a server that never says hello", async () => {
  await using silent = fakeServer(() => undefined);
  await using client = new RedisClient(`redis://127.0.0.1:${silent.port}`, {
    connectTimeout: 150,
  });
  await rejects(client.connect(), (error: unknown) => {
    ok(error instanceof RedisTimeoutError);
    match(
      error.message,
      /^Cannot connect to Redis at .*no connection within 150 ms/,
    );
    return true;
  });
});

Deno.test("RedisClient drops a connection that sends a malformed reply, logs it and reconnects", async () => {
  await using fake = fakeServer((connection) =>
    connection === 0 ? "?garbage\r\n" : "+PONG\r\n"
  );
  const { logger, records } = recordingLogger();
  const errors: Error[] = [];
  await using client = new RedisClient(`redis://127.0.0.1:${fake.port}`, {
    ...FAST,
    protocol: 2,
    logger,
    onError: (error) => errors.push(error),
  });
  await rejects(client.send(["PING"]), (error: unknown) => {
    ok(error instanceof RedisConnectionError);
    ok(error.cause instanceof RedisProtocolError);
    return true;
  });
  strictEqual(await client.send(["PING"]), "PONG");
  strictEqual(fake.accepted(), 2);
  ok(
    records.some((r) =>
      r.level === "error" && r.msg === "malformed reply from redis"
    ),
  );
  ok(errors[0] instanceof RedisProtocolError);
});

Deno.test("RedisClient rejects commands in flight when Redis goes away and runs later ones after it is back", async () => {
  await using server = await startRedisServer();
  const events: string[] = [];
  await using client = new RedisClient(server.url, {
    ...FAST,
    onConnect: (event) => events.push(`connect ${event.reconnected}`),
    onDisconnect: () => events.push("disconnect"),
  });
  await using blocking = new RedisClient(server.url, {
    ...FAST,
    commandTimeout: 0,
  });
  await client.send(["SET", "before", "1"]);
  const inFlight = rejects(
    blocking.send(["BLPOP", "never", 0]),
    RedisConnectionError,
  );
  await waitFor(() => blocking.connected);
  await until(async () =>
    replyText(await client.send(["CLIENT", "LIST"])).includes("cmd=blpop")
  );
  await server.stop();
  await inFlight;
  await waitFor(() => events.includes("disconnect"));
  // Sent while Redis is down: waits for the next connection.
  const waiting = client.send(["SET", "after", "2"]);
  await server.start();
  strictEqual(await waiting, "OK");
  deepStrictEqual(await client.send(["GET", "after"]), bytes("2"));
  strictEqual(await blocking.send(["PING"]), "PONG");
  deepStrictEqual(events, ["connect false", "disconnect", "connect true"]);
});

Deno.test("RedisClient bounds the commands that wait for a connection, in number and in time", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url, {
    ...FAST,
    maxOfflineCommands: 2,
    offlineTimeout: 200,
  });
  await client.connect();
  await server.stop();
  await waitFor(() => !client.connected);
  const started = Date.now();
  const waiting = [client.send(["PING"]), client.send(["PING"])].map((sent) =>
    rejects(sent, (error: unknown) => {
      ok(error instanceof RedisConnectionError);
      match(error.message, /no connection to Redis at .* within 200 ms/);
      return true;
    })
  );
  await rejects(client.send(["PING"]), /2 commands already wait/);
  await rejects(
    client.pipeline([["PING"]]),
    /pipeline of 1: .* only 0 more commands may wait/,
  );
  await Promise.all(waiting);
  ok(Date.now() - started < 3000);
});

Deno.test("RedisSubscriber subscribes again after Redis restarts and says it reconnected", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url, FAST);
  const got: string[] = [];
  const connects: boolean[] = [];
  await using subscriber = client.subscriber({
    onMessage: (channel, message) =>
      got.push(`${channel}:${new TextDecoder().decode(message)}`),
    onConnect: (event) => connects.push(event.reconnected),
  });
  await subscriber.subscribe("events");
  await subscriber.psubscribe("nodes.*");
  await server.restart();
  await waitFor(() => connects.length === 2);
  deepStrictEqual(connects, [false, true]);
  strictEqual(await client.send(["PUBLISH", "events", "a"]), 1);
  strictEqual(await client.send(["PUBLISH", "nodes.b", "c"]), 1);
  await waitFor(() => got.length === 2);
  deepStrictEqual(got, ["events:a", "nodes.b:c"]);
});

Deno.test("RedisClient.duplicate() gives blocking commands a connection of their own", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  await using blocking = client.duplicate({ commandTimeout: 0 });
  const popped = blocking.send(["BLPOP", "jobs", 0]);
  // The first client is not held up by the blocked one.
  strictEqual(await client.send(["SET", "x", "1"]), "OK");
  await client.send(["RPUSH", "jobs", "job-1"]);
  deepStrictEqual(await popped, [bytes("jobs"), bytes("job-1")]);
});

Deno.test("RedisClient.close() rejects what is pending and refuses new commands", async () => {
  await using server = await startRedisServer();
  const client = new RedisClient(server.url, { commandTimeout: 0 });
  const blocked = rejects(
    client.send(["BLPOP", "never", 0]),
    RedisConnectionError,
  );
  await client.connect();
  await client.close();
  await blocked;
  await rejects(client.send(["PING"]), /it is closed/);
  await client.close(); // Twice is fine.
});

Deno.test("RedisClient keeps working when its callbacks throw", async () => {
  await using server = await startRedisServer();
  const { logger, records } = recordingLogger();
  await using client = new RedisClient(server.url, {
    logger,
    onConnect: () => {
      throw new Error("callback bug");
    },
  });
  strictEqual(await client.send(["PING"]), "PONG");
  ok(records.some((r) => r.msg === "a redis callback threw"));
});

Deno.test("RedisClient speaks TLS to a rediss:// URL and refuses an untrusted certificate", async () => {
  await using server = await startRedisServer({ tls: certificate });
  ok(server.url.startsWith("rediss://"));
  await using client = new RedisClient(server.url, {
    caCerts: [certificate.cert],
  });
  strictEqual(await client.send(["PING"]), "PONG");
  await client.send(["SET", "secure", bytes("yes")]);
  deepStrictEqual(await client.send(["GET", "secure"]), bytes("yes"));
  await using untrusting = new RedisClient(server.url);
  await rejects(untrusting.connect(), (error: unknown) => {
    ok(error instanceof RedisConnectionError);
    match(error.message, /^Cannot connect to Redis at rediss:\/\//);
    return true;
  });
});

Deno.test("RedisSubscriber forgets a subscription Redis refuses", async () => {
  await using server = await startRedisServer({
    args: [
      "--user",
      "limited",
      "on",
      ">pw",
      "~*",
      "resetchannels",
      "&allowed",
      "+@all",
    ],
  });
  const url = server.url.replace("redis://", "redis://limited:pw@");
  const received: RedisReply[] = [];
  await using subscriber = new RedisClient(url).subscriber({
    onMessage: (_channel, message) => received.push(message),
  });
  await rejects(subscriber.subscribe("forbidden"), (error: unknown) => {
    ok(error instanceof RedisError);
    strictEqual(error.code, "NOPERM");
    return true;
  });
  deepStrictEqual([...subscriber.channels], []);
  await subscriber.subscribe("allowed");
  deepStrictEqual([...subscriber.channels], ["allowed"]);
});

Deno.test("RedisSubscriber keeps delivering when its handler throws", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const errors: Error[] = [];
  const got: string[] = [];
  await using subscriber = client.subscriber({
    onMessage: (_channel, message) => {
      const text = new TextDecoder().decode(message);
      got.push(text);
      if (text === "bad") throw new Error("handler bug");
    },
    onError: (error) => errors.push(error),
  });
  await subscriber.subscribe("c");
  await client.send(["PUBLISH", "c", "bad"]);
  await client.send(["PUBLISH", "c", "good"]);
  await waitFor(() => got.length === 2);
  deepStrictEqual(got, ["bad", "good"]);
  strictEqual(errors[0]?.message, "handler bug");
  strictEqual(subscriber.connected, true);
});
