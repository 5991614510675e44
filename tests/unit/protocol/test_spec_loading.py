"""The faster model loading (plain-dict JSON, error codes from the JSON) gives what botocore's defaults give."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel

from parley.protocol.spec import API_VERSIONS, load_operations, service_description


@pytest.mark.parametrize("service", sorted(API_VERSIONS))
def test_the_description_is_botocores(service: str) -> None:
    expected = Loader().load_service_model(service, "service-2", api_version=API_VERSIONS[service])
    assert service_description(service) == expected


@pytest.mark.parametrize("service", sorted(API_VERSIONS))
def test_error_codes_are_the_error_shapes_of_every_operation(service: str) -> None:
    model = ServiceModel(service_description(service), service_name=service)
    for name, operation in load_operations(service).items():
        assert operation.error_codes == frozenset(shape.name for shape in model.operation_model(name).error_shapes)
