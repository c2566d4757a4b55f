#include "emit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Enough for every dimension plus the labels a family adds. */
#define EMIT_MAX_LABELS (CS_MAX_DIMENSIONS + CS_FAMILY_LABELS)

struct cs_emitter family_of(struct mset *out, const struct cs_data *d, const struct cs_family *def)
{
	struct cs_emitter e = {mset_family(out, def->name, def->type, def->help, def->unit), def,
			       d};
	return e;
}

size_t family_nlabels(const struct cs_family *def)
{
	size_t n = 0;

	while (n < CS_FAMILY_LABELS && def->labels[n])
		n++;
	return n;
}

/* A wrong count of label values would write a series with labels shifted
 * under the wrong names: never let it through. */
static void wrong_count(const struct cs_family *def)
{
	fprintf(stderr, "%s: label values do not match the family table\n", def->name);
	abort();
}

static size_t own_values(const struct cs_family *def, va_list ap, const char **values)
{
	size_t n = family_nlabels(def);

	for (size_t i = 0; i < n; i++) {
		values[i] = va_arg(ap, const char *);
		if (!values[i])
			wrong_count(def);
	}
	if (va_arg(ap, const char *) != NULL)
		wrong_count(def);
	return n;
}

static size_t all_labels(const struct cs_emitter *e, size_t nprefix, const char *const *pnames,
			 const char *const *pvalues, const char *const *own, const char **names,
			 const char **values)
{
	size_t n = 0, nown = family_nlabels(e->def);

	for (size_t i = 0; i < nprefix && n < EMIT_MAX_LABELS; i++, n++) {
		names[n] = pnames[i];
		values[n] = pvalues[i];
	}
	for (size_t i = 0; i < nown && n < EMIT_MAX_LABELS; i++, n++) {
		names[n] = e->def->labels[i];
		values[n] = own[i];
	}
	return n;
}

static size_t segment_labels(const struct cs_data *d, uint32_t seg, const char **values)
{
	size_t n = d->seg.ndims;

	for (size_t i = 0; i < n; i++)
		values[i] = seg < d->seg.n ? d->seg.values[(size_t)seg * n + i] : "unknown";
	return n;
}

void emit_labels(const struct cs_emitter *e, size_t nprefix, const char *const *pnames,
		 const char *const *prefix, const char *const *values, double value)
{
	const char *names[EMIT_MAX_LABELS], *all[EMIT_MAX_LABELS];
	size_t n = all_labels(e, nprefix, pnames, prefix, values, names, all);

	family_add(e->f, n, names, all, value);
}

void emit(const struct cs_emitter *e, uint32_t seg, double value, ...)
{
	const char *prefix[CS_MAX_DIMENSIONS], *own[CS_FAMILY_LABELS];
	size_t np = segment_labels(e->d, seg, prefix);
	va_list ap;

	va_start(ap, value);
	own_values(e->def, ap, own);
	va_end(ap);
	emit_labels(e, np, (const char *const *)e->d->cfg->dims, prefix, own, value);
}

void emit_histogram(const struct cs_emitter *e, uint32_t seg, size_t nbuckets, const double *bounds,
		    const uint64_t *cumulative, double gsum, ...)
{
	const char *prefix[CS_MAX_DIMENSIONS], *own[CS_FAMILY_LABELS];
	const char *names[EMIT_MAX_LABELS], *all[EMIT_MAX_LABELS];
	size_t np = segment_labels(e->d, seg, prefix), n;
	va_list ap;

	va_start(ap, gsum);
	own_values(e->def, ap, own);
	va_end(ap);
	n = all_labels(e, np, (const char *const *)e->d->cfg->dims, prefix, own, names, all);
	family_add_histogram(e->f, n, names, all, nbuckets, bounds, cumulative, gsum);
}

int cs_cmp(double a, double b)
{
	if (a == b)
		return 0;
	double scale = fmax(fabs(a), fabs(b));
	if (fabs(a - b) <= 1e-9 * scale)
		return 0;
	return a < b ? -1 : 1;
}
