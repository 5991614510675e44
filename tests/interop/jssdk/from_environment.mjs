// A JS SDK v3 script as a project's own test would be, run by `parley exec -- node from_environment.mjs`:
// it is given no endpoint, region or credentials. Everything comes from the environment parley exec sets
// (AWS_ENDPOINT_URL_CONNECT, AWS_ENDPOINT_URL_CONNECTPARTICIPANT, AWS_REGION, AWS_ACCESS_KEY_ID, …).
//
// stdout: one JSON line {"instanceId", "region", "transcript": [contents]}; exit status 0 when it all worked.

import {
  ConnectClient,
  CreateInstanceCommand,
  ListContactFlowsCommand,
  StartChatContactCommand,
} from "@aws-sdk/client-connect";
import {
  ConnectParticipantClient,
  CreateParticipantConnectionCommand,
  GetTranscriptCommand,
  SendMessageCommand,
} from "@aws-sdk/client-connectparticipant";

const connect = new ConnectClient({});
const participant = new ConnectParticipantClient({});

const { Id: InstanceId } = await connect.send(
  new CreateInstanceCommand({
    IdentityManagementType: "CONNECT_MANAGED",
    InstanceAlias: `exec-${Date.now()}`,
    InboundCallsEnabled: true,
    OutboundCallsEnabled: true,
  }),
);
const flows = await connect.send(new ListContactFlowsCommand({ InstanceId, ContactFlowTypes: ["CONTACT_FLOW"] }));
const chat = await connect.send(
  new StartChatContactCommand({
    InstanceId,
    // the instance's own inbound flow: it queues the chat in BasicQueue, silently
    ContactFlowId: flows.ContactFlowSummaryList.find((f) => f.Name === "Default inbound flow").Id,
    ParticipantDetails: { DisplayName: "Customer" },
  }),
);
const connection = await participant.send(
  new CreateParticipantConnectionCommand({ ParticipantToken: chat.ParticipantToken, Type: ["CONNECTION_CREDENTIALS"] }),
);
const ConnectionToken = connection.ConnectionCredentials.ConnectionToken;
await participant.send(new SendMessageCommand({ ConnectionToken, ContentType: "text/plain", Content: "from env" }));
const { Transcript } = await participant.send(new GetTranscriptCommand({ ConnectionToken }));
process.stdout.write(
  JSON.stringify({
    instanceId: InstanceId,
    region: await connect.config.region(),
    transcript: Transcript.filter((item) => item.Type === "MESSAGE").map((item) => item.Content),
  }) + "\n",
);
