"""The sample projects are run by tests/plugin/test_pytest_plugin.py in their own pytest, never collected here."""

collect_ignore = ["sample_project", "no_boto3_project"]
