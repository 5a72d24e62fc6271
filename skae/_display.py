"""How an autoencoder shows itself in a notebook: the network's layer widths."""


class NetworkDiagramMixin:
    """scikit-learn's HTML diagram, headed by the network's layer sizes.

    The estimator provides ``_hidden_layer_sizes()``, ``n_components`` and,
    once fitted, ``_architecture`` and ``n_features_in_``.
    """

    def _layer_sizes(self):
        """Widths of the network's layers, input to reconstruction."""
        if hasattr(self, "_architecture"):
            hidden = self._architecture["hidden_layer_sizes"]
            n_components = self._architecture["n_components"]
            n_features = self.n_features_in_
        else:
            try:
                hidden = self._hidden_layer_sizes()
            except (TypeError, ValueError):
                return None
            n_components, n_features = self.n_components, "n_features"
        return [n_features, *hidden, n_components, *hidden[::-1], n_features]

    def _repr_html_inner(self):
        # scikit-learn's diagram, headed by the network's layer sizes.
        sizes = self._layer_sizes()
        html = super()._repr_html_inner()
        if sizes is None:
            return html
        layers = " &rarr; ".join(str(size) for size in sizes)
        return (
            '<div style="font-family: monospace; margin: 0 0 4px 0">'
            f"{type(self).__name__} network: {layers}</div>{html}"
        )
