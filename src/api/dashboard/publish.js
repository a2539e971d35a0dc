// Publish: a message through the broker's normal routing and hooks, with
// the MQTT 5.0 properties the API takes.

import { call } from "./api.js";
import { checkbox, fail, field, h, say } from "./dom.js";

/** `name=value` lines as pairs; a line without "=" is a name with "". */
function userProperties(text) {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const at = line.indexOf("=");
    return at < 0
      ? [line.trim(), ""]
      : [line.slice(0, at).trim(), line.slice(at + 1)];
  });
}

export function publish(main) {
  const topic = h("input", {
    id: "publish-topic",
    required: true,
    autocomplete: "off",
    placeholder: "home/kitchen/temp",
  });
  const payload = h("textarea", { id: "publish-payload" });
  const encoding = h(
    "select",
    { id: "publish-encoding" },
    h("option", { value: "utf8" }, "Text (UTF-8)"),
    h("option", { value: "base64" }, "Base64"),
  );
  const qos = h(
    "select",
    { id: "publish-qos" },
    h("option", { value: "0" }, "0"),
    h("option", { value: "1" }, "1"),
    h("option", { value: "2" }, "2"),
  );
  const retain = checkbox("publish-retain", "Retain");
  const expiry = h("input", {
    id: "publish-expiry",
    type: "number",
    min: 0,
    max: 4294967295,
    inputmode: "numeric",
  });
  const contentType = h("input", {
    id: "publish-content-type",
    autocomplete: "off",
  });
  const responseTopic = h("input", {
    id: "publish-response-topic",
    autocomplete: "off",
  });
  const properties = h("textarea", {
    id: "publish-user-properties",
    placeholder: "name=value",
  });
  const send = h("button", { type: "submit", id: "publish-send" }, "Publish");

  const submit = async (event) => {
    event.preventDefault();
    const body = {
      topic: topic.value,
      payload: payload.value,
      encoding: encoding.value,
      qos: Number(qos.value),
      retain: retain.input.checked,
    };
    if (expiry.value !== "") body.messageExpiryInterval = Number(expiry.value);
    if (contentType.value !== "") body.contentType = contentType.value;
    if (responseTopic.value !== "") body.responseTopic = responseTopic.value;
    const pairs = userProperties(properties.value);
    if (pairs.length > 0) body.userProperties = pairs;
    send.disabled = true;
    try {
      await call("POST", "publish", body);
      say(`Published to ${topic.value}${body.retain ? " (retained)" : ""}.`);
    } finally {
      send.disabled = false;
    }
  };

  main.append(
    h("h1", {}, "Publish"),
    h(
      "form",
      {
        class: "panel",
        id: "publish-form",
        onsubmit: (e) => submit(e).catch(fail),
      },
      field("Topic", topic),
      field("Payload", payload),
      h(
        "div",
        { class: "bar" },
        field("Payload encoding", encoding),
        field("QoS", qos),
        retain.element,
      ),
      h(
        "details",
        {},
        h("summary", {}, "MQTT 5.0 properties"),
        field("Message expiry interval (seconds)", expiry),
        field("Content type", contentType),
        field("Response topic", responseTopic),
        field("User properties", properties, "One name=value a line."),
      ),
      h("div", { class: "actions" }, send),
    ),
  );
  topic.focus();
  return () => {};
}
