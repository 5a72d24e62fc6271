"""The optimizer's parameter groups: a learning rate and a decay per layer.

Every fully connected layer fed by more than ``RATE_WIDTH`` units learns at
the learning rate times ``RATE_WIDTH / its inputs``, as Yang et al.'s
maximal-update parametrisation (muP, "Tensor Programs V", 2022) sets Adam's
rate for hidden and output layers: the change of a unit's input per step
grows with the number of inputs that each move by the rate, so that wide
layers otherwise take steps too large for the rate that suits narrow ones.
The first layer, which reads the data, keeps the rate; so do networks no
wider than ``RATE_WIDTH`` (the autoencoders' default 256-128), and
networks with convolutions, whose rate was chosen for the whole network
(``ConvAutoEncoder(32)`` on MNIST-5k, ``benchmarks/conv_budget.py``: its
dense layer, fed by 1,568 units, slowed, held out 0.362 of PCA's error
after 63 epochs against 0.361 after 45 at one rate). The decay of a slowed
layer is divided by its factor, so that AdamW shrinks every weight by the
same fraction per step. Measured on full MNIST with
784-1000-500-250-30 (Hinton and Salakhutdinov's network, see
``docs/literature.rst``): squared error per test image 3.37 with one rate
for all layers, 2.91 with these. On wide tables (``benchmarks/wide_rates.py``,
1024-512 networks): 16 % less held-out error on MNIST's pixels, the same on
2,000 generated features.

Each group records its factors (``lr_scale``, ``decay_scale``), so that
whatever sets the rate anew (``WarmUp``, a warm start) sets each group's.
"""

from fnmatch import fnmatch

# Layers fed by more units learn at a smaller rate: the widest layer of the
# autoencoders' default networks (256-128), which therefore take one rate.
RATE_WIDTH = 256
# The parameters ``alpha`` decays (a skorch parameter-group pattern): the
# connection weights, not biases nor ``LinearSkip``'s PCA paths.
DECAYED = "*weight"


def layer_scales(module):
    """The factor on the learning rate of each of ``module``'s slowed weights.

    ``{name: RATE_WIDTH / inputs}`` for each weight matrix fed by more than
    ``RATE_WIDTH`` inputs but the module's first weights (its input layer),
    in the order the module registers them; none where the module has
    convolutions.
    """
    weights = [(n, p) for n, p in module.named_parameters() if fnmatch(n, DECAYED)]
    if any(weight.ndim != 2 for _, weight in weights):
        return {}
    return {
        name: RATE_WIDTH / weight.shape[1]
        for name, weight in weights[1:]
        if weight.shape[1] > RATE_WIDTH
    }


def parameter_groups(module, lr, decay, *, per_layer=True):
    """skorch's ``optimizer__param_groups`` for ``module``.

    One group per slowed weight matrix and one for its bias (none without
    ``per_layer``), then the other connection weights (``DECAYED``); skorch
    puts the rest (biases, PCA paths) in a last group without decay, at
    the rate ``lr``.
    """
    names = {name for name, _ in module.named_parameters()}
    scales = layer_scales(module) if per_layer else {}
    groups = []
    for name, scale in scales.items():
        groups.append((name, _group(lr, decay, scale, decayed=True)))
        bias = name.removesuffix("weight") + "bias"
        if bias in names:
            groups.append((bias, _group(lr, decay, scale, decayed=False)))
    return [*groups, (DECAYED, _group(lr, decay, 1.0, decayed=True))]


def set_rates(optimizer, lr, decay):
    """Set every group of ``optimizer`` to ``lr`` and ``decay`` times its factors.

    Groups without factors (skorch's last one, or a model file written
    before them) take the rate as it is, and decay where they did.
    """
    for group in optimizer.param_groups:
        group["lr"] = scaled_rate(group, lr)
        decayed = float(group.get("weight_decay", 0.0) > 0)
        group["weight_decay"] = decay * group.get("decay_scale", decayed)


def scaled_rate(group, lr):
    """The rate of ``group`` (a torch optimizer's parameter group) at ``lr``."""
    return lr * group.get("lr_scale", 1.0)


def _group(lr, decay, scale, *, decayed):
    decay_scale = 1 / scale if decayed else 0.0
    return {
        "lr": lr * scale,
        "lr_scale": scale,
        "weight_decay": decay * decay_scale,
        "decay_scale": decay_scale,
    }
