"""Every code block of README.md runs, as written, against a fresh Parley: what a newcomer copies must work.

The blocks are read from README.md itself when the tests are collected, so a block added to any section is
tested without touching this file. Each runs in its language, in a temporary directory, against its own
freshly started server (`parley serve`'s stack, in-process, default settings):

- `python`: `python block.py` (Parley's Python, with boto3);
- `sh`, `bash`, `shell`: `bash -e -o pipefail block.sh`, so a failing command fails the block; background
  jobs are stopped with the block;
- `js`, `javascript`, `mjs`: `node block.mjs` (an ES module), beside a `node_modules` holding the pinned
  packages of tests/interop/jssdk and tests/interop/chatjs;
- a fence without a language, or a data format (`text`, `json`, `yaml`, `toml`, `ini`, `xml`, `html`, `http`,
  `diff`, `console`): sample output or data, not run. Any other language fails the test until it gets a
  runner here or its block a `skip` marker.

The one thing changed is where the server is: `127.0.0.1:4599` and `localhost:4599` in a block become the
fresh server's address, and the environment has `PARLEY_ENDPOINT_URL` (for `parley …` subcommands) and
`PARLEY_PORT=0` (so a block starting its own server does not take 4599). The environment is otherwise the
caller's without any `AWS_*` or `PARLEY_*` variable, and with Parley's virtualenv first on PATH (`parley`,
`aws`, `python3`).

An HTML comment on the line before a block changes how it runs (`;` separates several):

    <!-- readme-test: skip: REASON -->   not run; the reason is required and shown in the skip
    <!-- readme-test: pytest -->         a Python block of pytest tests: run with `python -m pytest`
    <!-- readme-test: servers -->        a shell block whose every line starts a server: each must print
                                         `parley: listening on` (then it is stopped)
    <!-- readme-test: chat -->           the block talks about an existing chat: IID, FLOW, CID (its
                                         ContactId) and PID (the customer's ParticipantId) are set
    <!-- readme-test: serve FLAGS -->    the fresh server is a `parley serve --port 0 FLAGS` process, started
                                         in the block's directory
    <!-- readme-test: file NAME -->      the README asks to save this block as NAME: it is written into every
                                         block's directory (before its server starts) and not run itself
                                         (a Python one must compile)
    <!-- readme-test: background -->     the block's first line starts the server the rest uses (as two shells
                                         would): it runs in the background, on a free port that replaces
                                         4599 in the block (and is PARLEY_PORT), until the rest has run
    <!-- readme-test: twice -->          run it a second time against the same server: a user reruns examples

Beside running them, a few checks hold the README to what the server does (the reset answer's fields, the
fault example's comments, both endpoint variables wherever one is set).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parley.testing import ParleyServer
from tests.conftest import client, make_instance, start_chat

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NODE_SUITES = (ROOT / "tests" / "interop" / "jssdk", ROOT / "tests" / "interop" / "chatjs")
BLOCK_SECONDS = 60
RUNNABLE = {"python": "python", "sh": "sh", "bash": "sh", "shell": "sh", "js": "js", "javascript": "js", "mjs": "js"}
NOT_CODE = frozenset(
    {"", "text", "json", "jsonc", "yaml", "yml", "toml", "ini", "xml", "html", "http", "diff", "console", "output"}
)
DIRECTIVES = frozenset({"skip", "pytest", "servers", "chat", "serve", "twice", "file", "background"})
# directives are separated by `;` before a directive's name (a flag's value may hold `;`, as --sns's does)
DIRECTIVE_SPLIT = re.compile(r";\s*(?=(?:" + "|".join(sorted(DIRECTIVES)) + r")\b)")
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->$")
LOCAL = re.compile(r"\b(?:127\.0\.0\.1|localhost):4599\b")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def runner(self) -> str | None:
        return RUNNABLE.get(self.language)

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.language or 'text'}"


def _directives(text: str, line: int) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in DIRECTIVE_SPLIT.split(text))):
        name, _, argument = part.partition(" ")
        name = name.rstrip(":")
        if name not in DIRECTIVES:
            raise ValueError(f"README.md:{line}: unknown readme-test directive {name!r}")
        found[name] = argument.strip().lstrip(":").strip() if name == "skip" else argument.strip()
    if "skip" in found and not found["skip"]:
        raise ValueError(f"README.md:{line}: `readme-test: skip` needs a reason")
    return found


def blocks(text: str) -> list[Block]:
    """Every fenced block, with the directives of a marker on the line before it (blank lines allowed)."""
    lines = text.splitlines()
    found: list[Block] = []
    pending: tuple[int, dict[str, str]] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        marker, fence = MARKER.match(line.strip()), FENCE.match(line)
        if marker:
            pending = (index + 1, _directives(marker.group(1), index + 1))
        elif fence:
            end = next((i for i in range(index + 1, len(lines)) if lines[i].rstrip() == "```"), None)
            if end is None:
                raise ValueError(f"README.md:{index + 1}: a code block is never closed")
            code = "\n".join(lines[index + 1 : end]) + "\n"
            found.append(Block(index + 1, fence.group(1).lower(), code, pending[1] if pending else {}))
            pending, index = None, end
        elif line.strip() and pending:
            raise ValueError(f"README.md:{pending[0]}: a readme-test marker must come right before a code block")
        index += 1
    return found


BLOCKS = blocks(README.read_text())
TESTED = [block for block in BLOCKS if block.language not in NOT_CODE]


def test_every_block_has_a_known_language_and_skips_say_why() -> None:
    unknown = [f"README.md:{b.line} ```{b.language}" for b in TESTED if b.runner is None]
    assert unknown == [], "add a runner to tests/contract/test_readme.py, or mark the block as not code"
    assert len([b for b in TESTED if "skip" not in b.directives]) >= 10  # the extraction keeps working


# -- running one block ---------------------------------------------------------------------------
def environment(url: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PARLEY_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["AWS_CONFIG_FILE"] = str(work / "no-aws-config")  # a newcomer's machine: no profile of their own
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(work / "no-aws-credentials")
    env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"
    env["PARLEY_ENDPOINT_URL"] = url
    env["PARLEY_PORT"] = "0"
    return env


def node_modules(base: Path) -> Path:
    """One node_modules of symlinks to both interop suites' packages (the JS SDK's first)."""
    union = base / "node_modules"
    for suite in NODE_SUITES:
        installed = suite / "node_modules"
        if not installed.is_dir():
            continue
        for entry in installed.iterdir():
            if entry.name.startswith("."):
                continue
            if entry.name.startswith("@"):  # a scope: merge its packages
                (union / entry.name).mkdir(parents=True, exist_ok=True)
                for package in entry.iterdir():
                    if not (union / entry.name / package.name).exists():
                        (union / entry.name / package.name).symlink_to(package)
            elif not (union / entry.name).exists():
                union.mkdir(exist_ok=True)
                (union / entry.name).symlink_to(entry)
    return union


def node_or_skip() -> str:
    from tests.interop.node import node_or_skip as find

    for suite, package in ((NODE_SUITES[0], "@aws-sdk/client-connect"), (NODE_SUITES[1], "amazon-connect-chatjs")):
        node = find(suite / "node_modules" / package, "README", f"run `npm ci --prefix {suite.relative_to(ROOT)}`")
    return node


def command(block: Block, work: Path) -> list[str]:
    if block.runner == "python":
        if "pytest" in block.directives:
            (work / "test_block.py").write_text(block.code)
            return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_block.py"]
        (work / "block.py").write_text(block.code)
        return [sys.executable, "block.py"]
    if block.runner == "js":
        node_modules(work)
        (work / "block.mjs").write_text(block.code)
        return [node_or_skip(), "block.mjs"]
    (work / "block.sh").write_text(block.code)
    return ["bash", "-e", "-o", "pipefail", "block.sh"]


def stop_group(process: subprocess.Popen[str]) -> None:
    """The block's process group: its background jobs (a server it started) stop with it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_block(block: Block, code: str, work: Path, env: dict[str, str]) -> tuple[int, str]:
    ran = Block(block.line, block.language, code, block.directives)
    process = subprocess.Popen(
        command(ran, work),
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=BLOCK_SECONDS)
    except subprocess.TimeoutExpired:
        stop_group(process)
        output, _ = process.communicate()
        return -1, f"did not finish within {BLOCK_SECONDS} s\n{output}"
    stop_group(process)  # what it left running in the background
    return process.returncode, output


def start_server_line(line: str, work: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """A shell line that starts a server, once it says it listens (it fails the test if it does not). Its
    output goes to a file, so nothing has to keep reading it."""
    log = work / f"server-{time.monotonic_ns()}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["bash", "-c", line], cwd=work, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if any(text.startswith("parley: listening on ") for text in log.read_text().splitlines()):
            return process
        time.sleep(0.05)
    stop_group(process)
    pytest.fail(f"{line!r} did not serve:\n{log.read_text()}")


def commands_of(code: str) -> list[str]:
    """The block's commands, a line ending in `\\` joined with the next, as the shell reads them."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def run_servers(code: str, work: Path, env: dict[str, str]) -> None:
    """Each line starts a server; it must say it listens, then it is stopped."""
    for line in commands_of(code):
        stop_group(start_server_line(line, work, env))


def run_in_background(block: Block, work: Path, env: dict[str, str]) -> tuple[int, str]:
    """The first line serves (in the background, on a free port standing for 4599); the rest runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = re.sub(r"\b4599\b", str(port), block.code)
    env = {**env, "PARLEY_PORT": str(port), "PARLEY_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    first, *_ = commands_of(code)
    server = start_server_line(first, work, env)
    try:
        return run_block(block, code.replace(first, "", 1), work, env)
    finally:
        stop_group(server)


def chat_variables(url: str) -> dict[str, str]:
    connect = client("connect", url, key="123456789012")
    setup = make_instance(connect)
    chat = start_chat(connect, setup)
    return {"IID": setup.instance_id, "FLOW": setup.flow_id, "CID": chat["ContactId"], "PID": chat["ParticipantId"]}


@dataclass
class Fresh:
    url: str
    lines: list[str] = field(default_factory=list)  # a `parley serve` process's output


def serve_process(flags: str, work: Path) -> Iterator[Fresh]:
    """`parley serve --port 0 FLAGS` in the block's directory (handlers named in FLAGS import from there)."""
    env = {k: v for k, v in environment("", work).items() if k not in ("PARLEY_ENDPOINT_URL", "PARLEY_PORT")}
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", "0", *shlex.split(flags)],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    fresh = Fresh("")
    for line in process.stdout:
        fresh.lines.append(line)
        if line.startswith("parley: listening on "):
            fresh.url = line.split(" on ", 1)[1].strip()
            break
    if not fresh.url:
        stop_group(process)
        pytest.fail(f"parley serve {flags} did not start:\n{''.join(fresh.lines)}")
    drain = threading.Thread(target=fresh.lines.extend, args=(process.stdout,), daemon=True)
    drain.start()
    yield fresh
    stop_group(process)
    drain.join(5)
    process.stdout.close()


def write_files(work: Path) -> None:
    """The blocks a README asks to save as files (`file NAME`), for the blocks that use them."""
    for block in BLOCKS:
        if "file" in block.directives:
            (work / block.directives["file"]).write_text(block.code)


@pytest.fixture
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fresh]:
    """By default the stack `parley serve` runs, in this process (no interpreter start-up to pay for); with
    `serve FLAGS`, a real `parley serve` process in the block's directory."""
    block: Block = request.param
    if "skip" in block.directives:
        pytest.skip(f"README.md:{block.line}: {block.directives['skip']}")
    write_files(tmp_path)
    if "serve" in block.directives:
        yield from serve_process(block.directives["serve"], tmp_path)
        return
    with ParleyServer() as server:
        yield Fresh(server.endpoint_url)


@pytest.mark.parametrize("fresh_server", [pytest.param(b, id=b.id) for b in TESTED], indirect=True)
def test_the_readme_block_runs_as_written(fresh_server: Fresh, request: pytest.FixtureRequest) -> None:
    block: Block = request.node.callspec.params["fresh_server"]
    if block.runner is None:
        pytest.fail(f"README.md:{block.line}: no runner for ```{block.language}")
    if "file" in block.directives:  # saved for other blocks; on its own it must at least compile
        if block.runner == "python":
            compile(block.code, block.directives["file"], "exec")
        return
    work = Path(request.getfixturevalue("tmp_path"))
    env = environment(fresh_server.url, work)
    code = LOCAL.sub(fresh_server.url.split("//", 1)[1], block.code)
    if "servers" in block.directives:
        run_servers(code, work, env)
        return
    if "background" in block.directives:
        status, output = run_in_background(block, work, env)
        assert status == 0, f"README.md:{block.line} ```{block.language} failed ({status}):\n{output}"
        return
    if "chat" in block.directives:
        env.update(chat_variables(fresh_server.url))
    for attempt in ("", " when run a second time")[: 2 if "twice" in block.directives else 1]:
        status, output = run_block(block, code, work, env)
        server = f"\n--- parley serve:\n{''.join(fresh_server.lines[-60:])}" if fresh_server.lines else ""
        assert status == 0, f"README.md:{block.line} ```{block.language} failed{attempt} ({status}):\n{output}{server}"


# -- what the README says about the server, checked against it -----------------------------------------
def test_where_one_endpoint_variable_is_set_the_other_is_too() -> None:
    """With only AWS_ENDPOINT_URL_CONNECT, SDKs send Participant Service calls to the real AWS endpoint."""
    for block in BLOCKS:
        connect = re.search(r"AWS_ENDPOINT_URL_CONNECT\s*=", block.code)
        participant = re.search(r"AWS_ENDPOINT_URL_CONNECTPARTICIPANT\s*=", block.code)
        assert bool(connect) == bool(participant), f"README.md:{block.line} sets one endpoint variable only"


def documented_answer(path: str) -> str:
    row = next(line for line in README.read_text().splitlines() if line.startswith(f"| `POST` | `{path}` |"))
    return row.split("|")[4]


def test_the_reset_answer_names_what_a_reset_removes() -> None:
    with ParleyServer() as server:
        status, answer = server.admin.request("POST", "/_parley/reset", {})
    assert status == 200
    documented = set(re.findall(r'"(\w+)"', documented_answer("/_parley/reset").split('"removed":', 1)[1]))
    assert documented == set(answer["removed"])


def test_the_fault_example_does_what_its_comments_say(tmp_path: Path) -> None:
    block = next(b for b in TESTED if "/_parley/faults" in b.code and b.language == "sh")
    assert "# every Participant Service call waits 2 s, one in ten fails" in block.code
    with ParleyServer() as server:
        env = environment(server.endpoint_url, tmp_path)
        status, output = run_block(block, LOCAL.sub(server.endpoint_url.split("//", 1)[1], block.code), tmp_path, env)
        assert status == 0, output
        rules = server.admin.request("GET", "/_parley/faults")[1]["faults"]
    throttle, slow, failing = rules[:3]
    assert throttle["match"] == {"service": "connect", "operation": "CreateParticipant"} and throttle["remaining"] == 1
    assert slow["match"]["service"] == failing["match"]["service"] == "connectparticipant"
    assert slow["latencyMs"] == 2000 and failing["probability"] == 0.1 and failing["error"]["status"] == 503
