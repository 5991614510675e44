"""The in-memory store: the `UnitOfWork` port over dicts of the domain's records, with an undo journal."""
