"""heavytail._lib: private helpers that every heavytail package may import.

Input checks (``_validation``), the ``rng`` convention (``_rng``) and heavytail's exceptions
and warnings (``_errors``) live here, as scipy keeps its shared helpers in ``scipy._lib``.
Nothing here is public: the exceptions and warnings are re-exported by
``heavytail.theory``, which is where users import them from. This package imports numpy
only, so that every layer (theory, simulate, nn, reports) can depend on it.
"""

__all__: list[str] = []
