"""heavytail.reports: claims, the verify runner, figures and the command line."""

__all__: list[str] = []
