"""Lambda functions added to an instance (flows.md §5.4): AssociateLambdaFunction, ListLambdaFunctions,
DisassociateLambdaFunction. Only the record: invoking a function is `parley.outbound`'s business, and an
association is not needed to invoke one unless PARLEY_LAMBDA_REQUIRE_ASSOCIATION says so."""

from __future__ import annotations

import re
from datetime import datetime

from parley.chat.errors import AlreadyAssociated, ConstraintViolation, NotFound
from parley.chat.instances import require_instance
from parley.chat.model import LambdaFunction, Page, Scope
from parley.chat.ports import Repo

# arn:<partition>:lambda:<region>:<account>:function:<name>[:<version or alias>]
FUNCTION_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]+))?"
)


def _check_arn(arn: str) -> None:
    if not FUNCTION_ARN.fullmatch(arn):
        raise ConstraintViolation(
            f"Value '{arn}' at 'functionArn' failed to satisfy constraint: Member must be a Lambda function ARN "
            "(arn:aws:lambda:<region>:<account>:function:<name>)"
        )


def associate(repo: Repo, scope: Scope, instance_id: str, arn: str, now: datetime) -> LambdaFunction:
    instance = require_instance(repo, scope, instance_id)
    _check_arn(arn)
    if repo.get_lambda_function(scope, instance.id, arn) is not None:
        raise AlreadyAssociated(f"Lambda function {arn} is already associated with instance {instance.id}")
    function = LambdaFunction(instance_id=instance.id, arn=arn, associated_at=now)
    repo.put_lambda_function(scope, function)
    return function


def disassociate(repo: Repo, scope: Scope, instance_id: str, arn: str) -> None:
    instance = require_instance(repo, scope, instance_id)
    if not repo.delete_lambda_function(scope, instance.id, arn):
        raise NotFound(f"Lambda function {arn} is not associated with instance {instance.id}")


def list_functions(repo: Repo, scope: Scope, instance_id: str, after: str | None, limit: int) -> Page[LambdaFunction]:
    instance = require_instance(repo, scope, instance_id)
    return repo.list_lambda_functions(scope, instance.id, after, limit)


def is_associated(repo: Repo, scope: Scope, instance_id: str, arn: str) -> bool:
    """For PARLEY_LAMBDA_REQUIRE_ASSOCIATION: was this exact ARN added to the instance?"""
    return repo.get_lambda_function(scope, instance_id, arn) is not None
