"""Fit on a GPU and save the model and its outputs, to load on a CPU machine.

    OUT=/some/folder python benchmarks/tools/gpu_pickle.py

Writes ``gpu_model.pkl`` (the pickled estimator), ``gpu_codes.npy`` (float64
codes of the digits) and ``gpu_recon32.npy`` (float32 reconstructions) to
``$OUT``; loading the pickle where there is no GPU and comparing its outputs
with these files checks that a GPU-trained model works anywhere.
"""

import os
import pickle
import warnings

import numpy as np
from sklearn.datasets import load_digits

from skae import AutoEncoderTransformer


def main():
    out = os.environ["OUT"]
    X = load_digits().data / 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = AutoEncoderTransformer(8, device="cuda", max_iter=20, random_state=0)
        ae.fit(X)
    np.save(f"{out}/gpu_codes.npy", ae.transform(X))
    recon = ae.inverse_transform(ae.transform(X.astype(np.float32)))
    np.save(f"{out}/gpu_recon32.npy", recon)
    with open(f"{out}/gpu_model.pkl", "wb") as f:
        pickle.dump(ae, f)
    print("trained on", ae.net_.device, "for", ae.n_iter_, "epochs")


if __name__ == "__main__":
    main()
