// The JS SDK's standard retry strategy rides through an injected throttle: a client that may make three
// attempts meets a `times: 1` ThrottlingException (429) on CreateParticipant, retries once after its backoff,
// and the second attempt succeeds. The admin API confirms the rule fired exactly once and the request log
// holds both attempts.
//
//   node retry.mjs '{"endpoint":"http://127.0.0.1:PORT"}'

import { adminCall, assert, clients, config, connect as C, faults, newInstance, participant as P, run } from "./lib.mjs";

run(async () => {
  const { connect, key } = clients(config.endpoint);
  const retrying = new C.ConnectClient({
    endpoint: config.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: key, secretAccessKey: "test" },
    maxAttempts: 3,
    retryMode: "standard",
    requestHandler: { requestTimeout: 10_000 },
  });
  const setup = await newInstance(connect);
  const chat = await connect.send(
    new C.StartChatContactCommand({
      InstanceId: setup.instanceId,
      ContactFlowId: setup.flowId,
      ParticipantDetails: { DisplayName: "Customer" },
    }),
  );

  const rule = await faults.add(config.endpoint, {
    match: { service: "connect", operation: "CreateParticipant" },
    times: 1,
    error: { code: "ThrottlingException" },
  });
  assert.deepEqual(rule.error, { code: "ThrottlingException", status: 429, message: "Rate exceeded" });
  let bot, rules;
  try {
    bot = await retrying.send(
      new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: chat.ContactId,
        ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Bot" },
      }),
    );
  } finally {
    rules = await faults.list(config.endpoint);
    await faults.clear(config.endpoint);
  }
  assert.equal(bot.$metadata.httpStatusCode, 200);
  assert.equal(bot.$metadata.attempts, 2, "one throttled attempt, one that succeeded");
  assert.ok(bot.$metadata.totalRetryDelay > 0, "the SDK backed off before retrying");
  assert.match(bot.ParticipantId ?? "", /.+/);
  assert.match(bot.ParticipantCredentials?.ParticipantToken ?? "", /.+/);

  const fired = rules.find((r) => r.id === rule.id);
  assert.equal(fired.fired, 1, `the rule fired ${fired.fired} times`);
  assert.equal(fired.remaining, 0);

  const { requests } = await adminCall(config.endpoint, "GET", `requests?operation=CreateParticipant&contact=${chat.ContactId}`);
  assert.deepEqual(
    requests.map((r) => [r.status, r.error]),
    [
      [429, "ThrottlingException"],
      [200, null],
    ],
  );

  // The retried request really created the bot: it can connect.
  const connection = await clients(config.endpoint).participant.send(
    new P.CreateParticipantConnectionCommand({
      ParticipantToken: bot.ParticipantCredentials.ParticipantToken,
      Type: ["CONNECTION_CREDENTIALS"],
      ConnectParticipant: true,
    }),
  );
  assert.match(connection.ConnectionCredentials.ConnectionToken, /.+/);
  return { attempts: bot.$metadata.attempts, fired: fired.fired, requests: requests.length };
});
