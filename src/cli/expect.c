/* What a pipelined load leaves on the servers: each key's final word, for
 * --verify. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * One key the load touched.  line is that of the command whose word is
 * final for the key (0 marks a free slot); gone when that command is a
 * delete.  The key itself is in the table's arena, at off.
 */
struct expect_slot {
	size_t off;
	unsigned long line;
	uint32_t check;	   /* the hash's high half: most probes stop here */
	unsigned char len; /* keys hold at most 250 bytes */
	unsigned char gone;
};

struct expect {
	struct expect_slot *slots;
	size_t nslots; /* a power of two */
	unsigned long n;
	unsigned long last; /* the last line noted */
	char *arena;
	size_t arenalen, arenacap;
};

struct expect *
expect_new(void)
{
	struct expect *e;

	if ((e = calloc(1, sizeof *e)) == NULL)
		return (NULL);
	e->nslots = 1024;
	if ((e->slots = calloc(e->nslots, sizeof *e->slots)) == NULL) {
		free(e);
		return (NULL);
	}
	return (e);
}

void
expect_free(struct expect *e)
{
	if (e == NULL)
		return;
	free(e->slots);
	free(e->arena);
	free(e);
}

unsigned long
expect_keys(const struct expect *e)
{
	return (e->n);
}

unsigned long
expect_last_line(const struct expect *e)
{
	return (e->last);
}

/*
 * FNV-1a, then mixed (splitmix64's finish) so that keys alike but for
 * their last bytes, as loads make them, do not crowd into one run of
 * slots.
 */
static uint64_t
hash(const char *key, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return (h ^ (h >> 31));
}

/* The slot of key, or the free slot where it would go. */
static struct expect_slot *
lookup(const struct expect *e, const char *key, size_t len, uint64_t h)
{
	struct expect_slot *s;
	size_t i = (size_t)h & (e->nslots - 1);

	for (;;) {
		s = &e->slots[i];
		if (s->line == 0 ||
		    (s->check == (uint32_t)(h >> 32) && s->len == len &&
			memcmp(e->arena + s->off, key, len) == 0))
			return (s);
		i = (i + 1) & (e->nslots - 1);
	}
}

/* Double the slots, keeping at most half of them used. */
static int
grow(struct expect *e)
{
	struct expect_slot *old = e->slots, *s;
	size_t oldn = e->nslots, i;

	e->nslots *= 2;
	if ((e->slots = calloc(e->nslots, sizeof *e->slots)) == NULL) {
		e->slots = old;
		e->nslots = oldn;
		return (-1);
	}
	for (i = 0; i < oldn; i++) {
		if (old[i].line == 0)
			continue;
		s = lookup(e, e->arena + old[i].off, old[i].len,
		    hash(e->arena + old[i].off, old[i].len));
		*s = old[i];
	}
	free(old);
	return (0);
}

/*
 * A line of the load was sent: command (set, add, replace or delete) on
 * key.  Its word becomes the key's final one as the server would apply
 * it: add does nothing to a key the load left present, replace nothing
 * to one it deleted.  A key the load has not touched before is taken to
 * follow the command, whatever the server held.  Returns -1 when out of
 * memory.
 */
int
expect_note(struct expect *e, const char *key, size_t len, const char *command,
    unsigned long line)
{
	struct expect_slot *s;
	uint64_t h;
	char *p;
	size_t cap;
	int gone = strcmp(command, "delete") == 0;

	if (len == 0 || len > UINT8_MAX)
		return (-1);
	e->last = line;
	h = hash(key, len);
	s = lookup(e, key, len, h);
	if (s->line != 0) {
		if ((strcmp(command, "add") == 0 && !s->gone) ||
		    (strcmp(command, "replace") == 0 && s->gone))
			return (0);
		s->line = line;
		s->gone = (unsigned char)gone;
		return (0);
	}
	if (e->arenalen + len > e->arenacap) {
		cap = e->arenacap > 0 ? e->arenacap * 2 : 65536;
		if ((p = realloc(e->arena, cap)) == NULL)
			return (-1);
		e->arena = p;
		e->arenacap = cap;
	}
	memcpy(e->arena + e->arenalen, key, len);
	s->off = e->arenalen;
	s->check = (uint32_t)(h >> 32);
	s->len = (unsigned char)len;
	s->line = line;
	s->gone = (unsigned char)gone;
	e->arenalen += len;
	e->n++;
	if (e->n * 2 > e->nslots && grow(e) != 0)
		return (-1);
	return (0);
}

/* Whether the command of line has the final word on key. */
int
expect_is_final(
    const struct expect *e, const char *key, size_t len, unsigned long line)
{
	const struct expect_slot *s;

	if (len == 0 || len > UINT8_MAX)
		return (0);
	s = lookup(e, key, len, hash(key, len));
	return (s->line != 0 && s->line == line);
}
