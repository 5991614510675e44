"""Service errors as they travel on the wire.

A modelled error takes its HTTP status from the model's error shape, so the status is declared
once (in the model) and can never drift from what the SDKs expect. Unmodelled errors
(unknown route, unimplemented operation, auth) carry an explicit status.
"""

from __future__ import annotations

from typing import Any

from parley.protocol.spec import error_shape


class ServiceError(Exception):
    """An error answer: the AWS error code, the HTTP status, a message and the shape's other members."""

    def __init__(self, code: str, status: int, message: str, members: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.members = members or {}


def modelled(service: str, code: str, message: str, **members: Any) -> ServiceError:
    """The model's error shape `code` of `service`, with its status and only the members it declares."""
    shape = error_shape(service, code)
    if shape is None:
        raise LookupError(f"{service} has no error shape {code}")
    unknown = set(members) - set(shape.members)
    if unknown:
        raise LookupError(f"{code} has no members {sorted(unknown)}")
    status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    return ServiceError(code, status, message, members)


def internal_error(service: str) -> ServiceError:
    code = "InternalServerException" if service == "connectparticipant" else "InternalServiceException"
    return modelled(service, code, "An internal error occurred. The request id is in the server log.")


def not_implemented(qualified_name: str) -> ServiceError:
    return ServiceError(
        "NotImplementedException",
        501,
        f"{qualified_name} is not implemented by Parley. See docs/differences.md for what is.",
    )


def unknown_operation(method: str, raw_path: str) -> ServiceError:
    return ServiceError(
        "UnknownOperationException",
        404,
        f"No Connect or Participant Service operation at {method} {raw_path}",
    )
