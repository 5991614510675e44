// What the JS SDK v3 scenarios share: clients pointed at Parley, error and timestamp checks, the admin
// API, and the one-line JSON report each scenario prints for tests/interop/test_jssdk.py.
//
//   node <scenario>.mjs '{"endpoint":"http://127.0.0.1:PORT", …}'
//
// stdout: exactly one JSON line, the scenario's report (written by `run`). stderr: the reason of a failure.
// Exit status 0 when every check passed.

import assert from "node:assert/strict";
import { randomInt } from "node:crypto";

import * as connect from "@aws-sdk/client-connect";
import * as participant from "@aws-sdk/client-connectparticipant";

export { assert, connect, participant };

export const config = JSON.parse(process.argv[2] ?? "{}");
export const REGION = "us-east-1";
export const EVENT = "application/vnd.amazonaws.connect.event.";
// ISO8601Datetime strings: yyyy-MM-ddTHH:mm:ss.SSSZ (participant-api.md §1, connect-api.md §1).
export const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SLACK_MS = 5000;

/** A fresh 12-digit access key id: Parley scopes state by it, so each scenario gets an empty account. */
export function accountKey() {
  return Array.from({ length: 12 }, () => randomInt(10)).join("");
}

/** Connect and Participant clients on `endpoint`, region us-east-1, dummy credentials, no retries. */
export function clients(endpoint, key = accountKey()) {
  const common = { endpoint, region: REGION, maxAttempts: 1, requestHandler: { requestTimeout: 10_000 } };
  return {
    key,
    connect: new connect.ConnectClient({ ...common, credentials: { accessKeyId: key, secretAccessKey: "test" } }),
    // The Participant Service ignores SigV4 (the tokens authorise); the SDK signs with whatever it is given.
    participant: new participant.ConnectParticipantClient({
      ...common,
      credentials: { accessKeyId: "dummy", secretAccessKey: "dummy" },
    }),
  };
}

/** Runs `call` (an async function) and returns the error it must throw: that class, that status, that name
 * (the class's own for a modelled error). */
export async function rejects(call, errorClass, status, name = errorClass.name) {
  let caught;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, `expected ${errorClass.name}, but the call succeeded`);
  const seen = `${caught.name} ${caught.$metadata?.httpStatusCode}: ${caught.message}`;
  assert.equal(caught.name, name, `expected ${name}, got ${seen}`);
  assert.ok(caught instanceof errorClass, `${seen} is not an instance of the SDK's ${errorClass.name}`);
  assert.equal(caught.$metadata.httpStatusCode, status, `wrong status for ${seen}`);
  assert.equal(typeof caught.message, "string");
  assert.ok(caught.message.length > 0 && caught.message !== "UnknownError", `no message in ${seen}`);
  assert.match(caught.$metadata.requestId ?? "", /.+/, `no x-amzn-RequestId on ${seen}`);
  assert.equal(caught.$fault, status >= 500 ? "server" : "client");
  return caught;
}

/** A timestamp member, parsed by the SDK into a Date between `since` and now (with a little slack). */
export function recentDate(value, since, what) {
  assert.ok(value instanceof Date, `${what} is not a Date: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${what} is an invalid Date`);
  assert.ok(value.getTime() >= since - SLACK_MS, `${what} ${value.toISOString()} is before the scenario started`);
  assert.ok(value.getTime() <= Date.now() + SLACK_MS, `${what} ${value.toISOString()} is in the future`);
  return value;
}

/** An ISO8601Datetime string member; answers its time in ms. */
export function isoInstant(value, what) {
  assert.match(value ?? "", ISO_INSTANT, `${what} is not yyyy-MM-ddTHH:mm:ss.SSSZ: ${value}`);
  return Date.parse(value);
}

export function near(actualMs, expectedMs, what, slackMs = SLACK_MS) {
  assert.ok(
    Math.abs(actualMs - expectedMs) <= slackMs,
    `${what}: ${new Date(actualMs).toISOString()} is not within ${slackMs} ms of ${new Date(expectedMs).toISOString()}`,
  );
}

/** POST /_parley/<path> with a JSON body (the admin API plays the agent). */
export async function admin(endpoint, path, body) {
  const response = await fetch(`${endpoint}/_parley/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const payload = await response.json();
  assert.equal(response.status, 200, `admin ${path}: ${response.status} ${JSON.stringify(payload)}`);
  return payload;
}

/** The admin API's fault rules (README "Admin API"): add one, list them, remove one or all. */
export const faults = {
  async add(endpoint, rule) {
    return admin(endpoint, "faults", rule);
  },
  async list(endpoint) {
    return (await adminCall(endpoint, "GET", "faults")).faults;
  },
  async clear(endpoint, id) {
    return adminCall(endpoint, "DELETE", id ? `faults/${id}` : "faults");
  },
};

/** A bodiless admin call (GET, DELETE) answering its JSON. */
export async function adminCall(endpoint, method, path) {
  const response = await fetch(`${endpoint}/_parley/${path}`, { method, signal: AbortSignal.timeout(10_000) });
  const payload = await response.json();
  assert.equal(response.status, 200, `admin ${method} ${path}: ${response.status} ${JSON.stringify(payload)}`);
  return payload;
}

export async function newInstance(client, alias = `js${randomInt(2 ** 40).toString(16)}`) {
  const created = await client.send(
    new connect.CreateInstanceCommand({
      IdentityManagementType: "CONNECT_MANAGED",
      InstanceAlias: alias,
      InboundCallsEnabled: true,
      OutboundCallsEnabled: true,
    }),
  );
  const flows = await client.send(
    new connect.ListContactFlowsCommand({ InstanceId: created.Id, ContactFlowTypes: ["CONTACT_FLOW"] }),
  );
  // The instance's own inbound flow: it queues the chat in BasicQueue, silently (flows.md §7.1)
  const inbound = flows.ContactFlowSummaryList.find((f) => f.Name === "Default inbound flow");
  return { instanceId: created.Id, instanceArn: created.Arn, flowId: inbound.Id, alias };
}

/** Runs the scenario and prints its report; any failure goes to stderr with exit status 1. */
export function run(scenario) {
  scenario().then(
    (report) => {
      process.stdout.write(JSON.stringify(report ?? {}) + "\n");
    },
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      if (error?.$metadata) process.stderr.write(`$metadata: ${JSON.stringify(error.$metadata)}\n`);
      process.exitCode = 1;
    },
  );
}
