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
# # Explore a tier scheme
#
# Move the sliders to try other thresholds, review frequencies and streak lengths: tier sizes,
# revenue shares, the trend, how many customers would move up or down against the scheme as
# written and the benefit cost change redraw for each change. Type a customer id to see their
# timeline and reasons under the edited scheme; "Save as new YAML" writes the edited scheme to a
# new file in `out_dir` (the original is never edited) for `tierlab report impact`. Open it in
# JupyterLab; run headless (papermill) it shows the scheme as written and writes `metrics.json`
# to `out_dir`.

# %%
from typing import Optional

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import tierlab as tl
from tierlab import study
from tierlab.explore import TierExplorer

pd.set_option("display.float_format", "{:,.2f}".format)  # 1,234,567.89, no 1.2e+06

# %% tags=["parameters"]
# Input paths: absolute, or relative to the working directory, else to the project root.
transactions: str = "data/sample/transactions.csv"  # transaction log (.csv, .txt, .tsv, .xlsx, .parquet)
columns: Optional[dict[str, str]] = None  # canonical name -> header in the file, e.g. {"customer_id": "客户ID"}; None: recognised headers
date_format: Optional[str] = None  # date format tried first, e.g. "%d/%m/%Y"; None: ISO, 2025/3/1, 2025年3月1日 ...
customers: Optional[str] = "data/sample/customers.csv"  # customer table (for attribute conditions and satisfaction) or None
scheme: str = "data/rules/monthly_spend.yaml"  # tier scheme (YAML) to start from
as_of: Optional[str] = None  # study date YYYY-MM-DD (later data is ignored); None: the last date in the data
out_dir: str = "reports/notebooks/explore"  # metrics.json (relative: to the project root)

# %%
data = study.load_study_data(transactions, columns=columns, date_format=date_format,
                             customers=customers, as_of=as_of)
tier_scheme = tl.TierScheme.from_yaml(study.resolve_input(scheme, what="scheme"))
explorer = TierExplorer(tier_scheme, data.transactions, customers=data.customers)
out = study.resolve_output(out_dir)
print(tier_scheme.describe())

# %% [markdown]
# ## Try other settings
#
# Thresholds of each tier condition, the review frequency, and how many reviews in a row it
# takes to be promoted or demoted.

# %%
explorer.widget(save_dir=out)

# %% [markdown]
# ## The scheme as written

# %%
view = explorer.view()
explorer.plot(view)
plt.show()
view.summary

# %%
metrics = {"parameters": {"transactions": transactions, "columns": columns,
                          "date_format": date_format, "customers": customers, "scheme": scheme,
                          "as_of": as_of},
           "as_of": data.as_of, "thresholds": explorer.thresholds, "view": view}
study.write_metrics(out, metrics)
display(Markdown(f"Written to `{out / 'metrics.json'}`"))
