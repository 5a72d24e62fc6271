import os, pickle, numpy as np, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_digits
from skae import AutoEncoderTransformer
X = load_digits().data / 16
ae = AutoEncoderTransformer(8, device="cuda", max_iter=20, random_state=0).fit(X)
out = os.environ["OUT"]
np.save(f"{out}/gpu_codes.npy", ae.transform(X))
np.save(f"{out}/gpu_recon32.npy", ae.inverse_transform(ae.transform(X.astype(np.float32))))
with open(f"{out}/gpu_model.pkl", "wb") as f:
    pickle.dump(ae, f)
print("gpu device", ae.net_.device, "n_iter", ae.n_iter_)
