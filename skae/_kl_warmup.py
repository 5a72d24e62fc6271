"""KL warm-up: the VAE's KL term weighed in over the first epochs of a fit."""

from skorch.callbacks import Callback


class KLWarmUp(Callback):
    """The KL term's gradient ramped up linearly over the first ``epochs`` epochs.

    At training step ``t`` of ``T`` (``epochs`` times the steps of an epoch
    of the first training rows seen) the criterion's ``kl_factor`` is
    ``t / T``; from step ``T`` on it is 1. Only the gradient is scaled (see
    ``NegativeELBO``): the loss reported for training and held-out rows is
    always the whole negative ELBO, so early stopping, its learning-rate
    drops and ``loss_curve_`` compare ELBOs throughout.

    The steps already taken are counted from the net's history, which a
    fresh fit clears, a model file keeps and a diverging fit rolls back: so
    a fresh fit starts the ramp again, while ``partial_fit``, a
    ``warm_start`` refit and a ``partial_fit`` of a loaded model go on from
    where training left it.

    Early in training the KL term pulls every posterior onto the prior
    before the decoder can use the codes, and a unit that collapses so
    rarely recovers; letting the reconstruction term lead first keeps more
    of them (the "warm-up" of Sønderby et al., 2016, "Ladder variational
    autoencoders"; the "KL cost annealing" of Bowman et al., 2016).
    """

    def __init__(self, epochs):
        self.epochs = epochs

    def initialize(self):
        self.taken_, self.steps_ = 0, None
        return self

    def on_train_begin(self, net, X=None, **kwargs):
        if self.steps_ is None:
            # ``X`` is the pair of row sources ``(train, valid)``.
            self.steps_ = self.epochs * -(-len(X[0]) // net.batch_size)
        self.taken_ = sum(epoch.get("train_batch_count", 0) for epoch in net.history)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training or self.taken_ >= self.steps_:
            return
        self.taken_ += 1
        net.criterion_.kl_factor = self.taken_ / self.steps_
