"use strict";
// amazon-connect-chatjs 5.0.0 as the CUSTOMER of a Parley chat, under Node 20 (stream.md §7).
//
//   node harness.js '{"endpoint":"http://127.0.0.1:PORT","contactId":"…","participantId":"…",
//                     "participantToken":"…","throttleTime":200}'
//
// stdout: one JSON object per line, {"event":"<hook>","t":<epoch ms>,…}: every chatjs hook (onMessage,
//         onTyping, onReadReceipt, … with the item), {"event":"ready"} once the socket is open, and
//         {"event":"result","op":…,"ok":…,"data"|"error":…} per command.
// stdin:  one JSON command per line, run in order once ready: {"op":"send","content":"hi"},
//         {"op":"typing"}, {"op":"read","messageId":"…"}, {"op":"delivered","messageId":"…"},
//         {"op":"transcript"}, {"op":"disconnect"}, {"op":"exit"}. An "id" member is echoed back.
// stderr: chatjs's own log (level from HARNESS_LOG_LEVEL: DEBUG, INFO, WARN (default), ERROR).
// The process exits on {"op":"exit"} or when stdin closes: chatjs keeps intervals alive.

const readline = require("readline");
const util = require("util");

// Globals chatjs expects from a browser, set before the require (each one shown necessary).
globalThis.self = globalThis;
globalThis.window = globalThis;
Object.defineProperty(globalThis, "navigator", {
  value: { userAgent: "node", onLine: true },
  configurable: true,
  writable: true,
});
globalThis.WebSocket = require("ws");

// stdout carries only our JSON lines: anything chatjs prints goes to stderr.
const toStderr = (...args) => process.stderr.write(util.format(...args) + "\n");
console.log = console.info = console.debug = toStderr;

require("amazon-connect-chatjs"); // a webpack bundle without exports: installs globalThis.connect
const connect = globalThis.connect;

const config = JSON.parse(process.argv[2] || "{}");
for (const name of ["endpoint", "contactId", "participantId", "participantToken"]) {
  if (!config[name]) {
    toStderr(`harness.js: missing ${name} in the JSON argument`);
    process.exit(2);
  }
}

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, t: Date.now(), ...fields }) + "\n");
}

function item(data) {
  if (!data || typeof data !== "object") return data ?? null;
  const keys = ["Id", "Type", "ContentType", "Content", "ParticipantId", "ParticipantRole", "DisplayName",
    "AbsoluteTime", "ContactId", "InitialContactId", "MessageMetadata"];
  return Object.fromEntries(keys.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));
}

function failure(error) {
  if (typeof error === "string") return { message: error };
  const debug = error?._debug ?? error;
  return {
    message: String(error?.message ?? error?.reason ?? error?.errorMessage ?? debug?.message ?? "error"),
    name: debug?.name ?? error?.name ?? null,
    statusCode: error?.statusCode ?? debug?.statusCode ?? debug?.$metadata?.httpStatusCode ?? null,
  };
}

// chatjs's log goes to stderr, filtered here; its socket manager's "advanced" lines count as INFO.
const LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"];
const threshold = Math.max(0, LEVELS.indexOf((process.env.HARNESS_LOG_LEVEL || "WARN").toUpperCase()));
const at = (rank) => (...args) => rank >= threshold && toStderr(...args);
const logger = { debug: at(0), info: at(1), warn: at(2), error: at(3), advancedLog: at(1) };

// The SDK client is cached per region with the endpoint fixed at creation: configure first.
connect.ChatSession.setGlobalConfig({
  region: "us-east-1",
  endpoint: config.endpoint,
  loggerConfig: { customizedLogger: logger, level: connect.LogLevel.DEBUG, advancedLogWriter: "info" },
  webSocketManagerConfig: { isNetworkOnline: () => true },
  features: { messageReceipts: { shouldSendMessageReceipts: true, throttleTime: config.throttleTime ?? 200 } },
});

const session = connect.ChatSession.create({
  type: "CUSTOMER",
  options: { region: "us-east-1" },
  chatDetails: {
    contactId: config.contactId,
    participantId: config.participantId,
    participantToken: config.participantToken,
  },
  disableCSM: true,
});

let established = 0;
let ready = false;
session.onConnectionEstablished((event) => {
  established += 1;
  // The first one fires when connect() resolves, before the socket opens; later ones are the socket's.
  const source = event?.connectSuccess ? "connect" : "socket";
  emit("onConnectionEstablished", { count: established, source });
  if (source === "socket" && !ready) {
    ready = true;
    emit("ready");
    pump();
  }
});
session.onConnectionLost(() => emit("onConnectionLost"));
session.onConnectionBroken(() => emit("onConnectionBroken"));
session.onMessage((event) => emit("onMessage", { item: item(event?.data) }));
session.onTyping((event) => emit("onTyping", { item: item(event?.data) }));
session.onReadReceipt((event) => emit("onReadReceipt", { item: item(event?.data) }));
session.onDeliveredReceipt((event) => emit("onDeliveredReceipt", { item: item(event?.data) }));
session.onParticipantIdle((event) => emit("onParticipantIdle", { item: item(event?.data) }));
session.onEnded((event) => emit("onEnded", { item: item(event?.data) }));
session.onDeepHeartbeatSuccess(() => emit("onDeepHeartbeatSuccess"));
session.onDeepHeartbeatFailure(() => emit("onDeepHeartbeatFailure"));

const EVENT = "application/vnd.amazonaws.connect.event.";
const ops = {
  send: async (c) => {
    const r = await session.sendMessage({ contentType: c.contentType || "text/plain", message: c.content });
    return { Id: r?.data?.Id, AbsoluteTime: r?.data?.AbsoluteTime };
  },
  typing: async () => {
    await session.sendEvent({ contentType: EVENT + "typing" });
    return {};
  },
  read: async (c) => receipt("message.read", c.messageId),
  delivered: async (c) => receipt("message.delivered", c.messageId),
  transcript: async (c) => {
    const r = await session.getTranscript({ maxResults: c.maxResults || 100, sortOrder: "ASCENDING" });
    return { Transcript: (r?.data?.Transcript || []).map(item), NextToken: r?.data?.NextToken ?? null };
  },
  attach: async (c) => {
    // A browser File: chatjs starts the upload, PUTs the bytes with fetch, then completes it.
    const file = new File([Buffer.from(c.base64, "base64")], c.name, { type: c.contentType });
    const r = await session.sendAttachment({ attachment: file });
    return { data: r?.data ?? null };
  },
  download: async (c) => {
    const blob = await session.downloadAttachment({ attachmentId: c.attachmentId });
    return { base64: Buffer.from(await blob.arrayBuffer()).toString("base64"), type: blob.type };
  },
  disconnect: async () => {
    await session.disconnectParticipant();
    return {};
  },
  exit: async (c) => process.exit(c.code || 0),
};

async function receipt(kind, messageId) {
  await session.sendEvent({ contentType: EVENT + kind, content: JSON.stringify({ messageId }) });
  return {};
}

const queue = [];
let busy = false;
let inputClosed = false;

async function pump() {
  if (busy || !ready) return;
  busy = true;
  while (queue.length > 0) {
    const command = queue.shift();
    const run = ops[command.op];
    const echo = { op: command.op, ...(command.id !== undefined ? { id: command.id } : {}) };
    try {
      if (!run) throw new Error(`unknown op ${JSON.stringify(command.op)}`);
      emit("result", { ...echo, ok: true, data: await run(command) });
    } catch (error) {
      emit("result", { ...echo, ok: false, error: failure(error) });
    }
  }
  busy = false;
  if (inputClosed) process.exit(0);
}

const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
  if (!line.trim()) return;
  try {
    queue.push(JSON.parse(line));
  } catch (error) {
    emit("result", { op: null, ok: false, error: { message: `not JSON: ${line}` } });
    return;
  }
  pump();
});
input.on("close", () => {
  inputClosed = true;
  if (!busy && (queue.length === 0 || !ready)) process.exit(0);
});

session
  .connect()
  .then(() => emit("connected"))
  .catch((error) => {
    emit("connectFailed", { error: failure(error) });
    process.exit(3);
  });
