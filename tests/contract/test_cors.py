"""CORS over real sockets: preflights as a browser sends them, on every path, and real boto3 calls from an origin."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from parley.testing import ParleyServer
from tests.conftest import start_parley

# What Chrome sends before a JS SDK v3 call: lower-case names, sorted, comma-separated.
SDK_HEADERS = "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-date,x-amz-user-agent"
REQUIRED_HEADERS = {
    "authorization", "content-type", "x-amz-bearer", "x-amz-date", "x-amz-content-sha256", "x-amz-user-agent",
    "x-amz-security-token", "amz-sdk-invocation-id", "amz-sdk-request",
}  # fmt: skip
EXPOSED = {"x-amzn-requestid", "x-amzn-errortype", "x-amz-request-id", "x-parley-version", "date"}
PATHS = [
    ("PUT", "/contact/chat"),  # Connect StartChatContact
    ("PUT", "/contact/create-participant"),
    ("GET", "/instance"),
    ("POST", "/participant/message"),  # Participant Service
    ("POST", "/participant/connection"),
    ("GET", "/_parley/health"),  # admin
    ("POST", "/_parley/reset"),
    ("PUT", "/_parley/blobs/some-attachment"),
    ("GET", "/no/such/path"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ParleyServer]:
    with ParleyServer() as running:
        yield running


def request(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> http.client.HTTPResponse:
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def preflight(url: str, path: str, origin: str, method: str = "POST", **extra: str) -> http.client.HTTPResponse:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Sec-Fetch-Mode": "cors",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
    }
    headers.update({name.replace("_", "-"): value for name, value in extra.items()})
    return request(url, "OPTIONS", path, headers)


def cors_headers(response: http.client.HTTPResponse) -> dict[str, str]:
    return {k.lower(): v for k, v in response.getheaders() if k.lower().startswith("access-control-")}


def names(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_preflight_is_answered_on_every_path(server: ParleyServer, method: str, path: str) -> None:
    origin = "http://localhost:3000"
    response = preflight(
        server.endpoint_url, path, origin, method, Access_Control_Request_Headers=SDK_HEADERS
    )  # fmt: skip
    assert response.status == 204
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == origin
    assert names(headers["access-control-allow-methods"]) >= {"get", "post", "put", "delete", "options"}
    assert headers["access-control-allow-headers"] == SDK_HEADERS
    assert headers["access-control-max-age"] == "600"
    assert "origin" in names(response.getheader("vary") or "")
    assert response.getheader("x-parley-version")


def test_a_preflight_naming_no_headers_gets_every_header_sdks_send(server: ParleyServer) -> None:
    headers = cors_headers(preflight(server.endpoint_url, "/participant/message", "https://127.0.0.1:8443"))
    assert names(headers["access-control-allow-headers"]) >= REQUIRED_HEADERS


def test_chrome_private_network_preflight_is_allowed(server: ParleyServer) -> None:
    response = preflight(
        server.endpoint_url, "/contact/chat", "http://[::1]:5173", "PUT", Access_Control_Request_Private_Network="true"
    )
    assert cors_headers(response)["access-control-allow-private-network"] == "true"


@pytest.mark.parametrize("origin", ["https://example.com", "http://localhost.example.com", "null"])
def test_a_foreign_origin_preflight_is_refused_without_cors_headers(server: ParleyServer, origin: str) -> None:
    response = preflight(server.endpoint_url, "/contact/chat", origin, "PUT", Access_Control_Request_Headers="x")
    assert response.status == 403
    assert cors_headers(response) == {}


def client_with_origin(server: ParleyServer, service: str, origin: str) -> Any:
    """A boto3 client that sends `Origin`, as a browser would on a cross-origin call."""
    boto_client = server.client(service)

    def add_origin(request: Any, **_: Any) -> None:
        request.headers["Origin"] = origin

    boto_client.meta.events.register("before-sign", add_origin)
    return boto_client


def test_boto3_responses_expose_request_id_and_error_type_to_the_origin(server: ParleyServer) -> None:
    origin = "http://localhost:4200"
    connect = client_with_origin(server, "connect", origin)
    ok = connect.list_instances()["ResponseMetadata"]["HTTPHeaders"]
    assert ok["access-control-allow-origin"] == origin
    assert names(ok["access-control-expose-headers"]) >= EXPOSED
    assert "origin" in names(ok["vary"])
    with pytest.raises(ClientError) as error:
        connect.describe_instance(InstanceId="00000000-0000-0000-0000-000000000000")
    failed = error.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert failed["access-control-allow-origin"] == origin
    assert failed["x-amzn-errortype"].startswith("ResourceNotFoundException")
    assert names(failed["access-control-expose-headers"]) >= EXPOSED


def test_participant_service_and_admin_responses_carry_cors_headers(server: ParleyServer) -> None:
    origin = "http://127.0.0.1:8080"
    participant = client_with_origin(server, "connectparticipant", origin)
    with pytest.raises(ClientError) as error:
        participant.send_message(ConnectionToken="not-a-token", ContentType="text/plain", Content="hi")
    assert error.value.response["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == origin
    response = request(server.endpoint_url, "GET", "/_parley/health", {"Origin": origin})
    assert response.status == 200 and response.getheader("access-control-allow-origin") == origin


def test_calls_without_origin_or_from_a_foreign_origin_carry_no_cors_headers(server: ParleyServer) -> None:
    plain = server.client("connect").list_instances()["ResponseMetadata"]["HTTPHeaders"]
    assert not [name for name in plain if name.startswith("access-control-")]
    foreign = client_with_origin(server, "connect", "https://example.com").list_instances()
    assert not [name for name in foreign["ResponseMetadata"]["HTTPHeaders"] if name.startswith("access-control-")]


def test_configured_origins_replace_loopback_and_star_echoes_one_origin() -> None:
    with ParleyServer(cors_origins=["https://app.example.com"]) as only_app:
        assert preflight(only_app.endpoint_url, "/contact/chat", "https://app.example.com").status == 204
        assert preflight(only_app.endpoint_url, "/contact/chat", "http://localhost:3000").status == 403
    with ParleyServer(cors_origins="*") as everyone:
        response = preflight(everyone.endpoint_url, "/contact/chat", "https://anything.example")
        assert cors_headers(response)["access-control-allow-origin"] == "https://anything.example"
        assert "access-control-allow-credentials" not in cors_headers(response)


def test_parley_serve_reads_the_cors_env_twin_and_logs_preflights() -> None:
    running = start_parley(env={"PARLEY_CORS_ORIGINS": "https://widget.example"})
    try:
        assert preflight(running.url, "/participant/message", "https://widget.example").status == 204
        refused = preflight(running.url, "/participant/message", "http://localhost:3000")
        assert refused.status == 403
    finally:
        running.stop()
    lines = list(running.lines)
    assert any("cors.preflight 204 origin=https://widget.example path=/participant/message" in line for line in lines)
    assert any("cors.preflight 403 origin=http://localhost:3000" in line for line in lines), lines


def test_the_refusal_body_says_how_to_allow_the_origin(server: ParleyServer) -> None:
    address = urlsplit(server.endpoint_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    connection.request(
        "OPTIONS", "/contact/chat", headers={"Origin": "https://x.test", "Access-Control-Request-Method": "PUT"}
    )
    body = json.loads(connection.getresponse().read())
    connection.close()
    assert body["error"] == "CorsOriginNotAllowed" and "--cors-origins" in body["message"]
