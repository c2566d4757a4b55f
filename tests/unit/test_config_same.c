/* config_same: what a reload compares to decide whether anything changed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/kinds.h"
#include "config/config.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cs_config_same.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct cs_config *load_text(const char *name, const char *text)
{
	char path[128], err[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	struct cs_config *cfg = cs_settings_load(path, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	return cfg;
}

#define BASE                                                                                       \
	"sources = ({ name = \"crm\"; });\n"                                                       \
	"segments = { dimensions = []; };\n"                                                       \
	"datasets = { accounts = { source = \"crm\"; query = \"SELECT 1\"; }; };\n"                \
	"outcomes = ({ name = \"logins\"; source = \"crm\"; target = 3; query = \"SELECT 1\"; "    \
	"});\n"
#define COLLECTOR(interval)                                                                        \
	"collectors = ({ kind = \"outcomes\"; interval = \"" interval "\"; });\n"

Test(config_same, comments_and_layout_do_not_count, .init = make_dir, .fini = remove_dir)
{
	struct cs_config *a = load_text("a.conf", BASE COLLECTOR("5m"));
	struct cs_config *b = load_text("b.conf", "# edited by hand\n" BASE
						  "\n\n/* note */\n" COLLECTOR("5m") "// end\n");
	cr_assert(config_same(a, b));
	cr_assert(config_same(a, a));
	config_free(a);
	config_free(b);
}

Test(config_same, a_changed_setting_counts, .init = make_dir, .fini = remove_dir)
{
	struct cs_config *a = load_text("a.conf", BASE COLLECTOR("5m"));
	struct cs_config *b = load_text("b.conf", BASE COLLECTOR("10m"));
	cr_assert_not(config_same(a, b));
	cr_assert_not(config_same(a, NULL));
	config_free(a);
	config_free(b);
}

Test(config_same, included_files_count, .init = make_dir, .fini = remove_dir)
{
	struct cs_config *a = load_text("a.conf", BASE COLLECTOR("5m"));
	char path[128];
	snprintf(path, sizeof(path), "%s/c.inc", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(COLLECTOR("7m"), f);
	fclose(f);
	struct cs_config *b = load_text("b.conf", BASE "@include \"c.inc\"\n");
	cr_assert_not(config_same(a, b));
	config_free(a);
	config_free(b);
}
