"""The two service models as botocore loads them: for the generator of protocol/models/, its test, and code
that needs botocore's own objects (the codec round trip's serializer). Never imported by serving.

botocore's file loader parses into OrderedDicts, about 2.5x slower than plain dicts, which keep their
order too; this loader reads the same files into plain dicts.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from typing import Any

from botocore.loaders import JSONFileLoader, Loader
from botocore.model import ServiceModel

API_VERSIONS: dict[str, str] = {"connect": "2017-08-08", "connectparticipant": "2018-09-07"}


class PlainJSONFileLoader(JSONFileLoader):  # type: ignore[misc]
    OPENERS = ((".json", open), (".json.gz", gzip.open))

    def load_file(self, file_path: str) -> Any:
        for extension, opener in self.OPENERS:
            if os.path.isfile(file_path + extension):
                with opener(file_path + extension, "rb") as stream:
                    return json.loads(stream.read())
        return None


@functools.cache
def _loader() -> Loader:
    """One Loader for both services: it lists botocore's data directories once, not once per service."""
    return Loader(file_loader=PlainJSONFileLoader())


@functools.cache
def service_description(service: str) -> dict[str, Any]:
    """The model's JSON as botocore's Loader finds it (search paths, sdk-extras), at the pinned API version."""
    data: dict[str, Any] = _loader().load_service_model(service, "service-2", api_version=API_VERSIONS[service])
    return data


@functools.cache
def service_model(service: str) -> ServiceModel:
    """botocore's ServiceModel for one of the two services, at the pinned API version."""
    return ServiceModel(service_description(service), service_name=service)
