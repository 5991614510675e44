"""Service errors as they travel on the wire.

A modelled error takes its HTTP status from the model's error shape, so the status is declared
once (in the model) and can never drift from what the SDKs expect. Unmodelled errors
(unknown route, unimplemented operation, auth) carry an explicit status.
"""

from __future__ import annotations

from typing import Any

from parley.protocol.spec import OperationSpec, error_shape


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


# AWS's common errors: any operation may answer them
# (https://docs.aws.amazon.com/connect/latest/APIReference/CommonErrors.html). Where the service's model
# has a shape of that name, the model's status wins: ThrottlingException is 429 in both models.
COMMON_ERRORS: dict[str, int] = {
    "AccessDeniedException": 400,
    "IncompleteSignature": 400,
    "InternalFailure": 500,
    "InvalidAction": 400,
    "InvalidClientTokenId": 403,
    "NotAuthorized": 400,
    "OptInRequired": 403,
    "RequestExpired": 400,
    "ServiceUnavailable": 503,
    "ThrottlingException": 400,
    "ValidationError": 400,
}


def may_answer(op: OperationSpec, code: str) -> bool:
    """Whether `op` can answer `code` on AWS: it declares the error, or the error is a common one."""
    return code in op.error_codes or code in COMMON_ERRORS


def status_of(service: str, code: str) -> int:
    """The HTTP status AWS sends `code` with: the model's, else the common errors' list's."""
    shape = error_shape(service, code)
    if shape is not None:
        return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    return COMMON_ERRORS[code]


def injected(service: str, code: str, message: str) -> ServiceError:
    """An error a fault rule makes an operation answer, exactly as the service would send it."""
    if error_shape(service, code) is not None:
        return modelled(service, code, message)
    return ServiceError(code, status_of(service, code), message)
