"""Customer segmentation by clustering scaled (log) RFM features with scikit-learn.

:func:`cluster_customers` fits ``log1p -> StandardScaler -> KMeans`` (or ``GaussianMixture``) on
the per-customer frame of :func:`tierlab.features.rfm`, chooses the number of clusters by the
silhouette score when asked to (preferring three or more clusters, see :func:`choose_k`),
measures how stable the clusters are under bootstrap refits, and describes every cluster in
business terms. It scales: models are fitted on a random sample of at most ``fit_sample``
customers and the silhouette is scored on ``sample_size`` of them, so a million customers
cluster in seconds; every customer is then labelled by the fitted model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import check_random_state

from tierlab.errors import ArgumentError, DataError, did_you_mean

__all__ = ["ClusterResult", "choose_k", "cluster_customers", "log1p_clipped"]

DEFAULT_CLUSTER_COLUMNS = ("recency_days", "frequency", "monetary_total")
METHODS = ("kmeans", "gmm")
MIN_CUSTOMERS = 10
#: Smallest k :func:`choose_k` prefers, and the share of the best silhouette it must keep.
PREFERRED_MIN_K = 3
PREFERRED_TOLERANCE = 0.75

#: Business name per (high value, recently active, frequent) of a cluster's typical customer.
BUSINESS_NAMES: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "High value, active",
    (True, True, False): "Big spenders, recent",
    (True, False, True): "Lapsed loyal customers",
    (True, False, False): "Lapsed big spenders",
    (False, True, True): "Frequent, low spend",
    (False, True, False): "New / low value",
    (False, False, True): "Fading regulars",
    (False, False, False): "Lapsed low value",
}


def log1p_clipped(X):
    """``log(1 + max(X, 0))``: negative values (net refunds) count as zero."""
    return np.log1p(np.clip(X, 0, None))


@dataclass
class ClusterResult:
    """What :func:`cluster_customers` found.

    Attributes
    ----------
    labels : Series
        ``customer_id`` -> cluster id (int). Ids run 0..k-1 in order of mean
        ``monetary_total`` (0 = lowest).
    names : dict[int, str]
        Cluster id -> unique business name.
    profile : DataFrame
        One row per cluster: ``name``, ``customers``, ``share``, ``<column>_mean`` and
        ``<column>_median`` for each clustering column, ``revenue`` and ``revenue_share``
        (sum of ``monetary_total``; when the frame has that column).
    scores : DataFrame
        Indexed by ``k``: ``silhouette`` for every k tried and ``chosen``.
    k : int
        Number of clusters.
    pipeline : Pipeline
        Fitted ``log1p -> scale -> cluster``; ``pipeline.predict(features[columns])`` returns
        the same relabelled cluster ids.
    stability : dict
        ``ari_mean``, ``ari_sd`` (adjusted Rand index of ``n_bootstrap`` bootstrap refits against
        :attr:`labels`, on all customers; NaN without refits), ``n_bootstrap`` and ``ari`` (each
        refit's value).
    columns : tuple[str, ...]
        Clustering columns.
    """

    labels: pd.Series
    names: dict[int, str]
    profile: pd.DataFrame
    scores: pd.DataFrame
    k: int
    pipeline: Pipeline
    stability: dict = field(default_factory=dict)
    columns: tuple[str, ...] = DEFAULT_CLUSTER_COLUMNS

    @property
    def segments(self) -> pd.Series:
        """``customer_id`` -> cluster business name (categorical, in cluster id order)."""
        dtype = pd.CategoricalDtype([self.names[c] for c in sorted(self.names)])
        return self.labels.map(self.names).astype(dtype).rename("segment")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _model(method: str, k: int, seed: int) -> KMeans | GaussianMixture:
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=3, random_state=seed)
    return GaussianMixture(n_components=k, n_init=3, random_state=seed)


def _preprocessor() -> Pipeline:
    return Pipeline([
        ("log", FunctionTransformer(log1p_clipped, feature_names_out="one-to-one")),
        ("scale", StandardScaler()),
    ])


class _SilhouetteSample:
    """The silhouette of any labelling of one random sample of customers, from one distance pass.

    The sample is drawn once (as :func:`sklearn.metrics.silhouette_score` draws it with
    ``sample_size`` and ``random_state``: the first ``sample_size`` rows of a permutation) and
    the pairwise distances of its rows are computed once, block by block; each candidate k then
    costs one product of those distances with its cluster indicator matrix instead of a fresh
    pairwise-distance pass.
    """

    _BLOCK = 1024  # sample rows per distance block (1024 × 5000 floats: 40 MB)

    def __init__(self, Xt: np.ndarray, sample_size: int | None, seed: int):
        n = len(Xt)
        if sample_size is None or sample_size >= n:
            self.rows = np.arange(n)
        else:
            self.rows = check_random_state(seed).permutation(n)[:sample_size]
        self.X = np.asarray(Xt[self.rows], dtype="float64")

    def score(self, labels: np.ndarray) -> float:
        """Mean silhouette of the sample under *labels* (labels of the rows given at init)."""
        lab = np.asarray(labels)[self.rows]
        uniq, codes = np.unique(lab, return_inverse=True)
        n, k = len(lab), len(uniq)
        if not 2 <= k <= n - 1:
            return np.nan
        onehot = np.zeros((n, k))
        onehot[np.arange(n), codes] = 1.0
        sizes = onehot.sum(axis=0)
        sq = np.einsum("ij,ij->i", self.X, self.X)
        sums = np.empty((n, k))
        for lo in range(0, n, self._BLOCK):  # a loop over blocks of sample rows
            block = self.X[lo:lo + self._BLOCK]
            d2 = sq[lo:lo + self._BLOCK, None] - 2.0 * block @ self.X.T + sq[None, :]
            d2[np.arange(len(block)), np.arange(lo, lo + len(block))] = 0.0  # self-distance
            sums[lo:lo + self._BLOCK] = np.sqrt(np.maximum(d2, 0.0)) @ onehot
        own = sizes[codes] - 1.0
        a = np.divide(sums[np.arange(n), codes], own, out=np.zeros(n), where=own > 0)
        mean_other = sums / sizes
        mean_other[np.arange(n), codes] = np.inf
        b = mean_other.min(axis=1)
        s = np.divide(b - a, np.maximum(a, b), out=np.zeros(n), where=np.maximum(a, b) > 0)
        return float(np.mean(np.where(own > 0, s, 0.0)))  # singletons score 0, as in sklearn


def choose_k(scores: pd.Series, *, min_k: int = PREFERRED_MIN_K,
             tolerance: float = PREFERRED_TOLERANCE) -> int:
    """The number of clusters to use, given the silhouette score of each candidate k.

    The rule prefers segmentations that say something: k = 2 on customer data mostly splits
    one-time from repeat buyers, which everyone knows already. So the best-scoring k among
    ``k >= min_k`` is chosen when its silhouette is at least ``tolerance`` times the best
    silhouette of all candidates; only when every k >= ``min_k`` scores clearly worse (the data
    show no structure beyond two groups) does the overall best win. Ties go to the smaller k.

    Parameters
    ----------
    scores : Series
        Silhouette (higher is better; NaN = not scorable) indexed by k.
    min_k : int
        Smallest preferred number of clusters.
    tolerance : float
        Share of the best silhouette a preferred k must reach.

    Returns
    -------
    int

    Examples
    --------
    >>> choose_k(pd.Series({2: 0.60, 3: 0.50, 4: 0.55}))
    4
    >>> choose_k(pd.Series({2: 0.60, 3: 0.30, 4: 0.35}))
    2
    """
    valid = scores.dropna()
    ks = valid.index.to_numpy(dtype="int64")
    values = valid.to_numpy(dtype="float64")
    preferred = ks >= min_k
    if preferred.any() and values[preferred].max() >= tolerance * values.max():
        return int(ks[preferred][np.argmax(values[preferred])])
    return int(ks[np.argmax(values)])


def _relabel(model: KMeans | GaussianMixture, order: np.ndarray) -> None:
    """Permute the fitted components so that new id ``i`` is old id ``order[i]``."""
    if isinstance(model, KMeans):
        model.cluster_centers_ = model.cluster_centers_[order]
        model.labels_ = np.argsort(order)[model.labels_]
    else:
        for attr in ("weights_", "means_", "covariances_", "precisions_",
                     "precisions_cholesky_"):
            setattr(model, attr, getattr(model, attr)[order])


def _business_names(features: pd.DataFrame, labels: pd.Series,
                    columns: Sequence[str]) -> dict[int, str]:
    """Name each cluster by its median customer against the overall medians.

    With ``recency_days``, ``frequency`` and ``monetary_total`` in *features*: high value =
    cluster median spend above the overall median; active = median recency below the overall
    median; frequent = median orders above the overall median (see :data:`BUSINESS_NAMES`).
    Otherwise "high x, low y" over *columns*. Repeated names get " 1", " 2", ... in cluster id
    order.
    """
    rfm = ("monetary_total", "recency_days", "frequency")
    cols = list(rfm) if set(rfm) <= set(features.columns) else list(columns)
    medians = features[cols].groupby(labels).median()
    overall = features[cols].median()
    above = medians.gt(overall)
    if cols == list(rfm):
        active = medians["recency_days"].lt(overall["recency_days"])
        raw = {c: BUSINESS_NAMES[(bool(above.at[c, "monetary_total"]), bool(active[c]),
                                  bool(above.at[c, "frequency"]))]
               for c in medians.index}
    else:
        raw = {c: ", ".join(f"{'high' if above.at[c, col] else 'low'} {col}" for col in cols)
               for c in medians.index}
    counts = pd.Series(raw).value_counts()
    seen: dict[str, int] = {}
    names = {}
    for c in sorted(raw):
        name = raw[c]
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            name = f"{name} {seen[name]}"
        names[int(c)] = name
    return names


def _profile(features: pd.DataFrame, labels: pd.Series, names: dict[int, str],
             columns: Sequence[str]) -> pd.DataFrame:
    grouped = features.groupby(labels)
    profile = pd.DataFrame({"name": pd.Series(names), "customers": grouped.size()})
    profile["share"] = profile["customers"] / len(features)
    stats = grouped[list(columns)].agg(["mean", "median"])
    stats.columns = ["_".join(map(str, pair)) for pair in stats.columns.to_flat_index()]
    profile = profile.join(stats)
    if "monetary_total" in features.columns:
        revenue = grouped["monetary_total"].sum()
        total = features["monetary_total"].sum()
        profile["revenue"] = revenue
        profile["revenue_share"] = revenue / total if total != 0 else np.nan
    profile.index.name = "cluster"
    return profile


def _check_args(features, k, columns, k_range, method, sample_size, n_bootstrap):
    if not isinstance(features, pd.DataFrame):
        raise DataError(f"cluster_customers: expected the per-customer DataFrame from "
                        f"tierlab.rfm, got {type(features).__name__}")
    if method not in METHODS:
        raise ArgumentError(f"cluster_customers: unknown method {method!r}; use 'kmeans' or "
                          f"'gmm'{did_you_mean(str(method), METHODS)}")
    columns = tuple(columns)
    if not columns:
        raise ArgumentError("cluster_customers: columns must name at least one feature column")
    for col in columns:
        if col not in features.columns:
            raise DataError(f"cluster_customers: column {col!r} is missing"
                            f"{did_you_mean(col, map(str, features.columns))}; the frame has "
                            f"{', '.join(map(str, features.columns))}")
    if k == "auto":
        ks = sorted({int(v) for v in k_range})
        if not ks or ks[0] < 2:
            raise ArgumentError(f"cluster_customers: k_range must hold cluster counts >= 2, got "
                              f"{list(k_range)!r}")
    elif isinstance(k, int | np.integer) and not isinstance(k, bool) and k >= 2:
        ks = [int(k)]
    else:
        raise ArgumentError(f"cluster_customers: k must be 'auto' or an integer >= 2, got {k!r}")
    if sample_size is not None and (not isinstance(sample_size, int | np.integer)
                                    or sample_size < 2):
        raise ArgumentError(f"cluster_customers: sample_size must be an integer >= 2 or None, "
                          f"got {sample_size!r}")
    if not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 0:
        raise ArgumentError(f"cluster_customers: n_bootstrap must be an integer >= 0, got "
                          f"{n_bootstrap!r}")
    n = len(features)
    if n < MIN_CUSTOMERS:
        raise DataError(f"cluster_customers: {n} customers are too few to cluster; at least "
                        f"{MIN_CUSTOMERS} are needed")
    if ks[-1] >= n:
        raise DataError(f"cluster_customers: {n} customers are too few for k={ks[-1]}; pass a "
                        f"smaller k or k_range (each cluster count must be below the number of "
                        f"customers)")
    if features.index.has_duplicates:
        dup = features.index[features.index.duplicated()][0]
        raise DataError(f"cluster_customers: customer {dup!r} appears more than once in the "
                        f"index; pass one row per customer (tierlab.rfm)")
    X = features[list(columns)]
    try:
        X = X.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"cluster_customers: columns {list(columns)} must be numeric "
                        f"({exc})") from None
    bad = ~np.isfinite(X.to_numpy())
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"cluster_customers: column {columns[col]!r} has missing or infinite "
                        f"values (first: customer {features.index[row]!r}); fill or drop them "
                        f"first")
    return X, columns, ks


# --------------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------------
def cluster_customers(
    features: pd.DataFrame,
    k: int | str = "auto",
    *,
    columns: Sequence[str] = DEFAULT_CLUSTER_COLUMNS,
    k_range: Sequence[int] = range(2, 9),
    method: str = "kmeans",
    sample_size: int | None = 5000,
    fit_sample: int | None = 20_000,
    n_bootstrap: int = 10,
    stability_sample: int | None = 100_000,
    random_state: int | None = 0,
) -> ClusterResult:
    """Cluster customers on log-scaled RFM features and describe the clusters.

    Parameters
    ----------
    features : DataFrame
        One row per customer (index ``customer_id``), e.g. :func:`tierlab.features.rfm`.
    k : int or "auto", default "auto"
        Number of clusters; ``"auto"`` picks one of *k_range* by the silhouette score with
        :func:`choose_k` (the best k >= 3 unless it scores below 75% of the best overall).
    columns : sequence of str
        Feature columns to cluster on. Each is transformed by ``log(1 + max(x, 0))`` (negative
        net spend counts as zero) and standardized.
    k_range : sequence of int, default range(2, 9)
        Candidates for ``k="auto"``.
    method : {"kmeans", "gmm"}, default "kmeans"
        ``KMeans(n_init=3)`` or ``GaussianMixture(n_init=3)`` (full covariances).
    sample_size : int or None, default 5000
        Customers drawn at random for each silhouette score (the score is quadratic in the
        sample); None scores all customers.
    fit_sample : int or None, default 20,000
        Customers drawn at random to fit the clustering (and each bootstrap refit); every
        customer is then labelled by the fitted model. None fits on all customers.
    n_bootstrap : int, default 10
        Bootstrap refits for :attr:`ClusterResult.stability`; 0 skips them.
    stability_sample : int or None, default 100,000
        Customers drawn at random (once) on whom each refit's labels are compared with the
        final labels; None compares all customers.
    random_state : int or None, default 0
        Seed for the clustering, the silhouette sample and the bootstrap.

    Returns
    -------
    ClusterResult

    Raises
    ------
    DataError
        Fewer than 10 customers or not more customers than clusters, missing columns or
        non-finite values.
    ArgumentError
        Invalid *k*, *k_range*, *method*, *sample_size* or *n_bootstrap*.

    Notes
    -----
    The preprocessing (log, scaling) is fitted once; the clustering for each candidate k is fitted
    on the ``fit_sample`` customers and scored on one random sample of ``sample_size`` of them
    (the same for every k). Cluster ids are
    relabelled by mean ``monetary_total`` (0 = lowest; by the first column when the frame has no
    ``monetary_total``), so results are stable across runs and methods. Stability: each refit
    draws ``fit_sample`` customers with replacement, refits the whole pipeline with a fresh seed
    (one initialisation) and labels the ``stability_sample`` customers; the adjusted Rand index
    against their final labels does not depend on ids.
    :attr:`ClusterResult.stability` also reports ``stable`` (mean ARI >= 0.8).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> feats = pd.DataFrame({
    ...     "recency_days": np.r_[rng.integers(1, 10, 30), rng.integers(200, 300, 30),
    ...                           rng.integers(40, 60, 30)],
    ...     "frequency": np.r_[rng.integers(10, 20, 30), rng.integers(1, 3, 30),
    ...                        rng.integers(4, 6, 30)],
    ...     "monetary_total": np.r_[rng.uniform(2000, 4000, 30), rng.uniform(20, 60, 30),
    ...                             rng.uniform(300, 500, 30)]},
    ...     index=pd.Index([f"C{i:02d}" for i in range(90)], name="customer_id"))
    >>> res = cluster_customers(feats, n_bootstrap=3)
    >>> res.k, res.names
    (3, {0: 'Lapsed low value 1', 1: 'Lapsed low value 2', 2: 'High value, active'})
    >>> res.profile["customers"].tolist()
    [30, 30, 30]
    """
    X, columns, ks = _check_args(features, k, columns, k_range, method, sample_size, n_bootstrap)
    if fit_sample is not None and (not isinstance(fit_sample, int | np.integer)
                                   or fit_sample < MIN_CUSTOMERS):
        raise ArgumentError(f"cluster_customers: fit_sample must be an integer >= "
                            f"{MIN_CUSTOMERS} or None, got {fit_sample!r}")
    if stability_sample is not None and (not isinstance(stability_sample, int | np.integer)
                                         or stability_sample < MIN_CUSTOMERS):
        raise ArgumentError(f"cluster_customers: stability_sample must be an integer >= "
                            f"{MIN_CUSTOMERS} or None, got {stability_sample!r}")
    rng = check_random_state(random_state)
    seed, sample_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
    n_fit = len(X) if fit_sample is None else min(len(X), int(fit_sample))

    prep = _preprocessor().fit(X)
    Xt = prep.transform(X)
    fit_rows = (np.arange(len(X)) if n_fit == len(X)
                else np.sort(rng.choice(len(X), size=n_fit, replace=False)))
    Xfit = Xt[fit_rows]
    rows, models = [], {}
    silhouette = _SilhouetteSample(Xfit, sample_size, sample_seed)
    for n_clusters in ks:  # loop over candidate k
        model = _model(method, n_clusters, seed).fit(Xfit)
        labels = model.predict(Xfit)
        models[n_clusters] = model
        rows.append((n_clusters, silhouette.score(labels)))
    scores = pd.DataFrame(rows, columns=["k", "silhouette"]).set_index("k")
    if scores["silhouette"].isna().all():
        raise DataError(f"cluster_customers: no k in {ks} splits the customers into at least two "
                        f"clusters (too many identical customers?)")
    best = choose_k(scores["silhouette"])
    scores["chosen"] = scores.index == best
    model = models[best]

    raw = pd.Series(model.predict(Xt), index=features.index)
    key = "monetary_total" if "monetary_total" in features.columns else columns[0]
    means = features[key].groupby(raw).mean().reindex(range(best))
    # empty components (possible with a mixture) sort last; ties keep the fitted order
    order = np.lexsort((np.arange(best), means.fillna(np.inf).to_numpy()))
    _relabel(model, order)
    labels = pd.Series(np.argsort(order)[raw.to_numpy()], index=features.index,
                       name="cluster", dtype="int64")
    pipeline = Pipeline([*prep.steps, ("cluster", model)])

    ari = []
    # agreement is measured on at most stability_sample customers (drawn once, the same for
    # every refit): the ARI of a large random sample estimates the ARI of all customers
    n_check = len(X) if stability_sample is None else min(len(X), int(stability_sample))
    check = (np.arange(len(X)) if n_check == len(X)
             else np.sort(rng.choice(len(X), size=n_check, replace=False)))
    X_check, labels_check = X.iloc[check], labels.to_numpy()[check]
    for _ in range(n_bootstrap):
        idx = rng.randint(0, len(X), size=n_fit)
        refit = clone(pipeline).set_params(cluster__random_state=int(rng.randint(2**31 - 1)),
                                           cluster__n_init=1)  # one start per refit: speed
        refit.fit(X.iloc[idx])
        ari.append(float(adjusted_rand_score(labels_check, refit.predict(X_check))))
    stability = {
        "ari_mean": float(np.mean(ari)) if ari else np.nan,
        "ari_sd": float(np.std(ari, ddof=1)) if len(ari) > 1 else np.nan,
        "n_bootstrap": int(n_bootstrap),
        "ari": tuple(ari),
        "stable": bool(ari) and float(np.mean(ari)) >= 0.8,
    }

    names = _business_names(features, labels, columns)
    profile = _profile(features, labels, names, columns)
    return ClusterResult(labels=labels, names=names, profile=profile, scores=scores, k=best,
                         pipeline=pipeline, stability=stability, columns=tuple(columns))
