"""JSONPath references and dynamic text (flows.md §3.4).

A path token is `$.` followed by segments of letters, digits, `-` and `_` joined by `.` (a trailing `.` is
punctuation), or `['any text']` segments. `resolve` reads one path from `ContactData`; `render` substitutes
every token in a text, a missing value giving ""."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.chat.flowlang.state import ContactData

_SEGMENT = r"(?:[A-Za-z0-9_-]+|\['[^'\]]*'\])"
TOKEN = re.compile(r"\$\." + _SEGMENT + r"(?:\.[A-Za-z0-9_-]+|\['[^'\]]*'\])*")
_PART = re.compile(r"\['([^'\]]*)'\]|([A-Za-z0-9_-]+)")

# Roots that hold one value and take no sub-path.
SCALARS = frozenset(
    {
        "ContactId",
        "InitialContactId",
        "PreviousContactId",
        "RelatedContactId",
        "Channel",
        "InitiationMethod",
        "InstanceARN",
        "CustomerId",
        "Name",
        "Description",
        "LanguageCode",
        "StoredCustomerInput",
    }
)
# Roots with members. The last group is valid in AWS and always empty in Parley (no Lex, metrics, voice, Cases,
# Customer Profiles, Voice ID or Contact Lens).
NAMESPACES = frozenset(
    {
        "Attributes",
        "External",
        "Queue",
        "References",
        "SegmentAttributes",
        "Tags",
        "Agent",
        "CustomerEndpoint",
        "SystemEndpoint",
        "FlowAttributes",
        "Lex",
        "Metrics",
        "Media",
        "MediaStreams",
        "Case",
        "Customer",
        "VoiceId",
        "ContactLens",
    }
)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def is_single_path(value: Any) -> bool:
    """'a single valid JSONPath identifier': the whole value is one path token."""
    return isinstance(value, str) and TOKEN.fullmatch(value.strip()) is not None


def is_static(value: Any) -> bool:
    return not isinstance(value, str) or not tokens(value)


def segments(path: str) -> list[str]:
    body = path.strip()[2:]
    return [quoted if quoted or not plain else plain for quoted, plain in _PART.findall(body)]


def known(path: str) -> bool:
    """Row 8: the path names a root of §3.4 ('$.Attributes.stuff is okay, $.BadValue is not okay')."""
    parts = segments(path)
    if not parts:
        return False
    root = parts[0]
    return (root in SCALARS and len(parts) == 1) or root in NAMESPACES


def _walk(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _root(root: str, data: ContactData) -> Any:
    scalars: dict[str, Any] = {
        "ContactId": data.contact_id,
        "InitialContactId": data.initial_contact_id,
        "PreviousContactId": data.previous_contact_id,
        "RelatedContactId": data.related_contact_id,
        "Channel": data.channel,
        "InitiationMethod": data.initiation_method,
        "InstanceARN": data.instance_arn,
        "CustomerId": data.customer_id,
        "Name": data.name,
        "Description": data.description,
        "LanguageCode": data.language_code,
        "StoredCustomerInput": data.stored_input,
        "Attributes": data.attributes,
        "External": data.external,
        "References": data.references,
        "SegmentAttributes": data.segment_attributes,
        "Tags": data.tags,
        "Agent": data.agent,
    }
    if root == "Queue":
        return None if data.queue is None else {"Name": data.queue.name, "ARN": data.queue.arn, "Id": data.queue.id}
    return scalars.get(root)


def resolve(path: str, data: ContactData) -> Any:
    """The value a path names, or None."""
    parts = segments(path)
    if not parts:
        return None
    return _walk(_root(parts[0], data), parts[1:])


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(text: str, data: ContactData) -> str:
    """`text` with every `$.path` token replaced by its value's text ("" when it has none)."""
    if "$." not in text:
        return text
    return TOKEN.sub(lambda match: as_text(resolve(match.group(0), data)), text)


def value_of(value: Any, data: ContactData) -> Any:
    """A parameter's value at run time: a single path resolves to its value, any other text is rendered."""
    if not isinstance(value, str):
        return value
    if is_single_path(value):
        return resolve(value, data)
    return render(value, data)
