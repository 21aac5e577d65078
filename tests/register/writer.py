"""A writer process for the register's kill and concurrency tests (not a test module).

Usage: python writer.py TARGET N TIER TAG PAUSE_AT PAUSE_SECONDS TIMEOUT [RELEASE_FILE]

Commits the February 2025 review over customers C0000000… (all at TIER, reason TAG) on top of
a January review in which every customer is Low. It prints each commit step as it happens,
sleeps after the step PAUSE_AT (to be killed or overlapped there) for PAUSE_SECONDS or until
RELEASE_FILE exists, and finally prints ``result committed|noop|busy``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import tierlab as tl
from tierlab.register import Register, RegisterBusyError

SCHEME = {"name": "Spend", "review": "monthly",
          "tiers": [{"name": "Low"},
                    {"name": "Mid", "when": {"metric": "spend", "op": ">=", "value": 100}},
                    {"name": "High", "when": {"metric": "spend", "op": ">=", "value": 500}}]}


def customer_ids(n: int) -> np.ndarray:
    return np.char.add("C", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)


def february(n: int, tier: str, tag: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = customer_ids(n)
    state = pd.DataFrame({"customer_id": ids, "tier": tier, "since": "2025-02-28",
                          "promote_streak": 1})
    changes = pd.DataFrame({"customer_id": ids, "from_tier": "Low", "to_tier": tier,
                            "direction": "up", "rule": "promotion", "reason": tag})
    return state, changes


def main() -> None:
    target, n, tier, tag, pause_at, pause, timeout = sys.argv[1:8]
    release = Path(sys.argv[8]) if len(sys.argv) > 8 else None
    state, changes = february(int(n), tier, tag)

    def step(name: str) -> None:
        print(name, flush=True)
        if name == pause_at:
            until = time.monotonic() + float(pause)
            while time.monotonic() < until and not (release and release.exists()):
                time.sleep(0.05)

    print("start", flush=True)
    try:
        reg = Register(target, timeout=float(timeout))
        res = reg.commit_review("2025-02-28", tl.TierScheme.from_dict(SCHEME), state, changes,
                                data_fingerprint=tag, ran_by=tag, on_step=step)
        print("result", "committed" if res.committed else "noop", flush=True)
    except RegisterBusyError as exc:
        print("result busy", exc, flush=True)


if __name__ == "__main__":
    main()
