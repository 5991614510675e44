"""One module per AWS service: thin handlers mapping wire dicts to domain calls and back."""
