"""heavytail.nn: real networks trained with PyTorch, and measurements of their weights."""

__all__: list[str] = []
