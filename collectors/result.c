#include "result.h"

#include <stdlib.h>
#include <string.h>

size_t cs_result_failed(const struct cs_result *res)
{
	size_t n = 0;
	for (size_t i = 0; i < res->n; i++)
		n += !res->v[i].ok;
	return n;
}

void cs_result_release(struct cs_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		mset_free(res->v[i].set);
	free(res->v);
	for (size_t i = 0; i < res->nrejects; i++) {
		free(res->rejects[i].dataset);
		free(res->rejects[i].reason);
	}
	free(res->rejects);
	for (size_t i = 0; i < res->nretries; i++) {
		free(res->retries[i].dataset);
		free(res->retries[i].reason);
	}
	free(res->retries);
	memset(res, 0, sizeof(*res));
}
