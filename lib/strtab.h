/*
 * strtab: an arena for strings that die together, and a string table
 * (string -> int32) over it. Both are for one evaluation's keys: everything
 * allocated from an arena is freed at once by arena_release.
 *
 * Open addressing with linear probing, keys in the arena. Load stays below
 * 0.7 so probes are short at a million keys.
 */
#ifndef CS_STRTAB_H
#define CS_STRTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena {
	char *cur;
	size_t left;
	char **blocks;
	size_t nblocks, capblocks;
};

void *arena_alloc(struct arena *a, size_t n);
const char *arena_strndup(struct arena *a, const char *s, size_t len);
void arena_release(struct arena *a);

struct strent {
	const char *key;
	uint32_t hash;
	int32_t val;
};

struct strtab {
	struct strent *e;
	size_t cap, n;
};

struct strent *strtab_find(const struct strtab *t, const char *key);
/* Returns the entry of key, adding it (val = -1) when new: the key is copied
 * to the arena, or with a NULL arena taken as is (it lives in the arena
 * already). */
struct strent *strtab_put(struct strtab *t, struct arena *a, const char *key, bool *added);
void strtab_release(struct strtab *t);

#endif
