/*
 * sdlisten: the listening sockets systemd passes to a socket-activated
 * service (sd_listen_fds(3)), read without libsystemd, for
 * --web.systemd-socket.
 *
 * The protocol: LISTEN_PID is the pid of the process the sockets are meant
 * for, LISTEN_FDS their number n, and they are descriptors 3 to 3+n-1;
 * LISTEN_FDNAMES optionally names them, colon-separated (FileDescriptorName=
 * of the socket unit). The variables are removed from the environment once
 * read, so that no child takes the sockets for its own.
 */
#ifndef CS_SDLISTEN_H
#define CS_SDLISTEN_H

#include <stddef.h>

#define SDLISTEN_FIRST_FD 3
/* As many as the HTTP front serves listen addresses. */
#define SDLISTEN_MAX	  16
#define SDLISTEN_NAME_MAX 255

struct sdlisten {
	size_t n;					 /* fds SDLISTEN_FIRST_FD .. +n-1 */
	char names[SDLISTEN_MAX][SDLISTEN_NAME_MAX + 1]; /* "" when not named */
};

/*
 * Pure: checks the protocol's variables as getenv returns them (NULL when
 * unset) against this process's pid. Returns 0 with *out filled, or -1 with
 * a one-line message: LISTEN_FDS unset, malformed, 0 or more than
 * SDLISTEN_MAX; LISTEN_PID unset, malformed or another process's.
 */
int sdlisten_parse(const char *listen_pid, const char *listen_fds, const char *listen_fdnames,
		   long pid, struct sdlisten *out, char *err, size_t errlen);

/*
 * Takes this process's sockets: parses the environment (sdlisten_parse),
 * removes LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from it whatever the
 * outcome, marks each descriptor close-on-exec and checks that it is a
 * listening stream socket. Call it before any thread starts (it changes the
 * environment). Returns 0, or -1 with a one-line message.
 */
int sdlisten_take(struct sdlisten *out, char *err, size_t errlen);

/* 0 when fd is a listening stream socket, else -1 with the reason. */
int sdlisten_check_fd(int fd, char *err, size_t errlen);

/* The local address of socket fd for logs: "127.0.0.1:9818", "[::1]:9818",
 * "/run/cs.sock" ("@name" when abstract), else "fd N". */
void sdlisten_describe(int fd, char *buf, size_t len);

#endif
