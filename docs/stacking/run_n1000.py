"""Issue 23 side check: the stacking simulation's design at n = 1000 instead of 300.

Run from the repository root: ``.venv/bin/python docs/stacking/run_n1000.py`` (about 6 minutes
on 2 idle cores). It reuses ``tests/inference/test_stacking_simulation.py``'s generator,
families and sampler settings, changing only the number of patients per data set; the
weights it printed on 2026-12-06 are ``docs/stacking/weights_n1000.csv``.
"""

import sys

import pandas as pd

sys.path.insert(0, ".")
import tests.inference.test_stacking_simulation as t

t.N = 1000
rows = []
for k in range(t.DATA_SETS):
    try:
        rows.append(t.stacking_weights(t.loglogistic_frame(7000 + k)))
    except Exception as err:  # report, go on
        print(k, "failed:", err, flush=True)
        continue
    print(k, rows[-1].round(3).to_dict(), flush=True)
w = pd.DataFrame(rows)
print(w.describe().T.round(3))
print(
    "data sets:",
    len(w),
    "share >= 0.5 on loglogistic:",
    float((w["loglogistic"] >= 0.5).mean()),
    "count:",
    int((w["loglogistic"] >= 0.5).sum()),
    "share ll+ln >= 0.5:",
    float(((w["loglogistic"] + w["lognormal"]) >= 0.5).mean()),
)
