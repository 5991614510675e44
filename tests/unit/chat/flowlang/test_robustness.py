"""Any content gets problems, never an exception (a 500): every member of real documents is replaced by values
of every JSON kind, and each mutant is validated in every mode and, where it can run, run."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from parley.chat.flowlang import effects as fx
from parley.chat.flowlang.document import DocumentError
from parley.chat.flowlang.state import FlowOptions, FlowRef
from parley.chat.flowlang.validation import MODES, problems
from tests.flowdocs import console_export
from tests.unit.chat.flowlang.test_interpreter import queue_flow
from tests.unit.chat.flowlang.world import Driver, FakeWorld

WEIRD: list[Any] = [None, True, -1, 1e308, "nan", "", "$.", "$.Nope.x", [], [None], {}, {"a": [{}]}, "x" * 300]


def mutants(value: Any) -> Iterator[Any]:
    """`value` with one member (at any depth) replaced by each weird value."""
    if isinstance(value, dict):
        for key in value:
            for weird in WEIRD:
                changed = copy.copy(value)
                changed[key] = weird
                yield changed
            for inner in mutants(value[key]):
                changed = copy.copy(value)
                changed[key] = inner
                yield changed
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for inner in [*WEIRD, *mutants(item)]:
                listed = list(value)
                listed[index] = inner
                yield listed


def seeds() -> list[dict[str, Any]]:
    ask = json.loads(queue_flow().content)
    return [console_export(queue_arn="arn:aws:connect:us-east-1:123456789012:instance/i/queue/q-basic"), ask]


def test_no_mutant_raises() -> None:
    count = 0
    for seed in seeds():
        for mutant in mutants(seed):
            content = json.dumps(mutant)
            for mode in MODES:
                found = problems(content, mode)
                assert len(found) <= 50 and all(1 <= len(p) <= 256 for p in found), found
            _run(content)
            count += 1
    assert count > 1000


def _run(content: str) -> None:
    driver = Driver(
        FlowRef("f", "Mutant", "CONTACT_FLOW", "arn", content), world=FakeWorld(bot=True, draws=[50] * 2000)
    )
    driver.options = FlowOptions(chat_text_input="accept", max_steps=50)
    try:
        driver.run()
    except DocumentError:
        return
    for resume in (
        fx.LambdaAnswer(True, {"status": "success"}),
        fx.WaitEvent("BotParticipantDisconnected"),
        fx.CustomerInput("x"),
    ):
        driver.run(resume)


@pytest.mark.parametrize("content", ["[" * 100000 + "]" * 100000, '{"a":' * 50000 + "1" + "}" * 50000])
def test_deep_nesting_is_a_problem_not_a_crash(content: str) -> None:
    assert problems(content, "aws") in (["Content nests too deeply"], ["Content must be a JSON object"])
