/**
 * Takes the README's screenshot of the dashboard (`docs/dashboard.png`): a
 * broker with its API on free local ports, a few clients publishing at a
 * rate that rises and falls, a persistent session offline and some
 * retained messages, then headless Chromium on the overview once the
 * charts have some history.
 *
 * ```sh
 * deno run -A bench/dashboard_screenshot.ts [docs/dashboard.png] [seconds]
 * ```
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { serveApi } from "../mod.ts";
import { publish, subscribe } from "../packets/testdata/packets.ts";
import { Browser } from "../tests/_cdp.ts";
import { startServer, type TestClient } from "../tests/_client.ts";

const out = Deno.args[0] ?? "docs/dashboard.png";
const seconds = Number(Deno.args[1] ?? "120");

await using mqtt = await startServer({ sys: { interval: 0 } });
await using api = serveApi(mqtt.server, { port: 0 });
await using browser = await Browser.launch({ width: 1280, height: 800 });
const page = await browser.open(`http://127.0.0.1:${api.address.port}/`);
await page.waitFor(`document.getElementById("stat-connections")?.textContent`);

// A session that stays behind offline, and some retained state.
const { client: away } = await mqtt.connect({
  clientId: "meter-offline",
  clean: false,
});
await away.send(subscribe({ subscriptions: [["meters/#", 1]] }));
await away.next();
await away.send({ type: "disconnect" });
await away.closed();
for (const room of ["kitchen", "hall", "garage", "attic"]) {
  await mqtt.server.publish({
    topic: `home/${room}/temp`,
    payload: JSON.stringify({ temp: 20 + room.length / 2 }),
    retain: true,
  });
}

const subscribers: TestClient[] = [];
for (let i = 0; i < 4; i++) {
  const { client } = await mqtt.connect({ clientId: `dashboard-${i}` });
  await client.send(subscribe({ subscriptions: [["sensors/#", 0]] }));
  await client.next();
  subscribers.push(client);
}
const publishers: TestClient[] = [];
for (let i = 0; i < 8; i++) {
  const { client } = await mqtt.connect({ clientId: `sensor-${i}` });
  publishers.push(client);
}

let running = true;
// Subscribers read what they get, so nothing piles up.
const draining = subscribers.map(async (client) => {
  while (running) await client.next(5000).catch(() => undefined);
});
const start = Date.now();
const payload = "x".repeat(120);
while (Date.now() - start < seconds * 1000) {
  const t = (Date.now() - start) / 1000;
  // Messages per 100 ms tick, rising and falling: about 300 to 1500 a second.
  const n = Math.round(90 + 60 * Math.sin(t / 6));
  for (let i = 0; i < n; i++) {
    const client = publishers[i % publishers.length]!;
    await client.send(publish({ topic: `sensors/${i % 20}/value`, payload }));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

await page.screenshot(out);
console.log(`wrote ${out}`);
running = false;
await Promise.all(draining);
for (const client of [...subscribers, ...publishers]) await client.close();
