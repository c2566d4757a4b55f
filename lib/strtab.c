#include "strtab.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"

#define ARENA_BLOCK (1u << 20)

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (n > a->left) {
		size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		if (a->nblocks == a->capblocks) {
			a->capblocks = a->capblocks ? 2 * a->capblocks : 16;
			a->blocks = xrealloc(a->blocks, a->capblocks * sizeof(*a->blocks));
		}
		char *blk = xmalloc(size);
		a->blocks[a->nblocks++] = blk;
		if (size != ARENA_BLOCK)
			return blk; /* a large one-off; keep the current block */
		a->cur = blk;
		a->left = size;
	}
	void *p = a->cur;
	a->cur += n;
	a->left -= n;
	return p;
}

const char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void arena_release(struct arena *a)
{
	for (size_t i = 0; i < a->nblocks; i++)
		free(a->blocks[i]);
	free(a->blocks);
	memset(a, 0, sizeof(*a));
}

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = hash_fnv1a(s, len);
	return (uint32_t)(h ^ (h >> 32));
}

static void strtab_grow(struct strtab *t)
{
	size_t cap = t->cap ? 2 * t->cap : 64;
	struct strent *e = xcalloc(cap, sizeof(*e));
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->e[i].key)
			continue;
		size_t j = t->e[i].hash & (cap - 1);
		while (e[j].key)
			j = (j + 1) & (cap - 1);
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->cap = cap;
}

struct strent *strtab_find(const struct strtab *t, const char *key)
{
	if (!t->cap)
		return NULL;
	size_t len = strlen(key);
	uint32_t h = hash_bytes(key, len);
	size_t j = h & (t->cap - 1);
	while (t->e[j].key) {
		if (t->e[j].hash == h && !strcmp(t->e[j].key, key))
			return &t->e[j];
		j = (j + 1) & (t->cap - 1);
	}
	return NULL;
}

struct strent *strtab_put(struct strtab *t, struct arena *a, const char *key, bool *added)
{
	if ((t->n + 1) * 10 > t->cap * 7)
		strtab_grow(t);
	size_t len = strlen(key);
	uint32_t h = hash_bytes(key, len);
	size_t j = h & (t->cap - 1);
	while (t->e[j].key) {
		if (t->e[j].hash == h && !strcmp(t->e[j].key, key)) {
			*added = false;
			return &t->e[j];
		}
		j = (j + 1) & (t->cap - 1);
	}
	t->e[j].key = a ? arena_strndup(a, key, len) : key;
	t->e[j].hash = h;
	t->e[j].val = -1;
	t->n++;
	*added = true;
	return &t->e[j];
}

void strtab_release(struct strtab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}
