/**
 * One crash round against a broker on an SQLite store, run in a child
 * process (`_sqlite_broker_child.ts`): a persistent subscriber subscribes
 * and leaves, publishers send QoS 1 and QoS 2 messages as fast as their
 * windows allow and note every acknowledgement, the broker is killed with
 * SIGKILL at a random moment, started again on the same file, and the
 * subscriber comes back for what was kept. The report says what was
 * acknowledged and never delivered; the persistence test asserts on it and
 * `bench/crash_loop.ts` repeats it.
 *
 * @module
 */

import type { Packet, QoS } from "../packets/mod.ts";
import { TestClient } from "./_client.ts";
import { sleep } from "./_harness.ts";
import { publish } from "./_pubsub.ts";

const CHILD = new URL("./_sqlite_broker_child.ts", import.meta.url).pathname;

/** A broker in a child process, on a store file; `await using` kills it. */
export class BrokerProcess implements AsyncDisposable {
  /** Its TCP port on 127.0.0.1. */
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #stderr: Promise<string>;
  #exited = false;

  private constructor(
    port: number,
    child: Deno.ChildProcess,
    status: Promise<Deno.CommandStatus>,
    stderr: Promise<string>,
  ) {
    this.port = port;
    this.#child = child;
    this.#status = status.finally(() => this.#exited = true);
    this.#stderr = stderr;
  }

  /**
   * Starts a broker on `path` and waits until it listens.
   *
   * @throws {Error} If it exits or says nothing within 15 seconds, with
   * what it printed on standard error.
   */
  static async start(path: string): Promise<BrokerProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CHILD, path],
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const status = child.status;
    const stderr = new Response(child.stderr).text();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let line = "";
    try {
      while (!line.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        line += value;
      }
    } finally {
      clearTimeout(timer);
      await reader.cancel();
    }
    if (!line.includes("\n")) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited already.
      }
      await status;
      await child.stdin.close().catch(() => {});
      throw new Error(`The broker did not start: ${await stderr}`);
    }
    const { port } = JSON.parse(line) as { port: number };
    return new BrokerProcess(port, child, status, stderr);
  }

  /** Its process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Sends it SIGKILL (the crash), by its process id, at once. */
  kill(): void {
    if (this.#exited) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It exited meanwhile.
    }
  }

  /** Kills it with SIGKILL (the crash) and waits until it is gone. */
  async crash(): Promise<void> {
    this.kill();
    await this.#status;
  }

  /**
   * Stops it gracefully (its standard input closes) and waits until it has
   * closed its store.
   *
   * @throws {Error} If it exits with an error, with its standard error.
   */
  async stop(): Promise<void> {
    await this.#child.stdin.close().catch(() => {});
    const { code } = await this.#status;
    if (code !== 0) {
      throw new Error(`The broker exited with ${code}: ${await this.#stderr}`);
    }
  }

  /** Kills it if it still runs and lets go of its pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.crash();
    await this.#child.stdin.close().catch(() => {});
    await this.#stderr;
  }
}

/** Options of {@linkcode crashRound}. */
export interface CrashRoundOptions {
  /** Publishers at QoS 1, 4 by default. */
  qos1Publishers?: number;
  /** Publishers at QoS 2, 1 by default. */
  qos2Publishers?: number;
  /** Most messages each publisher sends, 2000 by default. */
  messages?: number;
  /** Messages a publisher has unacknowledged at once, 16 by default. */
  window?: number;
  /**
   * When the broker is killed: at the first acknowledgement that arrives
   * past a random moment between these milliseconds after publishing
   * started, once `minAcknowledged` messages were acknowledged, or earlier,
   * once a random 25 to 75 % of every message to send was (so that a fast
   * broker dies while publishers still publish too); [200, 700] by default.
   * It is killed as the acknowledgement is read: a broker that acknowledged
   * before its commit has the least time to commit.
   */
  killBetween?: [number, number];
  /** Acknowledgements to wait for before the kill, 50 by default. */
  minAcknowledged?: number;
  /**
   * Milliseconds the subscriber waits for a missing acknowledged message
   * before it gives up (and the report lists it lost), 3000 by default.
   */
  patience?: number;
}

/** What one {@linkcode crashRound} saw. */
export interface CrashReport {
  /** Milliseconds from the first publish to the kill. */
  readonly killedAfter: number;
  /** Publishers still publishing at the kill. */
  readonly publishingAtKill: number;
  /** Messages sent, at QoS 1 and 2. */
  readonly sent: { readonly qos1: number; readonly qos2: number };
  /** Messages acknowledged (PUBACK; PUBREC at QoS 2) before the kill. */
  readonly acknowledged: { readonly qos1: number; readonly qos2: number };
  /** Different messages the subscriber got after the restart. */
  readonly delivered: { readonly qos1: number; readonly qos2: number };
  /** Acknowledged messages the subscriber never got: must be empty. */
  readonly lost: readonly string[];
  /** Messages the subscriber got more than once, at QoS 1 and 2. */
  readonly duplicates: { readonly qos1: number; readonly qos2: number };
  /**
   * Messages delivered out of their publisher's order, or after a gap in
   * it: the broker commits in the order it routes, so what survives of a
   * publisher is its first messages, in order.
   */
  readonly outOfOrder: readonly string[];
  /** Milliseconds the restarted broker took to deliver it all. */
  readonly drainMs: number;
}

const TOPIC = "crash";
const SUBSCRIBER = "crash-drain";

/**
 * Runs one crash round on a new store file in `dir`, and stops every
 * broker it started. Assertions are the caller's.
 *
 * @throws {Error} If a broker does not start, a client is refused, or the
 * subscriber waits more than 5 seconds for an acknowledged message.
 */
export async function crashRound(
  dir: string,
  options: CrashRoundOptions = {},
): Promise<CrashReport> {
  const path = `${dir}/crash-${crypto.randomUUID()}.db`;
  const messages = options.messages ?? 2000;
  const window = options.window ?? 16;
  const [earliest, latest] = options.killBetween ?? [200, 700];
  const minAcknowledged = options.minAcknowledged ?? 50;
  const publishers: { clientId: string; qos: QoS }[] = [];
  for (let i = 0; i < (options.qos1Publishers ?? 4); i++) {
    publishers.push({ clientId: `q1-p${i}`, qos: 1 });
  }
  for (let i = 0; i < (options.qos2Publishers ?? 1); i++) {
    publishers.push({ clientId: `q2-p${i}`, qos: 2 });
  }

  let killedAfter = 0;
  let publishingAtKill = 0;
  const runs: Publisher[] = [];
  {
    await using broker = await BrokerProcess.start(path);
    await leaveSubscribed(broker.port);
    const started = Date.now();
    const killAt = earliest + Math.random() * (latest - earliest);
    const killAtAcks = Math.floor(
      publishers.length * messages * (0.25 + Math.random() * 0.5),
    );
    const kill = () => {
      killer.crashed = true;
      killedAfter = Date.now() - started;
      publishingAtKill = runs.filter((p) => !p.done).length;
      broker.kill();
    };
    const killer: Killer = {
      crashed: false,
      acknowledgements: 0,
      acknowledged() {
        if (this.crashed) return;
        this.acknowledgements++;
        if (
          (Date.now() - started >= killAt &&
            this.acknowledgements >= minAcknowledged) ||
          this.acknowledgements >= killAtAcks
        ) {
          kill();
        }
      },
    };
    for (const { clientId, qos } of publishers) {
      runs.push(new Publisher(clientId, qos, messages, window, killer));
    }
    const running = runs.map((p) => p.run(broker.port));
    // Killed anyway after 5 s, or once every publisher is done.
    const deadline = started + 5_000;
    while (
      !killer.crashed && Date.now() < deadline && runs.some((p) => !p.done)
    ) {
      await sleep(5);
    }
    if (!killer.crashed) kill();
    await broker.crash();
    await Promise.all(running);
  }

  await using broker = await BrokerProcess.start(path);
  const expected = new Set(runs.flatMap((p) => p.acknowledged));
  const drainStarted = Date.now();
  const seen = await drain(broker.port, expected, options.patience ?? 3_000);
  const drainMs = Date.now() - drainStarted;
  await broker.stop();

  const count = (qos: QoS, of: (p: Publisher) => number) =>
    runs.filter((p) => p.qos === qos).reduce((n, p) => n + of(p), 0);
  const lost = [...expected].filter((m) => !seen.has(m));
  let duplicates1 = 0;
  let duplicates2 = 0;
  let delivered1 = 0;
  let delivered2 = 0;
  for (const [payload, times] of seen) {
    if (payload.startsWith("q1-")) {
      delivered1++;
      duplicates1 += times > 1 ? 1 : 0;
    } else {
      delivered2++;
      duplicates2 += times > 1 ? 1 : 0;
    }
  }
  return {
    killedAfter,
    publishingAtKill,
    sent: { qos1: count(1, (p) => p.sent), qos2: count(2, (p) => p.sent) },
    acknowledged: {
      qos1: count(1, (p) => p.acknowledged.length),
      qos2: count(2, (p) => p.acknowledged.length),
    },
    delivered: { qos1: delivered1, qos2: delivered2 },
    lost,
    duplicates: { qos1: duplicates1, qos2: duplicates2 },
    outOfOrder: outOfOrder([...seen.keys()]),
    drainMs,
  };
}

/** The subscriber's first visit: a 5.0 session kept 10 minutes, then gone. */
async function leaveSubscribed(port: number): Promise<void> {
  const { client, connack } = await TestClient.connect(port, {
    clientId: SUBSCRIBER,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 600 },
  });
  try {
    if (connack.reasonCode !== 0) {
      throw new Error(`CONNACK refused with ${connack.reasonCode}`);
    }
    await client.send({
      type: "subscribe",
      packetId: 1,
      subscriptions: [
        { topicFilter: `${TOPIC}/q1/#`, qos: 1 },
        { topicFilter: `${TOPIC}/q2/#`, qos: 2 },
      ],
    });
    // Sent once the subscriptions are committed.
    const suback = await client.next();
    if (suback.type !== "suback") {
      throw new Error(`Expected SUBACK, got ${suback.type}`);
    }
    await client.send({ type: "disconnect" });
    await client.closed();
  } finally {
    await client.close();
  }
}

/** Counts the acknowledgements of a round and kills its broker. */
interface Killer {
  /** Whether the broker was killed. */
  crashed: boolean;
  /** Acknowledgements counted until the kill. */
  acknowledgements: number;
  /** Counts one just read; may kill the broker before it returns. */
  acknowledged(): void;
}

/**
 * A client that publishes `payload` "clientId:seq" to its own topic with
 * up to `window` messages unacknowledged, until it has sent `limit` or the
 * broker is gone.
 */
class Publisher {
  readonly clientId: string;
  readonly qos: QoS;
  /** Payloads acknowledged: PUBACK, or PUBREC at QoS 2. */
  readonly acknowledged: string[] = [];
  sent = 0;
  done = false;
  readonly #limit: number;
  readonly #window: number;
  readonly #killer: Killer;

  constructor(
    clientId: string,
    qos: QoS,
    limit: number,
    window: number,
    killer: Killer,
  ) {
    this.clientId = clientId;
    this.qos = qos;
    this.#limit = limit;
    this.#window = window;
    this.#killer = killer;
  }

  async run(port: number): Promise<void> {
    const { client } = await TestClient.connect(port, {
      clientId: this.clientId,
    });
    const topic = `${TOPIC}/q${this.qos}/${this.clientId}`;
    /** Payloads by packet id, until PUBACK or PUBCOMP frees the id. */
    const pending = new Map<number, string>();
    try {
      for (;;) {
        while (pending.size < this.#window && this.sent < this.#limit) {
          const packetId = this.sent % 65_535 + 1;
          const payload = `${this.clientId}:${this.sent++}`;
          pending.set(packetId, payload);
          await client.send(
            publish({ topic, payload, qos: this.qos, packetId }),
          );
        }
        if (pending.size === 0) break;
        this.#take(await client.next(5_000), pending, client);
      }
    } catch (error) {
      if (!this.#killer.crashed) throw error;
      // What arrived before the broker died still counts.
      for (;;) {
        const packet = await client.next(0).catch(() => undefined);
        if (packet === undefined) break;
        this.#take(packet, pending, undefined);
      }
    } finally {
      this.done = true;
      await client.close();
    }
  }

  #take(
    packet: Packet,
    pending: Map<number, string>,
    client: TestClient | undefined,
  ): void {
    switch (packet.type) {
      case "puback": {
        this.acknowledged.push(pending.get(packet.packetId)!);
        pending.delete(packet.packetId);
        this.#killer.acknowledged();
        return;
      }
      case "pubrec": {
        this.acknowledged.push(pending.get(packet.packetId)!);
        this.#killer.acknowledged();
        // The broker holds the message: released, its id freed by PUBCOMP.
        client?.send({ type: "pubrel", packetId: packet.packetId })
          .catch(() => {});
        return;
      }
      case "pubcomp":
        pending.delete(packet.packetId);
        return;
      default:
        throw new Error(`${this.clientId} got an unexpected ${packet.type}`);
    }
  }
}

/**
 * The subscriber's return: takes what its session kept, acknowledging each
 * message, until every message of `expected` came and nothing more comes
 * for 300 ms, or nothing comes for `patience` ms while some are missing.
 * Returns how many times each payload came.
 */
async function drain(
  port: number,
  expected: Set<string>,
  patience: number,
): Promise<Map<string, number>> {
  const { client, connack } = await TestClient.connect(port, {
    clientId: SUBSCRIBER,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 600 },
  });
  const seen = new Map<string, number>();
  const decoder = new TextDecoder();
  let missing = expected.size;
  try {
    if (connack.reasonCode !== 0 || !connack.sessionPresent) {
      throw new Error(
        `The subscriber's session is gone: CONNACK ${connack.reasonCode}, session present ${connack.sessionPresent}`,
      );
    }
    for (;;) {
      let packet: Packet;
      try {
        packet = await client.next(missing > 0 ? patience : 300);
      } catch (error) {
        // Quiet: all came, or what is missing is lost.
        if (!client.ended) break;
        throw error;
      }
      if (packet.type === "pubrel") {
        await client.send({ type: "pubcomp", packetId: packet.packetId });
        continue;
      }
      if (packet.type !== "publish") {
        throw new Error(`The subscriber got an unexpected ${packet.type}`);
      }
      const payload = decoder.decode(packet.payload);
      const times = (seen.get(payload) ?? 0) + 1;
      seen.set(payload, times);
      if (times === 1 && expected.has(payload)) missing--;
      if (packet.qos === 1) {
        await client.send({ type: "puback", packetId: packet.packetId! });
      } else if (packet.qos === 2) {
        await client.send({ type: "pubrec", packetId: packet.packetId! });
      }
    }
    await client.send({ type: "disconnect" });
    await client.closed();
  } finally {
    await client.close();
  }
  return seen;
}

/**
 * Payloads "clientId:seq" that break their publisher's order: each
 * publisher's must come as 0, 1, 2... with no gap.
 */
function outOfOrder(payloads: string[]): string[] {
  const next = new Map<string, number>();
  const wrong: string[] = [];
  for (const payload of payloads) {
    const at = payload.lastIndexOf(":");
    const clientId = payload.slice(0, at);
    const seq = Number(payload.slice(at + 1));
    const expected = next.get(clientId) ?? 0;
    if (seq !== expected) wrong.push(payload);
    next.set(clientId, seq + 1);
  }
  return wrong;
}
