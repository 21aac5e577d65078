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
# # Rule-change impact
#
# What would a change of the tier rules do? Two or more schemes run on the same data; the first
# is the baseline. Who moves up or down, revenue and benefit cost per tier, the customers most
# affected and why, how stable the tiers are, which scheme's tiers predict spend better, and how
# tier sizes move as one threshold varies. `metrics.json` and the tables go to `out_dir`.
#
# Run it as a report with `tierlab report impact` (parameters with `-p`, `-y` or `-f`).

# %%
from typing import Optional

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import tierlab as tl
from tierlab import plots, study

study.limit_threads(1)
pd.set_option("display.max_columns", 40)
pd.set_option("display.max_colwidth", 120)
pd.set_option("display.float_format", "{:,.2f}".format)  # 1,234,567.89, no 1.2e+06

# %% tags=["parameters"]
# Input paths: absolute, or relative to the working directory, else to the project root.
transactions: str = "data/sample/transactions.csv"  # transaction log (.csv, .txt, .tsv, .xlsx, .parquet)
columns: Optional[dict[str, str]] = None  # canonical name -> header in the file, e.g. {"customer_id": "客户ID"}; None: recognised headers
date_format: Optional[str] = None  # date format tried first, e.g. "%d/%m/%Y"; None: ISO, 2025/3/1, 2025年3月1日 ...
customers: Optional[str] = "data/sample/customers.csv"  # customer table (for attribute conditions and satisfaction) or None
schemes: list[str] = ["data/rules/monthly_spend.yaml", "data/rules/monthly_spend_strict.yaml"]  # scheme files, the baseline first
as_of: Optional[str] = None  # study date YYYY-MM-DD (later data is ignored); None: the last date in the data
holdout_months: int = 6  # months held out to test which scheme's tiers predict spend; 0 skips it
sweep: Optional[str] = None  # YAML path of the baseline setting to sweep, e.g. "tiers[2].when.value"; None: the top tier's threshold
sweep_values: Optional[list[float]] = None  # values to try; None: 50% to 150% of the baseline's value
top: int = 20  # how many of the most affected customers to list
out_dir: str = "reports/notebooks/impact"  # metrics.json and tables (relative: to the project root)

# %%
data = study.load_study_data(transactions, columns=columns, date_format=date_format,
                             customers=customers, as_of=as_of)
tx, cust = data.transactions, data.customers
names = study.scheme_names(schemes)
scheme_files = {n: study.resolve_input(p, what="scheme") for n, p in zip(names, schemes, strict=True)}
tier_schemes = {n: tl.TierScheme.from_yaml(path) for n, path in scheme_files.items()}
out = study.resolve_output(out_dir)
comparison = tl.compare_schemes(tier_schemes, tx, customers=cust,
                                holdout_months=holdout_months or None, top=top)
baseline = names[0]

# %% [markdown]
# ## Summary

# %%
display(Markdown(comparison.summary_text()))
pd.DataFrame({"scheme": [s.name for s in tier_schemes.values()],
              "file": [str(p) for p in scheme_files.values()],
              "tiers": [" < ".join(s.tier_names) for s in tier_schemes.values()]},
             index=pd.Index(names, name="name"))

# %% [markdown]
# ## The schemes

# %%
for n, s in tier_schemes.items():
    print(f"[{n}] {s.describe()}\n")

# %% [markdown]
# ## Who moves
#
# Each customer's tier at the last review under each scheme, compared with the baseline.

# %%
study.write_table(out, "movement", comparison.movement)
comparison.movement

# %%
fig, axes = plt.subplots(1, len(names) - 1, figsize=(6.5 * (len(names) - 1), 4.8), squeeze=False)
for ax, (other, matrix) in zip(axes[0], comparison.migration.items(), strict=True):
    plots.plot_migration(matrix, ax=ax)
    ax.set_title(f"{baseline} → {other}")
    study.write_table(out, f"migration_{other}", matrix)
plt.show()

# %% [markdown]
# ## Revenue and benefit cost per tier
#
# Revenue: net spend (all data) of the customers in each tier at the last review. Benefit cost:
# members × the tier's `benefit_cost` per review × reviews per year.

# %%
study.write_table(out, "revenue_cost", comparison.revenue_cost, index=False)
comparison.revenue_cost.set_index(["scheme", "tier"])

# %%
fig, axes = plt.subplots(1, 3, figsize=(18, 4.5))
for ax, value in zip(axes, ("customers", "revenue_share", "benefit_cost"), strict=True):
    plots.plot_scheme_comparison(comparison, value=value, ax=ax)
plt.show()

# %% [markdown]
# ## The customers most affected
#
# The largest customers whose tier differs from the baseline, with the reason each scheme gives.

# %%
study.write_table(out, "affected", comparison.affected, index=False)
comparison.affected

# %% [markdown]
# ## Stability and predictive validity

# %%
study.write_table(out, "stability", comparison.stability)
comparison.stability

# %%
study.write_table(out, "validity", comparison.validity)
display(comparison.validity)
if comparison.validities:
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4.2), squeeze=False)
    for ax, (n, v) in zip(axes[0], comparison.validities.items(), strict=True):
        plots.plot_holdout(v, ax=ax)
        ax.set_title(f"{n}: {ax.get_title()}")
    plt.show()

# %% [markdown]
# ## Threshold sweep
#
# Tier sizes at the last review as one setting of the baseline scheme varies (copies of the
# scheme; the file is not changed).

# %%
sweep_path = sweep or study.default_sweep(tier_schemes[baseline])
current_value = tier_schemes[baseline].get_value(sweep_path)
values = sweep_values or study.sweep_values(current_value)
sweep_table = tl.threshold_sweep(tier_schemes[baseline], sweep_path, values, tx, customers=cust)
study.write_table(out, "threshold_sweep", sweep_table, index=False)
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5))
plots.plot_threshold_sweep(sweep_table, current=current_value, xlabel=sweep_path, ax=axes[0])
plots.plot_threshold_sweep(sweep_table, value="revenue_share", current=current_value,
                           xlabel=sweep_path, ax=axes[1])
plt.show()
sweep_table.pivot(index="value", columns="tier", values="customers")

# %%
metrics = comparison.to_dict()
metrics["parameters"] = {"transactions": transactions, "columns": columns,
                         "date_format": date_format, "customers": customers,
                         "schemes": schemes, "as_of": as_of, "holdout_months": holdout_months,
                         "sweep": sweep, "sweep_values": sweep_values, "top": top}
metrics["as_of"] = data.as_of
metrics["data"] = data.quality()
metrics["sweep"] = {"path": sweep_path, "current": current_value, "table": sweep_table}
study.write_metrics(out, metrics)
display(Markdown(f"Written to `{out}`: " + ", ".join(
    f"`{p.name}`" for p in sorted(out.iterdir()) if p.suffix in (".csv", ".json"))))
