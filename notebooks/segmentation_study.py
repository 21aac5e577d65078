# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Segmentation study
#
# Who the customers are and how the tier scheme sorts them: data quality, RFM scores and
# segments, clusters, tiers and how they move, revenue concentration, whether the tiers predict
# spend, rising stars and customers at risk, and tiers by region and industry. The tier
# management table (`tiers.xlsx`, contacts masked) and `metrics.json` are written to `out_dir`.
#
# Every figure comes from a `tierlab` function; the notebook only calls them. Run it as a
# report with `tierlab report segmentation` (parameters with `-p`, `-y` or `-f`).

# %%
from typing import Optional

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import tierlab as tl
from tierlab import plots, study
from tierlab.io.export import export_tier_table, mask_contacts, tier_table

study.limit_threads(1)  # scikit-learn's threads only slow small fits down on a busy machine
pd.set_option("display.max_columns", 40)
pd.set_option("display.float_format", "{:,.2f}".format)  # 1,234,567.89, no 1.2e+06

# %% tags=["parameters"]
# Input paths: absolute, or relative to the working directory, else to the project root.
transactions: str = "data/sample/transactions.csv"  # transaction log (.csv, .txt, .tsv, .xlsx, .parquet)
columns: Optional[dict[str, str]] = None  # canonical name -> header in the file, e.g. {"customer_id": "客户ID"}; None: recognised headers
date_format: Optional[str] = None  # date format tried first, e.g. "%d/%m/%Y"; None: ISO, 2025/3/1, 2025年3月1日 ...
customers: Optional[str] = "data/sample/customers.csv"  # customer table (names, contacts, region, industry) or None
scheme: str = "data/rules/monthly_spend.yaml"  # tier scheme (YAML)
as_of: Optional[str] = None  # study date YYYY-MM-DD (later data is ignored); None: the last date in the data
holdout_months: int = 6  # months held out to test whether tiers and potential models predict spend
out_dir: str = "reports/notebooks/segmentation"  # metrics.json, tables and tiers.xlsx (relative: to the project root)

# %%
data = study.load_study_data(transactions, columns=columns, date_format=date_format,
                             customers=customers, as_of=as_of)
tx, cust = data.transactions, data.customers
tier_scheme = tl.TierScheme.from_yaml(study.resolve_input(scheme, what="scheme"))
out = study.resolve_output(out_dir)
metrics = {
    "parameters": {"transactions": transactions, "columns": columns, "date_format": date_format,
                   "customers": customers, "scheme": scheme, "as_of": as_of,
                   "holdout_months": holdout_months},
    "as_of": data.as_of,
}
display(Markdown(f"**Study date:** {data.as_of.date()} · **scheme:** {tier_scheme.name} · "
                 f"**holdout:** {holdout_months} months"))

# %% [markdown]
# ## 1. Data quality
#
# Every row of the export is either used or set aside with a reason.

# %%
display(data.load)
rejected = study.rejected_by_reason(data.load)
display(rejected)
study.write_table(out, "rejected_by_reason", rejected, index=False)
metrics["data"] = data.quality()

# %% [markdown]
# The first rejected transaction rows, as read from the file:

# %%
data.load.rejected.head(10)

# %% [markdown]
# The customer table (contact details masked):

# %%
display(data.customer_load or Markdown("_No customer table given._"))
mask_contacts(cust).head(5) if cust is not None else None

# %% [markdown]
# ## 2. RFM: recency, frequency, monetary value
#
# Scores 1–5 per dimension (quantile cut points learned from these customers) and the classic
# RFM segments.

# %%
features = tl.rfm(tx, as_of=data.as_of)
scorer = tl.RFMScorer(bins=5).fit(features)
scored = scorer.transform(features)
segments = tl.assign_segments(scored)
study.plot_rfm_distributions(features)
plt.show()

# %%
scorer.edges_report()

# %%
segment_summary = study.segment_table(segments, features)
study.write_table(out, "rfm_segments", segment_summary)
metrics["rfm"] = {"customers": len(features), "segments": segment_summary["customers"],
                  "segment_revenue_share": segment_summary["revenue_share"]}
segment_summary

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5))
plots.plot_rfm_heatmap(scored, agg="count", ax=axes[0])
plots.plot_rfm_heatmap(scored, value="monetary_total", ax=axes[1])
plt.show()

# %% [markdown]
# ## 3. Clusters
#
# k-means on log-scaled RFM features; the number of clusters is the one with the best
# silhouette score, and each cluster is named after its typical customer.

# %%
clusters = tl.cluster_customers(features, random_state=0)
display(clusters.scores)
study.write_table(out, "clusters", clusters.profile)
metrics["clusters"] = {"k": clusters.k,
                       "silhouette": clusters.scores.loc[clusters.k, "silhouette"],
                       "sizes": clusters.profile.set_index("name")["customers"],
                       "stability_ari": clusters.stability["ari_mean"]}
clusters.profile

# %%
plots.plot_cluster_profiles(clusters)
plt.show()

# %% [markdown]
# ## 4. Tiers under the scheme

# %%
print(tier_scheme.describe())
history = tier_scheme.run(tx, customers=cust)
lint = tier_scheme.lint(history=history)
display(Markdown("\n".join(f"- ⚠ {w}" for w in lint) or "_No lint warnings._"))

# %%
current = history.current["tier"]
summary = tl.tier_summary(current, tx, customers=cust)
study.write_table(out, "tier_summary", summary)
metrics["scheme"] = {"name": tier_scheme.name, "tiers": tier_scheme.tier_names,
                     "review": tier_scheme.review, "lint": lint}
metrics["reviews"] = {"first": history.reviews[0], "last": history.reviews[-1],
                      "count": len(history.reviews)}
metrics["tiers"] = {"counts": summary["customers"], "summary": summary}
summary

# %%
plots.plot_tier_distribution(summary)
plt.show()

# %% [markdown]
# ## 5. Trend over the reviews

# %%
counts = study.tier_counts(history)
study.write_table(out, "tier_counts", counts)
plots.plot_tier_trend(history)
plt.show()

# %%
stab = tl.stability(history)
metrics["stability"] = stab.to_dict()
display(Markdown(f"Tier changes per customer per year: **{stab.changes_per_customer_year:.2f}**; "
                 f"customers flickering (A→B→A within {stab.flicker_window} reviews): "
                 f"**{stab.flicker_rate:.1%}**; average stay in a tier: "
                 f"**{stab.mean_reviews_in_tier:.1f}** reviews."))
stab.per_review.tail(12)

# %% [markdown]
# ## 6. Migration between the last two reviews

# %%
previous_review, last_review = history.reviews[-min(2, len(history.reviews))], history.reviews[-1]
migration = tl.migration_matrix(history.at(previous_review), history.at(last_review))
study.write_table(out, "migration_last_review", migration)
metrics["migration"] = {"from": previous_review, "to": last_review, "matrix": migration}
plots.plot_migration(migration)
plt.title(f"Tiers {previous_review.date()} → {last_review.date()}")
plt.show()

# %% [markdown]
# Changes at the last review, with the reason each customer would be given:

# %%
history.changes[history.changes["review"] == last_review].head(20)

# %% [markdown]
# ## 7. Revenue concentration

# %%
conc = tl.concentration(features["monetary_total"], tiers=current)
metrics["concentration"] = conc.to_dict()
display(Markdown(f"Gini **{conc.gini:.2f}**; the top 10 % of customers bring "
                 f"**{conc.top_share[0.1]:.0%}** of net revenue, the top 20 % "
                 f"**{conc.top_share[0.2]:.0%}**."))
plots.plot_lorenz(conc)
plt.show()

# %% [markdown]
# ## 8. Do the tiers predict spend? (holdout)
#
# The scheme runs on the data up to the cutoff; the tiers at the cutoff are scored against net
# spend in the holdout months after it.

# %%
validity = study.tier_validity(tier_scheme, tx, customers=cust, as_of=data.as_of,
                               months=holdout_months)
metrics["validity"] = validity.to_dict()
study.write_table(out, "holdout_validity", validity.per_tier)
display(Markdown(f"Holdout {validity.start.date()} – {validity.end.date()}: rank correlation of "
                 f"tier and spend **{validity.spearman:.2f}**; per-tier means rise with the "
                 f"tier: **{'yes' if validity.ordered else 'no'}**; top-tier lift "
                 f"**{validity.top_tier_lift:.1f}×**."))
display(validity.per_tier)
plots.plot_holdout(validity)
plt.show()

# %% [markdown]
# ## 9. Potential and churn
#
# BG/NBD (+ Gamma-Gamma), a supervised model and a naive "last window repeats" baseline predict
# the holdout from what was known at the cutoff; then the supervised model, retrained up to the
# study date, flags low-tier customers with high predicted spend (rising stars) and top-tier
# customers likely to stop buying (at risk).

# %%
cutoff = study.holdout_cutoff(tx, data.as_of, holdout_months)
evaluation = tl.evaluate_potential(tx, cutoff, data.as_of)
study.write_table(out, "potential_models", evaluation.metrics)
evaluation.metrics

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
plots.plot_calibration(evaluation, target="spend", ax=axes[0])
plots.plot_calibration(evaluation, target="no_purchase", ax=axes[1])
plt.show()

# %%
flags = study.potential_flags(current, tx, tier_order=tier_scheme.tier_names, as_of=data.as_of,
                              horizon_days=(data.as_of - cutoff).days)
flagged = flags[flags["rising_star"] | flags["at_risk"]].sort_values("predicted_spend",
                                                                     ascending=False)
study.write_table(out, "potential_flags", flagged)
metrics["potential"] = {"cutoff": cutoff, "models": evaluation.metrics,
                        "rising_stars": flags["rising_star"].sum(),
                        "at_risk": flags["at_risk"].sum()}
display(Markdown(f"**{flags['rising_star'].sum():,}** rising stars, **{flags['at_risk'].sum():,}** "
                 "top-tier customers at risk."))
flagged.head(20)

# %% [markdown]
# ## 10. Tiers by region and industry

# %%
crosses = {by: study.tier_crosstab(current, cust, by, revenue=features["monetary_total"])
           for by in ("region", "industry") if cust is not None and by in cust.columns}
for by, table in crosses.items():
    study.write_table(out, f"tier_by_{by}", table)
    display(Markdown(f"**Tier × {by}** (customers; share of all revenue)"), table)
metrics["cross"] = {by: table["customers"] for by, table in crosses.items()}

# %% [markdown]
# ## 11. Tier management table
#
# One row per customer: tier, since when, previous tier and the reason — contact details
# masked. The full table with a summary and the change history is in `tiers.xlsx`.

# %%
table_path = export_tier_table(history, cust, out / "tiers.xlsx")
metrics["files"] = sorted(p.name for p in out.iterdir() if p.is_file()) + ["metrics.json"]
study.write_metrics(out, metrics)
display(Markdown(f"Written to `{out}`: " + ", ".join(f"`{f}`" for f in metrics["files"])))
tier_table(history, cust).head(15)
