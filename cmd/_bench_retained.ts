/**
 * The retained scenario of `cmd/bench.ts`: publishers store retained
 * messages on distinct topics, then one subscriber to a wildcard filter over
 * all of them gets them back; both phases are timed, and the messages are
 * cleared at the end.
 *
 * @module
 */

import {
  BenchClient,
  BenchClientError,
  PublishTemplate,
} from "./_bench_client.ts";
import {
  clientOptions,
  closeAll,
  emptyResult,
  ErrorLog,
  forEachLimited,
  hold,
  linkFor,
  reach,
  runId,
  SETUP_CONCURRENCY,
  startProgress,
} from "./_bench_common.ts";
import type { BenchResult, Resolved } from "./_bench_options.ts";
import {
  readStamp,
  SequenceTracker,
  type Stamp,
  writeStamp,
} from "./_bench_stats.ts";

/** Messages queued by a publisher between two awaits. */
const BATCH = 256;

/** A publisher's progress, and the wake-up of whoever waits on it. */
class Storer {
  readonly client: BenchClient;
  sent = 0;
  acked = 0;
  wake: (() => void) | undefined;

  constructor(client: BenchClient) {
    this.client = client;
    client.onAcked = () => {
      this.acked++;
      this.wake?.();
    };
    client.onClose = () => this.wake?.();
  }

  /**
   * Waits until `ready()`, woken by acks; false if the connection ended or
   * nothing moved for `timeout` ms.
   */
  async until(ready: () => boolean, timeout: number): Promise<boolean> {
    while (!ready()) {
      if (this.client.closed) return false;
      const moved = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeout);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      this.wake = undefined;
      if (!moved) return false;
    }
    return true;
  }
}

/** Publishes publisher `i`'s retained messages; returns how many stuck. */
async function store(
  o: Resolved,
  s: Storer,
  i: number,
  base: string,
  published: () => void,
): Promise<number> {
  const window = o.inflight;
  const stampWith = (view: DataView) =>
    writeStamp(view, i, s.sent, performance.now());
  while (s.sent < o.topics && !s.client.closed && !o.signal?.aborted) {
    if (o.qos > 0 && s.sent - s.acked >= window) {
      if (!await s.until(() => s.sent - s.acked < window, o.timeout)) break;
      continue;
    }
    const space = o.qos > 0 ? window - (s.sent - s.acked) : BATCH;
    const n = Math.min(BATCH, o.topics - s.sent, space);
    for (let k = 0; k < n; k++) {
      const topic = `${base}/${i}/${s.sent}`;
      s.client.sendPublish(
        new PublishTemplate(topic, o.size, o.qos, o.protocolVersion, true),
        stampWith,
      );
      s.sent++;
      published();
    }
    await s.client.drained();
  }
  if (o.qos === 0) {
    // The broker handles a connection's packets in order: the PINGRESP
    // comes once every PUBLISH before it is handled.
    await s.client.ping(o.timeout);
    return s.sent;
  }
  if (!await s.until(() => s.acked >= s.sent, o.timeout)) {
    throw new BenchClientError(
      `Cannot store retained messages: ${
        s.sent - s.acked
      } not acknowledged within ${o.timeout} ms`,
    );
  }
  return s.acked;
}

/** Publishes an empty retained message on each of publisher `i`'s topics. */
async function clear(
  o: Resolved,
  s: Storer,
  i: number,
  base: string,
): Promise<void> {
  for (let j = 0; j < s.sent && !s.client.closed; j++) {
    s.client.send({
      type: "publish",
      topic: `${base}/${i}/${j}`,
      payload: new Uint8Array(0),
      qos: 0,
      retain: true,
      dup: false,
    });
    if (j % BATCH === BATCH - 1) await s.client.drained();
  }
  await s.client.ping(o.timeout);
}

/**
 * Stores `o.topics` retained messages per publisher, holds, has one
 * subscriber to `TOPIC/RUN/#` receive them all, and clears them.
 */
export async function runRetained(o: Resolved): Promise<BenchResult> {
  const run = runId();
  const base = `${o.topic}/${run}`;
  const errors = new ErrorLog();
  const storers: Storer[] = new Array(o.clients);
  const everyone: BenchClient[] = [];
  let published = 0;
  let delivered = 0;
  try {
    await forEachLimited(o.clients, SETUP_CONCURRENCY, async (i) => {
      const client = await BenchClient.connect(
        linkFor(o.link, o.hostnames, i),
        clientOptions(o, `bench-${run}-p${i}`),
      );
      everyone.push(client);
      storers[i] = new Storer(client);
    });

    const start = performance.now();
    const progress = startProgress(o, start, () => published, () => delivered);
    let stored = 0;
    await Promise.all(storers.map(async (s, i) => {
      try {
        const n = await store(o, s, i, base, () => published++);
        stored += n;
      } catch (error) {
        errors.add(error);
      }
    }));
    const storeTime = (performance.now() - start) / 1000;
    progress.stop();
    await reach(o, "ready");
    await hold(o);

    // One subscriber gets them all back.
    const trackers = storers.map(() => new SequenceTracker());
    const stamp: Stamp = { publisher: 0, seq: 0, sentAt: 0 };
    let foreign = 0;
    let lastDelivery = 0;
    let wake: (() => void) | undefined;
    const subscriber = await BenchClient.connect(
      linkFor(o.link, o.hostnames, o.clients),
      clientOptions(o, `bench-${run}-s0`),
    );
    everyone.push(subscriber);
    subscriber.onPublish = (packet) => {
      const tracker = readStamp(packet.payload, stamp)
        ? trackers[stamp.publisher]
        : undefined;
      if (tracker === undefined) {
        foreign++;
        return;
      }
      if (!tracker.add(stamp.seq)) return;
      delivered++;
      lastDelivery = performance.now();
      wake?.();
    };
    subscriber.onClose = () => wake?.();
    const subscribeStart = performance.now();
    await subscriber.subscribe(`${base}/#`, o.qos, o.timeout);
    // As long as they keep coming, for at most `timeout` ms between two.
    while (delivered < stored && !subscriber.closed && !o.signal?.aborted) {
      const before = delivered;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.timeout);
        wake = () => {
          if (delivered < stored && !subscriber.closed) return;
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (delivered === before) break;
    }
    await reach(o, "done");
    await hold(o);
    const deliveryTime = delivered > 0
      ? (lastDelivery - subscribeStart) / 1000
      : 0;
    if (subscriber.error) errors.add(subscriber.error);
    // Gone before the clearing, which it would otherwise receive.
    await subscriber.disconnect(1000);

    await Promise.all(storers.map(async (s, i) => {
      try {
        await clear(o, s, i, base);
      } catch (error) {
        errors.add(error);
      }
    }));
    for (const s of storers) {
      if (s.client.error) errors.add(s.client.error);
    }
    if (foreign > 0) {
      errors.add(`${foreign} messages without a stamp of this run`);
    }
    const acked = storers.reduce((sum, s) => sum + s.acked, 0);
    return {
      ...emptyResult(o, o.clients, 1),
      elapsed: storeTime + deliveryTime,
      published,
      acked,
      publishRate: storeTime > 0 ? published / storeTime : 0,
      expected: stored,
      delivered,
      deliveryRate: deliveryTime > 0 ? delivered / deliveryTime : 0,
      lost: stored - delivered,
      duplicated: trackers.reduce((sum, t) => sum + t.duplicated, 0),
      // MQTT sets no order among retained messages of different topics.
      outOfOrder: 0,
      retained: {
        stored,
        storeTime,
        storeRate: storeTime > 0 ? stored / storeTime : 0,
        deliveryTime,
        deliveryRate: deliveryTime > 0 ? delivered / deliveryTime : 0,
      },
      errors: [...errors.messages],
    };
  } finally {
    await closeAll(everyone);
  }
}
