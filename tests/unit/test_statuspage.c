/*
 * The status page's KPI half (exporter/serve/statuspage.c) from metric sets
 * built by hand: headline sums over segments and their changes, the lists
 * and their order, the history's bounds, and HTML escaping of hostile label
 * values end to end (the exposition's escapes undone, then HTML's applied).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "exporter/serve/statuspage.h"
#include "lib/buf.h"
#include "lib/expo.h"

#define HOSTILE	     "<script>alert('x')</script> & \"Co\""
#define HOSTILE_HTML "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"

static void add(struct mset *m, const char *family, double v, const char *const *pairs)
{
	const char *names[8], *values[8];
	size_t n = 0;

	while (pairs && pairs[2 * n]) {
		names[n] = pairs[2 * n];
		values[n] = pairs[2 * n + 1];
		n++;
	}
	family_add(mset_family(m, family, METRIC_GAUGE, "test", NULL), n, names, values, v);
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Two segments, plan "a" and the hostile plan "b\"q\\z". */
static struct mset *revenue(double scale)
{
	struct mset *m = mset_new();
	const char *plans[] = {"a", "b\"q\\z"};

	for (int i = 0; i < 2; i++) {
		add(m, "cs_mrr", 1000 * scale, P("plan", plans[i], "currency", "USD"));
		add(m, "cs_mrr_window_start", 750,
		    P("plan", plans[i], "currency", "USD", "window", "30d"));
		add(m, "cs_mrr_window_start", 10,
		    P("plan", plans[i], "currency", "USD", "window", "90d"));
		add(m, "cs_customers", 10, P("plan", plans[i]));
		add(m, "cs_customers_window_start", 8, P("plan", plans[i], "window", "30d"));
		add(m, "cs_customer_movements", 2,
		    P("plan", plans[i], "window", "30d", "type", "churned"));
		add(m, "cs_mrr_movement", 100,
		    P("plan", plans[i], "currency", "USD", "window", "30d", "type", "churn"));
		add(m, "cs_mrr_movement", 50,
		    P("plan", plans[i], "currency", "USD", "window", "30d", "type", "contraction"));
		add(m, "cs_mrr_movement", 400,
		    P("plan", plans[i], "currency", "USD", "window", "30d", "type", "expansion"));
		add(m, "cs_mrr_movement", 0,
		    P("plan", plans[i], "currency", "USD", "window", "30d", "type",
		      "reactivation"));
	}
	add(m, "cs_mrr_mover", 60,
	    P("plan", "a", "currency", "USD", "window", "30d", "type", "churn", "account", "k1",
	      "name", "Small", "billing_key", "b1"));
	add(m, "cs_mrr_mover", 140,
	    P("plan", "b\"q\\z", "currency", "USD", "window", "30d", "type", "churn", "account",
	      "k2", "name", HOSTILE, "billing_key", "b2"));
	add(m, "cs_mrr_mover", 999,
	    P("plan", "a", "currency", "USD", "window", "90d", "type", "churn", "account", "k9",
	      "name", "Other window", "billing_key", "b9"));
	add(m, "cs_mrr_mover", 30,
	    P("plan", "unknown", "currency", "USD", "window", "30d", "type", "new", "account", "",
	      "name", "", "billing_key", "cus_<x>"));
	return m;
}

static struct mset *surveys(double promoters)
{
	struct mset *m = mset_new();

	add(m, "cs_survey_responses", promoters,
	    P("plan", "a", "window", "30d", "survey", "nps", "category", "promoter"));
	add(m, "cs_survey_responses", 0,
	    P("plan", "a", "window", "30d", "survey", "nps", "category", "passive"));
	add(m, "cs_survey_responses", 5,
	    P("plan", "a", "window", "30d", "survey", "nps", "category", "detractor"));
	add(m, "cs_survey_responses", 3,
	    P("plan", "a", "window", "30d", "survey", "csat", "category", "satisfied"));
	add(m, "cs_survey_responses", 1,
	    P("plan", "a", "window", "30d", "survey", "csat", "category", "unsatisfied"));
	return m;
}

static struct mset *health(void)
{
	struct mset *m = mset_new();

	add(m, "cs_at_risk_account_score", 20,
	    P("plan", "a", "account", "cheap", "name", "Cheap", "band", "red", "renewal_at", ""));
	add(m, "cs_at_risk_account_score", 45,
	    P("plan", "b\"q\\z", "account", "rich", "name", HOSTILE, "band", "red", "renewal_at",
	      "2027-01-01"));
	add(m, "cs_at_risk_account_score", 60,
	    P("plan", "a", "account", "yellow", "name", "Yellow", "band", "yellow", "renewal_at",
	      ""));
	add(m, "cs_at_risk_account_mrr", 50,
	    P("plan", "a", "account", "cheap", "name", "Cheap", "currency", "USD"));
	add(m, "cs_at_risk_account_mrr", 5000,
	    P("plan", "b\"q\\z", "account", "rich", "name", HOSTILE, "currency", "USD"));
	add(m, "cs_at_risk_account_mrr", 9000,
	    P("plan", "a", "account", "yellow", "name", "Yellow", "currency", "USD"));
	add(m, "cs_renewal_mrr", 700,
	    P("plan", "a", "horizon", "30d", "band", "red", "currency", "USD"));
	add(m, "cs_renewal_mrr", 300,
	    P("plan", "b\"q\\z", "horizon", "30d", "band", "red", "currency", "USD"));
	add(m, "cs_renewal_mrr", 99999,
	    P("plan", "a", "horizon", "60d", "band", "red", "currency", "USD"));
	add(m, "cs_renewal_accounts", 2, P("plan", "a", "horizon", "30d", "band", "red"));
	add(m, "cs_renewal_accounts", 1, P("plan", "a", "horizon", "60d", "band", "red"));
	return m;
}

static const cs_time DAY = 86400 * CS_SECOND;

struct page {
	struct status_sets v;
	struct mset *own[KIND_COUNT];
	struct status_history *h;
	struct buf b;
};

static void page_free(struct page *p)
{
	for (int k = 0; k < KIND_COUNT; k++)
		mset_free(p->own[k]);
	status_history_free(p->h);
	buf_release(&p->b);
}

static void set(struct page *p, enum cs_kind k, struct mset *m)
{
	mset_free(p->own[k]);
	p->own[k] = m;
	p->v.set[k] = m;
}

/* The position of s in the page, or fails. */
static size_t at(const struct page *p, const char *s)
{
	const char *f = strstr(p->b.data, s);

	cr_assert_not_null(f, "no \"%s\" on the page", s);
	return (size_t)(f - p->b.data);
}

Test(statuspage, headline_sums_segments_and_changes)
{
	struct page p = {.h = status_history_new()};
	cs_time t = 1800000000 * CS_SECOND;

	/* 31 days ago NPS was 100 x (4 - 5) / 9; now 100 x (5 - 5) / 10 */
	set(&p, KIND_REVENUE, revenue(0.5));
	set(&p, KIND_SURVEYS, surveys(4));
	set(&p, KIND_HEALTH, health());
	status_history_add(p.h, t - 31 * DAY, &p.v);
	set(&p, KIND_REVENUE, revenue(1));
	set(&p, KIND_SURVEYS, surveys(5));
	status_history_add(p.h, t - 30 * CS_SECOND, &p.v);
	status_history_add(p.h, t, &p.v);
	status_page_kpis(&p.b, &p.v, p.h);

	at(&p, "<div class=\"value\">2,000&nbsp;USD</div>"); /* MRR, two segments */
	at(&p, "+500&nbsp;USD</span> vs 30d ago");	     /* against the 30d start, not 90d */
	at(&p, "<div class=\"value\">20</div>");	     /* customers */
	at(&p, "<div class=\"value\">25.0%</div>");	     /* logo churn 4 / 16 */
	at(&p, "<div class=\"value\">-33.3%</div>"); /* net MRR churn (200 + 100 - 800) / 1500 */
	at(&p, "<div class=\"value\">133.3%</div>"); /* NRR (1500 - 300 + 800) / 1500 */
	at(&p, "<div class=\"value\">0.0</div>");    /* NPS */
	at(&p, "+11.1</span> vs 30 days ago");	     /* from -11.1 */
	at(&p, "<div class=\"value\">75.0%</div>");  /* CSAT */
	at(&p, "<div class=\"value\">1,000&nbsp;USD</div>"); /* red MRR within 30d only */
	at(&p, "<polyline");				     /* three MRR points */
	page_free(&p);
}

Test(statuspage, lists_in_order_and_escaped)
{
	struct page p = {.h = status_history_new()};

	set(&p, KIND_REVENUE, revenue(1));
	set(&p, KIND_HEALTH, health());
	status_page_kpis(&p.b, &p.v, p.h);

	cr_assert_null(strstr(p.b.data, "<script"), "a hostile name reached the page as markup");
	cr_assert_null(strstr(p.b.data, "\\\""), "an exposition escape is left on the page");
	/* at risk: red before yellow, then the larger MRR: rich, cheap, yellow */
	size_t rich = at(&p, HOSTILE_HTML "<br><span class=\"key\">rich</span>");
	size_t cheap = at(&p, "Cheap<br><span class=\"key\">cheap</span>");
	size_t yellow = at(&p, "Yellow<br>");
	cr_assert(rich < cheap && cheap < yellow, "at-risk order %zu %zu %zu", rich, cheap, yellow);
	at(&p, "<td>b&quot;q\\z</td>"); /* the segment, as written */
	at(&p, "5,000&nbsp;USD");
	/* movers of the 30d window only, the larger first */
	size_t big = at(&p, HOSTILE_HTML "<br><span class=\"key\">k2</span>");
	size_t small = at(&p, "Small<br>");
	cr_assert(big < small);
	cr_assert_null(strstr(p.b.data, "Other window"), "a 90d mover on the 30d lists");
	at(&p, "(no name)<br><span class=\"key\">billing cus_&lt;x&gt;</span>");
	/* renewals by horizon */
	at(&p, "<td>60d</td>");
	page_free(&p);
}

Test(statuspage, empty_sets_and_bounded_history)
{
	struct page p = {.h = status_history_new()};
	cs_time t = 1800000000 * CS_SECOND;

	status_page_kpis(&p.b, &p.v, p.h);
	at(&p, "No health collector has succeeded yet.");
	at(&p, "0 evaluations so far");
	buf_release(&p.b);

	set(&p, KIND_REVENUE, revenue(1));
	for (int i = 0; i < 3 * STATUS_RECENT; i++)
		status_history_add(p.h, t + i * 30 * CS_SECOND, &p.v);
	/* a step back in time is ignored */
	status_history_add(p.h, t, &p.v);
	status_page_kpis(&p.b, &p.v, p.h);
	char want[64];
	snprintf(want, sizeof(want), "<br>%d evaluations", STATUS_RECENT);
	at(&p, want);
	page_free(&p);
}
