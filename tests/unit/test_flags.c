#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "exporter/commands/flags.h"

struct parsed {
	const char *file, *word;
	bool once;
	int nice;
	const char *list[2];
	size_t nlist;
};

static int check_word(const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)
		return 0;
	snprintf(why, whylen, "yes or no");
	return -1;
}

static void no_usage(void)
{
}

static int parse(struct parsed *p, int argc, const char **argv, bool required)
{
	const struct flag table[] = {
	    {.name = "config.file", .type = FLAG_STRING, .dst = &p->file},
	    {.name = "word",
	     .type = FLAG_STRING,
	     .dst = &p->word,
	     .check = check_word,
	     .required = required},
	    {.name = "once", .type = FLAG_BOOL, .dst = &p->once},
	    {.name = "nice", .type = FLAG_INT, .dst = &p->nice, .lo = 0, .hi = 19},
	    {.name = "addr", .type = FLAG_LIST, .dst = p->list, .max = 2, .count = &p->nlist},
	    {0},
	};
	memset(p, 0, sizeof(*p));
	return flags_parse(table, no_usage, argc, (char **)argv);
}

/* Both spellings of a value, booleans, ranges and repeatable flags. */
Test(flags, takes_values_with_and_without_equals)
{
	struct parsed p;
	const char *argv[] = {"cs",	  "--config.file", "a.conf", "--word=yes", "--once",
			      "--nice=7", "--addr",	   ":1",     "--addr=:2"};
	cr_assert_eq(parse(&p, 9, argv, false), 0);
	cr_assert_str_eq(p.file, "a.conf");
	cr_assert_str_eq(p.word, "yes");
	cr_assert(p.once);
	cr_assert_eq(p.nice, 7);
	cr_assert_eq(p.nlist, 2);
	cr_assert_str_eq(p.list[1], ":2");
}

static void refused(bool required, int argc, const char **argv, const char *line)
{
	struct parsed p;
	cr_redirect_stderr();
	cr_assert_eq(parse(&p, argc, argv, required), -1);
	fflush(stderr);
	cr_assert_stderr_eq_str(line);
}

Test(flags, names_an_unknown_flag_in_one_line)
{
	const char *argv[] = {"cs", "--config.fil=x"};
	refused(false, 2, argv,
		"cs_exporter: error: unknown long flag '--config.fil', try --help\n");
}

/* No abbreviations, unlike getopt_long: kingpin takes exact names only. */
Test(flags, refuses_an_abbreviation)
{
	const char *argv[] = {"cs", "--conf", "x"};
	refused(false, 3, argv, "cs_exporter: error: unknown long flag '--conf', try --help\n");
}

Test(flags, names_an_unknown_short_flag)
{
	const char *argv[] = {"cs", "-x"};
	refused(false, 2, argv, "cs_exporter: error: unknown short flag '-x', try --help\n");
}

Test(flags, wants_an_argument)
{
	const char *argv[] = {"cs", "--config.file"};
	refused(false, 2, argv,
		"cs_exporter: error: expected argument for flag '--config.file', try --help\n");
}

Test(flags, refuses_an_argument_to_a_boolean)
{
	const char *argv[] = {"cs", "--once=yes"};
	refused(false, 2, argv,
		"cs_exporter: error: flag '--once' takes no argument, try --help\n");
}

Test(flags, says_what_a_value_should_be)
{
	const char *argv[] = {"cs", "--word", "maybe"};
	refused(false, 3, argv,
		"cs_exporter: error: invalid value 'maybe' for flag '--word' (yes or no), try "
		"--help\n");
}

Test(flags, checks_an_integer_range)
{
	const char *argv[] = {"cs", "--nice=20"};
	refused(false, 2, argv,
		"cs_exporter: error: invalid value '20' for flag '--nice' (0 to 19), try --help\n");
}

Test(flags, bounds_a_repeatable_flag)
{
	const char *argv[] = {"cs", "--addr=1", "--addr=2", "--addr=3"};
	refused(false, 4, argv,
		"cs_exporter: error: flag '--addr' given more than 2 times, try --help\n");
}

Test(flags, refuses_a_positional_argument)
{
	const char *argv[] = {"cs", "serve"};
	refused(false, 2, argv, "cs_exporter: error: unexpected argument 'serve', try --help\n");
}

Test(flags, wants_a_required_flag)
{
	const char *argv[] = {"cs", "--once"};
	refused(true, 2, argv,
		"cs_exporter: error: required flag '--word' not provided, try --help\n");
}

/* --log.level and --log.format come with every table. */
Test(flags, knows_the_log_flags_of_every_command)
{
	struct parsed p;
	const char *ok[] = {"cs", "--log.level=warn", "--log.format", "logfmt"};
	cr_assert_eq(parse(&p, 4, ok, false), 0);
	const char *argv[] = {"cs", "--log.level=loud"};
	refused(false, 2, argv,
		"cs_exporter: error: invalid value 'loud' for flag '--log.level' (debug, info, "
		"warn or error), try --help\n");
}

/* -h and --help print the usage and exit 0, whatever follows. */
static void print_usage(void)
{
	printf("usage: test\n");
}

Test(flags, help_prints_the_usage_and_exits_0, .exit_code = 0)
{
	struct parsed p = {0};
	const struct flag table[] = {{.name = "once", .type = FLAG_BOOL, .dst = &p.once}, {0}};
	const char *argv[] = {"cs", "-h", "--bogus"};
	cr_redirect_stdout();
	flags_parse(table, print_usage, 3, (char **)argv);
	cr_assert_fail("-h did not exit");
}
