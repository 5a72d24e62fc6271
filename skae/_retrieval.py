"""Similar-item search on binary codes: a Hamming index and retrieval precision."""

from numbers import Integral

import numpy as np
from sklearn.exceptions import NotFittedError

# Bits set in each byte value, for the popcount fallback (and the torch path).
_POPCOUNT_TABLE = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)

# Entries of one chunk's (n_queries, n_database) distance matrix: chunks of
# about 4M entries keep the temporaries of a search within a few tens of MB.
_CHUNK_ENTRIES = 1 << 22


def _popcount(words):
    """Number of set bits of each unsigned integer in ``words``."""
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(words)
    as_bytes = words.view(np.uint8).reshape(*words.shape, words.itemsize)
    return _POPCOUNT_TABLE[as_bytes].sum(axis=-1, dtype=np.uint16)


def _as_words(packed):
    """Packed uint8 rows as uint64 words, zero-padded to a multiple of 8 bytes.

    The padding is zero in every row, so it never adds to a distance.
    """
    n_rows, n_bytes = packed.shape
    n_words = -(-n_bytes // 8)
    words = np.zeros((n_rows, n_words * 8), dtype=np.uint8)
    words[:, :n_bytes] = packed
    return words.view(np.uint64)


def _check_packed(codes, name):
    codes = np.asarray(codes)
    if codes.dtype != np.uint8 or codes.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of uint8 bit-packed codes (as returned "
            "by np.packbits(bits, axis=1) or BinaryAutoEncoder.transform_packed), "
            f"got dtype {codes.dtype} and shape {codes.shape}."
        )
    return np.ascontiguousarray(codes)


class HammingIndex:
    """Exact nearest-neighbour search on packed binary codes, by Hamming distance.

    The distance between two codes is the number of bits in which they
    differ. The index keeps the database's codes packed (8 bytes per row for
    64-bit codes) and computes distances with XOR and popcount on 64-bit
    words, vectorised over a chunk of queries at a time, so memory stays
    bounded whatever the database size; the ``n_neighbors`` nearest are
    selected with ``np.argpartition`` and then sorted. On a GPU
    (``device='cuda'``) the same is done with torch.

    Parameters
    ----------
    device : str or None, default=None
        None searches with NumPy on the host. A torch device (``'cpu'``,
        ``'cuda'``, ``'cuda:N'``) searches with torch there; the database is
        moved to the device once, in :meth:`fit`.
    chunk_size : int or None, default=None
        Queries per chunk; None chooses it so that a chunk's distance matrix
        has about four million entries.

    Attributes
    ----------
    n_samples_fit_ : int
        Number of codes in the database.
    n_bytes_ : int
        Bytes per packed code.

    See Also
    --------
    BinaryAutoEncoder : Learns the binary codes.
    sklearn.neighbors.NearestNeighbors : General nearest neighbours.

    Notes
    -----
    Ties are broken by database index: among codes at the same distance,
    lower indices come first, so results are deterministic and equal a
    stable sort of the full distance matrix.

    For small sets the scikit-learn route works on unpacked bits:
    ``NearestNeighbors(metric="hamming").fit(bits).kneighbors(query_bits)``,
    where ``bits = np.unpackbits(packed, axis=1)``, returns the *fraction*
    of differing bits (multiply by the number of bits to get the distances
    here). It computes distances in float64 on one value per bit, 64 times
    the memory of packed codes, and is much slower on large databases (see
    ``benchmarks/hamming_search.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from skae import HammingIndex
    >>> bits = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=np.uint8)
    >>> index = HammingIndex().fit(np.packbits(bits, axis=1))
    >>> distances, indices = index.kneighbors(np.packbits(bits[:1], axis=1), 2)
    >>> distances, indices
    (array([[0, 1]]), array([[0, 1]]))
    """

    def __init__(self, device=None, chunk_size=None):
        self.device = device
        self.chunk_size = chunk_size

    def fit(self, X, y=None):
        """Store the database codes.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_bytes), dtype=uint8
            Bit-packed codes, as returned by
            :meth:`BinaryAutoEncoder.transform_packed` or
            ``np.packbits(bits, axis=1)``.
        y : None
            Ignored.

        Returns
        -------
        self : HammingIndex
            The index.
        """
        X = _check_packed(X, "X")
        if X.shape[0] < 1:
            raise ValueError("X must hold at least one code.")
        self.n_samples_fit_, self.n_bytes_ = X.shape
        if self.device is None:
            self._database = _as_words(X)
        else:
            import torch

            self._database = torch.as_tensor(X, device=self.device)
            self._table = torch.as_tensor(_POPCOUNT_TABLE, device=self.device)
        return self

    def kneighbors(self, X=None, n_neighbors=10, return_distance=True):
        """Find the ``n_neighbors`` nearest database codes of each query.

        Parameters
        ----------
        X : ndarray of shape (n_queries, n_bytes), dtype=uint8, default=None
            Bit-packed query codes. None queries every database code and
            leaves the code itself out of its neighbours, as
            :meth:`sklearn.neighbors.NearestNeighbors.kneighbors` does.
        n_neighbors : int, default=10
            Number of neighbours per query.
        return_distance : bool, default=True
            Whether to return the distances too.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), dtype=int64
            Hamming distances (numbers of differing bits), ascending. Only
            with ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors), dtype=int64
            Database indices of the neighbours; ties in order of index.
        """
        if not hasattr(self, "n_samples_fit_"):
            raise NotFittedError(
                "This HammingIndex is not fitted yet; call fit with the database "
                "codes first."
            )
        leave_out = X is None
        n_available = self.n_samples_fit_ - leave_out
        if not isinstance(n_neighbors, Integral) or not 1 <= n_neighbors <= (
            n_available
        ):
            raise ValueError(
                f"n_neighbors must be an integer in [1, {n_available}], got "
                f"{n_neighbors!r}."
            )
        if leave_out:
            queries = self._database
        else:
            X = _check_packed(X, "X")
            if X.shape[1] != self.n_bytes_:
                raise ValueError(
                    f"X has {X.shape[1]} bytes per code, but the index was "
                    f"fitted on codes of {self.n_bytes_} bytes."
                )
            queries = X
        if self.device is None:
            if not leave_out:
                queries = _as_words(queries)
            distances, indices = self._search_numpy(queries, n_neighbors, leave_out)
        else:
            distances, indices = self._search_torch(queries, n_neighbors, leave_out)
        return (distances, indices) if return_distance else indices

    def _chunk_size(self):
        if self.chunk_size is not None:
            return int(self.chunk_size)
        return max(1, _CHUNK_ENTRIES // self.n_samples_fit_)

    def _search_numpy(self, queries, k, leave_out):
        database, n = self._database, self.n_samples_fit_
        n_queries = queries.shape[0]
        distances = np.empty((n_queries, k), dtype=np.int64)
        indices = np.empty((n_queries, k), dtype=np.int64)
        # Distance and index in one int64 key: unique, so the top k by key
        # are exactly the k nearest with ties broken by index.
        positions = np.arange(n, dtype=np.int64)
        n_bits_max = 8 * self.n_bytes_ + 1
        step = self._chunk_size()
        for start in range(0, n_queries, step):
            chunk = queries[start : start + step]
            dist = np.zeros((chunk.shape[0], n), dtype=np.int64)
            for w in range(database.shape[1]):
                dist += _popcount(chunk[:, w, None] ^ database[None, :, w])
            if leave_out:
                rows = np.arange(chunk.shape[0])
                dist[rows, start + rows] = n_bits_max
            key = dist * n + positions
            if k < n:
                top = np.argpartition(key, k - 1, axis=1)[:, :k]
                key = np.take_along_axis(key, top, axis=1)
            key.sort(axis=1)
            distances[start : start + step] = key // n
            indices[start : start + step] = key % n
        return distances, indices

    def _search_torch(self, queries, k, leave_out):
        import torch

        database, n = self._database, self.n_samples_fit_
        if not leave_out:
            queries = torch.as_tensor(queries, device=database.device)
        n_queries = queries.shape[0]
        positions = torch.arange(n, dtype=torch.int64, device=database.device)
        n_bits_max = 8 * self.n_bytes_ + 1
        step = self._chunk_size()
        out = []
        for start in range(0, n_queries, step):
            chunk = queries[start : start + step]
            dist = torch.zeros(
                (chunk.shape[0], n), dtype=torch.int64, device=chunk.device
            )
            for b in range(self.n_bytes_):
                xor = torch.bitwise_xor(chunk[:, b, None], database[None, :, b])
                dist += self._table[xor.long()]
            if leave_out:
                rows = torch.arange(chunk.shape[0], device=chunk.device)
                dist[rows, start + rows] = n_bits_max
            key = dist * n + positions
            key = torch.topk(key, k, dim=1, largest=False, sorted=True).values
            out.append(key)
        key = torch.cat(out).cpu().numpy()
        return key // n, key % n


def precision_at_k(
    codes, labels, k=10, queries=None, query_labels=None, metric="euclidean"
):
    """Mean fraction of each query's ``k`` retrieved items that share its label.

    ``precision@k = mean over queries q of |{retrieved i : labels[i] ==
    label(q)}| / k``, where the retrieved items are the ``k`` nearest
    database items of ``q``. With ``queries=None`` every database item is a
    query in turn and is left out of its own neighbours (leave-one-out).

    Parameters
    ----------
    codes : HammingIndex or ndarray of shape (n_samples, n_codes)
        The database: a fitted :class:`HammingIndex`; packed binary codes
        (uint8, searched by Hamming distance); or real-valued codes of any
        other dtype, searched by
        :class:`~sklearn.neighbors.NearestNeighbors` with ``metric``.
    labels : array-like of shape (n_samples,)
        Label of each database item.
    k : int, default=10
        Number of items retrieved per query.
    queries : ndarray of shape (n_queries, n_codes), default=None
        Query codes, of the same kind as the database; None means
        leave-one-out over the database.
    query_labels : array-like of shape (n_queries,), default=None
        Label of each query; required with ``queries``.
    metric : str, default='euclidean'
        Distance for real-valued codes (e.g. ``'cosine'``); ignored for
        binary codes, which use the Hamming distance.

    Returns
    -------
    precision : float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skae import precision_at_k
    >>> codes = np.array([[0.0], [0.1], [5.0], [5.2]])
    >>> precision_at_k(codes, [0, 0, 1, 0], k=1)
    0.5
    """
    labels = np.asarray(labels)
    if queries is not None and query_labels is None:
        raise ValueError("query_labels is required with queries.")
    query_labels = labels if queries is None else np.asarray(query_labels)
    index = _search_index(codes, metric)
    neighbors = index.kneighbors(queries, k, return_distance=False)
    if len(neighbors) != len(query_labels):
        raise ValueError(
            f"Got {len(neighbors)} queries but {len(query_labels)} query labels."
        )
    return float(np.mean(labels[neighbors] == query_labels[:, None]))


def _search_index(codes, metric):
    """``codes`` as a fitted search: Hamming for packed bits, else ``metric``."""
    if isinstance(codes, HammingIndex):
        return codes
    if np.asarray(codes).dtype == np.uint8:
        return HammingIndex().fit(codes)
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(metric=metric).fit(codes)
