// deno-lint-ignore-file no-console -- a measuring script run by hand, not a library
/**
 * Bytes and messages per second delivered to ten 5.0 subscribers that allow
 * 10 topic aliases, with the broker setting aliases (`topicAliasMaximumOut`
 * 10) or not (0): `deno run -A bench/topic_alias_out_bytes.ts 10 20000`.
 */
import { Server } from "../mod.ts";
import { encodePacket, PacketDecoder } from "../packets/mod.ts";

const TOPIC = "factory/line-07/station-12/sensors/temperature/celsius/raw";
const N = Number(Deno.args[1] ?? 50000), SUBS = 10;
async function run(aliasOut: number) {
  const server = new Server({ topicAliasMaximumOut: aliasOut });
  server.listen({ hostname: "127.0.0.1", port: 0 });
  await server.start();
  const port = server.addresses[0]!.port;
  const subs = await Promise.all(Array.from({ length: SUBS }, async (_, i) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      encodePacket({
        type: "connect",
        protocolName: "MQTT",
        protocolVersion: 5,
        clean: true,
        keepAlive: 0,
        clientId: "s" + i,
        properties: { topicAliasMaximum: 10 },
      }, 5),
    );
    await conn.write(
      encodePacket({
        type: "subscribe",
        packetId: 1,
        subscriptions: [{ topicFilter: "factory/#", qos: 0 }],
      }, 5),
    );
    const dec = new PacketDecoder({ protocolVersion: 5 });
    let got = 0, bytes = 0, ready!: () => void, done!: () => void;
    const readyP = new Promise<void>((r) => ready = r),
      doneP = new Promise<void>((r) => done = r);
    const buf = new Uint8Array(65536);
    (async () => {
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return;
        for (const p of dec.push(buf.subarray(0, n))) {
          if (p.type === "suback") ready();
          if (p.type === "publish") {
            got++;
            if (got === N) done();
          }
        }
        if (got > 0 || n) bytes += n;
      }
    })();
    await readyP;
    return { conn, doneP, bytes: () => bytes };
  }));
  const base = subs.map((s) => s.bytes());
  const payload = new Uint8Array(64);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const p = server.publish({ topic: TOPIC, payload });
    if (i % 100 === 0) {
      await p;
      await new Promise((r) => setTimeout(r, 0));
    } else p.catch(() => {});
  }
  await Promise.race([
    Promise.all(subs.map((s) => s.doneP)),
    new Promise((r) => setTimeout(r, 5000)),
  ]);
  const secs = (performance.now() - t0) / 1000;
  const bytes = subs.reduce((a, s, i) => a + s.bytes() - base[i]!, 0);
  console.log(
    `aliasOut=${aliasOut}: ${(N * SUBS / secs).toFixed(0)} msg/s delivered, ${
      (bytes / (N * SUBS)).toFixed(1)
    } B/msg received, total ${bytes} B`,
  );
  for (const s of subs) s.conn.close();
  await server.stop();
}
await run(Number(Deno.args[0]));
