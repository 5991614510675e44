// The customer test page: pick an instance and a flow, give a name, Start chat (StartChatContact from the
// browser over the AWS wire), then chat as the customer in the same chat view as the agent's.

import { h, clear, notice } from "./dom.js";
import { connect } from "./api.js";
import { ChatView } from "./chat.js";

class CustomerDesk {
  constructor() {
    this.instance = h("select", { "aria-label": "Instance", onchange: () => this.loadFlows() });
    this.flow = h("select", { "aria-label": "Flow" });
    this.name = h("input", { "aria-label": "Your name", value: localStorage.getItem("parley.customer") || "Customer",
      oninput: (e) => localStorage.setItem("parley.customer", e.target.value) });
    this.start = h("button", { type: "button", onclick: () => this.startChat() }, "Start chat");
    this.problem = h("p", { role: "alert", class: "problem" });
    this.setup = h("div", { class: "setup" });
    this.chats = h("div", { class: "desk", "aria-label": "Chats" });
    this.element = h("div", {}, h("h1", {}, "Customer"), this.setup, this.problem, this.chats);
  }

  async load() {
    const instances = await connect.listInstances();
    if (!instances.length) {
      const create = h("button", { type: "button", onclick: () => this.createInstance() }, "Create an instance");
      clear(this.setup, notice("This Parley has no instance yet (in the default account)."), create);
      return;
    }
    const chosen = this.instance.value;
    clear(this.instance, instances.map((i) => h("option", { value: i.Id }, i.InstanceAlias || i.Id)));
    if (chosen && instances.some((i) => i.Id === chosen)) this.instance.value = chosen;
    clear(this.setup, h("div", { class: "form" }, h("label", {}, "Instance ", this.instance),
      h("label", {}, "Flow ", this.flow), h("label", {}, "Your name ", this.name), this.start));
    await this.loadFlows();
  }

  async createInstance() {
    try {
      await connect.createInstance(`console-${Date.now().toString(36)}`);
      await this.load();
    } catch (error) {
      this.problem.textContent = `CreateInstance failed: ${error.message}`;
    }
  }

  async loadFlows() {
    const { ContactFlowSummaryList = [] } = await connect.listFlows(this.instance.value, ["CONTACT_FLOW"]);
    const flows = [...ContactFlowSummaryList].sort((a, b) => a.Name.localeCompare(b.Name));
    clear(this.flow, flows.map((f) => h("option", { value: f.Id }, f.Name)));
    const inbound = flows.find((f) => /inbound/i.test(f.Name));
    if (inbound) this.flow.value = inbound.Id;
  }

  async startChat() {
    const name = this.name.value.trim() || "Customer";
    this.start.disabled = true;
    try {
      const started = await connect.startChat(this.instance.value, this.flow.value, name);
      const view = new ChatView({ role: "customer", title: `Chat as ${name}`, contactId: started.ContactId,
        participantId: started.ParticipantId, participantToken: started.ParticipantToken });
      view.element.querySelector("h3").append(" ",
        h("a", { href: `#/contact/${encodeURIComponent(started.ContactId)}` }, "contact page"));
      this.chats.prepend(view.element);
      this.problem.textContent = "";
      await view.start();
      view.input.focus();
    } catch (error) {
      this.problem.textContent = `StartChatContact failed: ${error.code ? error.code + ": " : ""}${error.message}`;
    } finally {
      this.start.disabled = false;
    }
  }
}

export async function page(root, _args, { keep }) {
  const desk = keep("customer", () => new CustomerDesk());
  root.append(desk.element);
  await desk.load();
}
