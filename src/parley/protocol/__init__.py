"""The AWS rest-json wire, driven by the botocore service models. Knows nothing about chat."""
