"""The domain: instances, flows, contacts, participants and their rules.

No HTTP, no JSON wire, no SQL, no botocore. State is reached through the `Repo` port;
time, randomness and secrets are passed in.
"""
