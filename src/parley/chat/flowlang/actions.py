"""One function per action type Parley runs (flows.md §4), each `(run, action) -> Outcome`, plus the resumptions
of the actions that wait. Effects go to `run.effects`; the run's own copy of ContactData is updated as they go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from parley.chat.contacts import ATTRIBUTES_MAX_BYTES
from parley.chat.flowlang import effects as fx
from parley.chat.flowlang.catalog import EVENT_HOOKS, ROUTING_FLOW_TYPES, WAIT_MAX_SECONDS
from parley.chat.flowlang.document import Action, DocumentError, parse
from parley.chat.flowlang.event import external_from_response, lambda_event
from parley.chat.flowlang.outcome import Outcome, Run, failed, finish, jumped, park, proceed, result
from parley.chat.flowlang.paths import as_text, render, resolve, value_of
from parley.chat.flowlang.rules import number

Handler = Callable[[Run, Action], Outcome]
VOICE_ONLY = ("PromptId", "SSML", "Media")


def _text(run: Run, value: Any) -> str:
    return as_text(value_of(value, run.data))


def _positive(value: Any, default: float) -> float:
    """A static time limit; the default when absent or not a positive number (content kept under a lax mode)."""
    found = number(value)
    return found if found is not None and 0 < found <= WAIT_MAX_SECONDS else default


def _routing_only(run: Run, action: Action) -> Outcome | None:
    if run.state.flow_type in ROUTING_FLOW_TYPES:
        return None
    return failed(f"{action.type} runs only in inbound and transfer flows, not {run.state.flow_type}")


def message_participant(run: Run, action: Action) -> Outcome:
    voice = [name for name in VOICE_ONLY if name in action.parameters]
    if voice:
        return failed(f"{', '.join(voice)} is voice-only")
    text = render(as_text(action.parameters.get("Text")), run.data)
    if not text:
        return failed("the message is empty")
    run.effects.append(fx.SendMessage(text))
    return proceed(text[:200])


def get_participant_input(run: Run, action: Action) -> Outcome:
    if run.options.chat_text_input != "accept":
        return failed("chat input needs Amazon Lex; PARLEY_CHAT_TEXT_INPUT=accept reads the customer's next message")
    text = render(as_text(action.parameters.get("Text")), run.data)
    if text:
        run.effects.append(fx.SendMessage(text))
    seconds = _positive(action.parameters.get("InputTimeLimitSeconds"), run.options.input_default_timeout)
    _wait_for(run, "input", seconds, [])
    return park(f"waiting {seconds:g} s for the customer's message")


def input_received(run: Run, action: Action, resume: fx.Resume) -> Outcome | None:
    if not isinstance(resume, fx.CustomerInput):
        return None
    if resume.text is None:
        return failed("no message within the time limit", "InputTimeLimitExceeded")
    validation = action.parameters.get("InputValidation")
    custom = validation.get("CustomValidation") if isinstance(validation, dict) else None
    limit = number(custom.get("MaximumLength")) if isinstance(custom, dict) else None
    text = resume.text if limit is None else resume.text[: int(limit)]
    if action.parameters.get("StoreInput") == "True":
        run.state.stored_input = run.data.stored_input = text
        return proceed(f"stored {text[:100]!r}")
    return result(text)


def update_contact_attributes(run: Run, action: Action) -> Outcome:
    raw = action.parameters.get("Attributes")
    if not isinstance(raw, dict):
        return failed("Attributes is not an object")
    attributes = {render(str(k), run.data): render(as_text(v), run.data) for k, v in raw.items()}
    merged = {**run.data.attributes, **attributes}
    size = sum(len(k.encode()) + len(v.encode()) for k, v in merged.items())
    if size > ATTRIBUTES_MAX_BYTES:
        return failed(f"attributes would total {size} bytes; the limit is {ATTRIBUTES_MAX_BYTES}: none set")
    run.effects.append(fx.SetAttributes(attributes))
    run.data.attributes = merged
    return proceed("set " + ", ".join(sorted(attributes)))


def update_contact_target_queue(run: Run, action: Action) -> Outcome:
    refused = _routing_only(run, action)
    if refused is not None:
        return refused
    if "AgentId" in action.parameters:
        return failed("agent queues are not supported (AgentId)")
    ref = _text(run, action.parameters.get("QueueId"))
    queue = run.world.queue(ref) if ref else None
    if queue is None:
        return failed(f"no queue {ref!r}")
    run.effects.append(fx.SetTargetQueue(queue))
    run.data.queue = queue
    return proceed(f"target queue {queue.name}")


def transfer_contact_to_queue(run: Run, action: Action) -> Outcome:
    refused = _routing_only(run, action)
    if refused is not None:
        return refused
    queue = run.data.queue
    if queue is None:
        return failed("no target queue is set (UpdateContactTargetQueue)")
    if run.world.queued():
        return failed("the contact is already queued")
    if run.world.queue_at_capacity(queue.id):
        return failed(f"queue {queue.name} is at capacity", "QueueAtCapacity")
    run.effects.append(fx.Enqueue(queue))
    return finish("queued", f"queued in {queue.name}", end_contact=False)


def invoke_lambda_function(run: Run, action: Action) -> Outcome:
    params = action.parameters
    arn = render(as_text(params.get("LambdaFunctionARN")), run.data)
    seconds = _positive(params.get("InvocationTimeLimitSeconds"), run.options.lambda_default_timeout)
    asynchronous = params.get("InvocationType") == "ASYNCHRONOUS"
    attributes = params.get("LambdaInvocationAttributes")
    parameters = {
        render(str(k), run.data): render(as_text(v), run.data)
        for k, v in (attributes.items() if isinstance(attributes, dict) else ())
    }
    event = lambda_event(run.data, parameters)
    run.effects.append(fx.InvokeLambda(arn, event, float(seconds), asynchronous, _response_type(action)))
    if asynchronous:
        return proceed(f"invoked {arn} asynchronously")
    run.state.waiting = "lambda"
    return park(f"invoking {arn} ({seconds:g} s)")


def _response_type(action: Action) -> str:
    validation = action.parameters.get("ResponseValidation")
    found = validation.get("ResponseType") if isinstance(validation, dict) else None
    return found if found in ("STRING_MAP", "JSON") else "STRING_MAP"


def lambda_answered(run: Run, action: Action, resume: fx.Resume) -> Outcome | None:
    if not isinstance(resume, fx.LambdaAnswer):
        return None
    external = (
        external_from_response(resume.payload, _response_type(action), run.options.string_map) if resume.ok else None
    )
    if external is not None:
        run.state.external = external
        run.data.external = dict(external)
        return proceed("ok: $.External has " + (", ".join(sorted(external)) or "no keys"))
    if run.options.external_on_error == "clear":
        run.state.external = {}
        run.data.external = {}
    detail = resume.error or "the response is not a JSON object" + (
        " of strings" if _response_type(action) == "STRING_MAP" else ""
    )
    return failed(detail if not resume.ok else f"response not understood: {detail}")


def compare(run: Run, action: Action) -> Outcome:
    path = as_text(action.parameters.get("ComparisonValue"))
    value = as_text(resolve(path, run.data))
    return result(value, f"{path} = {value!r}")


def wait(run: Run, action: Action) -> Outcome:
    seconds = number(value_of(action.parameters.get("TimeoutSeconds"), run.data))
    if seconds is None or not 0 < seconds <= WAIT_MAX_SECONDS:
        return failed(f"TimeoutSeconds is not a number of seconds from 1 to {WAIT_MAX_SECONDS}")
    listed = action.parameters.get("Events")
    events = [e for e in listed if isinstance(e, str)] if isinstance(listed, list) else []
    if "BotParticipantDisconnected" in events and not run.world.bot_present():
        return failed("no custom bot is on the contact", "ParticipantNotFound")
    _wait_for(run, "wait", seconds, events)
    return park(f"waiting {seconds:g} s" + (" for " + ", ".join(events) if events else ""))


def _wait_for(run: Run, what: str, seconds: float, events: list[str]) -> None:
    run.state.waiting = what
    run.state.deadline = run.now + timedelta(seconds=seconds)
    run.state.events = events


def wait_ended(run: Run, action: Action, resume: fx.Resume) -> Outcome | None:
    if not isinstance(resume, fx.WaitEvent):
        return None
    if resume.name != "WaitCompleted" and resume.name not in run.state.events:
        return None
    return result(resume.name)


def update_contact_event_hooks(run: Run, action: Action) -> Outcome:
    hooks = action.parameters.get("EventHooks")
    if not isinstance(hooks, dict) or len(hooks) != 1:
        return failed("EventHooks must hold one entry")
    key, value = next(iter(hooks.items()))
    if key not in EVENT_HOOKS:
        return failed(f"unknown event hook {key!r}")
    ref = _text(run, value)
    flow = run.world.flow(ref) if ref else None
    if flow is None:
        return failed(f"no published flow {ref!r}")
    run.state.hooks[key] = flow.id
    run.effects.append(fx.SetEventHook(key, flow.id))
    return proceed(f"{key} = {flow.name}")


def transfer_to_flow(run: Run, action: Action) -> Outcome:
    refused = _routing_only(run, action)
    if refused is not None:
        return refused
    ref = _text(run, action.parameters.get("ContactFlowId"))
    flow = run.world.flow(ref) if ref else None
    if flow is None:
        return failed(f"no published flow {ref!r}")
    try:
        document = parse(flow.content)
    except DocumentError as exc:
        return failed(f"flow {flow.name} cannot run: {exc}")
    state = run.state
    state.flow_id, state.flow_name, state.flow_type, state.content = flow.id, flow.name, flow.type, flow.content
    state.action, state.loops = document.start, {}
    return jumped(f"to flow {flow.name}")


def end_flow_execution(run: Run, action: Action) -> Outcome:
    return finish("end")


def disconnect_participant(run: Run, action: Action) -> Outcome:
    return finish("disconnect", "the chat ends", end_contact=True)


def distribute_by_percentage(run: Run, action: Action) -> Outcome:
    drawn = run.world.percent()
    return result(str(drawn), f"drew {drawn}")


def check_hours_of_operation(run: Run, action: Action) -> Outcome:
    if "HoursOfOperationId" in action.parameters:
        ref = _text(run, action.parameters["HoursOfOperationId"])
        if not ref or not run.world.hours_exist(ref):
            return failed(f"no hours of operation {ref!r}")
    elif run.data.queue is None:
        return failed("no HoursOfOperationId and no target queue")
    return result("True" if run.options.hours == "open" else "False", f"PARLEY_HOURS={run.options.hours}")


def loop(run: Run, action: Action) -> Outcome:
    count = number(action.parameters.get("LoopCount"))
    if count is None:
        return failed("LoopCount is not a number")
    done = run.state.loops.get(action.identifier, 0)
    if done < count:
        run.state.loops[action.identifier] = done + 1
        return result("ContinueLooping", f"loop {done + 1} of {count:g}")
    run.state.loops.pop(action.identifier, None)
    return result("DoneLooping", f"done after {count:g}")


def update_flow_logging_behavior(run: Run, action: Action) -> Outcome:
    run.state.logging = action.parameters.get("FlowLoggingBehavior") == "Enabled"
    return proceed("logging " + ("enabled" if run.state.logging else "disabled"))


def accepted(run: Run, action: Action) -> Outcome:
    return proceed("accepted; no effect on a chat in Parley")


def update_contact_data(run: Run, action: Action) -> Outcome:
    values = {name: action.parameters.get(name) for name in ("Name", "Description", "LanguageCode")}
    name, description, language = (None if v is None else render(as_text(v), run.data) for v in values.values())
    run.effects.append(fx.UpdateContactData(name, description, language))
    run.data.name = run.data.name if name is None else name
    run.data.description = run.data.description if description is None else description
    run.data.language_code = run.data.language_code if language is None else language
    return proceed("updated " + ", ".join(k for k, v in values.items() if v is not None))


HANDLERS: dict[str, Handler] = {
    "MessageParticipant": message_participant,
    "GetParticipantInput": get_participant_input,
    "UpdateContactAttributes": update_contact_attributes,
    "UpdateContactTargetQueue": update_contact_target_queue,
    "TransferContactToQueue": transfer_contact_to_queue,
    "InvokeLambdaFunction": invoke_lambda_function,
    "Compare": compare,
    "Wait": wait,
    "UpdateContactEventHooks": update_contact_event_hooks,
    "TransferToFlow": transfer_to_flow,
    "EndFlowExecution": end_flow_execution,
    "DisconnectParticipant": disconnect_participant,
    "DistributeByPercentage": distribute_by_percentage,
    "CheckHoursOfOperation": check_hours_of_operation,
    "Loop": loop,
    "UpdateFlowLoggingBehavior": update_flow_logging_behavior,
    "UpdateContactRecordingBehavior": accepted,
    "UpdateContactTextToSpeechVoice": accepted,
    "UpdateContactRoutingBehavior": accepted,
    "UpdateContactData": update_contact_data,
}

Resumer = Callable[[Run, Action, fx.Resume], Outcome | None]
RESUMERS: dict[str, Resumer] = {"lambda": lambda_answered, "wait": wait_ended, "input": input_received}
