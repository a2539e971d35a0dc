/**
 * The web dashboard in a real browser: headless Chromium driven over the
 * DevTools protocol (`_cdp.ts`) against a broker with its API, signing in
 * with the token, watching the overview, kicking a client, publishing a
 * retained message and watching a filter while `mosquitto_pub` publishes.
 * Each page's screenshot is saved in a temporary folder and checked not
 * to be blank; the page must log no error.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { RedisBus, serveApi, Server } from "../mod.ts";
import { subscribe } from "../packets/testdata/packets.ts";
import { Browser, type Page, pngColours } from "./_cdp.ts";
import { startServer } from "./_client.ts";
import { startRedisServer } from "./_redis.ts";

const TOKEN = "dashboard-token";

/** Saves a screenshot and checks that it shows something. */
async function snapshot(page: Page, dir: string, name: string): Promise<void> {
  const png = await page.screenshot(`${dir}/${name}.png`);
  ok(png.length > 5000, `${name}.png has ${png.length} bytes`);
  const colours = await pngColours(png);
  ok(colours > 20, `${name}.png has ${colours} colours`);
}

/** Opens a section through its link in the navigation. */
async function section(page: Page, name: string): Promise<void> {
  await page.click(`.top nav a[href="#/${name}"]`);
  await page.waitFor(
    `document.querySelector('.top nav a[aria-current="page"]')?.getAttribute("href") === "#/${name}"`,
  );
}

Deno.test("The dashboard signs in, shows the broker live, kicks a client, publishes, shows retained messages and watches a filter", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt-dashboard-" });
  await using mqtt = await startServer({ sys: { interval: 0 } });
  await using api = serveApi(mqtt.server, { port: 0, token: TOKEN });
  await using browser = await Browser.launch();
  try {
    const page = await browser.open(`http://127.0.0.1:${api.address.port}/`);
    strictEqual(
      await page.evaluate("location.pathname"),
      "/ui/",
      "/ leads to /ui/",
    );

    // Signing in: the first calls are refused, the form shows.
    await page.waitFor(`!document.getElementById("login").hidden`);
    await page.click('input[name="kind"][value="token"]');
    await page.type("#login-token", TOKEN);
    await page.submit("#login-form");
    await page.waitForText("#stat-connections", "0");
    // The 401s before signing in are expected; nothing after it is.
    const before = page.errors.length;
    strictEqual(
      await page.evaluate(`sessionStorage.getItem("gmqtt.authorization")`),
      `Bearer ${TOKEN}`,
    );
    ok(!(await page.evaluate<string>("location.href")).includes(TOKEN));

    // A client connects: the overview counts it.
    const { client: kicked } = await mqtt.connect({
      clientId: "dash-kicked",
      clean: false,
      keepAlive: 60,
    });
    await page.waitForText("#stat-connections", "1");
    await page.waitForText("#stat-online", "1");
    await snapshot(page, dir, "overview");

    // Find it, open its page, kick it with its session.
    await section(page, "clients");
    await page.type("#client-prefix", "dash-");
    await page.waitForText("#client-results", "dash-kicked");
    await snapshot(page, dir, "clients");
    await page.click('#client-results a[href="#/clients/dash-kicked"]');
    await page.waitForText("#client-details", "60 s");
    await snapshot(page, dir, "client");
    await page.click("#kick-discard");
    await page.click("#kick");
    await page.waitFor(`document.getElementById("confirm").open`);
    await page.waitForText("#confirm-text", "discard its session");
    await page.click("#confirm-ok");
    await kicked.closed(5000);
    await page.waitFor(`location.hash === "#/clients"`);
    await page.waitForText("#status", "Kicked dash-kicked");
    await page.waitForText("#client-results", "No client matches");
    strictEqual(mqtt.server.session("dash-kicked"), undefined);

    // Publish a retained message from the form.
    await section(page, "publish");
    await page.type("#publish-topic", "dash/retained");
    await page.type("#publish-payload", '{"temp":21.5,"unit":"C"}');
    await page.type("#publish-qos", "1");
    await page.click("#publish-retain");
    await snapshot(page, dir, "publish");
    await page.click("#publish-send");
    await page.waitForText("#status", "Published to dash/retained (retained)");
    strictEqual(mqtt.server.retained("dash/retained").length, 1);

    // It shows in the retained view, as pretty JSON, then as hex.
    await section(page, "retained");
    await page.waitForText("#retained-results", "dash/retained");
    await page.click("#retained-results button.link");
    await page.waitForText("#retained-payload", '"temp": 21.5');
    await snapshot(page, dir, "retained");
    await page.click("#mode-hex");
    await page.waitForText("#retained-payload", "7b 22 74 65 6d 70");

    // Who would receive a topic.
    const { client: subscriber } = await mqtt.connect({ clientId: "dash-sub" });
    await subscriber.send(subscribe({ subscriptions: [["dash/+/x", 1]] }));
    await subscriber.next();
    await section(page, "subscriptions");
    await page.waitForText("#subscription-results", "dash/+/x");
    await page.type("#receives-topic", "dash/a/x");
    await page.evaluate(
      `document.getElementById("receives-topic").form.requestSubmit()`,
    );
    await page.waitForText("#receivers", "dash-sub");
    await snapshot(page, dir, "subscriptions");

    // Watch a filter; mosquitto_pub publishes to it.
    await section(page, "watch");
    await page.type("#watch-filter", "dash/watch/#");
    await page.click("#watch-toggle");
    await page.waitForText("#watch-counts", "Watching dash/watch/#");
    const pub = await new Deno.Command("mosquitto_pub", {
      args: [
        ...["-h", "127.0.0.1", "-p", String(mqtt.port), "-q", "1"],
        ...["-t", "dash/watch/kitchen", "-m", "hello from mosquitto_pub"],
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    strictEqual(pub.code, 0, new TextDecoder().decode(pub.stderr));
    await page.waitForText("#watch-messages", "hello from mosquitto_pub");
    await page.waitForText("#watch-messages", "dash/watch/kitchen");
    await page.waitForText("#watch-counts", "1 received");
    await snapshot(page, dir, "watch");
    await page.click("#watch-toggle");
    await subscriber.close();

    // No error but the 404 of the cluster endpoint the overview asks for,
    // and the 401s before signing in.
    const errors = page.errors.filter((e, i) =>
      !(e.includes("status of 404") && e.includes("/api/v1/cluster")) &&
      !(i < before && e.includes("status of 401"))
    );
    deepStrictEqual(errors, []);
  } finally {
    await browser.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("The dashboard of a cluster node shows the cluster's nodes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt-dashboard-" });
  await using redis = await startRedisServer();
  const servers = ["a", "b"].map((nodeId) =>
    new Server({
      bus: new RedisBus(redis.url, {
        nodeId,
        heartbeatInterval: 100,
        heartbeatTtl: 1000,
      }),
    })
  );
  for (const server of servers) await server.start();
  await using api = serveApi(servers[0]!, { port: 0, token: TOKEN });
  await using browser = await Browser.launch();
  try {
    const page = await browser.open(`http://127.0.0.1:${api.address.port}/`);
    await page.waitFor(`!document.getElementById("login").hidden`);
    await page.click('input[name="kind"][value="token"]');
    await page.type("#login-token", TOKEN);
    await page.submit("#login-form");
    await page.waitFor(`!document.getElementById("cluster-nodes").hidden`);
    await page.waitForText("#cluster-nodes", "Redis reachable");
    await page.waitFor(
      `document.querySelectorAll("#cluster-nodes tbody tr").length === 2`,
    );
    deepStrictEqual(
      await page.evaluate<string[]>(
        `[...document.querySelectorAll("#cluster-nodes tbody td:first-child")].map((td) => td.textContent)`,
      ),
      ["a", "b"],
    );
    await snapshot(page, dir, "cluster");
    const before = page.errors.filter((e) => !e.includes("status of 401"));
    deepStrictEqual(before, []);
  } finally {
    await browser.close();
    for (const server of servers) await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
