// Requests (the request log, live and filterable), faults (add and clear rules) and the clock.

import { h, clear, notice, table, time } from "./dom.js";
import { admin, adminOk } from "./api.js";
import { requestRows } from "./contacts.js";

const SHOWN = 500;

export async function requestsPage(root, _args, { subscribe }) {
  const filter = { operation: "", status: "", contact: "" };
  const body = h("tbody", {});
  let entries = [];
  const matches = (r) => (!filter.operation || (r.operation || "").toLowerCase().includes(filter.operation)) &&
    (!filter.status || String(r.status).startsWith(filter.status.replace(/x+$/i, ""))) &&
    (!filter.contact || (r.contact || "").includes(filter.contact));
  const render = () => clear(body, requestRows(entries.filter(matches).slice(-SHOWN).reverse()));
  const load = async () => {
    entries = (await adminOk("GET", `requests?limit=${SHOWN}`)).requests;
    render();
  };
  const field = (label, key) => h("input", { "aria-label": label, placeholder: label,
    oninput: (e) => { filter[key] = e.target.value.trim().toLowerCase(); render(); } });
  root.append(h("h1", {}, "Requests"),
    h("div", { class: "filters" }, field("Operation", "operation"), field("Status", "status"),
      field("Contact", "contact"),
      h("button", { type: "button", onclick: async () => { await adminOk("DELETE", "requests"); await load(); } },
        "Clear the log")),
    h("table", { "aria-label": "Requests" }, h("thead", {}, h("tr", {},
      ["Time", "Operation", "Status", "ms", ""].map((n) => h("th", { scope: "col" }, n)))), body));
  let loading = null;
  subscribe((event) => {
    if (event.type === "reconnected") loading = load();
    if (event.type !== "request") return;
    entries.push(event.entry);
    if (entries.length > SHOWN * 2) entries = entries.slice(-SHOWN);
    if (matches(event.entry)) {
      body.prepend(...requestRows([event.entry]));
      while (body.children.length > SHOWN) body.lastChild.remove();
    }
  });
  await (loading || load());
}

export async function faultsPage(root) {
  const list = h("div", {});
  const outcome = h("div", {});
  const input = (label, value = "") => h("input", { "aria-label": label, value });
  const service = h("select", { "aria-label": "Service" },
    ["connect", "connectparticipant", "*"].map((s) => h("option", { value: s }, s)));
  const operation = input("Operation", "*");
  const code = input("Error code", "ThrottlingException");
  const status = input("HTTP status", "429");
  const times = input("Times", "1");
  const latency = input("Latency ms", "0");
  const load = async () => {
    const { faults } = await adminOk("GET", "faults");
    const rows = faults.map((rule) => h("tr", {}, h("td", {}, rule.id),
      h("td", {}, rule.ws ? `socket ${rule.ws}` : `${rule.match?.service}.${rule.match?.operation}`),
      h("td", {}, rule.error ? `${rule.error.code} ${JSON.stringify(rule.error.status)}` : ""),
      h("td", {}, rule.remaining ?? "∞"), h("td", {}, rule.fired ?? rule.dropped ?? 0),
      h("td", {}, h("button", { type: "button", onclick: async () => {
        await adminOk("DELETE", `faults/${encodeURIComponent(rule.id)}`);
        await load();
      } }, `Remove ${rule.id}`))));
    clear(list, faults.length ? table("Fault rules", ["Id", "Match", "Error", "Remaining", "Fired", ""], rows)
      : notice("No fault rules."));
  };
  const add = async () => {
    const rule = { match: { service: service.value, operation: operation.value.trim() || "*" } };
    if (code.value.trim()) rule.error = { code: code.value.trim(), status: Number(status.value) || 400 };
    if (Number(times.value)) rule.times = Number(times.value);
    if (Number(latency.value)) rule.latencyMs = Number(latency.value);
    const { status: answered, data } = await admin("POST", "faults", rule);
    clear(outcome, answered >= 300 ? notice(data?.message || `HTTP ${answered}`, "error")
      : notice(`Added rule ${data.id}.`));
    await load();
  };
  const clearAll = async () => {
    const { removed } = await adminOk("DELETE", "faults");
    clear(outcome, notice(`Removed ${removed} rule(s).`));
    await load();
  };
  root.append(h("h1", {}, "Faults"), h("div", { class: "form" }, h("label", {}, "Service ", service),
    h("label", {}, "Operation ", operation), h("label", {}, "Error code ", code), h("label", {}, "HTTP status ", status),
    h("label", {}, "Times ", times), h("label", {}, "Latency ms ", latency),
    h("button", { type: "button", onclick: add }, "Add rule"),
    h("button", { type: "button", class: "danger", onclick: clearAll }, "Clear all rules")), outcome, list);
  await load();
}

export async function clockPage(root) {
  const shown = h("p", { role: "status", "aria-label": "Clock", class: "clock" });
  const outcome = h("div", {});
  const by = h("input", { "aria-label": "Advance by", value: "PT90S" });
  const advance = h("button", { type: "button", onclick: async () => {
    const { status, data } = await admin("POST", "clock", { advance: by.value.trim() });
    clear(outcome, status >= 300 ? notice(data?.message || `HTTP ${status}`, "error")
      : notice(`Moved to ${data.now}; ${data.fired ?? 0} timer(s) fired.`));
    await load();
  } }, "Advance");
  const load = async () => {
    const clock = await adminOk("GET", "clock");
    shown.textContent = `${clock.now} (${clock.virtual ? "virtual" : "real"} clock, ${time(clock.now)} here)`;
    advance.disabled = by.disabled = !clock.virtual;
    if (!clock.virtual) clear(outcome, notice("The clock is real: start Parley with --clock virtual to move it."));
  };
  root.append(h("h1", {}, "Clock"), shown, h("div", { class: "form" }, h("label", {}, "Advance by ", by), advance),
    outcome, h("p", {}, "Moving the clock fires every timer that comes due: chat durations, connect windows, "
      + "bot deadlines."));
  await load();
}
