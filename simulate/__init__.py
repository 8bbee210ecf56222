"""heavytail.simulate: numba simulators (SGD on least squares, mean-field networks)."""

# [imports: sgd simulator]

__all__: list[str] = [
    # [all: sgd simulator]
]
