"""The Amazon Connect flow language (flows.md §1-§5): documents, validation, JSONPath, the Lambda event and
a pure interpreter. No I/O, no clock reads, no randomness: the runner (services/flows.py) supplies time,
facts about the world (`World`) and applies the effects the interpreter returns."""
