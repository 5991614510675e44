// The rest of the Participant Service through the JS SDK v3: an attachment uploaded to the URL Parley
// hands out, completed, seen in the transcript and downloaded; a view registered through the admin API
// and read with DescribeView; an authentication session signed in through its URL, another cancelled.
//
//   node attachments_views_auth.mjs '{"endpoint":"http://127.0.0.1:PORT"}'

import {
  admin,
  assert,
  clients,
  config,
  connect as C,
  isoInstant,
  near,
  newInstance,
  participant as P,
  rejects,
  run,
} from "./lib.mjs";

const PDF = Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(5000, 7)]);

run(async () => {
  const { connect, participant, key } = clients(config.endpoint);
  const ask = (command) => participant.send(command);
  const setup = await newInstance(connect);
  const chat = await connect.send(
    new C.StartChatContactCommand({
      InstanceId: setup.instanceId,
      ContactFlowId: setup.flowId,
      ParticipantDetails: { DisplayName: "Customer" },
    }),
  );
  const customer = (
    await ask(new P.CreateParticipantConnectionCommand({ ParticipantToken: chat.ParticipantToken, Type: ["CONNECTION_CREDENTIALS"] }))
  ).ConnectionCredentials.ConnectionToken;

  // -- an attachment: start, PUT the bytes, complete -------------------------------------------------
  const started = await ask(
    new P.StartAttachmentUploadCommand({
      ConnectionToken: customer,
      ContentType: "application/pdf",
      AttachmentSizeInBytes: PDF.length,
      AttachmentName: "invoice.pdf",
    }),
  );
  const startedAt = Date.now();
  const upload = started.UploadMetadata;
  assert.match(started.AttachmentId, /.+/);
  assert.ok(upload.Url.startsWith(`${config.endpoint}/_parley/blobs/`), upload.Url);
  near(isoInstant(upload.UrlExpiry, "UploadMetadata.UrlExpiry"), startedAt + 300_000, "upload URL expiry");
  assert.deepEqual(upload.HeadersToInclude, { "Content-Type": "application/pdf" });
  const put = await fetch(upload.Url, { method: "PUT", headers: upload.HeadersToInclude, body: PDF });
  assert.equal(put.status, 200, await put.text());
  const completed = await ask(
    new P.CompleteAttachmentUploadCommand({ ConnectionToken: customer, AttachmentIds: [started.AttachmentId] }),
  );
  assert.deepEqual(Object.keys(completed).filter((k) => k !== "$metadata"), []);
  const { Transcript: items } = await ask(new P.GetTranscriptCommand({ ConnectionToken: customer, SortOrder: "ASCENDING" }));
  const attachment = items.at(-1);
  assert.equal(attachment.Type, "ATTACHMENT");
  assert.equal(attachment.ParticipantRole, "CUSTOMER");
  assert.equal(attachment.ParticipantId, chat.ParticipantId);
  assert.equal(attachment.ContentType, undefined);
  assert.deepEqual(attachment.Attachments, [
    { AttachmentId: started.AttachmentId, AttachmentName: "invoice.pdf", ContentType: "application/pdf", Status: "APPROVED" },
  ]);
  isoInstant(attachment.AbsoluteTime, "ATTACHMENT AbsoluteTime");

  // -- downloads: by the customer, then by an agent ---------------------------------------------------
  // UrlContentDisposition (INLINE) is in botocore's model but not in client-connectparticipant 3.1019.0's:
  // the SDK drops it from the request, so every download here is served as an attachment.
  const mine = await ask(
    new P.GetAttachmentCommand({ ConnectionToken: customer, AttachmentId: started.AttachmentId, UrlExpiryInSeconds: 60 }),
  );
  near(isoInstant(mine.UrlExpiry, "GetAttachment UrlExpiry"), Date.now() + 60_000, "download URL expiry");
  assert.equal(mine.AttachmentSizeInBytes, PDF.length);
  const got = await fetch(mine.Url);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-type"), "application/pdf");
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(PDF), "the bytes that were uploaded");
  const agent = await admin(config.endpoint, `contacts/${chat.ContactId}/agent`, { action: "join", displayName: "Agent" });
  const agentToken = (
    await ask(
      new P.CreateParticipantConnectionCommand({
        ParticipantToken: agent.ParticipantToken,
        Type: ["CONNECTION_CREDENTIALS"],
        ConnectParticipant: true,
      }),
    )
  ).ConnectionCredentials.ConnectionToken;
  const asFile = await ask(new P.GetAttachmentCommand({ ConnectionToken: agentToken, AttachmentId: started.AttachmentId }));
  near(isoInstant(asFile.UrlExpiry, "UrlExpiry"), Date.now() + 300_000, "the default download URL expiry (300 s)");
  const file = await fetch(asFile.Url);
  assert.match(file.headers.get("content-disposition") ?? "", /^attachment/);
  assert.match(file.headers.get("content-disposition") ?? "", /invoice\.pdf/);
  assert.ok(Buffer.from(await file.arrayBuffer()).equals(PDF));

  // -- a view, registered as an admin, described as a participant ------------------------------------
  const content = { InputSchema: '{"type":"object"}', Template: '{"Head":{"Title":"Pay"}}', Actions: ["Submit", "Cancel"] };
  const registered = await admin(config.endpoint, "views", {
    Id: "payment-form",
    Name: "Payment form",
    Version: 3,
    Content: content,
    AccountId: key,
    InstanceId: setup.instanceId,
  });
  const { View: view } = await ask(new P.DescribeViewCommand({ ConnectionToken: customer, ViewToken: registered.ViewToken }));
  assert.deepEqual(view, {
    Id: "payment-form",
    Arn: `${setup.instanceArn}/view/payment-form:3`,
    Name: "Payment form",
    Version: 3,
    Content: content,
  });

  // -- authentication: one session signed in, one cancelled ------------------------------------------
  const session = async () =>
    (await admin(config.endpoint, `contacts/${chat.ContactId}/authentication`, { action: "initiate" })).SessionId;
  const signingIn = await session();
  assert.equal(signingIn.length, 36);
  const { AuthenticationUrl: url } = await ask(
    new P.GetAuthenticationUrlCommand({ ConnectionToken: customer, SessionId: signingIn, RedirectUri: "https://example.com/back" }),
  );
  assert.ok(url.startsWith(`${config.endpoint}/_parley/authenticate/`), url);
  const signIn = await fetch(url, { redirect: "manual" });
  assert.equal(signIn.status, 302);
  assert.equal(signIn.headers.get("location"), "https://example.com/back");
  const cancelling = await session();
  const cancelled = await ask(new P.CancelParticipantAuthenticationCommand({ ConnectionToken: customer, SessionId: cancelling }));
  assert.deepEqual(Object.keys(cancelled).filter((k) => k !== "$metadata"), []);
  const late = await rejects(
    () => ask(new P.GetAuthenticationUrlCommand({ ConnectionToken: customer, SessionId: cancelling, RedirectUri: "https://x" })),
    P.ValidationException,
    400,
  );
  assert.match(late.message, /cancelled/);

  return { attachmentId: started.AttachmentId, bytes: PDF.length };
});
