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

# %% [markdown] tags=["remove_cell"]
# # Segmentation study
#
# Who the customers are and how the tier scheme sorts them: data quality, RFM scores and
# segments, clusters, tiers and how they move, revenue concentration, whether the tiers predict
# spend, rising stars and customers at risk, and tiers by region and industry. The tier
# management table (`tiers.xlsx`, contacts masked) and `metrics.json` are written to `out_dir`.
#
# Every figure comes from a `tierlab` function; the notebook only calls them, and shows
# everything through `page` (a `study.ReportPage`) so that the report reads in one language
# (`lang`) with no code, paths or Python warnings in it. This cell is left out of the report.
# Run it as a report with `tierlab report segmentation` (parameters with `-p`, `-y` or `-f`).

# %%
from typing import Optional

import matplotlib.pyplot as plt

import tierlab as tl
from tierlab import plots, study, study_dataset
from tierlab.io.export import mask_contacts

threads = study.limit_threads(1)  # scikit-learn's threads only slow small fits down on a busy machine

# %% tags=["parameters"]
# Input paths: absolute, or relative to the working directory, else to the project root.
transactions: str = "data/sample/transactions.csv"  # transaction log (.csv, .txt, .tsv, .xlsx, .parquet) or a dataset directory (tl.write_dataset)
sample_customers: int = 20000  # a dataset directory only: customers sampled for the sections that re-read transactions
columns: Optional[dict[str, str]] = None  # canonical name -> header in the file, e.g. {"customer_id": "客户ID"}; None: recognised headers
date_format: Optional[str] = None  # date format tried first, e.g. "%d/%m/%Y"; None: ISO, 2025/3/1, 2025年3月1日 ...
customers: Optional[str] = "data/sample/customers.csv"  # customer table (names, contacts, region, industry) or None; the sample's table is used with the sample's transactions only
scheme: str = "data/rules/monthly_spend.yaml"  # tier scheme (YAML)
register: Optional[str] = None  # a tier register (path or postgresql:// URL): report its committed tiers instead of running the scheme
as_of: Optional[str] = None  # study date YYYY-MM-DD (later data is ignored); None: the last date in the data
holdout_months: int = 6  # months held out to test whether tiers and potential models predict spend
lang: str = "en"  # report language: "en" (English) or "zh" (Chinese)
out_dir: str = "reports/notebooks/segmentation"  # metrics.json, tables and tiers.xlsx (relative: to the project root)

# %%
page = study.start_report(lang)  # warnings become notes in the report's language
tier_scheme = tl.TierScheme.from_yaml(study.resolve_input(scheme, what="scheme"))
if study_dataset.is_dataset(transactions):  # a dataset directory: partitioned passes + a sample
    data = study_dataset.load_dataset_study(transactions, tier_scheme, customers=customers,
                                            as_of=as_of, sample_customers=sample_customers,
                                            langs=(lang,))
    features, history = data.features, data.history
else:
    data = study.load_study_data(transactions, columns=columns, date_format=date_format,
                                 customers=customers, as_of=as_of)
    features = tl.rfm(data.transactions, as_of=data.as_of)
    history = None
tx, cust = data.transactions, data.customers
page.use_scheme(tier_scheme)
out = study.resolve_output(out_dir)
scorer = tl.RFMScorer(bins=5).fit(features)
history = (tl.Register(register).as_history() if register
           else history if history is not None else tier_scheme.run(tx, customers=cust))
if register:
    tier_scheme = history.scheme
metrics = {
    "parameters": {"transactions": transactions, "columns": columns, "date_format": date_format,
                   "customers": customers, "scheme": scheme, "as_of": as_of,
                   "holdout_months": holdout_months, "lang": lang, "register": register,
                   "sample_customers": sample_customers},
    "as_of": data.as_of,
}
page.title("title_segmentation")
warnings_found = study.study_warnings(data, history, page)
metrics["warnings"] = warnings_found
page.summary(study_dataset.segmentation_summary(data, history, lang, warnings=warnings_found,
                                                spend=features["monetary_total"]))
study_dataset.say_sample(page, data)

# %% [markdown] tags=["remove_cell"]
# ## 1. Data quality

# %%
page.heading("h_data", 1)
page.say("p_data")
rejected = study.rejected_by_reason(data.load)
study.write_table(out, "rejected_by_reason", rejected, index=False)
metrics["data"] = data.quality()
page.table(rejected, empty="empty_rejected")

# %%
if len(data.load.rejected):
    page.say("p_rejected_examples")
page.table(data.load.rejected.head(10), empty="empty_rejected")

# %%
page.say("p_customers" if cust is not None else "p_no_customers")
page.table(mask_contacts(cust).head(5)) if cust is not None else None

# %% [markdown] tags=["remove_cell"]
# ## 2. Recency, frequency and spend (RFM)

# %%
page.heading("h_rfm", 2)
page.say("p_rfm")
scored = scorer.transform(features)
segments = tl.assign_segments(scored)
study.plot_rfm_distributions(features)
page.figure()

# %%
page.table(study.score_ranges(scorer, lang))

# %%
segment_summary = study.segment_table(segments, features)
study.write_table(out, "rfm_segments", segment_summary)
metrics["rfm"] = {"customers": len(features), "segments": segment_summary["customers"],
                  "segment_revenue_share": segment_summary["revenue_share"]}
page.table(segment_summary)

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5))
plots.plot_rfm_heatmap(scored, agg="count", ax=axes[0])
plots.plot_rfm_heatmap(scored, value="monetary_total", ax=axes[1])
page.figure(fig)

# %% [markdown] tags=["remove_cell"]
# ## 3. Customer groups (clusters)

# %%
page.heading("h_clusters", 3)
clusters = tl.cluster_customers(features, random_state=0)
page.say("p_clusters", k=clusters.k)
study.write_table(out, "clusters", clusters.profile)
metrics["clusters"] = {"k": clusters.k,
                       "silhouette": clusters.scores.loc[clusters.k, "silhouette"],
                       "sizes": clusters.profile.set_index("name")["customers"],
                       "stability_ari": clusters.stability["ari_mean"]}
page.table(study.cluster_table(clusters, lang), index=False)

# %%
plots.plot_cluster_profiles(clusters)
page.figure()

# %% [markdown] tags=["remove_cell"]
# ## 4. Tiers under the scheme

# %%
page.heading("h_tiers", 4)
lint = tier_scheme.lint(history=history)
page.table(study.scheme_table(tier_scheme, lang))

# %%
current = history.current["tier"]
summary = study_dataset.tier_summary(data, current, customers=cust, features=features)
study.write_table(out, "tier_summary", summary)
metrics["scheme"] = {"name": tier_scheme.name, "tiers": tier_scheme.tier_names,
                     "review": tier_scheme.review, "lint": lint}
metrics["reviews"] = {"first": history.reviews[0], "last": history.reviews[-1],
                      "count": len(history.reviews)}
metrics["tiers"] = {"counts": summary["customers"], "summary": summary}
page.table(summary.iloc[::-1])

# %%
plots.plot_tier_distribution(summary)
page.figure()

# %% [markdown] tags=["remove_cell"]
# ## 5. Trend over the reviews

# %%
page.heading("h_trend", 5)
counts = study.tier_counts(history)
study.write_table(out, "tier_counts", counts)
plots.plot_tier_trend(history)
page.figure()

# %%
stab = tl.stability(history)
metrics["stability"] = stab.to_dict()
page.say("p_stability", changes=f"{stab.changes_per_customer_year:.2f}",
         window=stab.flicker_window, flicker=f"{stab.flicker_rate:.1%}",
         stay=f"{stab.mean_reviews_in_tier:.1f}")
page.table(stab.per_review.tail(12), index=False)

# %% [markdown] tags=["remove_cell"]
# ## 6. Moves between the last two reviews

# %%
page.heading("h_migration", 6)
previous_review, last_review = history.reviews[-min(2, len(history.reviews))], history.reviews[-1]
migration = tl.migration_matrix(history.at(previous_review), history.at(last_review))
study.write_table(out, "migration_last_review", migration)
metrics["migration"] = {"from": previous_review, "to": last_review, "matrix": migration}
page.say("p_migration", previous=previous_review.date(), last=last_review.date())
plots.plot_migration(migration)
page.figure()

# %%
changes = history.changes_in(lang)
last_changes = changes[changes["review"] == last_review].head(20)
page.say("p_changes" if len(last_changes) else "p_no_changes")
page.table(last_changes)

# %% [markdown] tags=["remove_cell"]
# ## 7. Revenue concentration

# %%
page.heading("h_concentration", 7)
conc = tl.concentration(features["monetary_total"], tiers=current)
metrics["concentration"] = conc.to_dict()
page.say("p_concentration", gini=f"{conc.gini:.2f}", top10=f"{conc.top_share[0.1]:.0%}",
         top20=f"{conc.top_share[0.2]:.0%}")
plots.plot_lorenz(conc)
page.figure()

# %% [markdown] tags=["remove_cell"]
# ## 8. Do the tiers predict spend?

# %%
page.heading("h_validity", 8)
page.say("p_validity_intro", months=holdout_months)
validity = study.tier_validity(tier_scheme, tx, customers=cust, as_of=data.as_of,
                               months=holdout_months,
                               history=None if register or study_dataset.is_dataset(transactions)
                               else history)  # reused: the run on the same tx
metrics["validity"] = validity.to_dict()
study.write_table(out, "holdout_validity", validity.per_tier)
page.say("p_validity", start=validity.start.date(), end=validity.end.date(),
         spearman=f"{validity.spearman:.2f}", ordered=page.words("yes" if validity.ordered else "no"),
         lift=f"{validity.top_tier_lift:.1f}")
page.table(validity.per_tier)

# %%
plots.plot_holdout(validity)
page.figure()

# %% [markdown] tags=["remove_cell"]
# ## 9. Potential and churn

# %%
page.heading("h_potential", 9)
cutoff = study.holdout_cutoff(tx, data.as_of, holdout_months)
evaluation = tl.evaluate_potential(tx, cutoff, data.as_of)
page.say("p_potential_models", cutoff=cutoff.date())
if evaluation.sampled:
    page.say("p_potential_sample", n=f"{evaluation.n_customers:,}",
             total=f"{evaluation.n_eligible:,}", cutoff=cutoff.date())
study.write_table(out, "potential_models", evaluation.metrics)
page.table(study.model_table(evaluation, lang))

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
plots.plot_calibration(evaluation, target="spend", ax=axes[0])
plots.plot_calibration(evaluation, target="no_purchase", ax=axes[1])
page.figure(fig)

# %%
flags = study.potential_flags(study_dataset.in_sample(data, current), tx,  # dataset: the sample
                              tier_order=tier_scheme.tier_names, as_of=data.as_of,
                              horizon_days=(data.as_of - cutoff).days, lang=lang,
                              labels=tier_scheme.labels)
flagged = flags[flags["rising_star"] | flags["at_risk"]].sort_values("predicted_spend",
                                                                     ascending=False)
study.write_table(out, "potential_flags", flagged)
metrics["potential"] = {"cutoff": cutoff, "models": evaluation.metrics,
                        "rising_stars": flags["rising_star"].sum(),
                        "at_risk": flags["at_risk"].sum()}
page.say("p_potential", stars=f"{flags['rising_star'].sum():,}", risk=f"{flags['at_risk'].sum():,}")
page.table(study.flags_table(flagged), empty="empty_flags")

# %% [markdown] tags=["remove_cell"]
# ## 10. Tiers by region and industry

# %%
page.heading("h_cross", 10)
crosses = {by: study.tier_crosstab(current, cust, by, revenue=features["monetary_total"])
           for by in ("region", "industry") if cust is not None and by in cust.columns}
for by, table in crosses.items():
    study.write_table(out, f"tier_by_{by}", table)
    page.say("p_cross", by=page.column(by))
    page.show(page.table(table))
metrics["cross"] = {by: table["customers"] for by, table in crosses.items()}
page.say("p_no_customers") if not crosses else None

# %% [markdown] tags=["remove_cell"]
# ## 11. Tier management table

# %%
page.heading("h_table", 11)
table_path = study.export_tier_workbook(history, cust, out / "tiers.xlsx", lang)
metrics["files"] = sorted(p.name for p in out.iterdir()  # not the run's .running marker
                          if p.is_file() and not p.name.startswith(".")) + ["metrics.json"]
study.write_metrics(out, metrics)
page.say("p_table", file=table_path.name)
page.say("p_files", files=", ".join(f for f in metrics["files"] if not f.endswith(".ipynb")))
page.table(study.tier_table_in(history, cust, lang).head(15))
