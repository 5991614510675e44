// Instances and flows: list them, read a flow's JSON, upload a flow file (CreateContactFlow, or
// UpdateContactFlowContent when the instance has a flow of that name), with the validation problems shown.

import { h, clear, json, notice, table } from "./dom.js";
import { connect } from "./api.js";

const TYPES = ["CONTACT_FLOW", "CUSTOMER_QUEUE", "CUSTOMER_HOLD", "CUSTOMER_WHISPER", "AGENT_HOLD", "AGENT_WHISPER",
  "OUTBOUND_WHISPER", "AGENT_TRANSFER", "QUEUE_TRANSFER"];

function problemsOf(error) {
  const list = (error.problems || []).map((p) => p.message || JSON.stringify(p));
  return h("div", { role: "alert", class: "problem" }, h("p", {}, `${error.code || "Error"}: ${error.message}`),
    list.length ? h("ul", { "aria-label": "Validation problems" }, list.map((p) => h("li", {}, p))) : null);
}

async function showFlow(target, instanceId, flowId) {
  const { ContactFlow: flow } = await connect.describeFlow(instanceId, flowId);
  let content = flow.Content;
  try {
    content = JSON.parse(flow.Content);
  } catch {
    // shown as stored
  }
  clear(target, h("h2", {}, flow.Name), h("p", {}, `${flow.Type} · ${flow.State || ""} · ${flow.Status || ""}`),
    h("section", { "aria-label": "Flow JSON" }, json(content)));
}

function uploader(instanceId, flows, onDone) {
  const file = h("input", { type: "file", accept: ".json,application/json", "aria-label": "Flow file" });
  const name = h("input", { "aria-label": "Flow name" });
  const type = h("select", { "aria-label": "Flow type" }, TYPES.map((t) => h("option", { value: t }, t)));
  const outcome = h("div", {});
  const upload = async () => {
    const chosen = file.files[0];
    if (!chosen) return clear(outcome, notice("Choose a flow file first.", "error"));
    const flowName = name.value.trim() || chosen.name.replace(/\.json$/i, "");
    const content = await chosen.text();
    const existing = flows.find((f) => f.Name === flowName);
    try {
      if (existing) await connect.updateFlowContent(instanceId, existing.Id, content);
      else await connect.createFlow(instanceId, flowName, type.value, content);
      await onDone(`${existing ? "Updated" : "Created"} ${flowName}.`);
    } catch (error) {
      clear(outcome, problemsOf(error));
    }
  };
  return h("section", { class: "upload", "aria-label": "Upload a flow" }, h("h3", {}, "Upload a flow"),
    h("div", { class: "form" }, h("label", {}, "Flow file ", file), h("label", {}, "Flow name ", name),
      h("label", {}, "Flow type ", type), h("button", { type: "button", onclick: upload }, "Upload")), outcome);
}

export async function page(root) {
  const reader = h("div", { class: "reader" });
  const lists = h("div", {});
  const done = h("div", {});
  root.append(h("h1", {}, "Instances and flows"), done, h("div", { class: "columns" }, lists, reader));
  const render = async (message) => {
    clear(done);
    const instances = await connect.listInstances();
    if (!instances.length) return clear(lists, notice("No instance yet: the Customer page creates one."));
    const blocks = [];
    for (const instance of instances) {
      const { ContactFlowSummaryList: flows = [] } = await connect.listFlows(instance.Id);
      const rows = flows.map((f) => h("tr", {}, h("td", {}, h("button", { type: "button", class: "plain",
        onclick: () => showFlow(reader, instance.Id, f.Id) }, f.Name)), h("td", {}, f.ContactFlowType),
        h("td", {}, f.ContactFlowState || "")));
      blocks.push(h("section", { "aria-label": `Instance ${instance.InstanceAlias || instance.Id}` },
        h("h2", {}, `${instance.InstanceAlias || "(no alias)"} `, h("code", {}, instance.Id)),
        table(`Flows of ${instance.InstanceAlias || instance.Id}`, ["Flow", "Type", "State"], rows),
        uploader(instance.Id, flows, render)));
    }
    clear(lists, blocks);
    if (message) clear(done, notice(message)); // only once the list (and its uploaders) are current
  };
  await render();
}
