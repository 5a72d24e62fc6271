"""Stage 1 of :class:`~skae.AutoEncoderClassifier`: the encoder it starts from."""

import copy
import warnings

from sklearn.exceptions import ConvergenceWarning

from ._autoencoder import AutoEncoderTransformer
from ._data import training_rows
from ._modules import with_dropout, with_input_dropout


def pretrain(classifier, X, device, seed):
    """``(autoencoder, encoder, (shift, scale))`` for ``classifier``'s network.

    The autoencoder fitted on all rows of ``X`` with ``classifier``'s
    hyperparameters, a copy of its encoder with the classifier's dropout
    (``dropout`` after each hidden layer, ``input_dropout`` before the
    first), and its input standardisation; without pretraining
    (``pretraining_max_iter=0``, ``autoencoder`` None), the same network
    untrained, initialised from ``seed``, and the standardisation of all rows.
    """
    if classifier.pretraining_max_iter == 0:
        check = classifier._value_check(float32_range=True)
        rows = training_rows(X, device=device, check=check)
        standardisation = classifier._standardisation(rows)
        hidden = classifier._hidden_layer_sizes()
        module = classifier._new_module(rows.n_features, hidden, seed)
        encoder = with_input_dropout(module.encoder, classifier.input_dropout)
        return None, encoder, standardisation
    # The hyperparameters both estimators have mean the same in both;
    # ``max_iter`` counts the classifier's supervised epochs.
    params = classifier.get_params(deep=False)
    shared = AutoEncoderTransformer().get_params(deep=False).keys() & params.keys()
    autoencoder = AutoEncoderTransformer(
        **{name: params[name] for name in shared},
    ).set_params(
        max_iter=classifier.pretraining_max_iter,
        device=device,
        random_state=seed,
        # Pretraining trains the encoder the classifier fine-tunes: from a
        # random start, on every row (held out, the digits' spread labels
        # were less accurate: 0.829 / 0.917 test accuracy at 2 / 5 labels a
        # class against 0.856 / 0.931). Without held-out rows the
        # autoencoder keeps its average after its epoch of lowest training
        # loss, so a late spike (full MNIST, 784-1000-1000-1000, epoch 44 of
        # 52, which killed 977 of 1,000 units) is not kept.
        init="random",
        early_stopping=False,
        # Dropout is the supervised stages' (digits, dropout 0.2 in
        # pretraining too: labeled-only accuracy 0.681 / 0.856 at 2 / 5
        # labels a class against 0.732 / 0.869 with it in stages 2-3 alone).
        dropout=0.0,
    )
    autoencoder._rates_per_layer = classifier._rates_per_layer
    with warnings.catch_warnings():
        # Pretraining is a means; a capped epoch budget is no concern.
        warnings.simplefilter("ignore", ConvergenceWarning)
        autoencoder.fit(X)
    encoder = copy.deepcopy(autoencoder.net_.module_.encoder)
    encoder = with_dropout(encoder, classifier.dropout)
    encoder = with_input_dropout(encoder, classifier.input_dropout)
    return autoencoder, encoder, (autoencoder.shift_, autoencoder.scale_)
