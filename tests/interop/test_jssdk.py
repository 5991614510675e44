"""The AWS SDK for JavaScript v3 (`@aws-sdk/client-connect`, `@aws-sdk/client-connectparticipant`, pinned in
`jssdk/package-lock.json`) against a real `parley serve`.

Each test runs one Node scenario from `jssdk/` in one process: the scenario checks values with `node:assert`
and prints a one-line JSON report, which the test checks further. The JS SDK reads errors and timestamps more
strictly than botocore: where the two disagree with Parley, Parley is wrong.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.session import get_session

from parley.app import build_app
from parley.settings import Settings
from tests.conftest import RunningParley, start_parley
from tests.interop.node import node_or_skip as interop_node

JSSDK = Path(__file__).resolve().parent / "jssdk"
SCENARIO_SECONDS = 60

# Error classes an implemented operation declares that no request makes Parley answer, and why: errors.mjs
# produces each through a one-shot fault rule (POST /_parley/faults) instead. `*` stands for every operation
# that declares the class. test_every_declared_error_is_produced_or_explained keeps this honest: an injected
# case must be listed here, a naturally produced one must not.
ONLY_BY_INJECTION: dict[tuple[str, str], str] = {
    ("*", "InternalServiceException"): "Connect's fault: only a bug in Parley raises it",
    ("*", "InternalServerException"): "the Participant Service's fault: as InternalServiceException",
    ("*", "ThrottlingException"): "Parley sets no request rate limits",
    ("CreateInstance", "ResourceNotFoundException"): "Parley keeps no directories: any DirectoryId matching the "
    "model's pattern is accepted",
    ("CreateContactFlow", "LimitExceededException"): "Parley sets no quota on flows per instance",
    ("CreateQueue", "LimitExceededException"): "Parley sets no quota on queues per instance",
    ("AssociateLambdaFunction", "ServiceQuotaExceededException"): "Parley sets no quota on Lambda functions per "
    "instance",
    ("StopContact", "InvalidActiveRegionException"): "no replication across regions: every region is active",
    ("UpdateContactAttributes", "InvalidActiveRegionException"): "no replication across regions: every region is "
    "active",
    ("ListTagsForResource", "InvalidParameterException"): "its only member is the path ARN, which the model does "
    "not constrain: there is nothing to violate; an ARN that names nothing is ResourceNotFoundException",
    ("ListTagsForResource", "InvalidRequestException"): "as InvalidParameterException: nothing to violate",
    ("StartWebRTCContact", "LimitExceededException"): "Parley sets no quota on concurrent calls "
    "(PARLEY_QUOTA_ACTIVE_CHATS counts chats)",
    ("StartWebRTCContact", "AccessDeniedException"): "Parley has no IAM: --strict-auth refuses a bad signature "
    "with the common auth errors, but nothing denies a correctly signed Connect caller",
    ("CompleteAttachmentUpload", "ServiceQuotaExceededException"): "the attachments-per-chat quota is enforced "
    "when an upload starts; completing one never exceeds it",
}

# Declared error classes that neither a request nor a fault rule can produce, and why. Fault rules can answer
# any error an operation declares, so none is left.
NOT_REACHABLE: dict[tuple[str, str], str] = {}


def node_or_skip() -> str:
    return interop_node(
        JSSDK / "node_modules" / "@aws-sdk" / "client-connect",
        "JS SDK",
        "the JS SDK is not installed: run `npm ci --prefix tests/interop/jssdk` (make test does)",
    )


def scenario(name: str, **config: Any) -> dict[str, Any]:
    """Runs `jssdk/<name>.mjs CONFIG`; fails with the scenario's stderr unless it exits 0; answers its report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # only what the scenario passes
    env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"
    try:
        done = subprocess.run(
            [node_or_skip(), str(JSSDK / f"{name}.mjs"), json.dumps(config)],
            cwd=JSSDK,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCENARIO_SECONDS,
        )
    except subprocess.TimeoutExpired as expired:
        stderr = expired.stderr.decode() if isinstance(expired.stderr, bytes) else expired.stderr
        pytest.fail(f"{name}.mjs did not finish in {SCENARIO_SECONDS} s; stderr:\n{stderr}")
    if done.returncode != 0:
        pytest.fail(f"{name}.mjs failed ({done.returncode}):\n{done.stderr[-6000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.fixture(autouse=True)
def _node() -> None:
    node_or_skip()  # before any server starts


@pytest.fixture(scope="module")
def alternative() -> Iterator[RunningParley]:
    """One active chat per instance (LimitExceededException), one attachment per chat (StartAttachmentUpload's
    ServiceQuotaExceededException), and InvalidRequestException for every Connect validation error (some
    operations declare no other request error)."""
    running = start_parley(
        "--quota-active-chats", "1", "--attachments-per-chat", "1", "--validation-error", "InvalidRequestException"
    )
    yield running
    running.stop()


def implemented() -> dict[str, list[str]]:
    """The operations Parley serves, by service (every other one answers 501)."""
    app = build_app(Settings())
    try:
        handlers = app.aws._handlers
        return {service: sorted(table) for service, table in handlers.items()}
    finally:
        app.close()


def declared_errors() -> dict[tuple[str, str], int]:
    """(operation, error class) -> HTTP status, for every error each implemented operation declares."""
    session = get_session()
    out = {}
    for service, operations in implemented().items():
        model = session.get_service_model(service)
        for name in operations:
            for shape in model.operation_model(name).error_shapes:
                out[(name, shape.name)] = int(shape.metadata["error"]["httpStatusCode"])
    return out


def listed(table: dict[tuple[str, str], str], operation: str, error: str) -> str | None:
    return table.get((operation, error)) or table.get(("*", error))


def test_the_whole_chat_flow_through_the_js_sdk(parley: RunningParley) -> None:
    report = scenario("chat_flow", endpoint=parley.url)
    assert report["transcriptItems"] == 11
    assert report["transcriptPages"] == {"backward": 2, "forward": 3, "backwardAscending": 3}


def test_attachments_views_and_authentication_through_the_js_sdk(parley: RunningParley) -> None:
    report = scenario("attachments_views_auth", endpoint=parley.url)
    assert report["bytes"] > 5000


def test_a_webrtc_call_through_the_js_sdk(parley: RunningParley) -> None:
    report = scenario("call_flow", endpoint=parley.url)
    assert report["attendees"] == 3


def test_the_sdk_standard_retry_rides_through_an_injected_throttle(parley: RunningParley) -> None:
    report = scenario("retry", endpoint=parley.url)
    assert report == {"attempts": 2, "fired": 1, "requests": 2}


def test_every_declared_error_is_produced_or_explained(parley: RunningParley, alternative: RunningParley) -> None:
    report = scenario("errors", endpoint=parley.url, altEndpoint=alternative.url)
    keys = [(c["operation"], c["error"]) for c in report["cases"]]
    assert len(keys) == len(set(keys)), "an error is produced twice (injected cases only fill the gaps)"
    produced = {(c["operation"], c["error"]): c for c in report["cases"]}
    declared = declared_errors()

    undeclared = sorted(set(produced) - set(declared))
    assert not undeclared, f"cases for errors their operation does not declare: {undeclared}"
    for key, case in produced.items():
        assert case["status"] == declared[key], f"{key}: the model says {declared[key]}"
        assert case["message"], key
        assert listed(NOT_REACHABLE, *key) is None, f"{key} is produced, yet listed as unreachable"
        if case["injected"]:
            assert listed(ONLY_BY_INJECTION, *key), f"{key} is injected: say in ONLY_BY_INJECTION why no request can"
        else:
            assert listed(ONLY_BY_INJECTION, *key) is None, f"{key} is produced naturally, yet in ONLY_BY_INJECTION"
    missing = sorted(key for key in declared if key not in produced and listed(NOT_REACHABLE, *key) is None)
    assert not missing, f"declared errors neither produced through the JS SDK nor explained: {missing}"
    for table in (ONLY_BY_INJECTION, NOT_REACHABLE):
        stale = sorted(key for key in table if key[0] != "*" and key not in declared)
        assert not stale, f"{stale} name errors no implemented operation declares"
    assert "ListUsers is not implemented" in report["unimplemented"]
