"""flows.md §3-§4 through the interpreter with a fake World: every action with each of its branches."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from parley.chat.flowlang import effects as fx
from parley.chat.flowlang.interpreter import advance, start
from parley.chat.flowlang.state import FlowOptions, FlowRef, RunState
from tests.flowdocs import BYE, CHECK, CONSOLE_EXPORT, GREET, INVOKE, QUEUE, SORRY, WAIT
from tests.unit.chat.flowlang.world import BASIC, NOW, Driver, FakeWorld, act, contact, flow, on, say, when

END = act("end", "DisconnectParticipant")
STOP = act("stop", "EndFlowExecution")


# -- MessageParticipant --------------------------------------------------------------------------------------
def test_message_participant_sends_dynamic_text_and_goes_on() -> None:
    d = Driver(flow(say("hi", "Hello $.Attributes.customerName!", "end"), END))
    d.run()
    assert d.messages() == ["Hello Ann!"] and d.branches() == [("hi", "NextAction"), ("end", "disconnect")]
    assert d.state is not None and d.state.outcome == "disconnect" and d.effects(fx.EndContact)


@pytest.mark.parametrize("parameters", [{"PromptId": "p"}, {"SSML": "<speak/>"}, {"Text": "$.Attributes.none"}])
def test_message_participant_voice_only_or_empty_takes_error(parameters: dict[str, str]) -> None:
    d = Driver(
        flow(
            act("hi", "MessageParticipant", parameters, NextAction="stop", Errors=[on("NoMatchingError", "end")]),
            STOP,
            END,
        )
    )
    d.run()
    assert d.messages() == [] and d.branches()[0] == ("hi", "NoMatchingError")


# -- GetParticipantInput -------------------------------------------------------------------------------------
def ask(store: bool = False) -> FlowRef:
    params = {"Text": "Yes or no?", "InputTimeLimitSeconds": "30", "StoreInput": "True" if store else "False"}
    conditions = [] if store else [when("yes", "stop")]
    errors = [on("InputTimeLimitExceeded", "end"), on("NoMatchingCondition", "end"), on("NoMatchingError", "end")]
    after = say("echo", "You said $.StoredCustomerInput", "stop")
    return flow(
        act("ask", "GetParticipantInput", params, NextAction="echo", Conditions=conditions, Errors=errors),
        after,
        STOP,
        END,
    )


def test_get_participant_input_takes_error_on_chat_by_default() -> None:
    d = Driver(ask())
    d.run()
    assert d.branches()[0] == ("ask", "NoMatchingError") and d.messages() == []


def test_get_participant_input_accept_waits_for_the_next_message() -> None:
    d = Driver(ask(), options=FlowOptions(chat_text_input="accept"))
    d.run()
    assert d.messages() == ["Yes or no?"]
    assert d.state is not None and (d.state.status, d.state.waiting) == ("waiting", "input")
    assert d.state.deadline == NOW + timedelta(seconds=30) and d.branches() == [("ask", None)]
    d.run(fx.WaitEvent("WaitCompleted"))  # not what it waits for
    assert d.state.status == "waiting" and d.last is not None and d.last.trail == []
    d.run(fx.CustomerInput("yes"))
    assert d.branches() == [("ask", "Equals yes"), ("stop", "end")]


@pytest.mark.parametrize(("text", "branch"), [("maybe", "NoMatchingCondition"), (None, "InputTimeLimitExceeded")])
def test_get_participant_input_no_match_and_timeout(text: str | None, branch: str) -> None:
    d = Driver(ask(), options=FlowOptions(chat_text_input="accept"))
    d.run()
    d.run(fx.CustomerInput(text))
    assert d.branches()[0] == ("ask", branch)


def test_get_participant_input_stores_the_input() -> None:
    d = Driver(ask(store=True), options=FlowOptions(chat_text_input="accept"))
    d.run()
    d.run(fx.CustomerInput("12345"))
    assert d.messages() == ["You said 12345"] and d.state is not None and d.state.stored_input == "12345"


# -- UpdateContactAttributes ---------------------------------------------------------------------------------
def test_update_contact_attributes_sets_them_all_for_later_actions() -> None:
    attrs = {"greeting": "Hi $.Attributes.customerName", "tier": "gold"}
    d = Driver(
        flow(
            act("set", "UpdateContactAttributes", {"Attributes": attrs}, NextAction="hi"),
            say("hi", "$.Attributes.greeting ($.Attributes.tier)", "stop"),
            STOP,
        )
    )
    d.run()
    assert d.effects(fx.SetAttributes) == [fx.SetAttributes({"greeting": "Hi Ann", "tier": "gold"})]
    assert d.messages() == ["Hi Ann (gold)"]


def test_update_contact_attributes_over_32768_bytes_sets_none() -> None:
    big = {"a": "x" * 20000, "b": "y" * 20000}
    d = Driver(
        flow(
            act(
                "set",
                "UpdateContactAttributes",
                {"Attributes": big},
                NextAction="stop",
                Errors=[on("NoMatchingError", "end")],
            ),
            STOP,
            END,
        )
    )
    d.run()
    assert d.effects(fx.SetAttributes) == [] and d.branches()[0] == ("set", "NoMatchingError")


# -- UpdateContactTargetQueue and TransferContactToQueue -----------------------------------------------------
def queue_flow(queue: str = BASIC.arn, type_: str = "CONTACT_FLOW") -> FlowRef:
    errors = [on("QueueAtCapacity", "full"), on("NoMatchingError", "end")]
    return flow(
        act(
            "set",
            "UpdateContactTargetQueue",
            {"QueueId": queue},
            NextAction="go",
            Errors=[on("NoMatchingError", "end")],
        ),
        act("go", "TransferContactToQueue", NextAction="end", Errors=errors),
        say("full", "Busy", "end"),
        END,
        type_=type_,
    )


@pytest.mark.parametrize("queue", [BASIC.arn, BASIC.id, "$.Attributes.queue"])
def test_a_contact_is_queued_in_its_target_queue(queue: str) -> None:
    d = Driver(queue_flow(queue), data=contact(attributes={"queue": BASIC.id}))
    d.run()
    assert d.effects(fx.SetTargetQueue) == [fx.SetTargetQueue(BASIC)] and d.effects(fx.Enqueue) == [fx.Enqueue(BASIC)]
    assert d.state is not None and (d.state.status, d.state.outcome) == ("ended", "queued")
    assert d.effects(fx.EndContact) == [] and d.branches() == [("set", "NextAction"), ("go", "queued")]


def test_an_unknown_queue_an_agent_queue_or_a_queue_flow_take_error() -> None:
    for ref in (
        flow(
            act("set", "UpdateContactTargetQueue", {"AgentId": "agent-1"}, Errors=[on("NoMatchingError", "end")]), END
        ),
        queue_flow("nope"),
        queue_flow(type_="CUSTOMER_QUEUE"),
    ):
        d = Driver(ref)
        d.run()
        assert d.branches()[0] == ("set", "NoMatchingError") and d.effects(fx.SetTargetQueue) == []


def test_transfer_to_queue_at_capacity_without_a_queue_or_already_queued() -> None:
    d = Driver(queue_flow(), world=FakeWorld(full={BASIC.id}))
    d.run()
    assert d.branches()[1] == ("go", "QueueAtCapacity") and d.messages() == ["Busy"]
    d = Driver(
        flow(
            act("go", "TransferContactToQueue", Errors=[on("QueueAtCapacity", "end"), on("NoMatchingError", "stop")]),
            STOP,
            END,
        )
    )
    d.run()
    assert d.branches()[0] == ("go", "NoMatchingError")
    d = Driver(queue_flow(), world=FakeWorld(in_queue=True))
    d.run()
    assert d.branches()[1] == ("go", "NoMatchingError")


# -- InvokeLambdaFunction ------------------------------------------------------------------------------------
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:startBot"


def test_the_console_export_runs_the_custom_bot_pattern() -> None:
    d = Driver(FlowRef("f-1", "Custom bot chat", "CONTACT_FLOW", "arn", CONSOLE_EXPORT), world=FakeWorld(bot=True))
    d.run()
    assert d.messages() == ["Hello Ann, connecting you to our assistant."]
    (invoke,) = d.effects(fx.InvokeLambda)
    assert (invoke.function_arn, invoke.timeout_seconds, invoke.asynchronous, invoke.response_type) == (
        FUNCTION,
        8.0,
        False,
        "STRING_MAP",
    )
    assert invoke.event["Name"] == "ContactFlowEvent" and invoke.event["Details"]["ContactData"]["ContactId"] == "c-1"
    assert d.state is not None and (d.state.waiting, d.state.action) == ("lambda", INVOKE)
    d.run(fx.LambdaAnswer(True, {"status": "success"}))
    assert d.branches() == [(INVOKE, "NextAction"), (CHECK, "Equals success"), (WAIT, None)]
    assert d.state.external == {"status": "success"} and d.state.waiting == "wait"
    assert d.state.deadline == NOW + timedelta(seconds=900) and d.state.events == ["BotParticipantDisconnected"]
    d.data.queue = BASIC
    d.run(fx.WaitEvent("BotParticipantDisconnected"), now=NOW + timedelta(minutes=3))
    assert d.branches() == [(WAIT, "Equals BotParticipantDisconnected"), (QUEUE, "queued")]
    assert d.effects(fx.Enqueue) == [fx.Enqueue(BASIC)]
    assert d.last is not None and [step.branch for step in d.last.trail if step.action == GREET] == []


def bot_flow() -> Driver:
    return Driver(FlowRef("f-1", "Custom bot chat", "CONTACT_FLOW", "arn", CONSOLE_EXPORT), world=FakeWorld(bot=True))


def test_the_wait_times_out_to_wait_completed() -> None:
    d = bot_flow()
    d.run()
    d.run(fx.LambdaAnswer(True, {"status": "success"}))
    d.run(fx.WaitEvent("CustomerReturned"))  # not listed: ignored
    assert d.state is not None and d.state.status == "waiting"
    d.run(fx.WaitEvent("WaitCompleted"))
    assert d.branches() == [(WAIT, "Equals WaitCompleted"), (BYE, "disconnect")]


def test_a_wait_for_a_bot_without_a_bot_is_participant_not_found() -> None:
    d = bot_flow()
    d.world.bot = False
    d.run()
    d.run(fx.LambdaAnswer(True, {"status": "success"}))
    assert (WAIT, "ParticipantNotFound") in d.branches() and d.messages() == ["Sorry, something went wrong."]


@pytest.mark.parametrize(("keep", "external"), [("clear", {}), ("keep", {"old": "1"})])
def test_a_failed_invocation_takes_error(keep: str, external: dict[str, str]) -> None:
    d = bot_flow()
    d.options = FlowOptions(external_on_error=keep)
    d.data.external = {"old": "1"}
    d.run()
    d.run(fx.LambdaAnswer(False, None, "timeout after 8 s"))
    assert d.branches()[0] == (INVOKE, "NoMatchingError") and d.last is not None
    assert d.last.trail[0].detail == "timeout after 8 s" and d.state is not None and d.state.external == external


def test_a_response_that_is_not_a_string_map_takes_error() -> None:
    d = bot_flow()
    d.run()
    d.run(fx.LambdaAnswer(True, {"status": {"nested": True}}))
    assert d.branches()[0] == (INVOKE, "NoMatchingError") and d.last is not None
    assert d.last.trail[0].detail.startswith("response not understood")


def test_an_asynchronous_invocation_goes_on_with_dynamic_parameters() -> None:
    params = {
        "LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:$.Attributes.fn",
        "InvocationType": "ASYNCHRONOUS",
        "LambdaInvocationAttributes": {"who": "$.Attributes.customerName", "fixed": "1"},
        "ResponseValidation": {"ResponseType": "JSON"},
    }
    d = Driver(
        flow(act("call", "InvokeLambdaFunction", params, NextAction="stop"), STOP),
        data=contact(attributes={"fn": "notify", "customerName": "Ann"}),
    )
    d.run()
    (invoke,) = d.effects(fx.InvokeLambda)
    assert invoke.function_arn.endswith(":function:notify") and invoke.asynchronous and invoke.response_type == "JSON"
    assert invoke.timeout_seconds == 3.0 and invoke.event["Details"]["Parameters"] == {"who": "Ann", "fixed": "1"}
    assert d.branches() == [("call", "NextAction"), ("stop", "end")]


# -- Compare and the operators -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operator", "operand", "value", "taken"),
    [
        ("Equals", "gold", "gold", True),
        ("Equals", "gold", "Gold", False),
        ("TextStartsWith", "go", "gold", True),
        ("TextEndsWith", "ld", "gold", True),
        ("TextContains", "ol", "gold", True),
        ("TextContains", "x", "gold", False),
        ("NumberGreaterThan", "5", "6", True),
        ("NumberGreaterThan", "5", "5", False),
        ("NumberGreaterOrEqualTo", "5", "5", True),
        ("NumberLessThan", "5", "4.5", True),
        ("NumberLessOrEqualTo", "5", "6", False),
        ("NumberLessThan", "5", "gold", False),
        ("NumberLessThan", "five", "4", False),
    ],
)
def test_compare_operators(operator: str, operand: str, value: str, taken: bool) -> None:
    compare = act(
        "c",
        "Compare",
        {"ComparisonValue": "$.Attributes.v"},
        NextAction="stop",
        Conditions=[when(operand, "end", operator)],
        Errors=[on("NoMatchingCondition", "none")],
    )
    d = Driver(flow(compare, STOP, END, say("none", "none", "stop")), data=contact(attributes={"v": value}))
    d.run()
    assert d.branches()[0] == ("c", f"{operator} {operand}" if taken else "NoMatchingCondition")


def test_compare_without_a_no_matching_condition_route_takes_next_action_and_the_first_true_condition_wins() -> None:
    compare = act(
        "c",
        "Compare",
        {"ComparisonValue": "$.Attributes.v"},
        NextAction="stop",
        Conditions=[when("x", "end"), when("1", "end", "NumberGreaterThan"), when("9", "stop")],
    )
    d = Driver(flow(compare, STOP, END), data=contact(attributes={"v": "9"}))
    d.run()
    assert d.branches()[0] == ("c", "NumberGreaterThan 1")
    d = Driver(flow(compare, STOP, END), data=contact(attributes={"v": "0"}))
    d.run()
    assert d.branches()[0] == ("c", "NextAction")


# -- Wait ----------------------------------------------------------------------------------------------------
def test_a_wait_with_a_dynamic_timeout_for_the_customer() -> None:
    wait = act(
        "w",
        "Wait",
        {"TimeoutSeconds": "$.Attributes.t", "Events": ["CustomerReturned"]},
        Conditions=[when("WaitCompleted", "end"), when("CustomerReturned", "stop")],
        Errors=[on("NoMatchingError", "end")],
    )
    d = Driver(flow(wait, STOP, END), data=contact(attributes={"t": "120"}))
    d.run()
    assert d.state is not None and d.state.deadline == NOW + timedelta(seconds=120)
    d.run(fx.WaitEvent("CustomerReturned"))
    assert d.branches()[0] == ("w", "Equals CustomerReturned")
    d = Driver(flow(wait, STOP, END), data=contact(attributes={"t": "soon"}))
    d.run()
    assert d.branches()[0] == ("w", "NoMatchingError")


# -- event hooks and TransferToFlow --------------------------------------------------------------------------
def test_update_contact_event_hooks_and_transfer_to_flow() -> None:
    other = flow(say("there", "In the other flow", "stop"), STOP, name="Other", id_="f-2")
    hook = act(
        "hook",
        "UpdateContactEventHooks",
        {"EventHooks": {"CustomerRemaining": other.arn}},
        NextAction="jump",
        Errors=[on("NoMatchingError", "end")],
    )
    jump = act("jump", "TransferToFlow", {"ContactFlowId": "f-2"}, Errors=[on("NoMatchingError", "end")])
    d = Driver(flow(hook, jump, END), world=FakeWorld(flows={other.arn: other, other.id: other}))
    d.run()
    assert d.effects(fx.SetEventHook) == [fx.SetEventHook("CustomerRemaining", "f-2")]
    assert (
        d.messages() == ["In the other flow"] and d.state is not None and d.state.hooks == {"CustomerRemaining": "f-2"}
    )
    assert d.last is not None
    assert [(s.flow, s.action, s.branch) for s in d.last.trail] == [
        ("Test flow", "hook", "NextAction"),
        ("Test flow", "jump", "TransferToFlow"),
        ("Other", "there", "NextAction"),
        ("Other", "stop", "end"),
    ]
    assert d.state.flow_id == "f-2" and d.effects(fx.EndContact)


def test_unknown_flows_take_error() -> None:
    hook = act(
        "hook",
        "UpdateContactEventHooks",
        {"EventHooks": {"CustomerQueue": "nope"}},
        NextAction="jump",
        Errors=[on("NoMatchingError", "jump")],
    )
    jump = act("jump", "TransferToFlow", {"ContactFlowId": "nope"}, Errors=[on("NoMatchingError", "end")])
    d = Driver(flow(hook, jump, END))
    d.run()
    assert d.branches()[:2] == [("hook", "NoMatchingError"), ("jump", "NoMatchingError")]


# -- ending --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("type_", "queued", "ends_contact"),
    [
        ("CONTACT_FLOW", False, True),
        ("CONTACT_FLOW", True, False),
        ("CUSTOMER_QUEUE", False, False),
        ("AGENT_WHISPER", False, False),
    ],
)
def test_end_flow_execution_ends_an_inbound_contact_not_yet_queued(
    type_: str, queued: bool, ends_contact: bool
) -> None:
    d = Driver(flow(STOP, type_=type_), world=FakeWorld(in_queue=queued))
    d.run()
    assert d.state is not None and (d.state.status, d.state.outcome) == ("ended", "end")
    assert bool(d.effects(fx.EndContact)) is ends_contact


def test_disconnect_participant_always_ends_the_chat_and_a_branch_without_next_action_ends_the_flow() -> None:
    d = Driver(flow(END, type_="CUSTOMER_QUEUE"))
    d.run()
    assert d.effects(fx.EndContact) and d.state is not None and d.state.outcome == "disconnect"
    d = Driver(flow(say("hi", "bye")))
    d.run()
    assert d.branches() == [("hi", "NextAction")] and d.state is not None and d.state.outcome == "end"
    assert d.effects(fx.EndContact)


def test_an_error_without_a_route_ends_the_flow() -> None:
    d = Driver(flow(act("set", "UpdateContactTargetQueue", {"QueueId": "nope"}, NextAction="end"), END))
    d.run()
    assert d.branches() == [("set", "NoMatchingError")] and d.state is not None and d.state.outcome == "error"


# -- DistributeByPercentage, CheckHoursOfOperation, Loop -----------------------------------------------------
@pytest.mark.parametrize(
    ("drawn", "branch"), [(10, "NumberLessThan 20"), (42, "NumberLessThan 50"), (80, "NoMatchingCondition")]
)
def test_distribute_by_percentage(drawn: int, branch: str) -> None:
    split = act(
        "split",
        "DistributeByPercentage",
        Conditions=[when("20", "stop", "NumberLessThan"), when("50", "stop", "NumberLessThan")],
        Errors=[on("NoMatchingCondition", "stop")],
    )
    d = Driver(flow(split, STOP), world=FakeWorld(draws=[drawn]))
    d.run()
    assert d.branches()[0] == ("split", branch)


@pytest.mark.parametrize(
    ("parameters", "hours", "queued", "branch"),
    [
        ({"HoursOfOperationId": "hours-basic"}, "open", False, "Equals True"),
        ({"HoursOfOperationId": "hours-basic"}, "closed", False, "Equals False"),
        ({}, "open", True, "Equals True"),
        ({}, "open", False, "NoMatchingError"),
        ({"HoursOfOperationId": "nope"}, "open", False, "NoMatchingError"),
    ],
)
def test_check_hours_of_operation(parameters: dict[str, str], hours: str, queued: bool, branch: str) -> None:
    check = act(
        "h",
        "CheckHoursOfOperation",
        parameters,
        Conditions=[when("True", "stop"), when("False", "stop")],
        Errors=[on("NoMatchingError", "stop")],
    )
    d = Driver(flow(check, STOP), options=FlowOptions(hours=hours), data=contact(queue=BASIC if queued else None))
    d.run()
    assert d.branches()[0] == ("h", branch)


def test_loop_counts_then_resets() -> None:
    loop = act(
        "loop", "Loop", {"LoopCount": "2"}, Conditions=[when("ContinueLooping", "hi"), when("DoneLooping", "again")]
    )
    again = act(
        "again", "Compare", {"ComparisonValue": "$.Attributes.round"}, NextAction="stop", Conditions=[when("1", "mark")]
    )
    mark = act("mark", "UpdateContactAttributes", {"Attributes": {"round": "2"}}, NextAction="loop")
    d = Driver(
        flow(
            act("first", "UpdateContactAttributes", {"Attributes": {"round": "1"}}, NextAction="loop"),
            loop,
            say("hi", "hi", "loop"),
            again,
            mark,
            STOP,
        )
    )
    d.run()
    loops = [b for a, b in d.branches() if a == "loop"]
    assert loops == ["Equals ContinueLooping", "Equals ContinueLooping", "Equals DoneLooping"] * 2
    assert d.messages() == ["hi"] * 4 and d.state is not None and d.state.loops == {}


# -- no-ops, UpdateContactData -------------------------------------------------------------------------------
def test_the_accepted_no_ops_and_the_logging_flag() -> None:
    d = Driver(
        flow(
            act("log", "UpdateFlowLoggingBehavior", {"FlowLoggingBehavior": "Enabled"}, NextAction="rec"),
            act(
                "rec",
                "UpdateContactRecordingBehavior",
                {"RecordingBehavior": {"RecordedParticipants": ["Agent"]}},
                NextAction="tts",
            ),
            act("tts", "UpdateContactTextToSpeechVoice", {"TextToSpeechVoice": "Joanna"}, NextAction="prio"),
            act("prio", "UpdateContactRoutingBehavior", {"QueuePriority": "1"}, NextAction="stop"),
            STOP,
        )
    )
    d.run()
    assert [b for _, b in d.branches()] == ["NextAction"] * 4 + ["end"]
    assert (
        d.state is not None and d.state.logging and d.last is not None and d.last.trail[0].detail == "logging enabled"
    )


def test_update_contact_data() -> None:
    update = act(
        "data",
        "UpdateContactData",
        {"Name": "Order for $.Attributes.customerName", "LanguageCode": "fr-FR"},
        NextAction="hi",
    )
    d = Driver(flow(update, say("hi", "$.Name / $.LanguageCode", "stop"), STOP))
    d.run()
    assert d.effects(fx.UpdateContactData) == [fx.UpdateContactData("Order for Ann", None, "fr-FR")]
    assert d.messages() == ["Order for Ann / fr-FR"]


# -- the unsupported-action rule and the step limit ----------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "errors", "branches", "outcome"),
    [
        ("error", [on("NoMatchingError", "stop")], [("lex", "NoMatchingError"), ("stop", "end")], "end"),
        ("error", [], [("lex", "NoMatchingError")], "error"),
        ("skip", [on("NoMatchingError", "end")], [("lex", "NextAction"), ("stop", "end")], "end"),
        ("end", [on("NoMatchingError", "stop")], [("lex", "unsupported")], "unsupported"),
    ],
)
def test_unsupported_actions(
    setting: str, errors: list[dict[str, str]], branches: list[tuple[str, str]], outcome: str
) -> None:
    lex = act("lex", "ConnectParticipantWithLexBot", {"LexV2Bot": {"AliasArn": "a"}}, NextAction="stop", Errors=errors)
    d = Driver(flow(lex, STOP, END), options=FlowOptions(unsupported=setting))
    d.run()
    assert d.branches() == branches and d.state is not None and d.state.outcome == outcome
    assert d.last is not None and "unsupported action type ConnectParticipantWithLexBot" in d.last.trail[0].detail
    assert d.last.trail[0].unsupported and not any(step.unsupported for step in d.last.trail[1:])


def test_a_loop_without_a_wait_is_stopped_by_the_step_limit() -> None:
    d = Driver(flow(say("a", "ping", "b"), say("b", "pong", "a")), options=FlowOptions(max_steps=10))
    d.run()
    assert d.last is not None and len(d.last.trail) == 10 and len(d.messages()) == 10
    assert (
        d.state is not None and (d.state.status, d.state.outcome) == ("ended", "max-steps") and d.effects(fx.EndContact)
    )


def test_steps_count_from_the_last_wait() -> None:
    wait = act("w", "Wait", {"TimeoutSeconds": "5"}, Conditions=[when("WaitCompleted", "a")])
    d = Driver(flow(say("a", "1", "b"), say("b", "2", "w"), wait), options=FlowOptions(max_steps=3))
    for _ in range(3):
        d.run() if d.state is None else d.run(fx.WaitEvent("WaitCompleted"))
        assert d.state is not None and d.state.status == "waiting" and d.state.steps == 0


# -- state ---------------------------------------------------------------------------------------------------
def test_run_state_round_trips_through_json_and_the_callers_state_is_untouched() -> None:
    d = bot_flow()
    d.run()
    d.run(fx.LambdaAnswer(True, {"status": "success"}))
    assert d.state is not None
    doc = json.loads(json.dumps(d.state.to_json()))
    assert RunState.from_json(doc) == d.state
    before = replace(d.state, events=list(d.state.events), external=dict(d.state.external))
    advance(d.state, d.data, d.world, d.options, NOW, fx.WaitEvent("WaitCompleted"))
    assert d.state == before


def test_an_ended_run_does_not_move_and_start_refuses_bad_content() -> None:
    d = Driver(flow(STOP))
    d.run()
    assert d.run().trail == [] and d.last is not None and d.last.effects == []
    from parley.chat.flowlang.document import DocumentError

    with pytest.raises(DocumentError):
        start(FlowRef("f", "x", "CONTACT_FLOW", "arn", "{}"), contact())


def test_greeting_trail_entries_name_the_flow_and_details() -> None:
    d = bot_flow()
    d.run()
    assert d.last is not None and d.last.trail[0].flow == "Custom bot chat"
    assert d.last.trail[0].detail == "Hello Ann, connecting you to our assistant."
    assert SORRY and GREET
