// Signed Connect calls for tests/contract/test_strict_auth.py: the JS SDK v3 signs them (SigV4, its own
// signer) with the given key, against whatever `endpoint` is: a strict-auth Parley, or the test's recorder
// that keeps the exact bytes for tampering. Every call's outcome is reported; none is asserted here.
//
//   node signed_calls.mjs '{"endpoint":…, "key":…, "secret":…, "instanceId":…, "arn":…, "clockOffsetMs":0}'

import { connect, config, run, REGION } from "./lib.mjs";

async function outcome(name, client, command) {
  try {
    await client.send(command);
    return { op: name, ok: true };
  } catch (error) {
    return { op: name, ok: false, error: error.name, status: error.$metadata?.httpStatusCode };
  }
}

run(async () => {
  const client = new connect.ConnectClient({
    endpoint: config.endpoint,
    region: config.region ?? REGION,
    maxAttempts: 1,
    systemClockOffset: config.clockOffsetMs ?? 0,
    credentials: { accessKeyId: config.key, secretAccessKey: config.secret },
  });
  const flows = new connect.ListContactFlowsCommand({
    InstanceId: config.instanceId,
    ContactFlowTypes: ["CONTACT_FLOW", "AGENT_TRANSFER"],
    MaxResults: 5,
  });
  const tag = new connect.TagResourceCommand({ resourceArn: config.arn, tags: { team: "a b/c+d=e", "k@é": "é" } });
  return { calls: [await outcome("ListContactFlows", client, flows), await outcome("TagResource", client, tag)] };
});
