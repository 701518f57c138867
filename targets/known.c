/*
 * known.c - known divergences, stepped over.
 *
 * An implementation with one shallow bug (qemu-user accepting unknown flag
 * bits) would otherwise hide everything behind it: about one program in six
 * hits it first.  A known list names such divergences; programs that hit
 * one are counted apart (and not kept in the corpus), and fuzzing looks on.
 *
 * The file, one entry a line ('#' starts a comment):
 *
 *   TARGET SIGNATURE [DETAIL...]
 *
 * TARGET is a target's name ("exec-qemu-x86_64") or "*"; SIGNATURE is a
 * verdict's signature ("epoll_ctl.errno", "invariant:lost-wakeup",
 * "unsupported:fcntl"), "*", or a prefix ending in "*" ("epoll_ctl.*");
 * DETAIL, when given, must occur in the verdict's detail ("0 vs -1
 * EINVAL").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

#define KNOWN_MAX 256
#define KNOWN_LINE 512

struct known_entry {
	char target[TARGET_NAME_MAX];
	char signature[96];
	char detail[256];
	unsigned line;
};

struct known_list {
	unsigned n;
	struct known_entry e[KNOWN_MAX];
};

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One line into e; 0 when it is blank, 1 when it is an entry. */
static int parse_line(char *line, struct known_entry *e, const char *path,
		      unsigned n, struct error *err)
{
	char *hash = strchr(line, '#'), *target, *sig, *detail;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	target = line;
	sig = target + strcspn(target, " \t");
	if (!*sig)
		return fail(err, "%s:%u: want TARGET SIGNATURE [DETAIL], got '%s'",
			    path, n, target);
	*sig++ = '\0';
	sig += strspn(sig, " \t");
	detail = sig + strcspn(sig, " \t");
	if (*detail)
		*detail++ = '\0';
	detail = trim(detail);
	if (strlen(target) >= sizeof(e->target) || strlen(sig) >= sizeof(e->signature) ||
	    strlen(detail) >= sizeof(e->detail))
		return fail(err, "%s:%u: an entry's field is too long", path, n);
	strcpy(e->target, target);
	strcpy(e->signature, sig);
	strcpy(e->detail, detail);
	e->line = n;
	return 1;
}

struct known_list *known_load(const char *path, struct error *err)
{
	FILE *f = fopen(path, "r");
	struct known_list *k;
	char line[KNOWN_LINE];
	unsigned n = 0;

	if (!f) {
		fail(err, "--known %s: %s", path, strerror(errno));
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		fclose(f);
		fail(err, "--known %s: out of memory", path);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		int rc;

		n++;
		if (k->n == KNOWN_MAX) {
			fail(err, "%s: more than %d entries", path, KNOWN_MAX);
			goto bad;
		}
		rc = parse_line(line, &k->e[k->n], path, n, err);
		if (rc < 0)
			goto bad;
		k->n += (unsigned)rc;
	}
	fclose(f);
	return k;
bad:
	fclose(f);
	free(k);
	return NULL;
}

void known_free(struct known_list *k)
{
	free(k);
}

static bool glob_match(const char *pattern, const char *text)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, text, n - 1) == 0;
	return strcmp(pattern, text) == 0;
}

int known_match(const struct known_list *k, const struct verdict *v)
{
	if (!k || v->cls == VERDICT_AGREE)
		return -1;
	for (unsigned i = 0; i < k->n; i++) {
		const struct known_entry *e = &k->e[i];

		if (glob_match(e->target, v->target) &&
		    glob_match(e->signature, v->signature) &&
		    (!e->detail[0] || strstr(v->detail, e->detail)))
			return (int)e->line;
	}
	return -1;
}
