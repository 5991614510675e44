// Contacts: every contact of every account and region, kept live from the feed (rows are updated in
// place, never re-rendered as a whole, so a thousand chats stay cheap), and a page per contact.

import { h, clear, age, time, json, notice, table, throttle } from "./dom.js";
import { admin } from "./api.js";
import { renderItem, receiptText, ENDED, JOINED, LEFT } from "./chat.js";

const STATES = ["connecting", "in flow", "queued", "with agent", "ended"];
// Operations after which a contact's summary is read again (its state may have moved without an item).
const REREAD = new Set(["StartChatContact", "StopContact", "CreateParticipantConnection", "CreateParticipant",
  "UpdateContactAttributes", "TransferContact", "StartContactStreaming", "StopContactStreaming"]);

async function summaries(query = "") {
  const response = await fetch(`/_parley/ui/api/contacts${query}`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`the contact list answered HTTP ${response.status}`);
  return (await response.json()).contacts;
}

function participantsText(row) {
  return row.participants.filter((p) => p.present).map((p) => `${p.displayName} (${p.role})`).join(", ");
}

class ContactRow {
  constructor(data) {
    this.data = data;
    this.messages = data.messages || 0;
    this.cells = {
      state: cell(), participants: cell(), last: cell("last"), count: cell("num"), age: cell("num"), queue: cell(),
    };
    const link = h("a", { href: `#/contact/${encodeURIComponent(data.id)}` }, data.id);
    this.tr = h("div", { role: "row", class: "row", "data-contact": data.id },
      cell("id", link), cell("", `${data.account} ${data.region}`), cell("id", data.instanceId),
      cell("", data.channel), this.cells.state, this.cells.queue, this.cells.participants,
      this.cells.count, this.cells.last, this.cells.age);
    this.cells.last.textContent = data.lastMessage || "";
    this.refresh();
  }

  update(data) {
    this.data = data;
    this.messages = Math.max(this.messages, data.messages || 0);
    if (data.lastMessage && !this.cells.last.textContent) this.cells.last.textContent = data.lastMessage;
    this.refresh();
  }

  refresh() {
    this.cells.state.textContent = this.data.state;
    this.cells.queue.textContent = this.data.queue || "";
    this.cells.participants.textContent = participantsText(this.data);
    this.cells.count.textContent = String(this.messages);
    this.tick();
  }

  tick(now = Date.now()) {
    this.cells.age.textContent = age(this.data.initiatedAt, now);
  }

  item(item) {
    if (item.Type === "MESSAGE" || item.Type === "ATTACHMENT") {
      this.messages += 1;
      this.cells.count.textContent = String(this.messages);
      this.cells.last.textContent = `${item.DisplayName}: ${item.Content || "(attachment)"}`;
    } else if (item.ContentType === ENDED) {
      this.data.state = "ended";
    } else if (item.ContentType === JOINED || item.ContentType === LEFT) {
      this.people(item);
    } else {
      return;
    }
    this.refresh();
  }

  people(item) {
    const present = item.ContentType === JOINED;
    const known = this.data.participants.find((p) => p.id === item.ParticipantId);
    if (known) known.present = present;
    else this.data.participants.push({ id: item.ParticipantId, role: item.ParticipantRole,
      displayName: item.DisplayName, present });
    if (this.data.state !== "ended" && item.ParticipantRole === "AGENT") {
      this.data.state = present ? "with agent" : "in flow";
    }
  }

  matches(filter) {
    const text = filter.text.toLowerCase();
    const haystack = `${this.data.id} ${this.data.instanceId} ${this.data.account} ${participantsText(this.data)}`;
    return (!filter.state || this.data.state === filter.state) &&
      (!filter.channel || this.data.channel === filter.channel) && (!text || haystack.toLowerCase().includes(text));
  }
}

export async function listPage(root, _args, { subscribe, onLeave }) {
  const rows = new Map();
  const filter = { text: "", state: "", channel: "" };
  const body = h("div", { role: "rowgroup", class: "rows" });
  const count = h("p", { role: "status", "aria-label": "Contact count" });
  const apply = () => {
    let shown = 0;
    for (const row of rows.values()) {
      row.tr.hidden = !row.matches(filter);
      if (!row.tr.hidden) shown += 1;
    }
    count.textContent = `${shown} of ${rows.size} contacts`;
  };
  const applySoon = throttle(apply, 100);
  const controls = h("div", { class: "filters" },
    h("input", { type: "search", "aria-label": "Filter contacts", placeholder: "id, instance, participant",
      oninput: (e) => { filter.text = e.target.value; applySoon(); } }),
    h("select", { "aria-label": "State", onchange: (e) => { filter.state = e.target.value; apply(); } },
      h("option", { value: "" }, "every state"), STATES.map((s) => h("option", { value: s }, s))),
    h("select", { "aria-label": "Channel", onchange: (e) => { filter.channel = e.target.value; apply(); } },
      h("option", { value: "" }, "every channel"), ["CHAT", "VOICE", "TASK"].map((c) => h("option", { value: c }, c))));
  const headings = ["Contact", "Account", "Instance", "Channel", "State", "Queue", "Participants", "Messages",
    "Last message", "Age"];
  append(root, h("h1", {}, "Contacts"), controls, count,
    h("div", { role: "table", "aria-label": "Contacts", class: "contacts" },
      h("div", { role: "rowgroup" }, h("div", { role: "row", class: "row head" },
        headings.map((n) => h("div", { role: "columnheader" }, n)))), body));

  const put = (data, atTop) => {
    const known = rows.get(data.id);
    if (known) return known.update(data);
    const row = new ContactRow(data);
    rows.set(data.id, row);
    row.tr.hidden = !row.matches(filter);
    if (atTop) body.prepend(row.tr);
    else body.append(row.tr);
  };
  const pending = new Set();
  const reread = async (id) => {
    if (pending.has(id)) return;
    pending.add(id);
    await new Promise((resolve) => setTimeout(resolve, 150));
    pending.delete(id);
    const [data] = await summaries(`?contact=${encodeURIComponent(id)}`);
    if (data) put(data, true);
    applySoon();
  };
  const loadAll = async () => {
    for (const data of await summaries()) put(data, false);
    apply();
  };
  subscribe((event) => {
    if (event.type === "reconnected") loadAll();
    else if (event.type === "item") {
      const row = rows.get(event.contact);
      if (row) {
        row.item(event.item);
        if (filter.state || filter.text) row.tr.hidden = !row.matches(filter);
      } else reread(event.contact);
    } else if (event.type === "request" && event.entry.contact && event.entry.status < 400 &&
      (REREAD.has(event.entry.operation) || !rows.has(event.entry.contact))) {
      reread(event.entry.contact);
    }
  });
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const row of rows.values()) if (!row.tr.hidden) row.tick(now);
  }, 5000);
  onLeave(() => clearInterval(ticker));
  await loadAll();
}

// A grid row of divs with ARIA roles instead of a <table>: each row is laid out on its own (CSS containment),
// so a changed cell costs one row, and rows out of view are not rendered at all.
function cell(kind = "", ...children) {
  return h("div", { role: "cell", class: kind || null }, children);
}

function append(root, ...children) {
  root.append(...children);
}

// -- one contact ----------------------------------------------------------------------------------------
function wireItem(item) {
  return { Id: item.id, Type: item.type, ContentType: item.contentType, Content: item.content,
    ParticipantId: item.participantId, DisplayName: item.displayName, ParticipantRole: item.role,
    AbsoluteTime: item.at, Attachments: item.attachments, MessageMetadata: item.messageMetadata };
}

function transcript(items) {
  const log = h("div", { class: "log tall", role: "log", "aria-label": "Transcript" });
  const nodes = new Map();
  const open = (id) => window.open(`/_parley/ui/api/attachments/${encodeURIComponent(id)}`, "_blank", "noopener");
  for (const item of items.map(wireItem)) {
    if (item.Type === "MESSAGEMETADATA") {
      const label = nodes.get(item.MessageMetadata?.MessageId)?.querySelector(".receipt");
      const text = receiptText(item.MessageMetadata, null);
      if (label && text && label.textContent !== "Read") label.textContent = text;
      continue;
    }
    const selfId = item.ParticipantRole === "CUSTOMER" ? null : item.ParticipantId; // the customer on the left
    const node = renderItem(item, { selfId, openAttachment: open });
    if (node) {
      nodes.set(item.Id, node);
      log.append(node);
    }
  }
  return log;
}

async function optional(title, path, render) {
  const section = h("section", { "aria-label": title }, h("h2", {}, title));
  const { status, data } = await admin("GET", path);
  if (status === 404) section.append(notice(`${title}: not available (${data?.message || "no such endpoint"})`));
  else if (status >= 300) section.append(notice(`${title}: ${data?.message || status}`, "error"));
  else section.append(render(data));
  return section;
}

function trail(data) {
  const rows = (data.trail || []).map((step) => h("tr", {}, h("td", {}, time(step.time)), h("td", {}, step.flow),
    h("td", {}, step.action), h("td", {}, step.type), h("td", {}, step.branch ?? ""),
    h("td", {}, step.detail ? json(step.detail) : "")));
  return h("div", {}, h("p", {}, `State: ${data.state || "?"}${data.waitingFor ? `, waiting for ${data.waitingFor}` : ""}`),
    table("Flow trail", ["Time", "Flow", "Action", "Type", "Branch", "Detail"], rows));
}

// `GET /_parley/lambda/invocations` (flows.md §6.5), read leniently: {invocations:[{time, function, target,
// event, response | error, durationMs, branch}]}.
function lambdas(data) {
  const calls = data.invocations || data.Invocations || (Array.isArray(data) ? data : []);
  if (!calls.length) return notice("No Lambda calls.");
  return h("div", {}, calls.map((call) => {
    const took = call.durationMs ?? call.duration;
    const outcome = call.outcome || (call.error ? "error" : "ok");
    return h("details", { class: "call" },
      h("summary", {}, `${time(call.time)} ${call.function} (${call.target || call.targetKind || ""}) → ${outcome}`,
        took !== undefined ? `, ${took} ms` : "", call.branch ? `, branch ${call.branch}` : ""),
      h("h4", {}, "Event"), json(call.event), h("h4", {}, call.error ? "Error" : "Answer"),
      json(call.error ?? call.response));
  }));
}

function streams(data) {
  const list = data.streams || [];
  if (!list.length) return notice("No streams.");
  return table("Streams", ["Streaming id", "Topic", "Target", "State", "Counts", "Last error"], list.map((s) =>
    h("tr", {}, h("td", {}, s.StreamingId), h("td", {}, s.topicArn), h("td", {}, s.target), h("td", {}, s.state),
      h("td", {}, Object.entries(s.counts || {}).map(([k, v]) => `${k} ${v}`).join(", ")),
      h("td", {}, s.lastError || ""))));
}

export function requestRows(list) {
  return list.map((r) => h("tr", {}, h("td", {}, time(r.time)), h("td", {}, r.operation || r.path),
    h("td", { class: r.status >= 400 ? "bad" : "" }, `${r.status}${r.error ? " " + r.error : ""}`),
    h("td", { class: "num" }, r.latencyMs),
    h("td", {}, r.request !== undefined ? h("details", {}, h("summary", {}, "bodies"),
      h("h4", {}, "Request"), json(r.request), h("h4", {}, "Response"), json(r.response)) : "")));
}

export async function contactPage(root, [contactId], { subscribe }) {
  const id = encodeURIComponent(contactId);
  const render = async () => {
    const { status, data } = await admin("GET", `state?contact=${id}`);
    const contact = status === 200 ? data.contacts[0] : null;
    if (!contact) return clear(root, h("h1", {}, `Contact ${contactId}`), notice("No such contact.", "error"));
    const people = table("Participants", ["Name", "Role", "Joined", "Left", "Id"], contact.participants.map((p) =>
      h("tr", {}, h("td", {}, p.displayName), h("td", {}, p.role), h("td", {}, time(p.joinedAt)),
        h("td", {}, time(p.leftAt)), h("td", { class: "id" }, p.id))));
    const attributes = Object.entries(contact.attributes || {});
    const requests = await admin("GET", `requests?contact=${id}&limit=200`);
    const sections = await Promise.all([
      optional("Flow trail", `contacts/${id}/flow`, trail),
      optional("Lambda calls", `lambda/invocations?contact=${id}`, lambdas),
      optional("Stream deliveries", `streams?contact=${id}`, streams),
    ]);
    clear(root, h("h1", {}, `Contact ${contactId}`),
      h("p", { class: "facts" }, `${contact.channel} · ${contact.account} ${contact.region} · instance `,
        contact.instanceId, ` · started ${time(contact.initiatedAt)}`,
        contact.endedAt ? ` · ended ${time(contact.endedAt)} (${contact.disconnectReason || "no reason"})` : " · live"),
      h("div", { class: "columns" },
        h("section", { "aria-label": "Conversation" }, h("h2", {}, "Transcript"), transcript(contact.transcript)),
        h("div", {}, h("section", { "aria-label": "Participants" }, h("h2", {}, "Participants"), people),
          h("section", { "aria-label": "Attributes" }, h("h2", {}, "Attributes"), attributes.length
            ? table("Attributes", ["Name", "Value"], attributes.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v))))
            : notice("No attributes.")))),
      sections,
      h("section", { "aria-label": "Requests" }, h("h2", {}, "Requests"),
        table("Requests of this contact", ["Time", "Operation", "Status", "ms", ""],
          requestRows(requests.data?.requests || []).reverse())));
  };
  const soon = throttle(render, 500);
  subscribe((event) => {
    if ((event.type === "item" && event.contact === contactId) ||
      (event.type === "request" && event.entry.contact === contactId) || event.type === "reconnected") soon();
  });
  await render();
}
