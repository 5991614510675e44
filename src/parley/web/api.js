// Talking to Parley like any client: the admin API (/_parley/…) and the AWS rest-json wire (plain fetch
// with JSON, unsigned: Parley's default mode accepts it, and the Participant Service never signs).

export class ApiError extends Error {
  constructor(status, code, message, problems = []) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

async function decoded(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

// The admin API: resolves {status, data}; 404 is an answer (an endpoint this Parley does not have yet).
export async function admin(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/_parley/${path}`, init);
  if (response.status === 401) {
    location.href = "/_parley/ui/login";
  }
  return { status: response.status, data: await decoded(response) };
}

export async function adminOk(method, path, body) {
  const { status, data } = await admin(method, path, body);
  if (status >= 300) throw new ApiError(status, data?.error, data?.message);
  return data;
}

async function aws(method, path, body, headers = {}) {
  const init = { method, headers: { "content-type": "application/json", ...headers } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const data = await decoded(response);
  if (!response.ok) {
    const code = (response.headers.get("x-amzn-errortype") || data?.__type || "").split(":")[0];
    throw new ApiError(response.status, code, data?.message || data?.Message, data?.problems || []);
  }
  return data || {};
}

const seg = encodeURIComponent;

export function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// -- Amazon Connect -------------------------------------------------------------------------------------
export const connect = {
  listInstances: async () => {
    const found = [];
    let token = null;
    do {
      const page = await aws("GET", `/instance?maxResults=10${token ? `&nextToken=${seg(token)}` : ""}`);
      found.push(...(page.InstanceSummaryList || []));
      token = page.NextToken;
    } while (token && found.length < 500);
    return found;
  },
  createInstance: (alias) => aws("PUT", "/instance", {
    IdentityManagementType: "CONNECT_MANAGED", InstanceAlias: alias,
    InboundCallsEnabled: true, OutboundCallsEnabled: true,
  }),
  listFlows: (instanceId, types) => {
    const query = (types || []).map((t) => `contactFlowTypes=${seg(t)}`).concat("maxResults=1000").join("&");
    return aws("GET", `/contact-flows-summary/${seg(instanceId)}?${query}`);
  },
  describeFlow: (instanceId, flowId) => aws("GET", `/contact-flows/${seg(instanceId)}/${seg(flowId)}`),
  createFlow: (instanceId, name, type, content) =>
    aws("PUT", `/contact-flows/${seg(instanceId)}`, { Name: name, Type: type, Content: content }),
  updateFlowContent: (instanceId, flowId, content) =>
    aws("POST", `/contact-flows/${seg(instanceId)}/${seg(flowId)}/content`, { Content: content }),
  startChat: (instanceId, flowId, name) => aws("PUT", "/contact/chat", {
    InstanceId: instanceId, ContactFlowId: flowId, ParticipantDetails: { DisplayName: name }, ClientToken: uuid(),
  }),
};

// -- the Participant Service: each participant with its own tokens -------------------------------------
const bearer = (token) => ({ "x-amz-bearer": token });

export const participant = {
  connect: (participantToken) => aws("POST", "/participant/connection",
    { Type: ["WEBSOCKET", "CONNECTION_CREDENTIALS"], ConnectParticipant: true }, bearer(participantToken)),
  sendMessage: (token, content) => aws("POST", "/participant/message",
    { ContentType: "text/plain", Content: content, ClientToken: uuid() }, bearer(token)),
  sendEvent: (token, contentType, content) => aws("POST", "/participant/event",
    { ContentType: contentType, ...(content ? { Content: content } : {}), ClientToken: uuid() }, bearer(token)),
  transcript: (token) => aws("POST", "/participant/transcript",
    { MaxResults: 100, SortOrder: "ASCENDING", ScanDirection: "BACKWARD" }, bearer(token)),
  disconnect: (token) => aws("POST", "/participant/disconnect", { ClientToken: uuid() }, bearer(token)),
  startUpload: (token, file) => aws("POST", "/participant/start-attachment-upload", {
    ContentType: file.type || "application/octet-stream", AttachmentSizeInBytes: file.size,
    AttachmentName: file.name, ClientToken: uuid(),
  }, bearer(token)),
  completeUpload: (token, attachmentId) => aws("POST", "/participant/complete-attachment-upload",
    { AttachmentIds: [attachmentId], ClientToken: uuid() }, bearer(token)),
  attachment: (token, attachmentId) => aws("POST", "/participant/attachment",
    { AttachmentId: attachmentId, UrlContentDisposition: "INLINE" }, bearer(token)),
};
