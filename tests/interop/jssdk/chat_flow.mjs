// The whole chat flow through the JS SDK v3: an instance and its flows, a chat with a custom bot,
// messages, events and the transcript, the contact seen from Connect, attributes, tags, the customer
// leaving, what is refused afterwards, and the instance deleted. Values are checked, not just calls.
//
//   node chat_flow.mjs '{"endpoint":"http://127.0.0.1:PORT"}'

import { createHash, randomUUID } from "node:crypto";

import {
  EVENT,
  admin,
  assert,
  clients,
  config,
  connect as C,
  isoInstant,
  near,
  participant as P,
  recentDate,
  rejects,
  run,
} from "./lib.mjs";

const TEXT = "text/plain";
const MARKDOWN = "text/markdown";

run(async () => {
  const started = Date.now();
  const { connect, participant, key } = clients(config.endpoint);
  const send = (command) => connect.send(command);
  const ask = (command) => participant.send(command);

  // -- the instance ------------------------------------------------------------------------------
  const alias = `jsflow${started.toString(36)}`;
  const created = await send(
    new C.CreateInstanceCommand({
      IdentityManagementType: "CONNECT_MANAGED",
      InstanceAlias: alias,
      InboundCallsEnabled: true,
      OutboundCallsEnabled: false,
    }),
  );
  const instanceId = created.Id;
  assert.match(instanceId, /^[0-9a-f-]{36}$/);
  assert.equal(created.Arn, `arn:aws:connect:us-east-1:${key}:instance/${instanceId}`);
  const { Instance: instance } = await send(new C.DescribeInstanceCommand({ InstanceId: instanceId }));
  assert.equal(instance.Id, instanceId);
  assert.equal(instance.InstanceAlias, alias);
  assert.equal(instance.IdentityManagementType, "CONNECT_MANAGED");
  assert.equal(instance.InstanceStatus, "ACTIVE");
  assert.equal(instance.InboundCallsEnabled, true);
  assert.equal(instance.OutboundCallsEnabled, false);
  recentDate(instance.CreatedTime, started, "Instance.CreatedTime");
  const listed = await send(new C.ListInstancesCommand({}));
  assert.deepEqual(
    listed.InstanceSummaryList.map((i) => [i.Id, i.InstanceAlias]),
    [[instanceId, alias]],
  );
  recentDate(listed.InstanceSummaryList[0].CreatedTime, started, "InstanceSummary.CreatedTime");
  const other = await send(
    new C.CreateInstanceCommand({ IdentityManagementType: "SAML", InstanceAlias: `${alias}-2`, InboundCallsEnabled: true, OutboundCallsEnabled: true }),
  );
  const instancePages = [];
  for await (const page of C.paginateListInstances({ client: connect, pageSize: 1 }, {})) {
    instancePages.push(page.InstanceSummaryList.map((i) => i.Id));
  }
  assert.deepEqual(instancePages.flat().sort(), [instanceId, other.Id].sort());
  assert.equal(instancePages.length, 2, "one instance a page");
  await send(new C.DeleteInstanceCommand({ InstanceId: other.Id, ClientToken: randomUUID() }));

  // -- flows: the defaults, paged with the SDK's paginator; one of our own -----------------------
  const all = await send(new C.ListContactFlowsCommand({ InstanceId: instanceId, ContactFlowTypes: ["CONTACT_FLOW"] }));
  assert.equal(all.NextToken, undefined);
  assert.ok(all.ContactFlowSummaryList.length >= 2, "a new instance has several CONTACT_FLOW flows");
  assert.ok(all.ContactFlowSummaryList.every((f) => f.ContactFlowType === "CONTACT_FLOW"));
  // The flow runs once the customer connects: it waits for the customer, round after round, for an hour.
  const onEquals = (value, next) => ({ NextAction: next, Condition: { Operator: "Equals", Operands: [value] } });
  const content = JSON.stringify({
    Version: "2019-10-30",
    StartAction: "hold",
    Actions: [
      {
        Identifier: "hold",
        Type: "Wait",
        Parameters: { TimeoutSeconds: "3600", Events: ["CustomerReturned"] },
        Transitions: {
          NextAction: "end",
          Conditions: [onEquals("CustomerReturned", "hold"), onEquals("WaitCompleted", "end")],
        },
      },
      { Identifier: "end", Type: "DisconnectParticipant", Parameters: {}, Transitions: {} },
    ],
  });
  const flow = await send(
    new C.CreateContactFlowCommand({
      InstanceId: instanceId,
      Name: "JS SDK interop flow",
      Type: "CONTACT_FLOW",
      Content: content,
      Description: "created by tests/interop/jssdk/chat_flow.mjs",
      Tags: { team: "interop" },
    }),
  );
  assert.equal(flow.ContactFlowArn, `${created.Arn}/contact-flow/${flow.ContactFlowId}`);
  assert.equal(flow.FlowContentSha256, createHash("sha256").update(content).digest("hex"));
  const { ContactFlow: described } = await send(
    new C.DescribeContactFlowCommand({ InstanceId: instanceId, ContactFlowId: flow.ContactFlowId }),
  );
  assert.equal(described.Id, flow.ContactFlowId);
  assert.equal(described.Arn, flow.ContactFlowArn);
  assert.equal(described.Name, "JS SDK interop flow");
  assert.equal(described.Type, "CONTACT_FLOW");
  assert.equal(described.Status, "PUBLISHED");
  assert.equal(described.Content, content);
  assert.deepEqual(described.Tags, { team: "interop" });
  recentDate(described.LastModifiedTime, started, "ContactFlow.LastModifiedTime");
  const saved = await send(
    new C.CreateContactFlowCommand({
      InstanceId: instanceId,
      Name: "JS SDK draft",
      Type: "CONTACT_FLOW",
      Content: "{ a draft is not validated",
      Status: "SAVED",
    }),
  );
  const draft = await send(
    new C.DescribeContactFlowCommand({ InstanceId: instanceId, ContactFlowId: `${saved.ContactFlowId}:$SAVED` }),
  );
  assert.equal(draft.ContactFlow.Status, "SAVED");
  assert.equal(draft.ContactFlow.Content, "{ a draft is not validated");
  const paged = [];
  let pages = 0;
  for await (const page of C.paginateListContactFlows(
    { client: connect, pageSize: 3 },
    { InstanceId: instanceId, ContactFlowTypes: ["CONTACT_FLOW"] },
  )) {
    pages += 1;
    assert.ok(page.ContactFlowSummaryList.length <= 3);
    paged.push(...page.ContactFlowSummaryList.map((f) => f.Id));
  }
  const expectedFlows = [...all.ContactFlowSummaryList.map((f) => f.Id), flow.ContactFlowId, saved.ContactFlowId];
  assert.deepEqual([...paged].sort(), [...expectedFlows].sort(), "the paginator saw every flow once");
  assert.equal(pages, Math.ceil(expectedFlows.length / 3));
  const twoTypes = await send(
    new C.ListContactFlowsCommand({ InstanceId: instanceId, ContactFlowTypes: ["CONTACT_FLOW", "CUSTOMER_QUEUE"] }),
  );
  const queueFlows = twoTypes.ContactFlowSummaryList.filter((f) => f.ContactFlowType === "CUSTOMER_QUEUE");
  assert.ok(queueFlows.length >= 1, "a new instance has a CUSTOMER_QUEUE flow");
  assert.equal(twoTypes.ContactFlowSummaryList.length, expectedFlows.length + queueFlows.length);

  // -- StartChatContact, replayed with its ClientToken -------------------------------------------
  const chatRequest = {
    InstanceId: instanceId,
    ContactFlowId: flow.ContactFlowId,
    ParticipantDetails: { DisplayName: "Customer" },
    Attributes: { customerTier: "gold", orderId: "42" },
    SupportedMessagingContentTypes: [TEXT, MARKDOWN],
    InitialMessage: { ContentType: TEXT, Content: "Hello, where is my parcel?" },
    ChatDurationInMinutes: 90,
    ClientToken: randomUUID(),
  };
  const chat = await send(new C.StartChatContactCommand(chatRequest));
  const chatStarted = Date.now();
  assert.match(chat.ContactId, /^[0-9a-f-]{36}$/);
  assert.ok(chat.ParticipantId && chat.ParticipantToken);
  assert.equal(chat.Websocket, undefined, "no ConnectionTypes asked, no Websocket");
  const again = await send(new C.StartChatContactCommand(chatRequest));
  assert.deepEqual(
    [again.ContactId, again.ParticipantId, again.ParticipantToken],
    [chat.ContactId, chat.ParticipantId, chat.ParticipantToken],
    "the same ClientToken replays the original contact",
  );
  const mismatch = await rejects(
    () => send(new C.StartChatContactCommand({ ...chatRequest, Attributes: { orderId: "43" } })),
    C.InvalidParameterException, // StartChatContact does not declare IdempotencyException (issue 12)
    400,
  );
  assert.match(mismatch.message, /ClientToken/);
  const contactId = chat.ContactId;
  const customerId = chat.ParticipantId;

  // -- a custom bot, CreateParticipant replayed with its ClientToken -----------------------------
  const botRequest = {
    InstanceId: instanceId,
    ContactId: contactId,
    ClientToken: randomUUID(),
    ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Parcel bot" },
  };
  const bot = await send(new C.CreateParticipantCommand(botRequest));
  const botAgain = await send(new C.CreateParticipantCommand(botRequest));
  assert.deepEqual(botAgain.ParticipantId, bot.ParticipantId);
  assert.deepEqual(botAgain.ParticipantCredentials, bot.ParticipantCredentials);
  assert.notEqual(bot.ParticipantId, customerId);
  const botExpiry = isoInstant(bot.ParticipantCredentials.Expiry, "ParticipantCredentials.Expiry");
  near(botExpiry, chatStarted + 90 * 60_000, "a bot's token lives as long as the chat (90 minutes)");
  const botId = bot.ParticipantId;

  // -- both connect ------------------------------------------------------------------------------
  const customerConnection = await ask(
    new P.CreateParticipantConnectionCommand({
      ParticipantToken: chat.ParticipantToken,
      Type: ["WEBSOCKET", "CONNECTION_CREDENTIALS"],
    }),
  );
  const connectedAt = Date.now();
  const socket = new URL(customerConnection.Websocket.Url);
  assert.equal(socket.protocol, "ws:");
  assert.equal(socket.host, new URL(config.endpoint).host);
  assert.equal(socket.pathname, "/ws/chat");
  assert.ok(socket.searchParams.get("auth"));
  near(isoInstant(customerConnection.Websocket.ConnectionExpiry, "ConnectionExpiry"), connectedAt + 100_000, "URL");
  const customerToken = customerConnection.ConnectionCredentials.ConnectionToken;
  near(isoInstant(customerConnection.ConnectionCredentials.Expiry, "Expiry"), connectedAt + 86_400_000, "1 day");
  const botConnection = await ask(
    new P.CreateParticipantConnectionCommand({
      ParticipantToken: bot.ParticipantCredentials.ParticipantToken,
      Type: ["CONNECTION_CREDENTIALS"],
      ConnectParticipant: true,
    }),
  );
  assert.equal(botConnection.Websocket, undefined, "only the asked-for blocks");
  const botToken = botConnection.ConnectionCredentials.ConnectionToken;

  // -- messages and events -----------------------------------------------------------------------
  const said = []; // [role, content type, content, id] in sending order
  const say = async (token, role, contentType, text, clientToken) => {
    const out = await ask(
      new P.SendMessageCommand({ ConnectionToken: token, ContentType: contentType, Content: text, ClientToken: clientToken }),
    );
    assert.match(out.Id, /.+/);
    recentDate(new Date(isoInstant(out.AbsoluteTime, "SendMessage AbsoluteTime")), started, "AbsoluteTime");
    return out;
  };
  const lines = [
    [botToken, "CUSTOM_BOT", TEXT, "Hi! I am the parcel bot."],
    [botToken, "CUSTOM_BOT", MARKDOWN, "Please give me your **order number**."],
    [customerToken, "CUSTOMER", TEXT, "It is 42."],
    [botToken, "CUSTOM_BOT", TEXT, "Looking it up…"],
    [customerToken, "CUSTOMER", TEXT, "Thanks — ünïcödé is fine too ✓"],
    [botToken, "CUSTOM_BOT", TEXT, "Your parcel arrives tomorrow."],
    [customerToken, "CUSTOMER", MARKDOWN, "_Great_, bye!"],
  ];
  for (const [token, role, contentType, text] of lines) {
    const clientToken = randomUUID();
    const out = await say(token, role, contentType, text, clientToken);
    const replay = await say(token, role, contentType, text, clientToken);
    assert.deepEqual([replay.Id, replay.AbsoluteTime], [out.Id, out.AbsoluteTime], "SendMessage replays its ClientToken");
    said.push([role, contentType, text, out.Id]);
  }
  const typing = await ask(new P.SendEventCommand({ ConnectionToken: customerToken, ContentType: `${EVENT}typing` }));
  assert.match(typing.Id, /.+/);
  isoInstant(typing.AbsoluteTime, "typing AbsoluteTime");
  const readMessage = said[5][3];
  const read = await ask(
    new P.SendEventCommand({
      ConnectionToken: customerToken,
      ContentType: `${EVENT}message.read`,
      Content: JSON.stringify({ messageId: readMessage }),
    }),
  );
  isoInstant(read.AbsoluteTime, "receipt AbsoluteTime");

  // -- the transcript: everything, then page by page in every direction --------------------------
  const transcript = (token, input) =>
    ask(new P.GetTranscriptCommand({ ConnectionToken: token, ContactId: contactId, ...input }));
  const full = await transcript(botToken, { MaxResults: 100, SortOrder: "ASCENDING" });
  assert.equal(full.InitialContactId, contactId);
  assert.equal(full.NextToken, undefined);
  const items = full.Transcript;
  const times = items.map((i) => isoInstant(i.AbsoluteTime, `item ${i.Id} AbsoluteTime`));
  assert.deepEqual(times, [...times].sort((a, b) => a - b), "ASCENDING is oldest first");
  assert.equal(new Set(items.map((i) => i.Id)).size, items.length, "no duplicate items");
  const shape = items.map((i) =>
    i.Type === "MESSAGE" ? ["MESSAGE", i.ParticipantRole, i.ContentType, i.Content] : [i.Type, i.ContentType ?? null],
  );
  assert.deepEqual(shape, [
    ["EVENT", `${EVENT}participant.joined`],
    ["MESSAGE", "CUSTOMER", TEXT, "Hello, where is my parcel?"],
    ["EVENT", `${EVENT}participant.joined`],
    ...said.map(([role, contentType, text]) => ["MESSAGE", role, contentType, text]),
    ["MESSAGEMETADATA", `${EVENT}message.metadata`],
  ]);
  assert.deepEqual(
    [items[0].ParticipantId, items[0].ParticipantRole, items[0].DisplayName],
    [customerId, "CUSTOMER", "Customer"],
  );
  assert.deepEqual(
    [items[2].ParticipantId, items[2].ParticipantRole, items[2].DisplayName],
    [botId, "CUSTOM_BOT", "Parcel bot"],
  );
  assert.deepEqual(
    items.filter((i) => i.Type === "MESSAGE").slice(1).map((i) => i.Id),
    said.map((s) => s[3]),
  );
  assert.ok(items.every((i) => i.ContactId === contactId));
  const receipt = items.at(-1).MessageMetadata;
  assert.equal(receipt.MessageId, readMessage);
  assert.equal(receipt.Receipts[0].RecipientParticipantId, customerId);
  isoInstant(receipt.Receipts[0].ReadTimestamp, "ReadTimestamp");
  const ids = items.map((i) => i.Id);

  const walk = async (token, input) => {
    const got = [];
    let next;
    do {
      const page = await transcript(token, { ...input, NextToken: next });
      assert.ok(page.Transcript.length > 0, "a NextToken never leads to an empty page");
      assert.ok(page.Transcript.length <= (input.MaxResults ?? 10));
      got.push(page.Transcript.map((i) => i.Id));
      next = page.NextToken;
    } while (next);
    return got;
  };
  // Defaults: MaxResults 10, BACKWARD from the newest, DESCENDING.
  const backward = await walk(customerToken, {});
  assert.deepEqual(backward.flat(), [...ids].reverse());
  assert.deepEqual(await walk(customerToken, { StartPosition: {} }), backward, "StartPosition {} is no StartPosition");
  assert.deepEqual(backward.map((p) => p.length), [10, ids.length - 10]);
  const forward = await walk(customerToken, { MaxResults: 4, ScanDirection: "FORWARD", SortOrder: "ASCENDING" });
  assert.deepEqual(forward.flat(), ids);
  const backwardAscending = await walk(botToken, { MaxResults: 5, ScanDirection: "BACKWARD", SortOrder: "ASCENDING" });
  assert.deepEqual(backwardAscending.reverse().flat(), ids, "each page ascending, pages walking back");
  const fromId = await transcript(customerToken, { MaxResults: 3, SortOrder: "ASCENDING", StartPosition: { Id: ids[3] } });
  assert.deepEqual(
    fromId.Transcript.map((i) => i.Id),
    ids.slice(3, 6),
    "StartPosition.Id scans FORWARD from that item, inclusive",
  );
  const recent = await transcript(customerToken, {
    ScanDirection: "FORWARD",
    SortOrder: "ASCENDING",
    StartPosition: { MostRecent: 2 },
  });
  assert.deepEqual(recent.Transcript.map((i) => i.Id), ids.slice(-2));
  const since = items[4].AbsoluteTime;
  const fromTime = await transcript(botToken, {
    MaxResults: 2,
    ScanDirection: "FORWARD",
    SortOrder: "ASCENDING",
    StartPosition: { AbsoluteTime: since },
  });
  const firstAtOrAfter = times.findIndex((t) => t >= Date.parse(since));
  assert.deepEqual(fromTime.Transcript.map((i) => i.Id), ids.slice(firstAtOrAfter, firstAtOrAfter + 2));
  assert.ok(fromTime.NextToken, "more items follow");
  assert.equal(recent.NextToken, undefined);

  // -- the contact, from Connect: timestamps are Dates ---------------------------------------------
  const { Contact: live } = await send(new C.DescribeContactCommand({ InstanceId: instanceId, ContactId: contactId }));
  assert.equal(live.Id, contactId);
  assert.equal(live.Arn, `${created.Arn}/contact/${contactId}`);
  assert.equal(live.Channel, "CHAT");
  assert.equal(live.InitiationMethod, "API");
  const initiated = recentDate(live.InitiationTimestamp, started, "InitiationTimestamp");
  assert.ok(initiated.getTime() <= chatStarted);
  recentDate(live.ConnectedToSystemTimestamp, started, "ConnectedToSystemTimestamp");
  assert.ok(recentDate(live.LastUpdateTimestamp, started, "LastUpdateTimestamp") >= initiated);
  assert.equal(live.DisconnectTimestamp, undefined, "no DisconnectTimestamp while the chat is live");

  // -- attributes: read, merged on update ---------------------------------------------------------
  const attributes = (id) => send(new C.GetContactAttributesCommand({ InstanceId: instanceId, InitialContactId: id }));
  assert.deepEqual((await attributes(contactId)).Attributes, { customerTier: "gold", orderId: "42" });
  await send(
    new C.UpdateContactAttributesCommand({
      InstanceId: instanceId,
      InitialContactId: contactId,
      Attributes: { orderId: "42-b", channel: "web" },
    }),
  );
  assert.deepEqual((await attributes(contactId)).Attributes, { customerTier: "gold", orderId: "42-b", channel: "web" });

  // -- tags on the flow and on the instance -------------------------------------------------------
  const tagsOf = async (arn) => (await send(new C.ListTagsForResourceCommand({ resourceArn: arn }))).tags;
  await send(new C.TagResourceCommand({ resourceArn: flow.ContactFlowArn, tags: { env: "ci", owner: "js-sdk" } }));
  assert.deepEqual(await tagsOf(flow.ContactFlowArn), { team: "interop", env: "ci", owner: "js-sdk" });
  await send(new C.UntagResourceCommand({ resourceArn: flow.ContactFlowArn, tagKeys: ["env", "team"] }));
  assert.deepEqual(await tagsOf(flow.ContactFlowArn), { owner: "js-sdk" });
  assert.deepEqual(await tagsOf(created.Arn), {});
  await send(new C.TagResourceCommand({ resourceArn: created.Arn, tags: { "cost:centre": "support/42" } }));
  assert.deepEqual(await tagsOf(created.Arn), { "cost:centre": "support/42" });
  const tagged = await send(new C.DescribeInstanceCommand({ InstanceId: created.Arn }));
  assert.deepEqual(tagged.Instance.Tags, { "cost:centre": "support/42" });
  await send(new C.UntagResourceCommand({ resourceArn: created.Arn, tagKeys: ["cost:centre", "absent key"] }));
  assert.deepEqual(await tagsOf(created.Arn), {});

  // -- the customer leaves: the chat ends, and what is refused afterwards --------------------------
  const left = await ask(new P.DisconnectParticipantCommand({ ConnectionToken: customerToken }));
  assert.deepEqual(Object.keys(left).filter((k) => k !== "$metadata"), []);
  const { Contact: ended } = await send(new C.DescribeContactCommand({ InstanceId: instanceId, ContactId: contactId }));
  const disconnected = recentDate(ended.DisconnectTimestamp, started, "DisconnectTimestamp");
  assert.ok(disconnected >= ended.InitiationTimestamp);
  assert.ok(ended.LastUpdateTimestamp >= ended.InitiationTimestamp);
  assert.equal(ended.DisconnectReason, "CUSTOMER_DISCONNECT");
  const afterEnd = [
    ["SendMessage (bot)", () => ask(new P.SendMessageCommand({ ConnectionToken: botToken, ContentType: TEXT, Content: "hello?" }))],
    ["GetTranscript (customer)", () => transcript(customerToken, {})],
    ["SendEvent (bot)", () => ask(new P.SendEventCommand({ ConnectionToken: botToken, ContentType: `${EVENT}typing` }))],
    ["DisconnectParticipant (customer again)", () => ask(new P.DisconnectParticipantCommand({ ConnectionToken: customerToken }))],
    [
      "CreateParticipantConnection (customer)",
      () => ask(new P.CreateParticipantConnectionCommand({ ParticipantToken: chat.ParticipantToken, Type: ["CONNECTION_CREDENTIALS"] })),
    ],
  ];
  for (const [what, call] of afterEnd) {
    const denied = await rejects(call, P.AccessDeniedException, 403);
    assert.equal(denied.message, "Access denied", what);
  }
  const stop = await rejects(
    () => send(new C.StopContactCommand({ InstanceId: instanceId, ContactId: contactId })),
    C.InvalidRequestException,
    400,
  );
  assert.match(stop.message, /ended/);
  await rejects(
    () =>
      send(
        new C.CreateParticipantCommand({
          InstanceId: instanceId,
          ContactId: contactId,
          ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Late bot" },
        }),
      ),
    C.ConflictException,
    409,
  );
  // Attributes stay writable after the end (connect-api.md §10).
  await send(
    new C.UpdateContactAttributesCommand({ InstanceId: instanceId, InitialContactId: contactId, Attributes: { csat: "5" } }),
  );
  assert.equal((await attributes(contactId)).Attributes.csat, "5");

  // -- a second chat, stopped through Connect while an agent is on it ------------------------------
  const second = await send(
    new C.StartChatContactCommand({
      InstanceId: instanceId,
      ContactFlowId: flow.ContactFlowId,
      ParticipantDetails: { DisplayName: "Second customer" },
    }),
  );
  const agent = await admin(config.endpoint, `contacts/${second.ContactId}/agent`, { action: "join", displayName: "Agent" });
  const agentConnection = await ask(
    new P.CreateParticipantConnectionCommand({
      ParticipantToken: agent.ParticipantToken,
      Type: ["CONNECTION_CREDENTIALS"],
      ConnectParticipant: true,
    }),
  );
  const agentToken = agentConnection.ConnectionCredentials.ConnectionToken;
  await ask(new P.SendMessageCommand({ ConnectionToken: agentToken, ContentType: TEXT, Content: "Agent here." }));
  const stopped = await send(new C.StopContactCommand({ InstanceId: instanceId, ContactId: second.ContactId }));
  assert.deepEqual(Object.keys(stopped).filter((k) => k !== "$metadata"), []);
  const { Contact: stoppedContact } = await send(
    new C.DescribeContactCommand({ InstanceId: instanceId, ContactId: second.ContactId }),
  );
  recentDate(stoppedContact.DisconnectTimestamp, started, "DisconnectTimestamp after StopContact");
  assert.equal(stoppedContact.DisconnectReason, "API");
  await rejects(() => transcript(agentToken, {}), P.AccessDeniedException, 403);

  // -- the instance goes ---------------------------------------------------------------------------
  const deleted = await send(new C.DeleteInstanceCommand({ InstanceId: instanceId }));
  assert.equal(deleted.$metadata.httpStatusCode, 200);
  await rejects(() => send(new C.DescribeInstanceCommand({ InstanceId: instanceId })), C.ResourceNotFoundException, 404);
  assert.deepEqual((await send(new C.ListInstancesCommand({}))).InstanceSummaryList, []);

  return {
    instanceId,
    contactId,
    transcriptItems: ids.length,
    transcriptPages: { backward: backward.length, forward: forward.length, backwardAscending: backwardAscending.length },
    flows: expectedFlows.length,
  };
});
