#!/usr/bin/env python3
"""The test vectors of the revenue-intelligence families (pending churn,
churn reasons, expansion drivers, payments; docs/metrics.md) run through
kpi_check.py's own computation, so that the independent check is itself
checked before it judges the exporter. Standard library only; no database.

    python3 tests/verify/test_kpi_check_section7.py
"""
import importlib.util
import os
import sys
import unittest
from collections import defaultdict

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("kpi_check", os.path.join(HERE, "kpi_check.py"))
kc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kc)

SEG = ("pro", "EMEA")
D = kc.DAY
T = 1000 * D  # an instant far from the epoch: every window fits before it


def model(t, rows=(), payments=(), windows=(("30d", 30 * D),), reasons=kc.STRIPE_FEEDBACK):
    """rows: (billing key, status, monthly, quantity, valid_from, valid_to or
    None, cancel requested at or None, churn reason or None); payments:
    (billing key, amount, issued, due, paid, first failed)."""
    m = kc.Model.__new__(kc.Model)
    m.t = t
    m.cfg = {"currency": "USD", "churn_reasons": list(reasons), "payments": True, "cap": 500}
    m.windows = list(windows)
    m.subs = [(b, st in kc.COUNTING, float(mo), f, to if to is not None else float("inf"))
              for b, st, mo, _q, f, to, _r, _c in rows]
    m.sub_status = [r[1] for r in rows]
    m.sub_extra = [(q, req, why) for _b, _s, _m, q, _f, _t, req, why in rows]
    m.customers = {r[0] for r in rows}
    by = defaultdict(list)
    for s in m.subs:
        by[s[0]].append(s)
    m.subs_by_customer = by
    m.accounts = {"a" + b: {"billing": b, "seg": SEG} for b in
                  {r[0] for r in rows} | {p[0] for p in payments}}
    m.owner = {a["billing"]: k for k, a in m.accounts.items()}
    m.combos = [SEG]
    m.payments = [(b, float(v), i, due if due is not None else i, paid, failed)
                  for b, v, i, due, paid, failed in payments]
    e = kc.Expect()
    kc.revenue_intelligence(m, e)
    return e


def value(e, fam, **labels):
    labels = dict(labels, plan=SEG[0], region=SEG[1])
    hits = [v for (f, lab), v in e.series.items() if f == fam and dict(lab) == labels]
    return hits[0] if hits else None


def by_label(e, fam, label, **labels):
    out = {}
    for (f, lab), v in e.series.items():
        d = dict(lab)
        if f == fam and all(d.get(k) == x for k, x in labels.items()):
            out[d[label]] = v
    return out


class PendingChurn(unittest.TestCase):
    # $100/month from day 0, open, cancellation requested on day 10.
    ROW = ("c", "active", 100, 1, 0, None, 10 * D, None)

    def test_before_the_request(self):
        e = model(5 * D, [self.ROW])
        self.assertEqual(value(e, "cs_committed_mrr", currency="USD"), 100)
        self.assertEqual(value(e, "cs_mrr_pending_churn", currency="USD"), 0)
        self.assertEqual(value(e, "cs_customers_pending_churn"), 0)

    def test_after_the_request(self):
        e = model(20 * D, [self.ROW])
        self.assertEqual(value(e, "cs_committed_mrr", currency="USD"), 0)
        self.assertEqual(value(e, "cs_mrr_pending_churn", currency="USD"), 100)
        self.assertEqual(value(e, "cs_customers_pending_churn"), 1)

    def test_a_second_row_without_request(self):
        e = model(20 * D, [self.ROW, ("c", "active", 50, 1, 0, None, None, None)])
        self.assertEqual(value(e, "cs_mrr_pending_churn", currency="USD"), 100)
        self.assertEqual(value(e, "cs_committed_mrr", currency="USD"), 50)
        self.assertEqual(value(e, "cs_customers_pending_churn"), 0)


class ChurnReasons(unittest.TestCase):
    def churned(self, *rows):
        # Rows end at d = T - 5 days, inside the 30d window ending at T.
        d = T - 5 * D
        return model(T, [("c", "active", mo, 1, 0, d, None, why) for mo, why in rows])

    def test_largest_row_normalised(self):
        e = self.churned((80, " Too_Expensive"), (20, "unused"))
        got = by_label(e, "cs_customers_churned_by_reason", "reason", window="30d")
        self.assertEqual(got["too_expensive"], 1)
        self.assertEqual(sum(got.values()), 1)
        self.assertEqual(by_label(e, "cs_mrr_churn_by_reason", "reason")["too_expensive"], 100)

    def test_other_and_unknown(self):
        for why, label in (("price", "other"), (None, "unknown"), ("", "unknown"),
                           ("unknown", "other"), ("\tUNUSED ", "unused")):
            e = self.churned((100, why))
            got = by_label(e, "cs_customers_churned_by_reason", "reason")
            self.assertEqual(got[label], 1, why)
            self.assertEqual(set(got), set(kc.STRIPE_FEEDBACK) | {"unknown"}, why)

    def test_tie_takes_the_smallest_reason(self):
        e = self.churned((50, "unused"), (50, "too_complex"))
        self.assertEqual(by_label(e, "cs_customers_churned_by_reason", "reason")["too_complex"], 1)
        e = self.churned((50, "unused"), (50, None))
        self.assertEqual(by_label(e, "cs_customers_churned_by_reason", "reason")["unknown"], 1)


class Drivers(unittest.TestCase):
    def moved(self, q0, p0, q1, p1):
        mid = T - 10 * D
        return model(T, [("c", "active", q0 * p0, q0, 0, mid, None, None),
                         ("c", "active", q1 * p1, q1, mid, None, None, None)])

    def test_vectors(self):
        for (q0, p0, q1, p1), typ, drv, amount in (
                ((5, 10, 8, 10), "expansion", "seats", 30),
                ((5, 10, 5, 12), "expansion", "price", 10),
                ((5, 10, 4, 15), "expansion", "price", 10),
                ((8, 10, 5, 10), "contraction", "seats", 30),
                ((5, 12, 6, 8), "contraction", "price", 12)):
            e = self.moved(q0, p0, q1, p1)
            got = {(t, d): v for (f, lab), v in e.series.items() if f == "cs_mrr_movement_by_driver"
                   for t, d in [(dict(lab)["type"], dict(lab)["driver"])]}
            want = {k: 0.0 for k in got}
            want[(typ, drv)] = amount
            self.assertEqual(got, want, (q0, p0, q1, p1))


class Payments(unittest.TestCase):
    def test_receivable_buckets(self):
        e = model(T, payments=[("c", 1, T - 40 * D, T - 35 * D, None, None),
                               ("c", 2, T - 40 * D, T - 30 * D, None, None),
                               ("c", 4, T - 40 * D, T, None, None),
                               ("c", 8, T - 40 * D, T - 100 * D, T, None),
                               ("c", 16, T - 200 * D, T - 91 * D, None, None)])
        amounts = by_label(e, "cs_receivables_amount", "bucket")
        self.assertEqual(amounts, {"current": 4, "1_30": 2, "31_60": 1, "61_90": 0,
                                   "over_90": 16})
        self.assertEqual(sum(by_label(e, "cs_receivables_invoices", "bucket").values()), 4)

    def test_recovery(self):
        e = model(T, payments=[("c", 10, T - 12 * D, None, T - 2 * D, T - 10 * D)])
        self.assertEqual(value(e, "cs_payments_failed", window="30d"), 1)
        self.assertEqual(value(e, "cs_payments_recovered", window="30d"), 1)
        self.assertEqual(value(e, "cs_payment_recovery_ratio", window="30d"), 1)
        e = model(T, payments=[("c", 10, T - 12 * D, None, T, T - 10 * D)])
        self.assertEqual(value(e, "cs_payments_failed", window="30d"), 1)
        self.assertEqual(value(e, "cs_payments_recovered", window="30d"), 0)
        self.assertEqual(sum(by_label(e, "cs_receivables_invoices", "bucket").values()), 0)

    def test_dso(self):
        e = model(T, payments=[("c", 50000, T - 5 * D, T + 25 * D, None, None),
                               ("c", 100000, T - 20 * D, None, T - 19 * D, None)])
        self.assertEqual(value(e, "cs_billed_amount", window="30d", currency="USD"), 150000)
        self.assertAlmostEqual(value(e, "cs_days_sales_outstanding", window="30d"), 10)
        e = model(T, payments=[("c", 50000, T - 50 * D, None, None, None)])
        self.assertIsNone(value(e, "cs_days_sales_outstanding", window="30d"))
        self.assertIsNone(value(e, "cs_payment_recovery_ratio", window="30d"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
