// A WebRTC call through the JS SDK v3: StartWebRTCContact (replayed with its ClientToken), an agent
// joined through the admin API, two more customers added by CreateParticipant and connected with
// WEBRTC_CONNECTION, one of them leaving, StopContact; and every refusal on the way: no participant
// before the agent, only CUSTOMERs, only allowed capabilities, six participants at most, nothing once
// the call has ended. A second call ends when its last customer leaves.
//
//   node call_flow.mjs '{"endpoint":"http://127.0.0.1:PORT"}'

import { randomUUID } from "node:crypto";

import {
  admin,
  assert,
  clients,
  config,
  connect as C,
  isoInstant,
  newInstance,
  participant as P,
  recentDate,
  rejects,
  run,
} from "./lib.mjs";

const GUID = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
const PLACEMENT = ["AudioFallbackUrl", "AudioHostUrl", "EventIngestionUrl", "SignalingUrl"];

run(async () => {
  const started = Date.now();
  const { connect, participant } = clients(config.endpoint);
  const send = (command) => connect.send(command);
  const ask = (command) => participant.send(command);
  const setup = await newInstance(connect);
  const describe = async (contactId) =>
    (await send(new C.DescribeContactCommand({ InstanceId: setup.instanceId, ContactId: contactId }))).Contact;

  // -- the call starts; its ClientToken replays it ---------------------------------------------------
  const callRequest = {
    InstanceId: setup.instanceId,
    ContactFlowId: setup.flowId,
    ParticipantDetails: { DisplayName: "Caller" },
    AllowedCapabilities: {
      Customer: { Video: "SEND" },
      Agent: { Video: "SEND", ScreenShare: "SEND" },
    },
    Attributes: { tier: "gold" },
    Description: "video support",
    ClientToken: randomUUID(),
  };
  const call = await send(new C.StartWebRTCContactCommand(callRequest));
  const again = await send(new C.StartWebRTCContactCommand(callRequest));
  assert.deepEqual(
    [again.ContactId, again.ParticipantId, again.ParticipantToken, again.ConnectionData],
    [call.ContactId, call.ParticipantId, call.ParticipantToken, call.ConnectionData],
    "the same ClientToken replays the call",
  );
  const contactId = call.ContactId;
  const { Meeting: meeting, Attendee: caller } = call.ConnectionData;
  assert.match(meeting.MeetingId, GUID);
  assert.equal(meeting.MediaRegion, "us-east-1");
  assert.deepEqual(Object.keys(meeting.MediaPlacement).sort(), [...PLACEMENT, "TurnControlUrl"].sort());
  assert.deepEqual(meeting.MeetingFeatures, { Audio: { EchoReduction: "AVAILABLE" } });
  assert.ok(caller.AttendeeId && caller.JoinToken);
  const live = await describe(contactId);
  assert.equal(live.Channel, "VOICE");
  assert.equal(live.InitiationMethod, "WEBRTC_API");
  assert.deepEqual(live.SegmentAttributes, { "connect:Subtype": { ValueString: "connect:WebRTC" } });
  assert.deepEqual(live.Attributes, { tier: "gold" });
  assert.equal(live.Description, "video support");
  recentDate(live.InitiationTimestamp, started, "InitiationTimestamp");
  assert.equal(live.DisconnectTimestamp, undefined);
  assert.equal(live.AgentInfo, undefined, "no agent yet");

  const addCustomer = (name, extra = {}) =>
    send(
      new C.CreateParticipantCommand({
        InstanceId: setup.instanceId,
        ContactId: contactId,
        ParticipantDetails: { ParticipantRole: "CUSTOMER", DisplayName: name, ...extra.details },
        ClientToken: extra.clientToken,
      }),
    );
  const early = await rejects(() => addCustomer("Too early"), C.InvalidRequestException, 400);
  assert.match(early.message, /agent/);

  // -- the agent joins (admin API); two more customers ------------------------------------------------
  const agent = await admin(config.endpoint, `contacts/${contactId}/agent`, { action: "join", displayName: "Agent" });
  const withAgent = await describe(contactId);
  assert.equal(withAgent.AgentInfo.Id, agent.ParticipantId);
  recentDate(withAgent.AgentInfo.AcceptedByAgentTimestamp, started, "AgentInfo.AcceptedByAgentTimestamp");
  recentDate(withAgent.AgentInfo.ConnectedToAgentTimestamp, started, "AgentInfo.ConnectedToAgentTimestamp");

  const firstToken = randomUUID();
  const first = await addCustomer("Second", { details: { ParticipantCapabilities: { Video: "SEND" } }, clientToken: firstToken });
  const firstAgain = await addCustomer("Second", { details: { ParticipantCapabilities: { Video: "SEND" } }, clientToken: firstToken });
  assert.equal(firstAgain.ParticipantId, first.ParticipantId);
  assert.deepEqual(firstAgain.ParticipantCredentials, first.ParticipantCredentials);
  isoInstant(first.ParticipantCredentials.Expiry, "ParticipantCredentials.Expiry");
  const second = await addCustomer("Third");
  assert.notEqual(second.ParticipantId, first.ParticipantId);

  const wrongRole = await rejects(
    () =>
      send(
        new C.CreateParticipantCommand({
          InstanceId: setup.instanceId,
          ContactId: contactId,
          ParticipantDetails: { ParticipantRole: "CUSTOM_BOT", DisplayName: "Bot" },
        }),
      ),
    C.InvalidRequestException,
    400,
  );
  assert.match(wrongRole.message, /CUSTOMER/);
  const notAllowed = await rejects(
    () => addCustomer("Sharer", { details: { ParticipantCapabilities: { Video: "SEND", ScreenShare: "SEND" } } }),
    C.InvalidRequestException,
    400,
  );
  assert.match(notAllowed.message, /ScreenShare/);

  // -- everyone connects with WEBRTC_CONNECTION: one meeting, one attendee each -----------------------
  const join = (participantToken) =>
    ask(
      new P.CreateParticipantConnectionCommand({
        ParticipantToken: participantToken,
        Type: ["WEBRTC_CONNECTION", "CONNECTION_CREDENTIALS"],
      }),
    );
  const attendees = new Set();
  const tokens = {};
  for (const [name, who] of [
    ["first", first],
    ["second", second],
  ]) {
    const out = await join(who.ParticipantCredentials.ParticipantToken);
    const rtc = out.WebRTCConnection;
    assert.equal(rtc.Meeting.MeetingId, meeting.MeetingId);
    assert.deepEqual(Object.keys(rtc.Meeting.MediaPlacement).sort(), PLACEMENT, "no TurnControlUrl on the participant side");
    assert.deepEqual(rtc.Meeting.MeetingFeatures, meeting.MeetingFeatures);
    assert.ok(rtc.Attendee.AttendeeId && rtc.Attendee.JoinToken);
    assert.equal(out.Websocket, undefined);
    isoInstant(out.ConnectionCredentials.Expiry, "Expiry");
    attendees.add(rtc.Attendee.AttendeeId);
    tokens[name] = out.ConnectionCredentials.ConnectionToken;
  }
  const callerConnection = await join(call.ParticipantToken);
  assert.deepEqual(callerConnection.WebRTCConnection.Attendee, caller, "the caller's attendee, as StartWebRTCContact gave it");
  attendees.add(caller.AttendeeId);
  assert.equal(attendees.size, 3, "one attendee per participant");
  const noSocket = await rejects(
    () => ask(new P.CreateParticipantConnectionCommand({ ParticipantToken: call.ParticipantToken, Type: ["WEBSOCKET"] })),
    P.ValidationException,
    400,
  );
  assert.match(noSocket.message, /WEBSOCKET/);

  // -- six participants at most (caller, agent, two customers, two more) ---------------------------
  await addCustomer("Fourth");
  await addCustomer("Fifth");
  const full = await rejects(() => addCustomer("Seventh"), C.ServiceQuotaExceededException, 402);
  assert.match(full.message, /participants/);

  // -- one customer leaves: its tokens open nothing ----------------------------------------------------
  await ask(new P.DisconnectParticipantCommand({ ConnectionToken: tokens.first }));
  await rejects(() => ask(new P.DisconnectParticipantCommand({ ConnectionToken: tokens.first })), P.AccessDeniedException, 403);
  await rejects(() => join(first.ParticipantCredentials.ParticipantToken), P.AccessDeniedException, 403);
  assert.equal((await describe(contactId)).DisconnectTimestamp, undefined, "the call goes on");

  // -- StopContact ends the call; what is refused afterwards ------------------------------------------
  const stopped = await send(new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: contactId }));
  assert.equal(stopped.$metadata.httpStatusCode, 200);
  const ended = await describe(contactId);
  const disconnected = recentDate(ended.DisconnectTimestamp, started, "DisconnectTimestamp");
  assert.ok(disconnected >= ended.InitiationTimestamp);
  assert.equal(ended.DisconnectReason, "API");
  assert.equal(ended.AgentInfo.Id, agent.ParticipantId);
  await rejects(() => ask(new P.DisconnectParticipantCommand({ ConnectionToken: tokens.second })), P.AccessDeniedException, 403);
  const notActive = await rejects(
    () => send(new C.StopContactCommand({ InstanceId: setup.instanceId, ContactId: contactId })),
    C.ContactNotFoundException,
    410,
  );
  assert.match(notActive.message, /not active/);
  await rejects(() => addCustomer("Late"), C.ConflictException, 409);

  // -- a second call ends when its last customer leaves ------------------------------------------------
  const other = await send(
    new C.StartWebRTCContactCommand({
      InstanceId: setup.instanceId,
      ContactFlowId: setup.flowId,
      ParticipantDetails: { DisplayName: "Lone caller" },
    }),
  );
  await admin(config.endpoint, `contacts/${other.ContactId}/agent`, { action: "join", displayName: "Agent" });
  const lone = await join(other.ParticipantToken);
  await ask(new P.DisconnectParticipantCommand({ ConnectionToken: lone.ConnectionCredentials.ConnectionToken }));
  const over = await describe(other.ContactId);
  recentDate(over.DisconnectTimestamp, started, "DisconnectTimestamp of the second call");
  assert.equal(over.DisconnectReason, "CUSTOMER_DISCONNECT");

  return { contactId, meetingId: meeting.MeetingId, attendees: attendees.size };
});
