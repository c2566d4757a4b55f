#include <criterion/criterion.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporter/serve/sdlisten.h"

static struct sdlisten sl;
static char err[512];

static int parse(const char *pid, const char *fds, const char *names, long self)
{
	err[0] = '\0';
	return sdlisten_parse(pid, fds, names, self, &sl, err, sizeof(err));
}

Test(sdlisten, one_socket)
{
	cr_assert_eq(parse("42", "1", NULL, 42), 0, "%s", err);
	cr_assert_eq(sl.n, 1);
	cr_assert_str_eq(sl.names[0], "");
}

Test(sdlisten, several_named)
{
	cr_assert_eq(parse("7", "3", "web:local:", 7), 0, "%s", err);
	cr_assert_eq(sl.n, 3);
	cr_assert_str_eq(sl.names[0], "web");
	cr_assert_str_eq(sl.names[1], "local");
	cr_assert_str_eq(sl.names[2], "");
}

Test(sdlisten, names_fewer_or_more_than_fds)
{
	cr_assert_eq(parse("7", "2", "only", 7), 0, "%s", err);
	cr_assert_str_eq(sl.names[0], "only");
	cr_assert_str_eq(sl.names[1], "");
	cr_assert_eq(parse("7", "1", "a:b:c", 7), 0, "%s", err);
	cr_assert_str_eq(sl.names[0], "a");
}

Test(sdlisten, long_name_cut)
{
	char name[400];
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_eq(parse("7", "1", name, 7), 0, "%s", err);
	cr_assert_eq(strlen(sl.names[0]), SDLISTEN_NAME_MAX);
}

Test(sdlisten, at_most_max)
{
	char n[16];
	snprintf(n, sizeof(n), "%d", SDLISTEN_MAX);
	cr_assert_eq(parse("7", n, NULL, 7), 0, "%s", err);
	cr_assert_eq(sl.n, SDLISTEN_MAX);
	snprintf(n, sizeof(n), "%d", SDLISTEN_MAX + 1);
	cr_assert_eq(parse("7", n, NULL, 7), -1);
	cr_assert(strstr(err, "at most 16"), "%s", err);
	cr_assert_eq(parse("7", "99999999999999999999", NULL, 7), -1);
	cr_assert(strstr(err, "invalid LISTEN_FDS"), "%s", err);
}

Test(sdlisten, no_listen_fds)
{
	cr_assert_eq(parse(NULL, NULL, NULL, 7), -1);
	cr_assert(strstr(err, "LISTEN_FDS is not set"), "%s", err);
	cr_assert_eq(parse("7", NULL, "web", 7), -1);
	cr_assert(strstr(err, "LISTEN_FDS is not set"), "%s", err);
	cr_assert_eq(sl.n, 0);
}

Test(sdlisten, zero_fds)
{
	cr_assert_eq(parse("7", "0", NULL, 7), -1);
	cr_assert(strstr(err, "LISTEN_FDS is 0"), "%s", err);
}

Test(sdlisten, another_process)
{
	cr_assert_eq(parse("8", "1", NULL, 7), -1);
	cr_assert(strstr(err, "LISTEN_PID is 8, not this process (7)"), "%s", err);
	cr_assert_eq(sl.n, 0);
}

Test(sdlisten, no_pid)
{
	cr_assert_eq(parse(NULL, "1", NULL, 7), -1);
	cr_assert(strstr(err, "LISTEN_PID is not set"), "%s", err);
}

Test(sdlisten, malformed)
{
	static const char *const bad[] = {"", " 7", "7 ", "+7", "-7", "7x", "0x7", "0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i], "1", NULL, 7), -1, "LISTEN_PID \"%s\"", bad[i]);
		cr_assert(strstr(err, "invalid LISTEN_PID"), "\"%s\": %s", bad[i], err);
	}
	static const char *const badn[] = {"", " 1", "1 ", "+1", "-1", "1x", "one"};
	for (size_t i = 0; i < sizeof(badn) / sizeof(badn[0]); i++) {
		cr_assert_eq(parse("7", badn[i], NULL, 7), -1, "LISTEN_FDS \"%s\"", badn[i]);
		cr_assert(strstr(err, "invalid LISTEN_FDS"), "\"%s\": %s", badn[i], err);
	}
}

/* sdlisten_take in a child of its own (criterion's own descriptors may be
 * fd 3): fd 3 made a socket of the given type, listening or not, the
 * variables set for the child. Returns the child's exit status: 0 when the
 * outcome matched want_rc and the variables were gone afterwards, and fd 3
 * close-on-exec on success. */
static int take_in_child(int type, bool listening, int want_rc)
{
	pid_t pid = fork();
	if (pid == 0) {
		int s = socket(AF_INET, type, 0);
		if (s < 0)
			_exit(10);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0)
			_exit(11);
		if (listening && listen(s, 4) != 0)
			_exit(12);
		if (s != 3 && (dup2(s, 3) != 3 || close(s) != 0))
			_exit(13);
		fcntl(3, F_SETFD, 0); /* inherited as systemd hands it: no FD_CLOEXEC */
		char p[32];
		snprintf(p, sizeof(p), "%ld", (long)getpid());
		setenv("LISTEN_PID", p, 1);
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_FDNAMES", "web", 1);
		struct sdlisten got;
		char e[512];
		int rc = sdlisten_take(&got, e, sizeof(e));
		if (rc != want_rc)
			_exit(20);
		if (getenv("LISTEN_PID") || getenv("LISTEN_FDS") || getenv("LISTEN_FDNAMES"))
			_exit(21);
		if (rc == 0) {
			if (got.n != 1 || strcmp(got.names[0], "web") != 0)
				_exit(22);
			if (!(fcntl(3, F_GETFD) & FD_CLOEXEC))
				_exit(23);
			char d[64];
			sdlisten_describe(3, d, sizeof(d));
			if (strncmp(d, "127.0.0.1:", 10) != 0)
				_exit(24);
		} else if (!strstr(e, "fd 3 \"web\" (of LISTEN_FDS=1) is not a listening stream "
				      "socket")) {
			_exit(25);
		}
		_exit(0);
	}
	cr_assert_gt(pid, 0);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(sdlisten, take_listening_socket)
{
	cr_assert_eq(take_in_child(SOCK_STREAM, true, 0), 0);
}

Test(sdlisten, take_refuses_unlistening_stream)
{
	cr_assert_eq(take_in_child(SOCK_STREAM, false, -1), 0);
}

Test(sdlisten, take_refuses_datagram)
{
	cr_assert_eq(take_in_child(SOCK_DGRAM, false, -1), 0);
}

Test(sdlisten, take_unsets_on_error)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("LISTEN_PID", "1", 1);
		setenv("LISTEN_FDS", "1", 1);
		struct sdlisten got;
		char e[512];
		if (sdlisten_take(&got, e, sizeof(e)) != -1 || !strstr(e, "not this process"))
			_exit(1);
		_exit(getenv("LISTEN_PID") || getenv("LISTEN_FDS") ? 2 : 0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

Test(sdlisten, describe)
{
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	if (s >= 0) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6,
					 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			char d[64];
			sdlisten_describe(s, d, sizeof(d));
			cr_assert(strncmp(d, "[::1]:", 6) == 0, "%s", d);
		}
		close(s);
	}
	char d[64];
	sdlisten_describe(-1, d, sizeof(d));
	cr_assert_str_eq(d, "fd -1");
}
