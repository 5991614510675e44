// One chat, as one participant: its own ParticipantToken, CreateParticipantConnection, its own WebSocket,
// and the Participant Service for everything it says (messages, typing, receipts, attachments, leaving).
// The agent workspace and the customer page both use it; the contact page reuses renderItem read-only.

import { h, time } from "./dom.js";
import { participant } from "./api.js";

const EVENT = "application/vnd.amazonaws.connect.event.";
export const TYPING = EVENT + "typing";
export const READ = EVENT + "message.read";
export const ENDED = EVENT + "chat.ended";
export const JOINED = EVENT + "participant.joined";
export const LEFT = EVENT + "participant.left";
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
const HEARTBEAT_MS = 10000;

function who(item) {
  return item.DisplayName || item.ParticipantRole || "Someone";
}

function eventText(item) {
  if (item.ContentType === JOINED) return `${who(item)} joined`;
  if (item.ContentType === LEFT) return `${who(item)} left`;
  if (item.ContentType === ENDED) return "Chat ended";
  return `${who(item)}: ${String(item.ContentType || "event").replace(EVENT, "")}`;
}

export function receiptText(metadata, selfId) {
  const receipts = (metadata?.Receipts || []).filter((r) => r.RecipientParticipantId !== selfId);
  if (receipts.some((r) => r.ReadTimestamp)) return "Read";
  if (receipts.some((r) => r.DeliveredTimestamp)) return "Delivered";
  return null;
}

// An item as a node of the transcript (null for what is not shown: typing, receipts).
export function renderItem(item, { selfId, openAttachment }) {
  const mine = selfId && item.ParticipantId === selfId;
  const side = mine ? "mine" : item.ParticipantRole === "SYSTEM" ? "system" : "theirs";
  const meta = h("span", { class: "meta" }, `${who(item)} (${item.ParticipantRole || "?"}) · ${time(item.AbsoluteTime)}`);
  if (item.Type === "MESSAGE") {
    return h("div", { class: `msg ${side}`, "data-id": item.Id }, meta,
      h("div", { class: "body" }, item.Content || ""),
      mine ? h("span", { class: "receipt" }, "Sent") : null);
  }
  if (item.Type === "ATTACHMENT") {
    const files = (item.Attachments || []).map((file) => h("button", {
      type: "button", class: "attachment",
      onclick: () => openAttachment(file.AttachmentId),
    }, `Open ${file.AttachmentName}`));
    return h("div", { class: `msg ${side}`, "data-id": item.Id }, meta, h("div", { class: "body" }, files),
      mine ? h("span", { class: "receipt" }, "Sent") : null);
  }
  if (item.Type === "EVENT" && item.ContentType !== TYPING) {
    return h("div", { class: "event", "data-id": item.Id }, `${eventText(item)} · ${time(item.AbsoluteTime)}`);
  }
  return null;
}

export class ChatView {
  // role: "agent" | "customer"; title names the region; ids and token come from accept/join or StartChatContact.
  constructor({ role, title, contactId, participantId, participantToken }) {
    Object.assign(this, { role, title, contactId, participantId, participantToken });
    this.connectionToken = null;
    this.seen = new Map(); // item id -> node
    this.firstLive = null; // the first node that came over the socket: the transcript's items go before it
    this.receipted = new Set();
    this.lastTyping = 0;
    this.ended = false;
    this.retries = 0;
    this.element = this.build();
  }

  build() {
    this.log = h("div", { class: "log", role: "log", "aria-label": "Transcript", "aria-live": "polite" });
    this.typing = h("p", { class: "typing", role: "status", "aria-label": "Typing" });
    this.state = h("p", { class: "chat-state", role: "status", "aria-label": "Chat state" }, "Connecting…");
    this.problem = h("p", { class: "problem", role: "alert" });
    this.input = h("textarea", { "aria-label": "Message", rows: 2, placeholder: "Message (Enter sends)",
      onkeydown: (e) => this.onKey(e), oninput: () => this.onInput() });
    this.send = h("button", { type: "button", onclick: () => this.sendText() }, "Send");
    this.file = h("input", { type: "file", class: "visually-hidden", "aria-label": "Attach file",
      onchange: () => this.sendFile() });
    const attach = h("label", { class: "button" }, this.file, h("span", { "aria-hidden": "true" }, "Attach file"));
    this.leave = h("button", { type: "button", class: "danger", onclick: () => this.quit() },
      this.role === "agent" ? "Leave chat" : "End chat");
    return h("section", { class: "chat", role: "region", "aria-label": this.title, "data-contact": this.contactId },
      h("h3", {}, this.title), this.state, this.log, this.typing, this.problem,
      h("div", { class: "composer" }, this.input, this.send, this.file, attach, this.leave));
  }

  async start() {
    try {
      await this.open();
      const { Transcript = [] } = await participant.transcript(this.connectionToken);
      Transcript.forEach((item) => this.show(item, false));
      const last = [...Transcript].reverse().find((i) => this.receiptable(i));
      if (last) this.markRead(last);
    } catch (error) {
      this.fail(error);
    }
  }

  async open() {
    const answer = await participant.connect(this.participantToken);
    this.connectionToken = answer.ConnectionCredentials.ConnectionToken;
    await new Promise((resolve, reject) => {
      const socket = new WebSocket(answer.Websocket.Url);
      this.socket = socket;
      socket.onopen = () => socket.send(JSON.stringify({ topic: "aws/subscribe", content: { topics: ["aws/chat"] } }));
      socket.onerror = () => reject(new Error("The chat's WebSocket failed"));
      socket.onclose = () => this.onClosed(socket);
      socket.onmessage = (message) => {
        const frame = JSON.parse(message.data);
        if (frame.topic === "aws/subscribe") {
          this.setState("Connected");
          resolve();
        } else if (frame.topic === "aws/chat") {
          this.show(JSON.parse(frame.content), true);
        }
      };
    });
    this.retries = 0;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.socket?.readyState === 1 &&
      this.socket.send(JSON.stringify({ topic: "aws/heartbeat" })), HEARTBEAT_MS);
  }

  onClosed(socket) {
    if (socket !== this.socket) return;
    clearInterval(this.heartbeat);
    if (this.ended || this.retries >= 5) return;
    this.retries += 1;
    this.setState("Reconnecting…");
    setTimeout(() => this.open().catch((error) => this.fail(error)), 1000);
  }

  receiptable(item) {
    return (item.Type === "MESSAGE" || item.Type === "ATTACHMENT") && item.ParticipantId !== this.participantId &&
      item.ParticipantRole !== "SYSTEM";
  }

  show(item, live) {
    if (item.Type === "MESSAGEMETADATA") return this.receipt(item.MessageMetadata);
    if (item.ContentType === TYPING) return this.theyType(item);
    if (this.seen.has(item.Id)) return;
    const node = renderItem(item, { selfId: this.participantId, openAttachment: (id) => this.openAttachment(id) });
    if (!node) return;
    this.seen.set(item.Id, node);
    // The transcript is history: it goes before whatever arrived live while it was being read.
    if (live) {
      this.firstLive ??= node;
      this.log.append(node);
    } else {
      this.log.insertBefore(node, this.firstLive);
    }
    this.log.scrollTop = this.log.scrollHeight;
    // A live item from the typist means they stopped typing; the transcript's items are history and say nothing
    // about now (the transcript is read after the socket is up, so a typing event can arrive before it).
    if (live && item.ParticipantId && item.ParticipantId === this.typingFrom) this.typing.textContent = "";
    if (live && this.receiptable(item)) this.markRead(item);
    if (item.ContentType === ENDED) this.finish("Chat ended");
  }

  receipt(metadata) {
    const node = this.seen.get(metadata?.MessageId);
    const text = receiptText(metadata, this.participantId);
    const label = node?.querySelector(".receipt");
    if (label && text && label.textContent !== "Read") label.textContent = text;
  }

  theyType(item) {
    if (item.ParticipantId === this.participantId || this.ended) return;
    this.typingFrom = item.ParticipantId;
    this.typing.textContent = `${who(item)} is typing…`;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.typing.textContent = ""; }, TYPING_SHOWN_MS);
  }

  markRead(item) {
    if (this.receipted.has(item.Id) || document.visibilityState === "hidden") return;
    this.receipted.add(item.Id);
    participant.sendEvent(this.connectionToken, READ, JSON.stringify({ messageId: item.Id }))
      .catch((error) => console.warn("read receipt", error));
  }

  onKey(event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.sendText();
    }
  }

  onInput() {
    const now = Date.now();
    if (this.ended || !this.connectionToken || now - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = now;
    participant.sendEvent(this.connectionToken, TYPING).catch((error) => console.warn("typing", error));
  }

  async sendText() {
    const text = this.input.value.trim();
    if (!text || this.ended) return;
    this.input.value = "";
    try {
      await participant.sendMessage(this.connectionToken, text);
      this.problem.textContent = "";
    } catch (error) {
      this.input.value = text;
      this.fail(error);
    }
  }

  async sendFile() {
    const file = this.file.files[0];
    this.file.value = "";
    if (!file || this.ended) return;
    try {
      const started = await participant.startUpload(this.connectionToken, file);
      const upload = started.UploadMetadata;
      const headers = Object.fromEntries(Object.entries(upload.HeadersToInclude || {})
        .filter(([name]) => !["content-length", "host"].includes(name.toLowerCase())));
      const put = await fetch(upload.Url, { method: "PUT", headers, body: file });
      if (!put.ok) throw new Error(`The upload was refused (HTTP ${put.status})`);
      await participant.completeUpload(this.connectionToken, started.AttachmentId);
    } catch (error) {
      this.fail(error);
    }
  }

  async openAttachment(attachmentId) {
    try {
      const { Url } = await participant.attachment(this.connectionToken, attachmentId);
      window.open(Url, "_blank", "noopener");
    } catch (error) {
      this.fail(error);
    }
  }

  async quit() {
    if (this.ended) return;
    try {
      await participant.disconnect(this.connectionToken);
      this.finish(this.role === "agent" ? "You left the chat" : "Chat ended");
    } catch (error) {
      this.fail(error);
    }
  }

  finish(text) {
    if (this.ended && text !== "Chat ended") return;
    this.ended = true;
    this.setState(text);
    this.typing.textContent = "";
    for (const control of [this.input, this.send, this.file, this.leave]) control.disabled = true;
  }

  setState(text) {
    this.state.textContent = text;
  }

  fail(error) {
    this.problem.textContent = `${error.code ? error.code + ": " : ""}${error.message}`;
    if (error.status === 403 && !this.ended) this.finish("Chat ended");
  }

  close() {
    this.ended = true;
    clearInterval(this.heartbeat);
    this.socket?.close();
  }
}
