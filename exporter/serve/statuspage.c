#include "statuspage.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char status_page_style[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:84em}"
    "h1{margin-bottom:.2em}h2{margin-top:1.4em;border-bottom:1px solid #ddd;"
    "padding-bottom:.2em}h3{margin:.2em 0 .4em;font-size:1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}"
    ".up{color:#1a7f37;font-weight:bold}.down{color:#cf222e;font-weight:bold}"
    ".pending{color:#9a6700}td.num{text-align:right}td,th{white-space:nowrap}"
    "td:last-child{white-space:normal}.note{color:#555;font-size:.9em}"
    ".tiles{display:flex;flex-wrap:wrap;gap:.8em}"
    ".tile{border:1px solid #d0d7de;border-radius:6px;padding:.6em .9em;min-width:11em}"
    ".tile .label{font-size:.85em;color:#555}.tile .value{font-size:1.6em;font-weight:600}"
    ".tile .what,.tile .change{font-size:.8em;color:#555}"
    ".rise{color:#1a7f37}.fall{color:#cf222e}.flat{color:#555}"
    ".sparks{display:flex;flex-wrap:wrap;gap:1.5em;margin-top:1em}"
    ".spark{margin:0}.spark figcaption{font-size:.85em;color:#555}"
    ".spark .range{font-size:.75em;color:#555}"
    ".lists{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}"
    ".movers{display:flex;flex-wrap:wrap;gap:1em}.mover table{min-width:16em}"
    "td.who{white-space:normal;max-width:22em;overflow-wrap:anywhere}"
    ".key{font-size:.8em;color:#666}"
    ".band.red{color:#cf222e;font-weight:600}.band.yellow{color:#9a6700;font-weight:600}"
    ".band.green{color:#1a7f37;font-weight:600}.band.unknown{color:#555}"
    "tr.expected td{color:#666;background:#fafafa}";

/* ---- escaping ------------------------------------------------------------ */

void status_html_escape(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_addch(b, *s);
		}
	}
}

void status_html_label(struct buf *b, const char *escaped)
{
	struct buf raw = BUF_INIT;

	for (const char *p = escaped; p && *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			buf_addch(&raw, *p == 'n' ? '\n' : *p);
		} else {
			buf_addch(&raw, *p);
		}
	}
	status_html_escape(b, raw.data ? raw.data : "");
	buf_release(&raw);
}

/* ---- reading the sets ---------------------------------------------------- */

#define MAX_FILTER 3

/* The sum of a family's samples that carry every (name, value) pair of the
 * filter; value as the exposition writes it (plain ASCII here). */
struct sum_ctx {
	const char *names[MAX_FILTER], *values[MAX_FILTER];
	size_t nfilter;
	double sum;
	size_t matched;
};

static bool has_pair(size_t n, const char *const *names, const char *const *values,
		     const char *name, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return !strcmp(values[i], value);
	return false;
}

static void sum_one(void *ctx, size_t n, const char *const *names, const char *const *values,
		    double v)
{
	struct sum_ctx *c = ctx;

	for (size_t f = 0; f < c->nfilter; f++)
		if (!has_pair(n, names, values, c->names[f], c->values[f]))
			return;
	c->sum += v;
	c->matched++;
}

/* Sums family over the samples matching up to MAX_FILTER pairs (name,
 * value, ..., NULL); false when none matched. */
static bool sum_of(const struct mset *set, const char *family, double *out, ...)
{
	struct sum_ctx c = {.nfilter = 0};
	va_list ap;
	const char *name;

	va_start(ap, out);
	while (c.nfilter < MAX_FILTER && (name = va_arg(ap, const char *)) != NULL) {
		c.names[c.nfilter] = name;
		c.values[c.nfilter++] = va_arg(ap, const char *);
	}
	va_end(ap);
	if (!set)
		return false;
	mset_each_sample(set, family, sum_one, &c);
	*out = c.sum;
	return c.matched > 0;
}

/* The value of label among a family's samples: prefer when some sample
 * carries it, else the first seen; "" when none. */
struct label_ctx {
	const char *label, *prefer;
	char first[32];
	bool preferred;
};

static void label_one(void *ctx, size_t n, const char *const *names, const char *const *values,
		      double v)
{
	struct label_ctx *c = ctx;

	(void)v;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], c->label))
			continue;
		if (!c->first[0])
			snprintf(c->first, sizeof(c->first), "%s", values[i]);
		if (!strcmp(values[i], c->prefer))
			c->preferred = true;
	}
}

static void pick_label(const struct mset *set, const char *family, const char *label,
		       const char *prefer, char *out, size_t len)
{
	struct label_ctx c = {.label = label, .prefer = prefer};

	if (set)
		mset_each_sample(set, family, label_one, &c);
	snprintf(out, len, "%s", c.preferred ? prefer : c.first);
}

/* ---- headline KPIs ------------------------------------------------------- */

enum {
	K_MRR,
	K_CUSTOMERS,
	K_LOGO_CHURN,
	K_NET_CHURN,
	K_NRR,
	K_NPS,
	K_CSAT,
	K_RED_RENEWAL,
	K_COUNT
};

struct headline {
	bool have[K_COUNT];
	double v[K_COUNT];
	/* MRR and customers at the window start: their change, from the data */
	bool have_start[K_COUNT];
	double start[K_COUNT];
	char window[32], survey_window[32], horizon[32], currency[32];
};

static void headline_of(const struct status_sets *v, struct headline *h)
{
	const struct mset *rev = v->set[KIND_REVENUE], *sur = v->set[KIND_SURVEYS],
			  *hea = v->set[KIND_HEALTH];
	const char *w = h->window;
	double churn = 0, contr = 0, exp = 0, react = 0, mrr0 = 0, start = 0, churned = 0;
	double promoters = 0, passives = 0, detractors = 0, sat = 0, unsat = 0;

	memset(h, 0, sizeof(*h));
	pick_label(rev, "cs_mrr_window_start", "window", "30d", h->window, sizeof(h->window));
	pick_label(rev, "cs_mrr", "currency", "", h->currency, sizeof(h->currency));
	pick_label(sur, "cs_survey_responses", "window", "30d", h->survey_window,
		   sizeof(h->survey_window));
	pick_label(hea, "cs_renewal_mrr", "horizon", "30d", h->horizon, sizeof(h->horizon));

	h->have[K_MRR] = sum_of(rev, "cs_mrr", &h->v[K_MRR], NULL);
	h->have[K_CUSTOMERS] = sum_of(rev, "cs_customers", &h->v[K_CUSTOMERS], NULL);
	h->have_start[K_MRR] = sum_of(rev, "cs_mrr_window_start", &mrr0, "window", w, NULL);
	h->start[K_MRR] = mrr0;
	h->have_start[K_CUSTOMERS] =
	    sum_of(rev, "cs_customers_window_start", &start, "window", w, NULL);
	h->start[K_CUSTOMERS] = start;
	if (sum_of(rev, "cs_customer_movements", &churned, "window", w, "type", "churned", NULL) &&
	    start > 0) {
		h->have[K_LOGO_CHURN] = true;
		h->v[K_LOGO_CHURN] = churned / start;
	}
	if (sum_of(rev, "cs_mrr_movement", &churn, "window", w, "type", "churn", NULL) &&
	    sum_of(rev, "cs_mrr_movement", &contr, "window", w, "type", "contraction", NULL) &&
	    sum_of(rev, "cs_mrr_movement", &exp, "window", w, "type", "expansion", NULL) &&
	    sum_of(rev, "cs_mrr_movement", &react, "window", w, "type", "reactivation", NULL) &&
	    mrr0 > 0) {
		/* the formulas of revenue.c's ratios, over every segment */
		h->have[K_NET_CHURN] = h->have[K_NRR] = true;
		h->v[K_NET_CHURN] = (churn + contr - exp - react) / mrr0;
		h->v[K_NRR] = (mrr0 - churn - contr + exp) / mrr0;
	}
	w = h->survey_window;
	sum_of(sur, "cs_survey_responses", &promoters, "window", w, "category", "promoter", NULL);
	sum_of(sur, "cs_survey_responses", &passives, "window", w, "category", "passive", NULL);
	sum_of(sur, "cs_survey_responses", &detractors, "window", w, "category", "detractor", NULL);
	if (promoters + passives + detractors > 0) {
		h->have[K_NPS] = true;
		h->v[K_NPS] = 100 * (promoters - detractors) / (promoters + passives + detractors);
	}
	sum_of(sur, "cs_survey_responses", &sat, "window", w, "category", "satisfied", NULL);
	sum_of(sur, "cs_survey_responses", &unsat, "window", w, "category", "unsatisfied", NULL);
	if (sat + unsat > 0) {
		h->have[K_CSAT] = true;
		h->v[K_CSAT] = sat / (sat + unsat);
	}
	h->have[K_RED_RENEWAL] = sum_of(hea, "cs_renewal_mrr", &h->v[K_RED_RENEWAL], "horizon",
					h->horizon, "band", "red", NULL);
}

/* ---- history ------------------------------------------------------------- */

struct point {
	double t; /* unix seconds of the evaluation instant */
	double v[K_COUNT];
	unsigned have; /* bit per K_ */
};

struct ring {
	struct point *p;
	size_t cap, n, next; /* next: where the next point goes */
};

struct status_history {
	struct ring recent, hourly;
};

static void ring_push(struct ring *r, const struct point *p)
{
	r->p[r->next] = *p;
	r->next = (r->next + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
}

/* The i-th point, oldest first. */
static const struct point *ring_at(const struct ring *r, size_t i)
{
	return &r->p[(r->next + r->cap - r->n + i) % r->cap];
}

struct status_history *status_history_new(void)
{
	struct status_history *h = xcalloc(1, sizeof(*h));

	h->recent.cap = STATUS_RECENT;
	h->recent.p = xcalloc(STATUS_RECENT, sizeof(struct point));
	h->hourly.cap = STATUS_HOURLY;
	h->hourly.p = xcalloc(STATUS_HOURLY, sizeof(struct point));
	return h;
}

void status_history_free(struct status_history *h)
{
	if (!h)
		return;
	free(h->recent.p);
	free(h->hourly.p);
	free(h);
}

void status_history_add(struct status_history *h, cs_time as_of, const struct status_sets *v)
{
	struct headline hl;
	struct point p = {.t = (double)as_of / (double)CS_SECOND};

	if (!h)
		return;
	headline_of(v, &hl);
	for (int k = 0; k < K_COUNT; k++) {
		p.v[k] = hl.v[k];
		if (hl.have[k])
			p.have |= 1u << k;
	}
	if (!p.have)
		return;
	/* an evaluation at or before the newest kept (a clock step back) replaces nothing */
	if (h->recent.n && ring_at(&h->recent, h->recent.n - 1)->t >= p.t)
		return;
	ring_push(&h->recent, &p);
	if (!h->hourly.n || p.t - ring_at(&h->hourly, h->hourly.n - 1)->t >= 3600)
		ring_push(&h->hourly, &p);
}

/* The newest hourly point at least 30 days before t with KPI k, NULL: none. */
static const struct point *month_ago(const struct status_history *h, double t, int k)
{
	for (size_t i = h ? h->hourly.n : 0; i-- > 0;) {
		const struct point *p = ring_at(&h->hourly, i);

		if (p->t <= t - 30 * 86400.0 && (p->have & (1u << k)))
			return p;
	}
	return NULL;
}

/* ---- formatting ---------------------------------------------------------- */

/* 1234567.8 -> "1,234,568"; below 100 with two decimals. */
static void add_amount(struct buf *b, double v)
{
	char digits[64];
	double a = fabs(v);

	if (!isfinite(v)) {
		buf_adds(b, "&mdash;");
		return;
	}
	if (v == 0) {
		buf_addch(b, '0');
		return;
	}
	if (a < 100) {
		buf_addf(b, "%.2f", v);
		return;
	}
	snprintf(digits, sizeof(digits), "%.0f", a);
	if (v < 0 && a >= 0.5)
		buf_addch(b, '-');
	for (size_t i = 0, n = strlen(digits); i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf_addch(b, ',');
		buf_addch(b, digits[i]);
	}
}

static void add_money(struct buf *b, const char *currency, double v)
{
	add_amount(b, v);
	if (currency && *currency) {
		buf_adds(b, "&nbsp;");
		status_html_label(b, currency);
	}
}

static void add_count(struct buf *b, double v)
{
	if (fabs(v) < 100)
		buf_addf(b, "%.0f", v);
	else
		add_amount(b, v);
}

static void add_percent(struct buf *b, double ratio)
{
	buf_addf(b, "%.1f%%", 100 * ratio);
}

static void add_value(struct buf *b, int k, const struct headline *h, double v)
{
	switch (k) {
	case K_MRR:
	case K_RED_RENEWAL:
		add_money(b, h->currency, v);
		break;
	case K_CUSTOMERS:
		add_count(b, v);
		break;
	case K_NPS:
		buf_addf(b, "%.1f", v);
		break;
	default:
		add_percent(b, v);
	}
}

/* A change: counts and money as themselves, ratios in percentage points. */
static void add_change(struct buf *b, int k, const struct headline *h, double d)
{
	const char *cls = d > 0 ? "rise" : d < 0 ? "fall" : "flat";

	buf_addf(b, "<span class=\"%s\">%s", cls, d > 0 ? "+" : d < 0 ? "&minus;" : "&plusmn;");
	d = fabs(d);
	switch (k) {
	case K_MRR:
	case K_RED_RENEWAL:
		add_money(b, h->currency, d);
		break;
	case K_CUSTOMERS:
		add_count(b, d);
		break;
	case K_NPS:
		buf_addf(b, "%.1f", d);
		break;
	default:
		buf_addf(b, "%.1f&nbsp;pt", 100 * d);
	}
	buf_adds(b, "</span>");
}

/* "2026-12-06 17:58" (UTC) */
static void add_time(struct buf *b, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char out[40];

	gmtime_r(&s, &tm);
	strftime(out, sizeof(out), "%Y-%m-%d %H:%M", &tm);
	buf_adds(b, out);
}

/* ---- headline tiles ------------------------------------------------------ */

static const struct {
	const char *title;
	const char *what; /* followed by the window or horizon, unless NULL */
	const char *what_alone;
} tiles[K_COUNT] = {
    [K_MRR] = {"MRR", NULL, "at t"},
    [K_CUSTOMERS] = {"Customers", NULL, "paying at t"},
    [K_LOGO_CHURN] = {"Logo churn", "over ", NULL},
    [K_NET_CHURN] = {"Net MRR churn", "over ", NULL},
    [K_NRR] = {"Net revenue retention", "over ", NULL},
    [K_NPS] = {"NPS", "responses of the last ", NULL},
    [K_CSAT] = {"CSAT", "responses of the last ", NULL},
    [K_RED_RENEWAL] = {"Red MRR up for renewal", "renewing within ", NULL},
};

static void add_tile(struct buf *b, int k, const struct headline *h,
		     const struct status_history *hist, double now_t)
{
	const char *span = k == K_NPS || k == K_CSAT ? h->survey_window
			   : k == K_RED_RENEWAL	     ? h->horizon
						     : h->window;
	const struct point *old;

	buf_adds(b, "<div class=\"tile\"><div class=\"label\">");
	buf_adds(b, tiles[k].title);
	buf_adds(b, "</div><div class=\"value\">");
	if (h->have[k])
		add_value(b, k, h, h->v[k]);
	else
		buf_adds(b, "&mdash;");
	buf_adds(b, "</div><div class=\"what\">");
	if (tiles[k].what) {
		buf_adds(b, tiles[k].what);
		status_html_label(b, span);
	} else {
		buf_adds(b, tiles[k].what_alone);
	}
	buf_adds(b, "</div><div class=\"change\">");
	if (!h->have[k]) {
		buf_adds(b, "no data");
	} else if (h->have_start[k]) {
		/* MRR and customers: the data knows their value 30 days ago */
		add_change(b, k, h, h->v[k] - h->start[k]);
		buf_adds(b, " vs ");
		status_html_label(b, h->window);
		buf_adds(b, " ago");
	} else if ((old = month_ago(hist, now_t, k)) != NULL) {
		add_change(b, k, h, h->v[k] - old->v[k]);
		buf_adds(b, " vs 30 days ago");
	} else {
		buf_adds(b, "change: after 30 days of history");
	}
	buf_adds(b, "</div></div>\n");
}

/* ---- sparklines ---------------------------------------------------------- */

#define SPARK_W 320
#define SPARK_H 64

static void sparkline(struct buf *b, const struct status_history *hist, int k,
		      const struct headline *h, const char *title)
{
	const struct ring *r = &hist->recent;
	double lo = INFINITY, hi = -INFINITY, t0 = 0, t1 = 0;
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct point *p = ring_at(r, i);

		if (!(p->have & (1u << k)))
			continue;
		if (!n++)
			t0 = p->t;
		t1 = p->t;
		lo = fmin(lo, p->v[k]);
		hi = fmax(hi, p->v[k]);
	}
	buf_adds(b, "<figure class=\"spark\"><figcaption>");
	buf_adds(b, title);
	buf_adds(b, "</figcaption>");
	if (n < 2) {
		buf_addf(b,
			 "<p class=\"note\">%zu evaluation%s so far; the line starts at the "
			 "second.</p></figure>\n",
			 n, n == 1 ? "" : "s");
		return;
	}
	buf_addf(b,
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		 "viewBox=\"0 0 %d %d\" role=\"img\"><title>",
		 SPARK_W, SPARK_H, SPARK_W, SPARK_H);
	buf_adds(b, title);
	buf_adds(b, "</title><polyline fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2\" "
		    "points=\"");
	for (size_t i = 0, j = 0; i < r->n; i++) {
		const struct point *p = ring_at(r, i);
		double x, y;

		if (!(p->have & (1u << k)))
			continue;
		x = t1 > t0 ? (p->t - t0) / (t1 - t0) * (SPARK_W - 4) + 2 : 2;
		y = hi > lo ? (hi - p->v[k]) / (hi - lo) * (SPARK_H - 8) + 4 : SPARK_H / 2.0;
		buf_addf(b, "%s%.1f,%.1f", j++ ? " " : "", x, y);
	}
	buf_adds(b, "\"/></svg><div class=\"range\">");
	if (hi > lo) {
		add_value(b, k, h, lo);
		buf_adds(b, " &ndash; ");
		add_value(b, k, h, hi);
	} else {
		buf_adds(b, "steady at ");
		add_value(b, k, h, lo);
	}
	buf_addf(b, "<br>%zu evaluations, ", n);
	add_time(b, t0);
	buf_adds(b, " to ");
	add_time(b, t1);
	buf_adds(b, " UTC</div></figure>\n");
}

/* ---- lists --------------------------------------------------------------- */

/* A listed account: its labels as written (escaped), values. */
struct row {
	char *account, *name, *segment, *band, *renewal, *type, *billing;
	double value, mrr;
	bool have_mrr;
};

struct rows {
	struct row *v;
	size_t n, cap;
	/* only samples with these (name, value) pairs; NULL names: none */
	const char *filter_name[2], *filter_value[2];
};

/* Labels a list family carries besides the segment dimensions. */
static bool own_label(const char *name)
{
	static const char *const own[] = {"account",  "name",	"band", "renewal_at",
					  "currency", "window", "type", "billing_key",
					  "horizon",  NULL};

	for (const char *const *o = own; *o; o++)
		if (!strcmp(*o, name))
			return true;
	return false;
}

static const char *label_of(size_t n, const char *const *names, const char *const *values,
			    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return values[i];
	return "";
}

static void row_one(void *ctx, size_t n, const char *const *names, const char *const *values,
		    double v)
{
	struct rows *rs = ctx;
	struct buf seg = BUF_INIT;
	struct row *r;

	for (size_t f = 0; f < 2; f++)
		if (rs->filter_name[f] &&
		    strcmp(label_of(n, names, values, rs->filter_name[f]), rs->filter_value[f]))
			return;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 32;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	for (size_t i = 0; i < n; i++) {
		if (own_label(names[i]))
			continue;
		if (seg.len)
			buf_adds(&seg, " / ");
		buf_adds(&seg, values[i]);
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->account = xstrdup(label_of(n, names, values, "account"));
	r->name = xstrdup(label_of(n, names, values, "name"));
	r->band = xstrdup(label_of(n, names, values, "band"));
	r->renewal = xstrdup(label_of(n, names, values, "renewal_at"));
	r->type = xstrdup(label_of(n, names, values, "type"));
	r->billing = xstrdup(label_of(n, names, values, "billing_key"));
	r->segment = xstrdup(seg.data ? seg.data : "");
	r->value = v;
	buf_release(&seg);
}

static void rows_release(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct row *r = &rs->v[i];

		free(r->account);
		free(r->name);
		free(r->segment);
		free(r->band);
		free(r->renewal);
		free(r->type);
		free(r->billing);
	}
	free(rs->v);
}

/* The MRR of each at-risk account (same account labels). */
static void mrr_one(void *ctx, size_t n, const char *const *names, const char *const *values,
		    double v)
{
	struct rows *rs = ctx;
	const char *account = label_of(n, names, values, "account");

	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].account, account)) {
			rs->v[i].mrr = v;
			rs->v[i].have_mrr = true;
		}
}

static int band_rank(const char *band)
{
	return !strcmp(band, "red")	 ? 0
	       : !strcmp(band, "yellow") ? 1
	       : !strcmp(band, "green")	 ? 2
					 : 3;
}

/* Red first, then the largest MRR, then the lowest score, then the key. */
static int risk_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = band_rank(x->band) - band_rank(y->band);

	if (c)
		return c;
	if (x->mrr != y->mrr)
		return x->mrr > y->mrr ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return strcmp(x->account, y->account);
}

/* Largest amount first, then the account key, then the billing key. */
static int mover_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	c = strcmp(x->account, y->account);
	return c ? c : strcmp(x->billing, y->billing);
}

#define PAGE_AT_RISK 12
#define PAGE_MOVERS  5

/* An account cell: its name ("(no name)" when it has none), and below it
 * its account key, or "billing " and the billing key for a billing
 * customer no account names. */
static void add_who(struct buf *b, const struct row *r)
{
	buf_adds(b, "<td class=\"who\">");
	if (*r->name)
		status_html_label(b, r->name);
	else
		buf_adds(b, "(no name)");
	buf_adds(b, "<br><span class=\"key\">");
	if (*r->account) {
		status_html_label(b, r->account);
	} else {
		buf_adds(b, "billing ");
		status_html_label(b, r->billing);
	}
	buf_adds(b, "</span></td>");
}

static void at_risk_list(struct buf *b, const struct mset *hea, const struct headline *h)
{
	struct rows rs = {0};

	buf_adds(b, "<section class=\"list\"><h2>Accounts at risk</h2>\n");
	if (!hea) {
		buf_adds(
		    b, "<p class=\"note\">No health collector has succeeded yet.</p></section>\n");
		return;
	}
	mset_each_sample(hea, "cs_at_risk_account_score", row_one, &rs);
	mset_each_sample(hea, "cs_at_risk_account_mrr", mrr_one, &rs);
	if (!rs.n) {
		buf_adds(b, "<p class=\"note\">The list is empty (health.at_risk = 0, or no "
			    "scored account).</p></section>\n");
		rows_release(&rs);
		return;
	}
	qsort(rs.v, rs.n, sizeof(*rs.v), risk_cmp);
	buf_addf(b,
		 "<p class=\"note\">%zu of the %zu listed accounts (cs_at_risk_account_score), "
		 "red first, then by MRR at risk.</p>\n",
		 rs.n < PAGE_AT_RISK ? rs.n : PAGE_AT_RISK, rs.n);
	buf_adds(b, "<table class=\"at-risk\"><tr><th>account</th><th>segment</th><th>band</th>"
		    "<th>score</th><th>MRR</th><th>renewal</th></tr>\n");
	for (size_t i = 0; i < rs.n && i < PAGE_AT_RISK; i++) {
		const struct row *r = &rs.v[i];

		buf_adds(b, "<tr>");
		add_who(b, r);
		buf_adds(b, "<td>");
		status_html_label(b, r->segment);
		buf_adds(b, "</td><td class=\"band ");
		status_html_label(b, r->band);
		buf_adds(b, "\">");
		status_html_label(b, r->band);
		buf_addf(b, "</td><td class=\"num\">%.1f</td><td class=\"num\">", r->value);
		if (r->have_mrr)
			add_money(b, h->currency, r->mrr);
		buf_adds(b, "</td><td>");
		status_html_label(b, r->renewal);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table></section>\n");
	rows_release(&rs);
}

static void movers_list(struct buf *b, const struct mset *rev, const struct headline *h)
{
	static const struct {
		const char *type, *title;
	} types[] = {
	    {"churn", "Churned"}, {"contraction", "Contracted"},   {"expansion", "Expanded"},
	    {"new", "New"},	  {"reactivation", "Reactivated"},
	};

	buf_adds(b, "<section class=\"list\"><h2>Movements over ");
	status_html_label(b, h->window);
	buf_adds(b, "</h2>\n<p class=\"note\">The largest MRR movements and the customers behind "
		    "them (cs_mrr_mover).</p>\n<div class=\"movers\">\n");
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		struct rows rs = {.filter_name = {"type", "window"},
				  .filter_value = {types[t].type, h->window}};

		if (rev)
			mset_each_sample(rev, "cs_mrr_mover", row_one, &rs);
		if (rs.n)
			qsort(rs.v, rs.n, sizeof(*rs.v), mover_cmp);
		buf_addf(b, "<div class=\"mover\"><h3>%s</h3><table>", types[t].title);
		for (size_t i = 0; i < rs.n && i < PAGE_MOVERS; i++) {
			buf_adds(b, "<tr>");
			add_who(b, &rs.v[i]);
			buf_adds(b, "<td class=\"num\">");
			add_money(b, h->currency, rs.v[i].value);
			buf_adds(b, "</td></tr>");
		}
		if (!rs.n)
			buf_adds(b, "<tr><td class=\"note\">none</td></tr>");
		buf_adds(b, "</table></div>\n");
		rows_release(&rs);
	}
	buf_adds(b, "</div></section>\n");
}

/* The distinct horizon labels of a family, in the order first seen. */
struct horizons {
	char v[CS_MAX_HORIZONS][32];
	size_t n;
};

static void horizon_one(void *ctx, size_t n, const char *const *names, const char *const *values,
			double v)
{
	struct horizons *hz = ctx;
	const char *h = label_of(n, names, values, "horizon");

	(void)v;
	for (size_t i = 0; i < hz->n; i++)
		if (!strcmp(hz->v[i], h))
			return;
	if (hz->n < CS_MAX_HORIZONS)
		snprintf(hz->v[hz->n++], sizeof(hz->v[0]), "%s", h);
}

static void renewals_table(struct buf *b, const struct mset *hea, const struct headline *h)
{
	static const char *const bands[] = {"red", "yellow", "green", "unknown"};
	struct horizons hz = {.n = 0};

	buf_adds(b, "<section class=\"list\"><h2>Renewals due</h2>\n");
	if (!hea) {
		buf_adds(
		    b, "<p class=\"note\">No health collector has succeeded yet.</p></section>\n");
		return;
	}
	mset_each_sample(hea, "cs_renewal_accounts", horizon_one, &hz);
	buf_adds(b, "<p class=\"note\">Accounts whose renewal date falls within the horizon, by "
		    "health band, and their MRR (cs_renewal_accounts, cs_renewal_mrr).</p>\n"
		    "<table class=\"renewals\"><tr><th>within</th>");
	for (size_t i = 0; i < 4; i++)
		buf_addf(b, "<th class=\"band %s\">%s</th>", bands[i], bands[i]);
	buf_adds(b, "</tr>\n");
	for (size_t k = 0; k < hz.n; k++) {
		buf_adds(b, "<tr><td>");
		status_html_label(b, hz.v[k]);
		buf_adds(b, "</td>");
		for (size_t i = 0; i < 4; i++) {
			double n = 0, mrr = 0;

			sum_of(hea, "cs_renewal_accounts", &n, "horizon", hz.v[k], "band", bands[i],
			       NULL);
			sum_of(hea, "cs_renewal_mrr", &mrr, "horizon", hz.v[k], "band", bands[i],
			       NULL);
			buf_adds(b, "<td class=\"num\">");
			add_count(b, n);
			buf_adds(b, n == 1 ? " account<br>" : " accounts<br>");
			add_money(b, h->currency, mrr);
			buf_adds(b, "</td>");
		}
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table></section>\n");
}

/* ---- the page ------------------------------------------------------------ */

void status_page_kpis(struct buf *b, const struct status_sets *v, const struct status_history *h)
{
	struct headline hl;
	double now_t = 0;

	headline_of(v, &hl);
	if (h && h->recent.n)
		now_t = ring_at(&h->recent, h->recent.n - 1)->t;
	buf_adds(b, "<h2>Customer success</h2>\n");
	if (now_t > 0) {
		buf_adds(b, "<p class=\"note\">As of the last evaluation, ");
		add_time(b, now_t);
		buf_adds(b, " UTC; every segment summed. Changes of MRR and customers are from the "
			    "data; the others from this process's own history.</p>\n");
	}
	buf_adds(b, "<div class=\"tiles\">\n");
	for (int k = 0; k < K_COUNT; k++)
		add_tile(b, k, &hl, h, now_t);
	buf_adds(b, "</div>\n<div class=\"sparks\">\n");
	if (h) {
		sparkline(b, h, K_MRR, &hl, "MRR");
		sparkline(b, h, K_LOGO_CHURN, &hl, "Logo churn");
		sparkline(b, h, K_NET_CHURN, &hl, "Net MRR churn");
	}
	buf_adds(b, "</div>\n");
	at_risk_list(b, v->set[KIND_HEALTH], &hl);
	movers_list(b, v->set[KIND_REVENUE], &hl);
	renewals_table(b, v->set[KIND_HEALTH], &hl);
}
