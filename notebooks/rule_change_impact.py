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
# # Rule-change impact
#
# What would a change of the tier rules do? Two or more schemes run on the same data; the first
# is the baseline. Who moves up or down, revenue and benefit cost per tier, the customers most
# affected and why, how stable the tiers are, which scheme's tiers predict spend better, and how
# tier sizes move as one threshold varies. `metrics.json` and the tables go to `out_dir`.
#
# Everything is shown through `page` (a `study.ReportPage`), in the report's language (`lang`),
# with no code, paths or Python warnings in it. This cell is left out of the report.
# Run it as a report with `tierlab report impact` (parameters with `-p`, `-y` or `-f`).

# %%
from typing import Optional

import matplotlib.pyplot as plt

import tierlab as tl
from tierlab import plots, study

threads = study.limit_threads(1)

# %% tags=["parameters"]
# Input paths: absolute, or relative to the working directory, else to the project root.
transactions: str = "data/sample/transactions.csv"  # transaction log (.csv, .txt, .tsv, .xlsx, .parquet)
columns: Optional[dict[str, str]] = None  # canonical name -> header in the file, e.g. {"customer_id": "客户ID"}; None: recognised headers
date_format: Optional[str] = None  # date format tried first, e.g. "%d/%m/%Y"; None: ISO, 2025/3/1, 2025年3月1日 ...
customers: Optional[str] = "data/sample/customers.csv"  # customer table (for attribute conditions and satisfaction) or None; the sample's table is used with the sample's transactions only
schemes: list[str] = ["data/rules/monthly_spend.yaml", "data/rules/monthly_spend_strict.yaml"]  # scheme files, the baseline first
as_of: Optional[str] = None  # study date YYYY-MM-DD (later data is ignored); None: the last date in the data
holdout_months: int = 6  # months held out to test which scheme's tiers predict spend; 0 skips it
sweep: Optional[str] = None  # YAML path of the baseline setting to sweep, e.g. "tiers[2].when.value"; None: the top tier's threshold
sweep_values: Optional[list[float]] = None  # values to try; None: 50% to 150% of the baseline's value
top: int = 20  # how many of the most affected customers to list
lang: str = "en"  # report language: "en" (English) or "zh" (Chinese)
out_dir: str = "reports/notebooks/impact"  # metrics.json and tables (relative: to the project root)

# %%
page = study.start_report(lang)  # warnings become notes in the report's language
data = study.load_study_data(transactions, columns=columns, date_format=date_format,
                             customers=customers, as_of=as_of)
tx, cust = data.transactions, data.customers
names = study.scheme_names(schemes)
scheme_files = {n: study.resolve_input(p, what="scheme") for n, p in zip(names, schemes, strict=True)}
tier_schemes = {n: tl.TierScheme.from_yaml(path) for n, path in scheme_files.items()}
baseline = names[0]
page.use_scheme(tier_schemes[baseline])
out = study.resolve_output(out_dir)
comparison = tl.compare_schemes(tier_schemes, tx, customers=cust,
                                holdout_months=holdout_months or None, top=top)
page.title("title_impact")
warnings_found = study.study_warnings(data, comparison.histories[baseline], page)
page.summary(study.impact_summary(comparison, tx, data.load.summary, data.as_of, lang,
                                  warnings=warnings_found))

# %% [markdown] tags=["remove_cell"]
# ## 1. The schemes

# %%
page.heading("h_schemes", 1)
for n, s in tier_schemes.items():
    page.markdown(f"**{n}** — {s.name}")
    page.show(page.table(study.scheme_table(s, lang)))

# %% [markdown] tags=["remove_cell"]
# ## 2. What changes for whom

# %%
page.heading("h_who_changes", 2)
study.write_table(out, "movement", comparison.movement)
page.table(comparison.movement)

# %%
fig, axes = plt.subplots(1, len(names) - 1, figsize=(6.5 * (len(names) - 1), 4.8), squeeze=False)
for ax, (other, matrix) in zip(axes[0], comparison.migration.items(), strict=True):
    plots.plot_migration(matrix, ax=ax)
    ax.set_title(f"{baseline} → {other}")
    study.write_table(out, f"migration_{other}", matrix)
page.figure(fig)

# %% [markdown] tags=["remove_cell"]
# ## 3. Revenue and benefit cost per tier

# %%
page.heading("h_revenue_cost", 3)
page.say("p_revenue_cost")
study.write_table(out, "revenue_cost", comparison.revenue_cost, index=False)
page.table(comparison.revenue_cost)

# %%
fig, axes = plt.subplots(1, 3, figsize=(18, 4.5))
for ax, value in zip(axes, ("customers", "revenue_share", "benefit_cost"), strict=True):
    plots.plot_scheme_comparison(comparison, value=value, ax=ax)
page.figure(fig)

# %% [markdown] tags=["remove_cell"]
# ## 4. The customers most affected

# %%
page.heading("h_affected", 4)
study.write_table(out, "affected", comparison.affected, index=False)
page.table(study.affected_in(comparison, lang), empty="empty_affected")

# %% [markdown] tags=["remove_cell"]
# ## 5. Stability and predictive validity

# %%
page.heading("h_stability", 5)
study.write_table(out, "stability", comparison.stability)
page.table(comparison.stability)

# %%
study.write_table(out, "validity", comparison.validity)
page.table(comparison.validity) if len(comparison.validity) else page.say("p_no_holdout")

# %%
if comparison.validities:
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4.2), squeeze=False)
    for ax, (n, v) in zip(axes[0], comparison.validities.items(), strict=True):
        plots.plot_holdout(v, ax=ax)
        ax.set_title(f"{n}: {ax.get_title()}")
    page.figure(fig)

# %% [markdown] tags=["remove_cell"]
# ## 6. Threshold sweep

# %%
page.heading("h_sweep", 6)
sweep_path = sweep or study.default_sweep(tier_schemes[baseline])
sweep_name = study.sweep_label(tier_schemes[baseline], sweep_path, lang)
current_value = tier_schemes[baseline].get_value(sweep_path)
values = sweep_values or study.sweep_values(current_value)
sweep_table = tl.threshold_sweep(tier_schemes[baseline], sweep_path, values, tx, customers=cust)
study.write_table(out, "threshold_sweep", sweep_table, index=False)
page.say("p_sweep", setting=sweep_name, baseline=baseline)
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5))
plots.plot_threshold_sweep(sweep_table, current=current_value, xlabel=sweep_name, ax=axes[0])
plots.plot_threshold_sweep(sweep_table, value="revenue_share", current=current_value,
                           xlabel=sweep_name, ax=axes[1])
page.figure(fig)

# %%
sweep_sizes = sweep_table.pivot(index="value", columns="tier", values="customers")
sweep_sizes.index.name = sweep_name
page.table(sweep_sizes)

# %%
metrics = comparison.to_dict()
metrics["parameters"] = {"transactions": transactions, "columns": columns,
                         "date_format": date_format, "customers": customers,
                         "schemes": schemes, "as_of": as_of, "holdout_months": holdout_months,
                         "sweep": sweep, "sweep_values": sweep_values, "top": top, "lang": lang}
metrics["as_of"] = data.as_of
metrics["data"] = data.quality()
metrics["warnings"] = warnings_found
metrics["sweep"] = {"path": sweep_path, "label": sweep_name, "current": current_value,
                    "table": sweep_table}
study.write_metrics(out, metrics)
page.say("p_files", files=", ".join(p.name for p in sorted(out.iterdir())
                                    if p.suffix in (".csv", ".json")))
