"""What the flow language names: action types, operators, error types, event hooks, JSONPath roots.

Action types are AWS's lists under contact, flow-control, interaction and participant actions
(https://docs.aws.amazon.com/connect/latest/APIReference/flow-language-actions.html), whether or not Parley runs
them (flows.md §2 row 4)."""

from __future__ import annotations

VERSION = "2019-10-30"
MAX_ACTIONS = 250

CONTACT_ACTIONS = frozenset(
    {
        "CompleteOutboundCall",
        "CreateCase",
        "CreateTask",
        "CreateWisdomSession",
        "DequeueContactAndTransferToQueue",
        "EndFlowModuleExecution",
        "GetCase",
        "InvokeFlowModule",
        "ResumeContact",
        "StartOutboundChatContact",
        "TagContact",
        "TransferContactToAgent",
        "TransferContactToQueue",
        "UnTagContact",
        "UpdateCase",
        "UpdateContactAttributes",
        "UpdateContactCallbackNumber",
        "UpdateContactData",
        "UpdateContactEventHooks",
        "UpdateContactMediaProcessing",
        "UpdateContactMediaStreamingBehavior",
        "UpdateContactRecordingAndAnalyticsBehavior",
        "UpdateContactRecordingBehavior",
        "UpdateContactRoutingBehavior",
        "UpdateContactTargetQueue",
        "UpdateContactTextToSpeechVoice",
        "UpdatePreviousContactParticipantState",
    }
)
FLOW_CONTROL_ACTIONS = frozenset(
    {
        "CheckHoursOfOperation",
        "CheckMetricData",
        "CheckOutboundCallStatus",
        "CheckVoiceId",
        "Compare",
        "DistributeByPercentage",
        "EndFlowExecution",
        "GetMetricData",
        "Loop",
        "StartVoiceIdStream",
        "TransferToFlow",
        "UpdateFlowAttributes",
        "UpdateFlowLoggingBehavior",
        "UpdateRoutingCriteria",
        "Wait",
    }
)
INTERACTION_ACTIONS = frozenset(
    {
        "AssociateContactToCustomerProfile",
        "CreateCallbackContact",
        "CreateCustomerProfile",
        "GetCalculatedAttributesForCustomerProfile",
        "GetCustomerProfile",
        "GetCustomerProfileObject",
        "InvokeLambdaFunction",
        "UpdateCustomerProfile",
    }
)
PARTICIPANT_ACTIONS = frozenset(
    {
        "ConnectParticipantWithLexBot",
        "DisconnectParticipant",
        "GetParticipantInput",
        "MessageParticipant",
        "MessageParticipantIteratively",
        "ShowView",
    }
)
ACTION_TYPES = CONTACT_ACTIONS | FLOW_CONTROL_ACTIONS | INTERACTION_ACTIONS | PARTICIPANT_ACTIONS

TERMINAL = frozenset({"DisconnectParticipant", "EndFlowExecution"})

# flows.md §4: what Parley runs on a chat; every other type follows PARLEY_UNSUPPORTED_ACTION (§3.5).
NO_OPS = frozenset(
    {
        "UpdateFlowLoggingBehavior",
        "UpdateContactRecordingBehavior",
        "UpdateContactTextToSpeechVoice",
        "UpdateContactRoutingBehavior",
    }
)
RUN = NO_OPS | frozenset(
    {
        "MessageParticipant",
        "GetParticipantInput",
        "UpdateContactAttributes",
        "UpdateContactTargetQueue",
        "TransferContactToQueue",
        "InvokeLambdaFunction",
        "Compare",
        "Wait",
        "UpdateContactEventHooks",
        "TransferToFlow",
        "EndFlowExecution",
        "DisconnectParticipant",
        "DistributeByPercentage",
        "CheckHoursOfOperation",
        "Loop",
        "UpdateContactData",
    }
)

TEXT_OPERATORS = frozenset({"Equals", "TextStartsWith", "TextEndsWith", "TextContains"})
NUMBER_OPERATORS = frozenset({"NumberGreaterThan", "NumberGreaterOrEqualTo", "NumberLessThan", "NumberLessOrEqualTo"})
OPERATORS = TEXT_OPERATORS | NUMBER_OPERATORS
MAX_CONDITION_DEPTH = 5
MAX_SUB_CONDITIONS = 50

FORBIDDEN_IDENTIFIER_CHARS = frozenset("%:()\\/)=$,;[]{}")
RESERVED_IDENTIFIERS = frozenset(
    {
        "__proto__",
        "constructor",
        "__defineGetter__",
        "__defineSetter__",
        "toString",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "valueOf",
    }
)

EVENT_HOOKS = frozenset(
    {
        "AgentHold",
        "AgentWhisper",
        "CustomerHold",
        "CustomerQueue",
        "CustomerRemaining",
        "CustomerWhisper",
        "DefaultAgentUI",
        "DisconnectAgentUI",
        "PauseContact",
        "ResumeContact",
    }
)
WAIT_EVENTS = frozenset({"CustomerReturned", "BotParticipantDisconnected"})
WAIT_MAX_SECONDS = 604800

# Flow types where queueing and transfers are allowed (the action pages' "Restrictions"); checked at run time.
ROUTING_FLOW_TYPES = frozenset({"CONTACT_FLOW", "QUEUE_TRANSFER", "AGENT_TRANSFER"})
