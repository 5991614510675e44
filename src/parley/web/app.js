// The console's shell: the hash router over the pages and the live feed (/_parley/ui/events, server-sent
// events) that every page listens to while it is shown.

import { clear, notice } from "./dom.js";
import * as contacts from "./contacts.js";
import * as agent from "./agent.js";
import * as customer from "./customer.js";
import * as flows from "./flows.js";
import * as tools from "./tools.js";

const PAGES = {
  contacts: contacts.listPage,
  contact: contacts.contactPage,
  agent: agent.page,
  customer: customer.page,
  flows: flows.page,
  requests: tools.requestsPage,
  faults: tools.faultsPage,
  clock: tools.clockPage,
};

// The feed: one EventSource for the whole console; pages subscribe while they are shown.
const listeners = new Set();
const live = document.getElementById("live");

function openFeed() {
  const source = new EventSource("/_parley/ui/events");
  let opened = false;
  source.addEventListener("hello", () => {
    live.textContent = "live";
    if (opened) for (const listener of listeners) listener({ type: "reconnected" }); // events may be missed
    opened = true;
  });
  source.addEventListener("overflow", () => {
    live.textContent = "catching up…";
    for (const listener of listeners) listener({ type: "reconnected" });
  });
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "item") event.item = JSON.parse(event.frame.content);
    for (const listener of listeners) listener(event);
  };
  source.onerror = () => {
    live.textContent = "offline: retrying";
  };
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Pages: page(root, args, {subscribe, onLeave}); what they register is undone when another page is shown.
let leaving = [];
const kept = new Map(); // pages that keep their state across navigation (chats must not drop)

async function route() {
  const [name = "contacts", ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const show = PAGES[name] || PAGES.contacts;
  for (const undo of leaving) undo();
  leaving = [];
  const view = document.getElementById("view");
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${name}`);
  }
  const context = {
    subscribe: (listener) => leaving.push(subscribe(listener)),
    onLeave: (undo) => leaving.push(undo),
    keep: (key, make) => {
      if (!kept.has(key)) kept.set(key, make());
      return kept.get(key);
    },
  };
  clear(view);
  try {
    await show(view, args, context);
  } catch (error) {
    view.append(notice(`This page failed: ${error.message}`, "error"));
  }
}

window.addEventListener("hashchange", route);
openFeed();
route();
