"""Adapters that call out of Parley (SNS Publish, webhooks, Lambda functions, Python callables)."""
