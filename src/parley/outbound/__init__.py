"""Adapters that call out of Parley: Lambda functions (`lambdas.LambdaInvoker`) through the Invoke API, an HTTP
target or a Python callable; chat message streams (`sns`: SNS Publish, webhooks, `lambda:`, Python callables).

This layer may import `parley.chat.model`, `parley.settings` and `parley.ids`/`parley.clock`; never transport,
services, the store or the app. The runner and the admin API take what it offers, not the other way round.
"""
