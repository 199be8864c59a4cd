/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include "basic/fileio.h"
#include "runtime/terminal.h"

int terminal_open_pty(const struct spec_console_size *size, int *ret_master, int *ret_slave, struct error *err)
{
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        int unlock = 0;

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return error_set(err, errno, "open `/dev/ptmx`");
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return error_set(err, errno, "unlock pty");
        /* TIOCGPTPEER opens the slave from the master: no path lookup
         * that a container could redirect */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return error_set(err, errno, "open pty slave");
        if (size && (size->height || size->width)) {
                struct winsize ws = { .ws_row = size->height, .ws_col = size->width };
                (void) ioctl(slave, TIOCSWINSZ, &ws);
        }
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

int terminal_make_controlling(int slave, struct error *err)
{
        if (setsid() < 0)
                return error_set(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return error_set(err, errno, "set controlling terminal");
        for (int i = 0; i < 3; i++)
                if (dup2(slave, i) < 0)
                        return error_set(err, errno, "dup pty to stdio");
        return 0;
}

int terminal_connect(const char *path, struct error *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *dir = NULL;
        const char *base = path, *slash;

        /* Long paths: connect through /proc/self/fd/N/NAME */
        slash = strrchr(path, '/');
        if (strlen(path) >= sizeof(sa.sun_path) && slash) {
                dir = xstrndup(path, slash - path);
                dirfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return error_set(err, errno, "--console-socket: open `%s`", dir);
                base = slash + 1;
                snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, base);
        } else if (strlen(path) >= sizeof(sa.sun_path))
                return error_setx(err, ENAMETOOLONG, "--console-socket: path too long `%s`", path);
        else
                memcpy(sa.sun_path, path, strlen(path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(err, errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return error_set(err, errno, "--console-socket: connect to `%s`", path);
        return TAKE_FD(fd);
}

int send_fd(int sock, int fd, const char *name)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        const char *payload = name && *name ? name : "x";
        struct iovec iov = { .iov_base = (void *) payload, .iov_len = strlen(payload) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (RETRY_EINTR(sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0)
                return -errno;
        return 0;
}

int recv_fd(int sock, char *buf, size_t len)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, dummy;
        struct iovec iov = { .iov_base = buf ? buf : &dummy, .iov_len = buf ? len : 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c;
        int fd;

        if (RETRY_EINTR(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_RIGHTS)
                return -EBADMSG;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
        if (tio_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

void terminal_proxy(int master)
{
        struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = master, .events = POLLIN } };
        char buf[8192];

        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
                struct termios raw = saved_tio;
                struct winsize ws;
                cfmakeraw(&raw);
                tio_saved = true;
                atexit(restore_tty);
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        (void) ioctl(master, TIOCSWINSZ, &ws);
        }
        for (;;) {
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        n = read(master, buf, sizeof(buf));
                        if (n <= 0) {
                                if (n < 0 && errno == EINTR)
                                        continue;
                                break; /* EIO: every slave fd closed */
                        }
                        if (write_all(STDOUT_FILENO, buf, n) < 0)
                                break;
                }
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n <= 0)
                                p[0].fd = -1; /* stdin closed: keep reading output */
                        else
                                (void) write_all(master, buf, n);
                }
        }
        restore_tty();
        tio_saved = false;
}
