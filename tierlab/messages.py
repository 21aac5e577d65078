"""The sentences and headings of the reports, in English and Chinese, by key.

Data only: :func:`tierlab.i18n.text` looks them up (``{field}`` placeholders are filled with
``str.format``). A key must have both languages; ``tests/test_i18n.py`` checks that the
placeholders of the two agree.
"""

from __future__ import annotations

__all__ = ["TEXT"]

#: key -> (English, Chinese)
TEXT: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ titles and headings
    "title_segmentation": ("Customer tiers: segmentation study", "客户分级：客户细分研究"),
    "title_impact": ("Rule-change impact", "分级规则调整影响评估"),
    "h_summary": ("Summary", "摘要"),
    "h_data": ("Data quality", "数据质量"),
    "h_rfm": ("Recency, frequency and spend (RFM)", "最近购买、购买频次与消费金额（RFM）"),
    "h_clusters": ("Customer groups (clusters)", "客户群组（聚类）"),
    "h_tiers": ("Tiers under the scheme", "分级方案下的客户等级"),
    "h_trend": ("Trend over the reviews", "各次评审的趋势"),
    "h_migration": ("Moves between the last two reviews", "最近两次评审之间的等级变动"),
    "h_concentration": ("Revenue concentration", "收入集中度"),
    "h_validity": ("Do the tiers predict spend?", "等级能否预测未来消费？"),
    "h_potential": ("Potential and churn", "增长潜力与流失风险"),
    "h_cross": ("Tiers by region and industry", "按地区和行业的客户等级"),
    "h_table": ("Tier management table", "客户等级管理表"),
    "h_schemes": ("The schemes", "分级方案"),
    "h_who_changes": ("What changes for whom", "对哪些客户有何变化"),
    "h_revenue_cost": ("Revenue and benefit cost per tier", "各等级的收入与权益成本"),
    "h_affected": ("The customers most affected", "受影响最大的客户"),
    "h_stability": ("Stability and predictive validity", "稳定性与预测效度"),
    "h_sweep": ("Threshold sweep", "阈值敏感性分析"),
    "h_notes": ("Notes", "说明"),
    # ------------------------------------------------------------------ summary sentences
    "s_study_date": ("Study date: {date}.", "研究日期：{date}。"),
    "s_data": ("Data used: {rows} transactions of {customers} customers from {start} to {end}; "
               "{rejected} rows were set aside.",
               "使用数据：{start}至{end}期间{customers}位"
               "客户的{rows}笔交易；另有{rejected}行数据被剔除。"),
    "s_no_rejected": ("Data used: {rows} transactions of {customers} customers from {start} to "
                      "{end}; every row of the file was usable.",
                      "使用数据：{start}至{end}期间{custome"
                      "rs}位客户的{rows}笔交易；文件中所有行均可使用。"),
    "s_scheme": ("Tier scheme: {scheme} ({tiers} tiers, reviewed {review}).",
                 "分级方案：{scheme}（{tiers}个等级，{review}评审）。"),
    "s_mix": ("At the review of {date}: {mix}.", "在{date}的评审中：{mix}。"),
    "s_mix_item": ("{tier} {customers} customers ({share}, {revenue_share} of revenue)",
                   "{tier}{customers}位客户（占{share}，贡献{revenue_share}的收入）"),
    "s_changes": ("Since the previous review ({previous}): {up} customers moved up, {down} moved "
                  "down and {new} new customers got a tier.",
                  "与上次评审（{previous}）相比：{up}位客户升"
                  "级，{down}位客户降级，{new}位新客户获得等级。"),
    "s_single_review": ("There is only one review so far, so there is nothing to compare yet.",
                        "目前只有一次评审，暂无可比较的变化。"),
    "s_no_warnings": ("Nothing to flag: the tiers, the customer table and the thresholds look "
                      "plausible.", "无需注意的问题：客户等级、客户表和阈值均无异常。"),
    "s_warnings": ("Points to check:", "需要注意："),
    "review_monthly": ("monthly", "每月"),
    "review_quarterly": ("quarterly", "每季度"),
    "review_half-yearly": ("half-yearly", "每半年"),
    "review_yearly": ("yearly", "每年"),
    # ------------------------------------------------------------------ sanity warnings
    "w_tier_empty": ("No customer is in the tier {tier}; check its condition.",
                     "等级「{tier}」中没有客户，请检查其条件。"),
    "w_tier_dominant": ("{share} of the customers are in the tier {tier}: the scheme barely "
                        "separates them; check the thresholds against this data.",
                        "{share}的客户处于等级「{tier}」"
                        "，方案几乎无法区分客户；请根据本数据检查阈值。"),
    "w_customer_match": ("Only {share} of the customers in the transactions appear in the "
                         "customer table: is it the table for this data?",
                         "交易中的客户只有{share}出现在客户表中：客户表是否与本数据对应？"),
    "w_sample_customers": ("The bundled sample's customer table was not used: it belongs to the "
                           "sample transactions only.",
                           "未使用内置示例的客户表：它只适用于示例交易数据。"),
    "w_threshold_high": ("The threshold of {tier} ({condition}) is above every value in the "
                         "data (highest {highest}): no customer can reach it.",
                         "等级「{tier}」的阈值（{condition}）高于数"
                         "据中的所有值（最高为{highest}）：没有客户能达到。"),
    "w_threshold_low": ("The threshold of {tier} ({condition}) is below every value in the "
                        "data (lowest {lowest}): every customer meets it.",
                        "等级「{tier}」的阈值（{condition}）低于"
                        "数据中的所有值（最低为{lowest}）：所有客户都满足。"),
    "w_lint": ("Scheme check: {message}", "方案检查：{message}"),
    # ------------------------------------------------------------------ notes from warnings
    "n_rfm_levels": ("Many customers share the same {dimension}, so its score has {k} levels, "
                     "not {bins}.", "许多客户的{dimension}相同，因此"
                                    "该得分只有{k}档，而不是{bins}档。"),
    "n_fit": ("The {model} model's fit is uncertain (few repeat buyers); read its predictions "
              "with care.", "{model}模型的拟合不够可靠（回购客户较少），请谨慎看待其预测。"),
    "n_overrides": ("Some manual tier overrides name customers without transactions; they are "
                    "ignored.", "部分人工等级调整指向没有交易的客户，已忽略。"),
    "n_history_split": ("The change history has more rows than an Excel sheet holds; it is "
                        "written in full beside the workbook.",
                        "变动历史的行数超过Excel工作表上限，已完整写入工作簿旁的文件。"),
    "n_no_cjk_font": ("No Chinese font is installed, so the charts keep English labels.",
                      "系统未安装中文字体，图表仍使用英文标签。"),
    "n_other": ("Note: {message}", "说明：{message}"),
    "dim_recency": ("recency", "最近购买时间"),
    "dim_frequency": ("number of orders", "订单数"),
    "dim_monetary": ("spend", "消费金额"),
    # ------------------------------------------------------------------ section sentences
    "p_data": ("Every row of the file is either used or set aside with a reason.",
               "文件中的每一行要么被使用，要么附原因被剔除。"),
    "p_dataset_sample": ("The data is a partitioned dataset of {rows} transactions of {customers} "
                         "customers, processed bucket by bucket. Customer and transaction counts, "
                         "RFM scores, segments, clusters, tiers, their changes and trend, revenue "
                         "concentration, the tier summary and the tier table cover every "
                         "customer. The sections that re-read transactions — whether the tiers "
                         "predict spend, the potential and churn models, rising stars and "
                         "customers at risk — use a random sample of {sample} customers (all "
                         "their transactions; seed {seed}).",
                         "数据为分区数据集，共{customers}位客户的{rows}笔交易，按分桶逐一处理。"
                         "客户数与交易数、RFM评分、客群、聚类、等级及其变动与趋势、收入集中度、"
                         "等级汇总和等级表均覆盖全部客户。需要重新读取交易的部分——等级能否预测"
                         "消费、潜力与流失模型、潜力新星与流失风险客户——使用随机抽取的{sample}位"
                         "客户（含其全部交易；随机种子{seed}）。"),
    "p_dataset_all": ("The data is a partitioned dataset of {rows} transactions of {customers} "
                      "customers, processed bucket by bucket; every section covers every "
                      "customer.",
                      "数据为分区数据集，共{customers}位客户的{rows}笔交易，按分桶逐一处理；"
                      "各部分均覆盖全部客户。"),
    "p_rejected_examples": ("The first rows set aside, as read from the file:",
                            "前几行被剔除的数据（按文件原样）："),
    "p_customers": ("The customer table (contact details masked):", "客户表（联系方式已遮蔽）："),
    "p_no_customers": ("No customer table was used.", "未使用客户表。"),
    "p_rfm": ("Scores 1–5 per dimension (cut points learned from these customers) and the "
              "classic RFM segments.", "每个维度1–5分（分界点由这些客户的"
                                       "数据得出）以及经典的RFM客户细分。"),
    "p_clusters": ("Customers grouped by their recency, orders and spend; each group is named "
                   "after its typical customer ({k} groups). Every customer is placed in a "
                   "group; with many customers the grouping is learnt from a random sample of "
                   "20,000, the number of groups chosen on 5,000 and its stability checked on "
                   "100,000.",
                   "按最近购买、订单数和消费金额对客户分组；每组以其典型客户命名（共{k}组）。"
                   "每位客户都归入一个组；客户较多时，分组由随机抽取的2万位客户学习得出，"
                   "组数依据5千位客户选定，稳定性在10万位客户上检验。"),
    "p_stability": ("Tier changes per customer per year: {changes}; customers switching back "
                    "and forth within {window} reviews: {flicker}; average stay in a tier: "
                    "{stay} reviews.",
                    "每位客户每年的等级变动次数：{changes}；在{w"
                    "indow}次评审内来回变动的客户：{flicker}；"
                    "平均在同一等级停留{stay}次评审。"),
    "p_migration": ("Tiers at {previous} (rows) and {last} (columns).",
                    "{previous}（行）与{last}（列）的客户等级。"),
    "p_changes": ("Changes at the last review, with the reason each customer would be given:",
                  "最近一次评审的变动，以及可告知客户的原因："),
    "p_no_changes": ("No tier changed at the last review.", "最近一次评审没有等级变动。"),
    "p_concentration": ("Gini {gini}; the top 10% of customers bring {top10} of net revenue, "
                        "the top 20% {top20}.",
                        "基尼系数{gini}；前10%的客户贡献{top10}的净收入，前20%的客户贡献{top20}。"),
    "p_validity": ("Holdout {start} – {end}: rank correlation of tier and spend {spearman}; "
                   "spend rises with the tier: {ordered}; top-tier lift {lift}×.",
                   "验证期{start}至{end}：等级与消费的等级相关系数"
                   "为{spearman}；消费随等级升高：{ordered}；"
                   "最高等级的提升倍数为{lift}倍。"),
    "p_validity_intro": ("The scheme runs on the data up to {months} months before the study "
                         "date; the tiers then are compared with the spend in those months.",
                         "方案使用研究日期前{months}个月之前的数"
                         "据运行；再将当时的等级与这些月份的消费进行比较。"),
    "p_potential": ("{stars} rising stars (low tier, high predicted spend) and {risk} top-tier "
                    "customers at risk of stopping.",
                    "{stars}位潜力客户（等级低但预测消费高），{risk}位高等级客户有流失风险。"),
    "p_potential_models": ("Each model predicts the period after {cutoff} from the data up to "
                           "that day; the table compares its predictions with what customers "
                           "then bought (95% intervals in brackets). Customers with equal "
                           "predictions are ranked in random order, so a model that predicts "
                           "nothing for most customers gains no ranking credit from that.",
                           "各模型只用{cutoff}及之前的数据预测其后一段时间的消费，下表将预测与客户"
                           "随后的实际购买进行比较（方括号内为95%区间）。预测相同的客户按随机顺序"
                           "排序，因此对多数客户预测为零的模型不会因此获得排序上的优势。"),
    "p_potential_sample": ("The models are judged on a random sample of {n} of the {total} "
                           "customers who had bought by {cutoff}; the intervals are those of "
                           "the sample.",
                           "模型在截至{cutoff}已有购买的{total}位客户中随机抽取{n}位进行评估；"
                           "区间按样本计算。"),
    "flag_star": ("rising star: tier {tier}, predicted spend {spend} (top {top} of customers), "
                  "{buy}% chance to buy{alive}",
                  "潜力客户：{tier}，预测消费{spend}（前{top}的客户），购买概率{buy}%{alive}"),
    "flag_risk": ("at risk: tier {tier}, {risk}% chance of no purchase{alive}",
                  "流失风险：{tier}，不再购买的概率{risk}%{alive}"),
    "flag_alive": (", {alive}% likely still active", "，仍活跃的概率{alive}%"),
    "flag_both": ("; ", "；"),
    "p_cross": ("Tier × {by} (customers)", "等级 × {by}（客户数）"),
    "p_table": ("One row per customer: tier, since when, previous tier and the reason; contact "
                "details masked. The full table, a summary and the change history are in the "
                "workbook {file}.",
                "每位客户一行：等级、起始日期、之前的等级及原因；联系方"
                "式已遮蔽。完整表格、汇总和变动历史见工作簿{file}。"),
    "p_files": ("Files written: {files}.", "已生成的文件：{files}。"),
    "p_impact_intro": ("{n} schemes run on the same data; {baseline} is the baseline.",
                       "{n}个方案在相同数据上运行；{baseline}为基准方案。"),
    "p_who_changes": ("Under {other}, compared with {baseline}: {up} customers would move up, "
                      "{down} would move down and {same} keep their tier.",
                      "与{baseline}相比，在{other}下：{up}位客户"
                      "将升级，{down}位客户将降级，{same}位客户等级不变。"),
    "p_cost_share": ("Benefit cost per year {cost_before} → {cost_after}; revenue share of the "
                     "top tier {share_before} → {share_after}.",
                     "每年权益成本 {cost_before} → {cost_after}；"
                     "最高等级的收入占比 {share_before} → {share_after}。"),
    "p_who_changes_tier": ("{tier}: {before} → {after} customers.",
                           "{tier}：{before} → {after}位客户。"),
    "p_revenue_cost": ("Revenue: net spend of the customers in each tier at the last review. "
                       "Benefit cost: members × the tier's benefit cost per review × reviews "
                       "per year.", "收入：最近一次评审时各等级客户的净消费。权益成本："
                                    "会员数 × 每次评审的权益成本 × 每年评审次数。"),
    "p_sweep": ("Tier sizes at the last review as {setting} of {baseline} varies (the scheme "
                "file is not changed).",
                "当{baseline}的「{setting}」变化时，最近一次评审的各等级客户数（方案文件不变）。"),
    "p_no_holdout": ("No holdout was run ("
                     "holdout months = 0).", "未进行验证期检验（验证月数为0）。"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "empty_rejected": ("No rejected rows.", "没有被剔除的行。"),
    "empty_table": ("Nothing to show.", "没有可显示的内容。"),
    "empty_flags": ("No customer is flagged.", "没有被标记的客户。"),
    "empty_affected": ("No customer's tier dif"
                       "fers from the baseline.", "没有客户的等级与基准方案不同。"),
    "missing": ("unknown", "未知"),
    "none_tier": ("(no tier)", "（无等级）"),
    "sweep_label": ("{tier}: {metric} {op}", "{tier}：{metric}{op}"),
}
