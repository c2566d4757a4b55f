#include "emit.h"

#include <math.h>
#include <stdarg.h>

/* Enough for every dimension plus the few labels a family adds. */
#define EMIT_MAX_LABELS (CS_MAX_DIMENSIONS + 16)

static size_t segment_labels(const struct cs_data *d, uint32_t seg, const char **names,
			     const char **values)
{
	size_t n = d->seg.ndims;

	for (size_t i = 0; i < n; i++) {
		names[i] = d->cfg->dims[i];
		values[i] = seg < d->seg.n ? d->seg.values[(size_t)seg * n + i] : "unknown";
	}
	return n;
}

static size_t extra_labels(va_list ap, size_t n, const char **names, const char **values)
{
	const char *name;

	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		if (n < EMIT_MAX_LABELS) {
			names[n] = name;
			values[n] = value;
			n++;
		}
	}
	return n;
}

void emit(struct family *f, const struct cs_data *d, uint32_t seg, double value, ...)
{
	const char *names[EMIT_MAX_LABELS];
	const char *values[EMIT_MAX_LABELS];
	size_t n = segment_labels(d, seg, names, values);
	va_list ap;

	va_start(ap, value);
	n = extra_labels(ap, n, names, values);
	va_end(ap);
	family_add(f, n, names, values, value);
}

void emit_histogram(struct family *f, const struct cs_data *d, uint32_t seg, size_t nbuckets,
		    const double *bounds, const uint64_t *cumulative, double gsum, ...)
{
	const char *names[EMIT_MAX_LABELS];
	const char *values[EMIT_MAX_LABELS];
	size_t n = segment_labels(d, seg, names, values);
	va_list ap;

	va_start(ap, gsum);
	n = extra_labels(ap, n, names, values);
	va_end(ap);
	family_add_histogram(f, n, names, values, nbuckets, bounds, cumulative, gsum);
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
