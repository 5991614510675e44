// The agent workspace: a name, the queues with their waiting chats, Accept, and the accepted chats side by
// side. Accepting is the admin API's (`accept` on a queued chat; `join` where this Parley has no queues);
// after that the agent speaks only through the Participant Service, with its own token and WebSocket.

import { h, clear, age, notice, throttle } from "./dom.js";
import { admin, adminOk } from "./api.js";
import { ChatView } from "./chat.js";

function customerName(contact) {
  const customer = (contact.participants || []).find((p) => p.role === "CUSTOMER");
  return customer?.displayName || contact.customerName || contact.displayName || "Customer";
}

// `GET /_parley/queues` (flows.md §7.4, §9), read leniently: {queues:[{id|Id, name|Name, contacts|waiting:[…]}]}.
function queuesOf(data) {
  return (data?.queues || data?.Queues || []).map((queue) => ({
    id: queue.id || queue.Id || queue.queueId,
    name: queue.name || queue.Name || queue.id || queue.Id,
    instanceId: queue.instanceId || queue.InstanceId,
    waiting: (queue.contacts || queue.waiting || queue.Contacts || []).map((c) => ({
      id: c.contactId || c.ContactId || c.id || c.Id,
      since: c.enqueuedAt || c.EnqueueTimestamp || c.enqueueTimestamp || c.initiatedAt,
      customerName: c.customerName || c.displayName || c.DisplayName,
      participants: c.participants,
    })),
  }));
}

// Whether the agent is typing in another field now: a chat that finishes connecting must not take the focus
// (and the next key press) from a message being written in another chat.
function typingElsewhere(view) {
  const active = document.activeElement;
  return Boolean(active && active.matches("input, textarea") && !view.element.contains(active));
}

class Workspace {
  constructor() {
    this.chats = new Map(); // contact id -> ChatView
    this.name = h("input", { "aria-label": "Agent name", value: localStorage.getItem("parley.agent") || "Agent",
      oninput: (e) => localStorage.setItem("parley.agent", e.target.value) });
    this.queues = h("section", { "aria-label": "Queues" });
    this.problem = h("p", { role: "alert", class: "problem" });
    this.desk = h("div", { class: "desk", "aria-label": "Chats" });
    this.element = h("div", {}, h("h1", {}, "Agent"),
      h("p", {}, h("label", {}, "Agent name ", this.name)), this.problem,
      h("div", { class: "columns wide-right" }, this.queues, this.desk));
    this.refreshSoon = throttle(() => this.refresh(), 500);
  }

  // The queues (accept) when this Parley has them, then every other open chat without an agent (join).
  async refresh() {
    const [queued, response] = await Promise.all([admin("GET", "queues"),
      fetch("/_parley/ui/api/contacts", { credentials: "same-origin" })]);
    const queues = queued.status === 200 ? queuesOf(queued.data) : null;
    const contacts = response.ok ? (await response.json()).contacts : [];
    const byId = new Map(contacts.map((c) => [c.id, c]));
    for (const chat of (queues || []).flatMap((q) => q.waiting)) chat.participants ||= byId.get(chat.id)?.participants;
    const inQueue = new Set((queues || []).flatMap((q) => q.waiting.map((chat) => chat.id)));
    const others = contacts.filter((c) => c.channel === "CHAT" && !inQueue.has(c.id) &&
      c.state !== "ended" && c.state !== "with agent" && c.state !== "queued")
      .map((c) => ({ id: c.id, since: c.initiatedAt, participants: c.participants }));
    const now = Date.now();
    clear(this.queues, h("h2", {}, "Queues"),
      queues ? queues.map((queue) => this.waitingList(`Queue ${queue.name}`, queue.waiting, "accept", now))
        : notice("Queues: not available on this Parley."),
      this.waitingList("Other open chats", others, "join", now));
  }

  waitingList(title, waiting, action, now) {
    return h("section", { class: "queue", "aria-label": title }, h("h3", {}, `${title} (${waiting.length} waiting)`),
      waiting.length ? h("ul", { class: "waiting" }, waiting.map((chat) => h("li",
        { "data-contact": chat.id, "aria-label": `Waiting chat ${chat.id}` },
        h("span", {}, `${customerName(chat)} · waiting ${age(chat.since, now)} · `, h("code", {}, chat.id.slice(0, 8))),
        h("button", { type: "button", onclick: () => this.accept(chat, action),
          disabled: this.chats.has(chat.id) }, "Accept")))) : notice("Nobody waiting."));
  }

  async accept(chat, action) {
    const displayName = this.name.value.trim() || "Agent";
    try {
      const answer = await adminOk("POST", `contacts/${encodeURIComponent(chat.id)}/agent`, { action, displayName });
      const view = new ChatView({ role: "agent", title: `Chat with ${customerName(chat)}`, contactId: chat.id,
        participantId: answer.ParticipantId, participantToken: answer.ParticipantToken });
      this.chats.set(chat.id, view);
      const close = h("button", { type: "button", class: "plain", onclick: () => {
        view.close();
        view.element.remove();
        this.chats.delete(chat.id);
      } }, "Close");
      view.element.querySelector("h3").append(" ", close);
      this.desk.prepend(view.element);
      this.problem.textContent = "";
      await view.start();
      if (!typingElsewhere(view)) view.input.focus();
    } catch (error) {
      this.problem.textContent = `Accept failed: ${error.code ? error.code + ": " : ""}${error.message}`;
    }
    this.refreshSoon();
  }
}

export async function page(root, _args, { subscribe, keep }) {
  const workspace = keep("agent", () => new Workspace());
  root.append(workspace.element);
  subscribe((event) => {
    if (event.type === "reconnected" || event.type === "item" ||
      (event.type === "request" && event.entry.contact)) workspace.refreshSoon();
  });
  await workspace.refresh();
}
