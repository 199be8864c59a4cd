/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/sync.h"

int sync_send(int fd, int type, int code, const char *text)
{
        struct sync_msg m = { .type = type, .code = code };
        size_t len = text ? strlen(text) : 0;

        if (len >= SYNC_MAX)
                len = SYNC_MAX - 1;
        if (len)
                memcpy(m.text, text, len);
        m.text[len] = 0;
        if (RETRY_EINTR(send(fd, &m, offsetof(struct sync_msg, text) + len + 1, MSG_NOSIGNAL)) < 0)
                return -errno;
        return 0;
}

int sync_send_fd(int fd, int type, int passfd)
{
        return sync_send_fd_code(fd, type, 0, passfd);
}

int sync_send_fd_code(int fd, int type, int code, int passfd)
{
        struct sync_msg m = { .type = type, .code = code };
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = &m, .iov_len = offsetof(struct sync_msg, text) + 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &passfd, sizeof(int));
        if (RETRY_EINTR(sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0)
                return -errno;
        return 0;
}

int sync_recv(int fd, struct sync_msg *m)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c;
        ssize_t n = RETRY_EINTR(recvmsg(fd, &msg, MSG_CMSG_CLOEXEC));

        m->fd = -1;
        if (n < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(&m->fd, CMSG_DATA(c), sizeof(int));
        if (n == 0)
                return -EPIPE;
        if ((size_t) n < offsetof(struct sync_msg, text) + 1)
                return -EBADMSG;
        m->text[SYNC_MAX - 1] = 0;
        return 0;
}

int sync_expect(int fd, int type, struct sync_msg *m, struct error *err)
{
        int r = sync_recv(fd, m);

        if (r < 0)
                return error_setx(err, -r == EPIPE ? EPIPE : -r, "container process exited unexpectedly");
        if (m->type == SYNC_ERROR)
                return error_setx(err, m->code, "%s", m->text);
        if (m->type != type)
                return error_setx(err, EPROTO, "unexpected message %d from the container process", m->type);
        return 0;
}

void sync_send_error(int fd, const struct error *err)
{
        (void) sync_send(fd, SYNC_ERROR, err->code ? err->code : EINVAL, err->msg ? err->msg : "unknown error");
}
