/**
 * The cluster from the command line: `cmd/broker.ts --cluster-redis` nodes
 * as subprocesses on one `redis-server`, with Mosquitto's clients. A node
 * killed with SIGKILL: its persistent subscriber resumes on another node
 * with every QoS 1 message acknowledged meanwhile, and its will goes out
 * once.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { RedisClient } from "../src/redis/mod.ts";
import { startRedisServer } from "./_redis.ts";
import { freePort } from "./_harness.ts";

const BROKER = new URL("../cmd/broker.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeout = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A broker node, run by the command, stopped by PID. */
class Node implements AsyncDisposable {
  readonly port: number;
  readonly child: Deno.ChildProcess;
  readonly #stderr: Promise<string>;

  constructor(redis: string, nodeId: string) {
    this.port = freePort();
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        BROKER,
        "--host",
        "127.0.0.1",
        "--port",
        String(this.port),
        "--cluster-redis",
        redis,
        "--cluster-node-id",
        nodeId,
        "--log-level",
        "warn",
      ],
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#stderr = new Response(this.child.stderr).text();
  }

  /** Waits until it accepts connections. */
  async ready(): Promise<void> {
    await until(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port }))
          .close();
        return true;
      } catch {
        return false;
      }
    }, `the node on port ${this.port} to listen`);
  }

  /** SIGKILL, by PID, and waits until it is gone. */
  async kill(): Promise<void> {
    try {
      Deno.kill(this.child.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
    await this.child.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      Deno.kill(this.child.pid, "SIGTERM");
    } catch {
      // Gone already.
    }
    const timer = setTimeout(() => this.kill(), 10_000);
    await this.child.status;
    clearTimeout(timer);
    await this.#stderr;
  }
}

/** A mosquitto client run to its end, bounded in time. */
async function mosquitto(
  program: "mosquitto_pub" | "mosquitto_sub",
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

Deno.test("broker --cluster-redis exits 2 with one line naming the URL when Redis is unreachable", async () => {
  const port = freePort();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      BROKER,
      "--port",
      String(freePort()),
      "--cluster-redis",
      `redis://user:secret@127.0.0.1:${port}`,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  strictEqual(code, 2);
  const lines = decoder.decode(stderr).trim().split("\n");
  strictEqual(lines.length, 1, lines.join("\n"));
  ok(lines[0]!.includes(`127.0.0.1:${port}`), lines[0]);
  ok(!lines[0]!.includes("secret"), lines[0]);
});

Deno.test("Three brokers from the command form one cluster: a persistent subscriber of a node killed with SIGKILL resumes on another with every QoS 1 message acknowledged meanwhile, and its will goes out once", async () => {
  await using redis = await startRedisServer();
  await using a = new Node(redis.url, "a");
  await using b = new Node(redis.url, "b");
  await using c = new Node(redis.url, "c");
  await Promise.all([a.ready(), b.ready(), c.ready()]);
  await using client = new RedisClient(redis.url);

  // A watcher of wills on c, and the persistent subscriber on b.
  const wills = mosquitto("mosquitto_sub", [
    "-p",
    String(c.port),
    "-t",
    "wills/#",
    "-C",
    "2",
    "-W",
    "14",
    "-v",
  ]);
  const subscriber = new Deno.Command("mosquitto_sub", {
    args: [
      "-p",
      String(b.port),
      "-c",
      "-i",
      "sub-1",
      "-q",
      "1",
      "-t",
      "k/#",
      "--will-topic",
      "wills/sub-1",
      "--will-payload",
      "gone",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await until(
    async () =>
      await client.send(["SISMEMBER", "gmqtt:interest:b", "k/#"]) === 1 &&
      await client.send(["SISMEMBER", "gmqtt:interest:c", "wills/#"]) === 1,
    "the subscriptions to reach Redis",
  );
  // Give every node time to hear of them (interest changes by pub/sub).
  await new Promise((resolve) => setTimeout(resolve, 300));

  // First through the cluster: a to b.
  const lines = Array.from({ length: 200 }, (_, i) => `m${i}`);
  await b.kill();
  Deno.kill(subscriber.pid, "SIGKILL");
  await subscriber.status;
  // Published while b is dead: a keeps them in b's stream, acknowledged.
  const published = await mosquitto("mosquitto_pub", [
    "-p",
    String(a.port),
    "-q",
    "1",
    "-t",
    "k/1",
    "-l",
  ], lines.join("\n") + "\n");
  strictEqual(published.code, 0, published.stderr);

  // Once its heartbeat has lapsed, a or c adopts b's session and stream.
  await until(
    async () => await client.send(["SISMEMBER", "gmqtt:nodes", "b"]) === 0,
    "b to be adopted",
  );
  const resumed = await mosquitto("mosquitto_sub", [
    "-p",
    String(c.port),
    "-c",
    "-i",
    "sub-1",
    "-q",
    "1",
    "-t",
    "k/#",
    "-C",
    String(lines.length),
    "-W",
    "20",
  ]);
  strictEqual(resumed.code, 0, resumed.stderr);
  deepStrictEqual(resumed.stdout.trim().split("\n").sort(), [...lines].sort());

  // The will of the client connected at b's death: once (a second one
  // would end the watcher before its timeout).
  const watched = await wills;
  deepStrictEqual(watched.stdout.trim().split("\n"), ["wills/sub-1 gone"]);
});
