// Every error class each implemented operation declares in the model, produced through the JS SDK v3:
// the SDK must read the error's name (its modelled class), status and message from Parley's answer.
//
//   node errors.mjs '{"endpoint":"http://127.0.0.1:PORT","altEndpoint":"http://127.0.0.1:PORT2"}'
//
// `altEndpoint` is a Parley started with `--quota-active-chats 1 --attachments-per-chat 1 --validation-error
// InvalidRequestException`: the quotas make LimitExceededException and StartAttachmentUpload's
// ServiceQuotaExceededException reachable, and the validation setting makes InvalidRequestException
// reachable on operations whose only request errors are validation errors.
// What no request can provoke from Parley (throttling, a service's own failure, a quota Parley does not
// keep, …) is injected: a `times: 1` fault rule (POST /_parley/faults) makes the next call of that
// operation answer the error, and the rule must have fired exactly once (the clients make one attempt,
// so no retry consumes it). Injected cases only fill the gaps the natural ones leave; each is marked
// `injected` in the report. The report lists every case run; test_jssdk.py checks it against the model's
// error lists and the classes it lists as produced only by injection.

import { randomUUID } from "node:crypto";

import {
  EVENT,
  admin,
  assert,
  clients,
  config,
  connect as C,
  faults,
  newInstance,
  participant as P,
  rejects,
  run,
} from "./lib.mjs";

const PARTICIPANT_OPERATIONS = new Set(
  Object.keys(P)
    .filter((name) => name.endsWith("Command"))
    .map((name) => name.slice(0, -"Command".length)),
);
const TOO_LONG_CONTACT_ID = "c".repeat(257); // ContactId: max 256
const TEXT = "text/plain";
// A flow document that passes PARLEY_FLOW_VALIDATION=aws (flows.md §2).
const FLOW = JSON.stringify({
  Version: "2019-10-30",
  StartAction: "end",
  Actions: [{ Identifier: "end", Type: "DisconnectParticipant", Parameters: {}, Transitions: {} }],
});

// The errors injected per operation: those declared errors no request makes Parley answer (test_jssdk.py's
// ONLY_BY_INJECTION says why for each), with the status the model gives them.
const INJECTED_STATUS = {
  AccessDeniedException: 403,
  InternalServerException: 500,
  InternalServiceException: 500,
  InvalidActiveRegionException: 400,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  LimitExceededException: 429,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
};
const INJECTED = {
  // Connect
  CreateInstance: ["ResourceNotFoundException", "ThrottlingException", "InternalServiceException"],
  DescribeInstance: ["InternalServiceException"],
  ListInstances: ["InternalServiceException"],
  DeleteInstance: ["InternalServiceException"],
  CreateContactFlow: ["LimitExceededException", "ThrottlingException", "InternalServiceException"],
  DescribeContactFlow: ["ThrottlingException", "InternalServiceException"],
  ListContactFlows: ["ThrottlingException", "InternalServiceException"],
  UpdateContactFlowContent: ["ThrottlingException", "InternalServiceException"],
  StartChatContact: ["InternalServiceException"],
  StartWebRTCContact: ["LimitExceededException", "AccessDeniedException", "InternalServiceException"],
  CreateParticipant: ["ThrottlingException", "InternalServiceException"],
  StopContact: ["InvalidActiveRegionException", "InternalServiceException"],
  DescribeContact: ["ThrottlingException", "InternalServiceException"],
  GetContactAttributes: ["InternalServiceException"],
  UpdateContactAttributes: ["InvalidActiveRegionException", "InternalServiceException"],
  TagResource: ["ThrottlingException", "InternalServiceException"],
  UntagResource: ["ThrottlingException", "InternalServiceException"],
  CreateQueue: ["LimitExceededException", "ThrottlingException", "InternalServiceException"],
  DescribeQueue: ["ThrottlingException", "InternalServiceException"],
  ListQueues: ["ThrottlingException", "InternalServiceException"],
  ListHoursOfOperations: ["ThrottlingException", "InternalServiceException"],
  AssociateLambdaFunction: ["ServiceQuotaExceededException", "ThrottlingException", "InternalServiceException"],
  ListLambdaFunctions: ["ThrottlingException", "InternalServiceException"],
  DisassociateLambdaFunction: ["ThrottlingException", "InternalServiceException"],
  ListTagsForResource: [
    "InvalidParameterException",
    "InvalidRequestException",
    "ThrottlingException",
    "InternalServiceException",
  ],
  // the Participant Service
  CreateParticipantConnection: ["ThrottlingException", "InternalServerException"],
  SendMessage: ["ThrottlingException", "InternalServerException"],
  SendEvent: ["ThrottlingException", "InternalServerException"],
  GetTranscript: ["ThrottlingException", "InternalServerException"],
  DisconnectParticipant: ["ThrottlingException", "InternalServerException"],
  StartAttachmentUpload: ["ThrottlingException", "InternalServerException"],
  CompleteAttachmentUpload: ["ServiceQuotaExceededException", "ThrottlingException", "InternalServerException"],
  GetAttachment: ["ThrottlingException", "InternalServerException"],
  DescribeView: ["ThrottlingException", "InternalServerException"],
  GetAuthenticationUrl: ["ThrottlingException", "InternalServerException"],
  CancelParticipantAuthentication: ["ThrottlingException", "InternalServerException"],
};

/** A chat on `setup`'s instance; `connect` lists the connection types to open for the customer. */
async function startChat(client, setup, extra = {}) {
  const started = await client.connect.send(
    new C.StartChatContactCommand({
      InstanceId: setup.instanceId,
      ContactFlowId: setup.flowId,
      ParticipantDetails: { DisplayName: "Customer" },
      ...extra,
    }),
  );
  const connection = await client.participant.send(
    new P.CreateParticipantConnectionCommand({ ParticipantToken: started.ParticipantToken, Type: ["CONNECTION_CREDENTIALS"] }),
  );
  return { ...started, token: connection.ConnectionCredentials.ConnectionToken };
}

async function addBot(client, setup, contactId) {
  const bot = await client.connect.send(
    new C.CreateParticipantCommand({
      InstanceId: setup.instanceId,
      ContactId: contactId,
      ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Bot" },
    }),
  );
  const connection = await client.participant.send(
    new P.CreateParticipantConnectionCommand({
      ParticipantToken: bot.ParticipantCredentials.ParticipantToken,
      Type: ["CONNECTION_CREDENTIALS"],
      ConnectParticipant: true,
    }),
  );
  return { ...bot, token: connection.ConnectionCredentials.ConnectionToken };
}

/** An attachment the customer started (and, with `bytes`, uploaded) on a chat. */
async function attachment(client, token, bytes) {
  const started = await client.participant.send(
    new P.StartAttachmentUploadCommand({
      ConnectionToken: token,
      ContentType: "text/plain",
      AttachmentSizeInBytes: bytes?.length ?? 10,
      AttachmentName: "notes.txt",
    }),
  );
  if (bytes) {
    const upload = started.UploadMetadata;
    const put = await fetch(upload.Url, { method: "PUT", headers: upload.HeadersToInclude, body: bytes });
    assert.equal(put.status, 200);
  }
  return started.AttachmentId;
}

/** A chat with three active participants (customer, agent, supervisor) and a message from the agent. */
async function crowdedChat(client, setup) {
  const chat = await startChat(client, setup);
  const agent = await admin(config.endpoint, `contacts/${chat.ContactId}/agent`, { action: "join", displayName: "Agent" });
  await admin(config.endpoint, `contacts/${chat.ContactId}/supervisor`, { action: "join", displayName: "Supervisor" });
  const connection = await client.participant.send(
    new P.CreateParticipantConnectionCommand({
      ParticipantToken: agent.ParticipantToken,
      Type: ["CONNECTION_CREDENTIALS"],
      ConnectParticipant: true,
    }),
  );
  const message = await client.participant.send(
    new P.SendMessageCommand({
      ConnectionToken: connection.ConnectionCredentials.ConnectionToken,
      ContentType: TEXT,
      Content: "Agent and supervisor here.",
    }),
  );
  return { ...chat, agentMessageId: message.Id };
}

run(async () => {
  const main = clients(config.endpoint);
  const alt = clients(config.altEndpoint);
  const c = (client, command) => client.connect.send(command);
  const p = (client, command) => client.participant.send(command);

  const setup = await newInstance(main.connect);
  const altSetup = await newInstance(alt.connect);
  const unknownInstance = randomUUID();
  const instanceArn = (id) => `arn:aws:connect:us-east-1:${main.key}:instance/${id}`;
  const saved = await c(
    main,
    new C.CreateContactFlowCommand({
      InstanceId: setup.instanceId,
      Name: "draft",
      Type: "CONTACT_FLOW",
      Content: "{}",
      Status: "SAVED",
    }),
  );
  const live = await startChat(main, setup);
  const liveBot = await addBot(main, setup, live.ContactId);
  const notUploaded = await attachment(main, live.token);
  const completed = await attachment(main, live.token, Buffer.from("some notes"));
  await p(main, new P.CompleteAttachmentUploadCommand({ ConnectionToken: live.token, AttachmentIds: [completed] }));
  const ended = await startChat(main, setup);
  await p(main, new P.DisconnectParticipantCommand({ ConnectionToken: ended.token }));
  const crowded = await crowdedChat(main, setup);
  const endedCall = await c(
    main,
    new C.StartWebRTCContactCommand({
      InstanceId: setup.instanceId,
      ContactFlowId: setup.flowId,
      ParticipantDetails: { DisplayName: "Caller" },
    }),
  );
  await c(main, new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: endedCall.ContactId }));
  const altChat = await startChat(alt, altSetup); // the alternative server's one active chat: its quota is reached
  // For the injected cases: a chat without a bot, an uploaded attachment not yet completed, a view, a session.
  const botless = await startChat(main, setup);
  const uploaded = await attachment(main, live.token, Buffer.from("more notes"));
  const view = await admin(config.endpoint, "views", {
    Id: "survey",
    Name: "Survey",
    Content: { InputSchema: "{}", Template: "{}", Actions: ["Submit"] },
    AccountId: main.key,
    InstanceId: setup.instanceId,
  });
  const sessionId = (await admin(config.endpoint, `contacts/${live.ContactId}/authentication`, { action: "initiate" }))
    .SessionId;
  // Queues and Lambda functions: the instance's Basic Hours and BasicQueue, and one associated function.
  const hours = await c(main, new C.ListHoursOfOperationsCommand({ InstanceId: setup.instanceId }));
  const hoursId = hours.HoursOfOperationSummaryList[0].Id;
  const queues = await c(main, new C.ListQueuesCommand({ InstanceId: setup.instanceId }));
  const basicQueueId = queues.QueueSummaryList.find((q) => q.Name === "BasicQueue").Id;
  const functionArn = (name) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
  await c(main, new C.AssociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: functionArn("startBot") }));
  // A request each operation would answer with success: an injected error is the only reason it fails.
  const succeeding = {
    CreateInstance: () =>
      c(main, new C.CreateInstanceCommand({
        IdentityManagementType: "EXISTING_DIRECTORY",
        DirectoryId: "d-1234567890",
        InstanceAlias: `injected${randomUUID().slice(0, 8)}`,
        InboundCallsEnabled: true,
        OutboundCallsEnabled: true,
      })),
    DescribeInstance: () => c(main, new C.DescribeInstanceCommand({ InstanceId: setup.instanceId })),
    ListInstances: () => c(main, new C.ListInstancesCommand({})),
    DeleteInstance: () => c(main, new C.DeleteInstanceCommand({ InstanceId: setup.instanceId })),
    CreateContactFlow: () =>
      c(main, new C.CreateContactFlowCommand({ InstanceId: setup.instanceId, Name: "one more", Type: "CONTACT_FLOW", Content: FLOW })),
    UpdateContactFlowContent: () =>
      c(main, new C.UpdateContactFlowContentCommand({ InstanceId: setup.instanceId, ContactFlowId: setup.flowId, Content: FLOW })),
    DescribeContactFlow: () =>
      c(main, new C.DescribeContactFlowCommand({ InstanceId: setup.instanceId, ContactFlowId: setup.flowId })),
    ListContactFlows: () => c(main, new C.ListContactFlowsCommand({ InstanceId: setup.instanceId })),
    StartChatContact: () =>
      c(main, new C.StartChatContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: setup.flowId,
        ParticipantDetails: { DisplayName: "Customer" },
      })),
    StartWebRTCContact: () =>
      c(main, new C.StartWebRTCContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: setup.flowId,
        ParticipantDetails: { DisplayName: "Caller" },
      })),
    CreateParticipant: () =>
      c(main, new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: botless.ContactId,
        ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Bot" },
      })),
    StopContact: () => c(main, new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: botless.ContactId })),
    DescribeContact: () => c(main, new C.DescribeContactCommand({ InstanceId: setup.instanceId, ContactId: live.ContactId })),
    GetContactAttributes: () =>
      c(main, new C.GetContactAttributesCommand({ InstanceId: setup.instanceId, InitialContactId: live.ContactId })),
    UpdateContactAttributes: () =>
      c(main, new C.UpdateContactAttributesCommand({
        InstanceId: setup.instanceId,
        InitialContactId: live.ContactId,
        Attributes: { a: "b" },
      })),
    TagResource: () => c(main, new C.TagResourceCommand({ resourceArn: setup.instanceArn, tags: { a: "b" } })),
    UntagResource: () => c(main, new C.UntagResourceCommand({ resourceArn: setup.instanceArn, tagKeys: ["a"] })),
    ListTagsForResource: () => c(main, new C.ListTagsForResourceCommand({ resourceArn: setup.instanceArn })),
    CreateQueue: () =>
      c(main, new C.CreateQueueCommand({ InstanceId: setup.instanceId, Name: `q${randomUUID()}`, HoursOfOperationId: hoursId })),
    DescribeQueue: () => c(main, new C.DescribeQueueCommand({ InstanceId: setup.instanceId, QueueId: basicQueueId })),
    ListQueues: () => c(main, new C.ListQueuesCommand({ InstanceId: setup.instanceId })),
    ListHoursOfOperations: () => c(main, new C.ListHoursOfOperationsCommand({ InstanceId: setup.instanceId })),
    AssociateLambdaFunction: () =>
      c(main, new C.AssociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: functionArn("other") })),
    ListLambdaFunctions: () => c(main, new C.ListLambdaFunctionsCommand({ InstanceId: setup.instanceId })),
    DisassociateLambdaFunction: () =>
      c(main, new C.DisassociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: functionArn("startBot") })),
    CreateParticipantConnection: () =>
      p(main, new P.CreateParticipantConnectionCommand({ ParticipantToken: live.ParticipantToken, Type: ["CONNECTION_CREDENTIALS"] })),
    SendMessage: () => p(main, new P.SendMessageCommand({ ConnectionToken: live.token, ContentType: TEXT, Content: "hello" })),
    SendEvent: () => p(main, new P.SendEventCommand({ ConnectionToken: live.token, ContentType: `${EVENT}typing` })),
    GetTranscript: () => p(main, new P.GetTranscriptCommand({ ConnectionToken: live.token })),
    DisconnectParticipant: () => p(main, new P.DisconnectParticipantCommand({ ConnectionToken: live.token })),
    StartAttachmentUpload: () => attachment(main, live.token),
    CompleteAttachmentUpload: () =>
      p(main, new P.CompleteAttachmentUploadCommand({ ConnectionToken: live.token, AttachmentIds: [uploaded] })),
    GetAttachment: () => p(main, new P.GetAttachmentCommand({ ConnectionToken: live.token, AttachmentId: completed })),
    DescribeView: () => p(main, new P.DescribeViewCommand({ ConnectionToken: live.token, ViewToken: view.ViewToken })),
    GetAuthenticationUrl: () =>
      p(main, new P.GetAuthenticationUrlCommand({ ConnectionToken: live.token, SessionId: sessionId, RedirectUri: "https://x" })),
    CancelParticipantAuthentication: () =>
      p(main, new P.CancelParticipantAuthenticationCommand({ ConnectionToken: live.token, SessionId: sessionId })),
  };

  // [operation, modelled error class name, HTTP status, the call, an optional extra check, server]
  const cases = [
    // -- instances ---------------------------------------------------------------------------------
    ["CreateInstance", "InvalidRequestException", 400, () =>
      c(main, new C.CreateInstanceCommand({ IdentityManagementType: "CONNECT_MANAGED", InboundCallsEnabled: true, OutboundCallsEnabled: true })),
      (e) => assert.match(e.message, /InstanceAlias/)],
    ["CreateInstance", "ServiceQuotaExceededException", 402, async () => {
      const crowdedAccount = clients(config.endpoint);
      await newInstance(crowdedAccount.connect);
      await newInstance(crowdedAccount.connect);
      await newInstance(crowdedAccount.connect); // the third: the default quota is 2 per account and region
    }, (e) => assert.match(e.message, /quota/)],
    ["DescribeInstance", "InvalidRequestException", 400, () =>
      c(main, new C.DescribeInstanceCommand({ InstanceId: "i".repeat(101) })),
      (e) => assert.match(e.message, /^1 validation error detected: .* at 'instanceId' failed to satisfy constraint/)],
    ["DescribeInstance", "ResourceNotFoundException", 404, () =>
      c(main, new C.DescribeInstanceCommand({ InstanceId: unknownInstance }))],
    ["ListInstances", "InvalidRequestException", 400, () =>
      c(main, new C.ListInstancesCommand({ MaxResults: 11 })),
      (e) => assert.match(e.message, /maxResults/)],
    ["DeleteInstance", "ResourceNotFoundException", 404, () =>
      c(main, new C.DeleteInstanceCommand({ InstanceId: unknownInstance }))],
    ["DeleteInstance", "InvalidRequestException", 400, () =>
      c(main, new C.DeleteInstanceCommand({ InstanceId: setup.instanceId, ClientToken: "t".repeat(501) })),
      (e) => assert.match(e.message, /clientToken/)],
    // -- flows -------------------------------------------------------------------------------------
    ["CreateContactFlow", "InvalidContactFlowException", 400, () =>
      c(main, new C.CreateContactFlowCommand({ InstanceId: setup.instanceId, Name: "broken", Type: "CONTACT_FLOW", Content: "not json" })),
      (e) => {
        assert.ok(Array.isArray(e.problems) && e.problems.length > 0, "InvalidContactFlowException.problems");
        assert.match(e.problems[0].message, /JSON/);
      }],
    ["CreateContactFlow", "InvalidParameterException", 400, () =>
      c(main, new C.CreateContactFlowCommand({ InstanceId: setup.instanceId, Name: "odd", Type: "NOT_A_TYPE", Content: "{}" })),
      (e) => assert.match(e.message, /type/)],
    ["CreateContactFlow", "InvalidRequestException", 400, () =>
      c(alt, new C.CreateContactFlowCommand({ InstanceId: altSetup.instanceId, Name: "odd", Type: "NOT_A_TYPE", Content: "{}" })),
      null, "alt"],
    ["CreateContactFlow", "DuplicateResourceException", 409, () =>
      c(main, new C.CreateContactFlowCommand({ InstanceId: setup.instanceId, Name: "draft", Type: "CONTACT_FLOW", Content: FLOW })),
      (e) => assert.match(e.message, /draft/)],
    ["CreateContactFlow", "ResourceNotFoundException", 404, () =>
      c(main, new C.CreateContactFlowCommand({ InstanceId: unknownInstance, Name: "x", Type: "CONTACT_FLOW", Content: FLOW }))],
    ["UpdateContactFlowContent", "InvalidContactFlowException", 400, () =>
      c(main, new C.UpdateContactFlowContentCommand({ InstanceId: setup.instanceId, ContactFlowId: setup.flowId, Content: "{}" })),
      (e) => {
        assert.ok(Array.isArray(e.problems) && e.problems.length > 0, "InvalidContactFlowException.problems");
        assert.match(e.problems[0].message, /Version/);
      }],
    ["UpdateContactFlowContent", "InvalidParameterException", 400, () =>
      c(main, new C.UpdateContactFlowContentCommand({ InstanceId: setup.instanceId, ContactFlowId: "f".repeat(501), Content: FLOW })),
      (e) => assert.match(e.message, /contactFlowId/)],
    ["UpdateContactFlowContent", "InvalidRequestException", 400, () =>
      c(alt, new C.UpdateContactFlowContentCommand({ InstanceId: altSetup.instanceId, ContactFlowId: "f".repeat(501), Content: FLOW })),
      null, "alt"],
    ["UpdateContactFlowContent", "ResourceNotFoundException", 404, () =>
      c(main, new C.UpdateContactFlowContentCommand({ InstanceId: setup.instanceId, ContactFlowId: randomUUID(), Content: FLOW }))],
    ["DescribeContactFlow", "ContactFlowNotPublishedException", 404, () =>
      c(main, new C.DescribeContactFlowCommand({ InstanceId: setup.instanceId, ContactFlowId: saved.ContactFlowId })),
      (e) => assert.match(e.message, /SAVED/)],
    ["DescribeContactFlow", "ResourceNotFoundException", 404, () =>
      c(main, new C.DescribeContactFlowCommand({ InstanceId: setup.instanceId, ContactFlowId: randomUUID() }))],
    ["DescribeContactFlow", "InvalidParameterException", 400, () =>
      c(main, new C.DescribeContactFlowCommand({ InstanceId: setup.instanceId, ContactFlowId: "f".repeat(501) })),
      (e) => assert.match(e.message, /contactFlowId/)],
    ["DescribeContactFlow", "InvalidRequestException", 400, () =>
      c(alt, new C.DescribeContactFlowCommand({ InstanceId: altSetup.instanceId, ContactFlowId: "f".repeat(501) })),
      null, "alt"],
    ["ListContactFlows", "InvalidParameterException", 400, () =>
      c(main, new C.ListContactFlowsCommand({ InstanceId: setup.instanceId, MaxResults: 1001 })),
      (e) => assert.match(e.message, /maxResults/)],
    ["ListContactFlows", "ResourceNotFoundException", 404, () =>
      c(main, new C.ListContactFlowsCommand({ InstanceId: unknownInstance }))],
    ["ListContactFlows", "InvalidRequestException", 400, () =>
      c(alt, new C.ListContactFlowsCommand({ InstanceId: altSetup.instanceId, NextToken: "not-a-token" })),
      null, "alt"],
    // -- queues, hours of operation and Lambda functions --------------------------------------------
    ["CreateQueue", "DuplicateResourceException", 409, () =>
      c(main, new C.CreateQueueCommand({ InstanceId: setup.instanceId, Name: "BasicQueue", HoursOfOperationId: hoursId })),
      (e) => assert.match(e.message, /BasicQueue/)],
    ["CreateQueue", "ResourceNotFoundException", 404, () =>
      c(main, new C.CreateQueueCommand({ InstanceId: setup.instanceId, Name: "no hours", HoursOfOperationId: randomUUID() })),
      (e) => assert.match(e.message, /Hours of operation/)],
    ["CreateQueue", "InvalidParameterException", 400, () =>
      c(main, new C.CreateQueueCommand({ InstanceId: setup.instanceId, Name: "q".repeat(128), HoursOfOperationId: hoursId })),
      (e) => assert.match(e.message, /name/)],
    ["CreateQueue", "InvalidRequestException", 400, () =>
      c(alt, new C.CreateQueueCommand({ InstanceId: altSetup.instanceId, Name: "q".repeat(128), HoursOfOperationId: hoursId })),
      null, "alt"],
    ["DescribeQueue", "ResourceNotFoundException", 404, () =>
      c(main, new C.DescribeQueueCommand({ InstanceId: setup.instanceId, QueueId: randomUUID() }))],
    ["DescribeQueue", "InvalidParameterException", 400, () =>
      c(main, new C.DescribeQueueCommand({ InstanceId: "i".repeat(101), QueueId: basicQueueId })),
      (e) => assert.match(e.message, /instanceId/)],
    ["DescribeQueue", "InvalidRequestException", 400, () =>
      c(alt, new C.DescribeQueueCommand({ InstanceId: "i".repeat(101), QueueId: basicQueueId })),
      null, "alt"],
    ["ListQueues", "ResourceNotFoundException", 404, () =>
      c(main, new C.ListQueuesCommand({ InstanceId: unknownInstance }))],
    ["ListQueues", "InvalidParameterException", 400, () =>
      c(main, new C.ListQueuesCommand({ InstanceId: setup.instanceId, QueueTypes: ["OTHER"] })),
      (e) => assert.match(e.message, /queueTypes/)],
    ["ListQueues", "InvalidRequestException", 400, () =>
      c(alt, new C.ListQueuesCommand({ InstanceId: altSetup.instanceId, NextToken: "not-a-token" })),
      null, "alt"],
    ["ListHoursOfOperations", "ResourceNotFoundException", 404, () =>
      c(main, new C.ListHoursOfOperationsCommand({ InstanceId: unknownInstance }))],
    ["ListHoursOfOperations", "InvalidParameterException", 400, () =>
      c(main, new C.ListHoursOfOperationsCommand({ InstanceId: setup.instanceId, MaxResults: 1001 })),
      (e) => assert.match(e.message, /maxResults/)],
    ["ListHoursOfOperations", "InvalidRequestException", 400, () =>
      c(alt, new C.ListHoursOfOperationsCommand({ InstanceId: altSetup.instanceId, NextToken: "not-a-token" })),
      null, "alt"],
    ["AssociateLambdaFunction", "ResourceConflictException", 409, () =>
      c(main, new C.AssociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: functionArn("startBot") })),
      (e) => assert.match(e.message, /already associated/)],
    ["AssociateLambdaFunction", "ResourceNotFoundException", 404, () =>
      c(main, new C.AssociateLambdaFunctionCommand({ InstanceId: unknownInstance, FunctionArn: functionArn("startBot") }))],
    ["AssociateLambdaFunction", "InvalidParameterException", 400, () =>
      c(main, new C.AssociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: "startBot" })),
      (e) => assert.match(e.message, /functionArn/)],
    ["AssociateLambdaFunction", "InvalidRequestException", 400, () =>
      c(alt, new C.AssociateLambdaFunctionCommand({ InstanceId: altSetup.instanceId, FunctionArn: "startBot" })),
      null, "alt"],
    ["ListLambdaFunctions", "ResourceNotFoundException", 404, () =>
      c(main, new C.ListLambdaFunctionsCommand({ InstanceId: unknownInstance }))],
    ["ListLambdaFunctions", "InvalidParameterException", 400, () =>
      c(main, new C.ListLambdaFunctionsCommand({ InstanceId: setup.instanceId, MaxResults: 26 })),
      (e) => assert.match(e.message, /maxResults/)],
    ["ListLambdaFunctions", "InvalidRequestException", 400, () =>
      c(alt, new C.ListLambdaFunctionsCommand({ InstanceId: altSetup.instanceId, MaxResults: 26 })),
      null, "alt"],
    ["DisassociateLambdaFunction", "ResourceNotFoundException", 404, () =>
      c(main, new C.DisassociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: functionArn("never") })),
      (e) => assert.match(e.message, /not associated/)],
    ["DisassociateLambdaFunction", "InvalidParameterException", 400, () =>
      c(main, new C.DisassociateLambdaFunctionCommand({ InstanceId: setup.instanceId, FunctionArn: "f".repeat(141) })),
      (e) => assert.match(e.message, /functionArn/)],
    ["DisassociateLambdaFunction", "InvalidRequestException", 400, () =>
      c(alt, new C.DisassociateLambdaFunctionCommand({ InstanceId: altSetup.instanceId, FunctionArn: "f".repeat(141) })),
      null, "alt"],
    // -- chats -------------------------------------------------------------------------------------
    ["StartChatContact", "InvalidRequestException", 400, () =>
      c(main, new C.StartChatContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: setup.flowId,
        ParticipantDetails: { DisplayName: "Customer" },
        RelatedContactId: ended.ContactId,
        PersistentChat: { RehydrationType: "ENTIRE_PAST_SESSION", SourceContactId: ended.ContactId },
      })),
      (e) => assert.match(e.message, /RelatedContactId/)],
    ["StartChatContact", "InvalidParameterException", 400, () =>
      c(main, new C.StartChatContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: setup.flowId,
        ParticipantDetails: { DisplayName: "Customer" },
        ChatDurationInMinutes: 59,
      })),
      (e) => assert.match(e.message, /chatDurationInMinutes/)],
    ["StartChatContact", "ResourceNotFoundException", 404, () =>
      c(main, new C.StartChatContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: randomUUID(),
        ParticipantDetails: { DisplayName: "Customer" },
      }))],
    ["StartChatContact", "LimitExceededException", 429, () =>
      c(alt, new C.StartChatContactCommand({
        InstanceId: altSetup.instanceId,
        ContactFlowId: altSetup.flowId,
        ParticipantDetails: { DisplayName: "One too many" },
      })),
      (e) => assert.match(e.message, /active chats/), "alt"],
    ["StartWebRTCContact", "InvalidRequestException", 400, () =>
      c(main, new C.StartWebRTCContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: setup.flowId,
        ParticipantDetails: { DisplayName: "Caller" },
        // Each Value is within the model's 4096, together they are over the 4,096 bytes References may hold.
        References: Object.fromEntries(["a", "b", "c"].map((k) => [k, { Type: "STRING", Value: "r".repeat(1500) }])),
      })),
      (e) => assert.match(e.message, /References/)],
    ["StartWebRTCContact", "InvalidParameterException", 400, () =>
      c(main, new C.StartWebRTCContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: setup.flowId,
        ParticipantDetails: { DisplayName: "Caller" },
        Attributes: { "bad key": "v" },
      })),
      (e) => assert.match(e.message, /bad key/)],
    ["StartWebRTCContact", "ResourceNotFoundException", 404, () =>
      c(main, new C.StartWebRTCContactCommand({
        InstanceId: setup.instanceId,
        ContactFlowId: randomUUID(),
        ParticipantDetails: { DisplayName: "Caller" },
      }))],
    ["CreateParticipant", "InvalidRequestException", 400, () =>
      c(main, new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: live.ContactId,
        ParticipantDetails: { ParticipantRole: "AGENT", DisplayName: "Not a bot" },
      })),
      (e) => assert.match(e.message, /CUSTOM_BOT/)],
    ["CreateParticipant", "ResourceNotFoundException", 404, () =>
      c(main, new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: randomUUID(),
        ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Bot" },
      }))],
    ["CreateParticipant", "ServiceQuotaExceededException", 402, () =>
      c(main, new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: live.ContactId,
        ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Second bot" },
      })),
      (e) => assert.match(e.message, /custom bot/)],
    ["CreateParticipant", "ConflictException", 409, () =>
      c(main, new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: crowded.ContactId,
        ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Bot" },
      })),
      (e) => assert.match(e.message, /AGENT/)],
    ["StopContact", "InvalidRequestException", 400, () =>
      c(main, new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: ended.ContactId })),
      (e) => assert.match(e.message, /ended/)],
    ["StopContact", "InvalidParameterException", 400, () =>
      c(main, new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: TOO_LONG_CONTACT_ID })),
      (e) => assert.match(e.message, /contactId/)],
    ["StopContact", "ContactNotFoundException", 410, () =>
      c(main, new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: endedCall.ContactId })),
      (e) => assert.match(e.message, /not active/)],
    ["StopContact", "ResourceNotFoundException", 404, () =>
      c(main, new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: randomUUID() }))],
    ["DescribeContact", "InvalidParameterException", 400, () =>
      c(main, new C.DescribeContactCommand({ InstanceId: setup.instanceId, ContactId: TOO_LONG_CONTACT_ID }))],
    ["DescribeContact", "ResourceNotFoundException", 404, () =>
      c(main, new C.DescribeContactCommand({ InstanceId: setup.instanceId, ContactId: randomUUID() }))],
    ["DescribeContact", "InvalidRequestException", 400, () =>
      c(alt, new C.DescribeContactCommand({ InstanceId: altSetup.instanceId, ContactId: TOO_LONG_CONTACT_ID })),
      null, "alt"],
    ["GetContactAttributes", "InvalidRequestException", 400, () =>
      c(main, new C.GetContactAttributesCommand({ InstanceId: setup.instanceId, InitialContactId: TOO_LONG_CONTACT_ID })),
      (e) => assert.match(e.message, /initialContactId/)],
    ["GetContactAttributes", "ResourceNotFoundException", 404, () =>
      c(main, new C.GetContactAttributesCommand({ InstanceId: setup.instanceId, InitialContactId: randomUUID() }))],
    ["UpdateContactAttributes", "InvalidParameterException", 400, () =>
      c(main, new C.UpdateContactAttributesCommand({
        InstanceId: setup.instanceId,
        InitialContactId: live.ContactId,
        Attributes: { "not a key!": "x" },
      })),
      (e) => assert.match(e.message, /not a key!/)],
    ["UpdateContactAttributes", "ResourceNotFoundException", 404, () =>
      c(main, new C.UpdateContactAttributesCommand({ InstanceId: unknownInstance, InitialContactId: live.ContactId, Attributes: { a: "b" } }))],
    ["UpdateContactAttributes", "InvalidRequestException", 400, () =>
      c(alt, new C.UpdateContactAttributesCommand({
        InstanceId: altSetup.instanceId,
        InitialContactId: altChat.ContactId,
        Attributes: { a: "x".repeat(32_768) },
      })),
      null, "alt"],
    // -- tags --------------------------------------------------------------------------------------
    ["TagResource", "InvalidParameterException", 400, () =>
      c(main, new C.TagResourceCommand({ resourceArn: setup.instanceArn, tags: { "aws:reserved": "x" } })),
      (e) => assert.match(e.message, /tags/)],
    ["TagResource", "ResourceNotFoundException", 404, () =>
      c(main, new C.TagResourceCommand({ resourceArn: instanceArn(unknownInstance), tags: { a: "b" } }))],
    ["TagResource", "InvalidRequestException", 400, () =>
      c(alt, new C.TagResourceCommand({ resourceArn: altSetup.instanceArn, tags: { "aws:reserved": "x" } })),
      null, "alt"],
    ["UntagResource", "InvalidParameterException", 400, () =>
      c(main, new C.UntagResourceCommand({ resourceArn: setup.instanceArn, tagKeys: Array.from({ length: 51 }, (_, i) => `k${i}`) })),
      (e) => assert.match(e.message, /tagKeys/)],
    ["UntagResource", "ResourceNotFoundException", 404, () =>
      c(main, new C.UntagResourceCommand({ resourceArn: instanceArn(unknownInstance), tagKeys: ["a"] }))],
    ["UntagResource", "InvalidRequestException", 400, () =>
      c(alt, new C.UntagResourceCommand({ resourceArn: altSetup.instanceArn, tagKeys: Array.from({ length: 51 }, (_, i) => `k${i}`) })),
      null, "alt"],
    ["ListTagsForResource", "ResourceNotFoundException", 404, () =>
      c(main, new C.ListTagsForResourceCommand({ resourceArn: `${instanceArn(unknownInstance)}/contact-flow/${randomUUID()}` }))],
    // -- the Participant Service ---------------------------------------------------------------------
    ["CreateParticipantConnection", "AccessDeniedException", 403, () =>
      p(main, new P.CreateParticipantConnectionCommand({ ParticipantToken: "not-a-token", Type: ["CONNECTION_CREDENTIALS"] })),
      (e) => assert.match(e.message, /explicit deny/)],
    ["CreateParticipantConnection", "ValidationException", 400, () =>
      p(main, new P.CreateParticipantConnectionCommand({ ParticipantToken: live.ParticipantToken, Type: ["WEBRTC_CONNECTION"] })),
      (e) => assert.match(e.message, /WEBRTC_CONNECTION/)],
    ["SendMessage", "AccessDeniedException", 403, () =>
      p(main, new P.SendMessageCommand({ ConnectionToken: ended.token, ContentType: TEXT, Content: "hello?" })),
      (e) => assert.equal(e.message, "Access denied")],
    ["SendMessage", "ValidationException", 400, () =>
      p(main, new P.SendMessageCommand({ ConnectionToken: live.token, ContentType: "text/markdown", Content: "**not enabled**" })),
      (e) => assert.match(e.message, /text\/markdown/)],
    ["SendEvent", "AccessDeniedException", 403, () =>
      // A ParticipantToken where a ConnectionToken belongs.
      p(main, new P.SendEventCommand({ ConnectionToken: live.ParticipantToken, ContentType: `${EVENT}typing` }))],
    ["SendEvent", "ValidationException", 400, () =>
      p(main, new P.SendEventCommand({ ConnectionToken: live.token, ContentType: `${EVENT}bogus` })),
      (e) => assert.match(e.message, /bogus/)],
    ["SendEvent", "ConflictException", 409, () =>
      p(main, new P.SendEventCommand({
        ConnectionToken: crowded.token,
        ContentType: `${EVENT}message.read`,
        Content: JSON.stringify({ messageId: crowded.agentMessageId }),
      })),
      (e) => assert.match(e.message, /state of the contact/)],
    ["GetTranscript", "AccessDeniedException", 403, () =>
      p(main, new P.GetTranscriptCommand({ ConnectionToken: ended.token })),
      (e) => assert.equal(e.message, "Access denied")],
    ["GetTranscript", "ValidationException", 400, () =>
      p(main, new P.GetTranscriptCommand({ ConnectionToken: live.token, NextToken: "not-a-token" })),
      (e) => assert.match(e.message, /NextToken/)],
    ["DisconnectParticipant", "AccessDeniedException", 403, () =>
      p(main, new P.DisconnectParticipantCommand({ ConnectionToken: ended.token })),
      (e) => assert.equal(e.message, "Access denied")],
    ["DisconnectParticipant", "ValidationException", 400, () =>
      p(main, new P.DisconnectParticipantCommand({ ConnectionToken: live.token, ClientToken: "t".repeat(501) })),
      (e) => assert.match(e.message, /clientToken/i)],
    ["StartAttachmentUpload", "AccessDeniedException", 403, () => attachment(main, ended.token),
      (e) => assert.equal(e.message, "Access denied")],
    ["StartAttachmentUpload", "ValidationException", 400, () =>
      p(main, new P.StartAttachmentUploadCommand({
        ConnectionToken: live.token,
        ContentType: "application/x-msdownload",
        AttachmentSizeInBytes: 10,
        AttachmentName: "setup.exe",
      })),
      (e) => assert.match(e.message, /application\/x-msdownload/)],
    ["StartAttachmentUpload", "ServiceQuotaExceededException", 402, async () => {
      await attachment(alt, altChat.token); // the alternative server's one attachment a chat
      await attachment(alt, altChat.token);
    }, (e) => assert.match(e.message, /attachments/), "alt"],
    ["CompleteAttachmentUpload", "AccessDeniedException", 403, () =>
      p(main, new P.CompleteAttachmentUploadCommand({ ConnectionToken: ended.token, AttachmentIds: [completed] }))],
    ["CompleteAttachmentUpload", "ValidationException", 400, () =>
      p(main, new P.CompleteAttachmentUploadCommand({ ConnectionToken: live.token, AttachmentIds: [notUploaded] })),
      (e) => assert.match(e.message, /not been uploaded/)],
    ["CompleteAttachmentUpload", "ConflictException", 409, () =>
      // A second completion (the SDK fills a new ClientToken, so it is no retry).
      p(main, new P.CompleteAttachmentUploadCommand({ ConnectionToken: live.token, AttachmentIds: [completed] })),
      (e) => assert.match(e.message, /already been completed/)],
    ["GetAttachment", "AccessDeniedException", 403, () =>
      p(main, new P.GetAttachmentCommand({ ConnectionToken: liveBot.token, AttachmentId: completed })),
      (e) => assert.match(e.message, /custom bot/)],
    ["GetAttachment", "ValidationException", 400, () =>
      p(main, new P.GetAttachmentCommand({ ConnectionToken: live.token, AttachmentId: notUploaded })),
      (e) => assert.match(e.message, /not an attachment of this chat/)],
    ["DescribeView", "AccessDeniedException", 403, () =>
      p(main, new P.DescribeViewCommand({ ConnectionToken: ended.token, ViewToken: "payment-form" }))],
    ["DescribeView", "ResourceNotFoundException", 404, () =>
      p(main, new P.DescribeViewCommand({ ConnectionToken: live.token, ViewToken: "no-such-view" })),
      (e) => assert.match(e.message, /no-such-view/)],
    ["DescribeView", "ValidationException", 400, () =>
      p(main, new P.DescribeViewCommand({ ConnectionToken: live.token, ViewToken: "v".repeat(1001) })),
      (e) => assert.match(e.message, /viewToken/i)],
    ["GetAuthenticationUrl", "AccessDeniedException", 403, () =>
      p(main, new P.GetAuthenticationUrlCommand({ ConnectionToken: ended.token, SessionId: randomUUID(), RedirectUri: "https://x" }))],
    ["GetAuthenticationUrl", "ValidationException", 400, () =>
      p(main, new P.GetAuthenticationUrlCommand({ ConnectionToken: live.token, SessionId: randomUUID(), RedirectUri: "https://x" })),
      (e) => assert.match(e.message, /not an authentication session/)],
    ["CancelParticipantAuthentication", "AccessDeniedException", 403, () =>
      p(main, new P.CancelParticipantAuthenticationCommand({ ConnectionToken: ended.token, SessionId: randomUUID() }))],
    ["CancelParticipantAuthentication", "ValidationException", 400, () =>
      p(main, new P.CancelParticipantAuthenticationCommand({ ConnectionToken: live.token, SessionId: "short" })),
      (e) => assert.match(e.message, /sessionId/i)],
  ];

  // -- injected: each gap filled by a one-shot fault rule on an otherwise succeeding call -------------
  for (const [operation, errors] of Object.entries(INJECTED)) {
    const call = succeeding[operation];
    assert.ok(call, `no succeeding call of ${operation} to inject into`);
    for (const error of errors) {
      const service = PARTICIPANT_OPERATIONS.has(operation) ? "connectparticipant" : "connect";
      cases.push([operation, error, INJECTED_STATUS[error], async () => {
        const rule = await faults.add(config.endpoint, { match: { service, operation }, times: 1, error: { code: error } });
        try {
          await call();
        } finally {
          const [after] = (await faults.list(config.endpoint)).filter((r) => r.id === rule.id);
          await faults.clear(config.endpoint, rule.id);
          assert.equal(after.fired, 1, `fault ${rule.id} fired ${after.fired} times`);
          assert.equal(after.remaining, 0);
        }
      }, (e) => assert.match(e.message, error === "ThrottlingException" ? /^Rate exceeded$/ : /fault rule/), "main", true]);
    }
  }

  const report = [];
  try {
    for (const [operation, error, status, call, check, server = "main", injected = false] of cases) {
      const sdk = PARTICIPANT_OPERATIONS.has(operation) ? P : C;
      const errorClass = sdk[error];
      assert.ok(errorClass, `the SDK has no ${error} class`);
      let caught;
      try {
        caught = await rejects(call, errorClass, status);
        if (check) check(caught);
      } catch (failure) {
        failure.message = `${operation} / ${error}${injected ? " (injected)" : ""}: ${failure.message}`;
        throw failure;
      }
      report.push({ operation, error, status, server, injected, message: caught.message });
    }
  } finally {
    await faults.clear(config.endpoint);
  }

  // An operation Parley routes but does not implement: 501 NotImplementedException, a server fault.
  const unimplemented = await rejects(
    () => c(main, new C.ListUsersCommand({ InstanceId: setup.instanceId })),
    C.ConnectServiceException,
    501,
    "NotImplementedException",
  );
  assert.match(unimplemented.message, /ListUsers/);
  return { cases: report, unimplemented: unimplemented.message };
});
