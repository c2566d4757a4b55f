/*
 * libFuzzer harness for config_load: the input is a configuration file.
 * Any outcome but a crash, leak or sanitizer report is fine; a loaded config
 * is freed again so leaks in either path show up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/kinds.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 (Debian 12) leaks its string buffer when a syntax error
 * follows a string (a = "x" b;), without any of our code involved. Only
 * allocations made inside the library are suppressed; leaks in config.c
 * (whose stacks do not pass through libconfig) still fail the run.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_config.XXXXXX";
	char err[1024];
	struct cs_config *cfg;
	FILE *f;
	int fd;

	/* @include would read arbitrary files (or /dev/zero forever): not the parser under test. */
	if (memmem(data, size, "@include", 8))
		return 0;
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	f = fdopen(fd, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	err[0] = '\0';
	cfg = cs_settings_load(path, err, sizeof(err));
	unlink(path);
	/* Every failure must explain itself. */
	if (!cfg && err[0] == '\0')
		abort();
	config_free(cfg);
	return 0;
}
