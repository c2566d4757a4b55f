#include "sdlisten.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A decimal number of digits only (no sign, no blanks), at most max. */
static bool parse_count(const char *s, long max, long *out)
{
	long v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

int sdlisten_parse(const char *listen_pid, const char *listen_fds, const char *listen_fdnames,
		   long pid, struct sdlisten *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!listen_fds) {
		snprintf(err, errlen,
			 "--web.systemd-socket: LISTEN_FDS is not set, no socket was passed "
			 "(start cs_exporter from a systemd socket unit)");
		return -1;
	}
	if (!listen_pid) {
		snprintf(err, errlen,
			 "--web.systemd-socket: LISTEN_PID is not set, the sockets of "
			 "LISTEN_FDS are not known to be this process's");
		return -1;
	}
	long p;
	if (!parse_count(listen_pid, 0x7fffffffL, &p) || p == 0) {
		snprintf(err, errlen, "--web.systemd-socket: invalid LISTEN_PID \"%.64s\"",
			 listen_pid);
		return -1;
	}
	if (p != pid) {
		snprintf(err, errlen,
			 "--web.systemd-socket: LISTEN_PID is %ld, not this process (%ld): the "
			 "sockets were passed to another process",
			 p, pid);
		return -1;
	}
	long n;
	/* a bound well past SDLISTEN_MAX, to tell "too many" from garbage */
	if (!parse_count(listen_fds, 1000000L, &n)) {
		snprintf(err, errlen, "--web.systemd-socket: invalid LISTEN_FDS \"%.64s\"",
			 listen_fds);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen,
			 "--web.systemd-socket: LISTEN_FDS is 0, no socket was passed");
		return -1;
	}
	if (n > SDLISTEN_MAX) {
		snprintf(err, errlen,
			 "--web.systemd-socket: LISTEN_FDS is %ld, at most %d sockets are served",
			 n, SDLISTEN_MAX);
		return -1;
	}
	out->n = (size_t)n;
	/* Names only label the sockets in logs: missing ones stay empty, extra
	 * ones are ignored, long ones cut. */
	const char *s = listen_fdnames;
	for (size_t i = 0; s && i < out->n; i++) {
		size_t len = strcspn(s, ":");
		size_t keep = len > SDLISTEN_NAME_MAX ? SDLISTEN_NAME_MAX : len;
		memcpy(out->names[i], s, keep);
		out->names[i][keep] = '\0';
		s = s[len] == ':' ? s + len + 1 : NULL;
	}
	return 0;
}

int sdlisten_check_fd(int fd, char *err, size_t errlen)
{
	int type = 0, acc = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
		snprintf(err, errlen, "%s",
			 errno == ENOTSOCK ? "not a socket"
			 : errno == EBADF  ? "not open"
					   : strerror(errno));
		return -1;
	}
	if (type != SOCK_STREAM) {
		snprintf(err, errlen, "not a stream socket");
		return -1;
	}
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!acc) {
		snprintf(err, errlen, "a stream socket that is not listening");
		return -1;
	}
	return 0;
}

int sdlisten_take(struct sdlisten *out, char *err, size_t errlen)
{
	/* Copies: unsetenv invalidates what getenv returned. */
	char *pid_s = getenv("LISTEN_PID") ? strdup(getenv("LISTEN_PID")) : NULL;
	char *fds_s = getenv("LISTEN_FDS") ? strdup(getenv("LISTEN_FDS")) : NULL;
	char *names_s = getenv("LISTEN_FDNAMES") ? strdup(getenv("LISTEN_FDNAMES")) : NULL;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	int rc = sdlisten_parse(pid_s, fds_s, names_s, (long)getpid(), out, err, errlen);
	free(pid_s);
	free(fds_s);
	free(names_s);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < out->n; i++) {
		int fd = SDLISTEN_FIRST_FD + (int)i;
		char why[128];
		int flags = fcntl(fd, F_GETFD);
		if (flags < 0 || sdlisten_check_fd(fd, why, sizeof(why)) < 0) {
			if (flags < 0)
				snprintf(why, sizeof(why), "not open");
			snprintf(err, errlen,
				 "--web.systemd-socket: fd %d%s%s%s (of LISTEN_FDS=%zu) is not a "
				 "listening stream socket: %s",
				 fd, out->names[i][0] ? " \"" : "", out->names[i],
				 out->names[i][0] ? "\"" : "", out->n, why);
			return -1;
		}
		if (!(flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	return 0;
}

void sdlisten_describe(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(buf, len, "fd %d", fd);
		return;
	}
	char host[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *a = (const struct sockaddr_un *)&ss;
		size_t plen = sl > offsetof(struct sockaddr_un, sun_path)
				  ? sl - offsetof(struct sockaddr_un, sun_path)
				  : 0;
		if (plen > sizeof(a->sun_path))
			plen = sizeof(a->sun_path);
		if (plen == 0)
			snprintf(buf, len, "unix socket (unnamed)");
		else if (a->sun_path[0] == '\0')
			snprintf(buf, len, "@%.*s", (int)(plen - 1), a->sun_path + 1);
		else
			snprintf(buf, len, "%.*s", (int)strnlen(a->sun_path, plen), a->sun_path);
	} else {
		snprintf(buf, len, "fd %d", fd);
	}
}
