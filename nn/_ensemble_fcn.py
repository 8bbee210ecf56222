"""E fully connected networks (:class:`FCN`) evaluated and differentiated at once, by hand.

Why this exists: for small networks (width 64, batch 8) a step of :func:`train_ensemble`'s
generic path (``vmap(grad_and_value(functional_call))``) costs several times its flops
in fixed overhead: vmap's dispatch and autograd's graph, op by op. An FCN is only linear
layers and ReLUs, so with the members' weights stacked as (E, out, in) its forward is one
batched product per layer, and the gradient of each member's mean cross-entropy is a
short hand-written backward pass (members are independent: each gradient is exact):

    z_L = c (h_{L-1} W_L^T + b_L),   h_l = relu(h_{l-1} W_l^T + b_l),   h_0 = flatten(x)
    dz_L = c (softmax(z_L) - onehot(y)) / b
    dW_l = dz_l^T h_{l-1},   db_l = sum_rows dz_l,   dz_{l-1} = (dz_l W_l) * [not h_{l-1} <= 0]

(c the output scale: 1, or 1/width for the mean-field parametrization, as in
:meth:`FCN.forward`; as torch's ReLU backward, the mask passes the gradient where h is
NaN and stops it where h <= 0, so that diverging members turn non-finite as when trained
alone.)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._models import FCN

__all__ = ["StackedFCN"]


class StackedFCN:
    """Forward and gradients of E FCNs of one shape whose parameters are stacked.

    ``layers[l]`` is the (weight, bias or None) position in the parameter list of layer l.
    """

    def __init__(self, layers: Sequence[tuple[int, int | None]], output_scale: float) -> None:
        self.layers = tuple(layers)
        self.output_scale = output_scale

    @classmethod
    def detect(cls, models: Sequence[nn.Module], names: Sequence[str]) -> StackedFCN | None:
        """The fast path for ``models`` if they are all plain FCNs of one kind, else None.

        Only ``FCN`` itself qualifies (a subclass may change ``forward``); ``names`` are the
        stacked parameters' names, in ``named_parameters`` order.
        """
        if not models or not all(type(m) is FCN for m in models):
            return None
        scales = {float(m.output_scale) for m in models}  # type: ignore[arg-type]
        if len(scales) != 1:
            return None
        position = {nm: i for i, nm in enumerate(names)}
        layers: list[tuple[int, int | None]] = []
        first = models[0]
        assert isinstance(first, FCN)
        for i, layer in enumerate(first.layers):
            if type(layer) is not nn.Linear:
                return None
            weight = position.get(f"layers.{i}.weight")
            bias = position.get(f"layers.{i}.bias")
            if weight is None or (bias is None) != (layer.bias is None):
                return None
            layers.append((weight, bias))
        if sum(1 + (b is not None) for _, b in layers) != len(names):
            return None
        return cls(layers, scales.pop())

    def _forward(
        self, params: Sequence[torch.Tensor], h: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (E, m, C) of flat inputs ``h`` (E, m, in) and every layer's input."""
        inputs = []
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            inputs.append(h)
            wt = params[w].transpose(1, 2)
            z = torch.bmm(h, wt) if b is None else torch.baddbmm(params[b].unsqueeze(1), h, wt)
            h = torch.relu(z) if i < last else z
        if self.output_scale != 1.0:
            h = h * self.output_scale
        return h, inputs

    def forward(self, params: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Logits (E, m, C) of inputs ``x`` (m, *in_shape) shared by the members."""
        h = x.flatten(1)
        return self._forward(params, h.expand(params[self.layers[0][0]].shape[0], *h.shape))[0]

    def grad_and_loss(
        self, params: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Gradients (one stacked tensor per parameter) and the (E,) mean cross-entropies.

        ``x`` is (E, b, *in_shape), ``y`` (E, b) int labels: member e's batch is row e.
        """
        logits, inputs = self._forward(params, x.flatten(2))
        logp = torch.log_softmax(logits, dim=-1)
        target = y.unsqueeze(-1)
        loss = logp.gather(-1, target).squeeze(-1).mean(-1).neg()
        dz = logp.exp()
        dz.scatter_add_(-1, target, torch.full_like(target, -1, dtype=dz.dtype))
        dz.mul_(self.output_scale / y.shape[-1])
        grads: list[torch.Tensor] = [torch.empty(0)] * len(params)
        for i in range(len(self.layers) - 1, -1, -1):
            w, b = self.layers[i]
            h = inputs[i]
            grads[w] = torch.bmm(dz.transpose(1, 2), h)
            if b is not None:
                grads[b] = dz.sum(1)
            if i > 0:
                dz = torch.ops.aten.threshold_backward(torch.bmm(dz, params[w]), h, 0.0)
        return grads, loss
