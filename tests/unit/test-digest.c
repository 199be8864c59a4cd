/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/digest.h"
#include "tap.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* FIPS 180-2 test vector: one million 'a'. */
#define MILLION_A "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void vectors(void)
{
        char d[DIGEST_BUF_SIZE];
        struct digest_ctx *c;
        _cleanup_free_ char *big = xmalloc(1000000);

        digest_buffer("", 0, d);
        ok(strcmp(d, EMPTY) == 0, "sha256 of the empty string (%s)", d);
        digest_buffer("abc", 3, d);
        ok(strcmp(d, ABC) == 0, "sha256 of \"abc\" (%s)", d);
        ok(strlen(d) == DIGEST_STR_LEN, "a digest string is %zu characters", (size_t) DIGEST_STR_LEN);

        /* Streaming in uneven pieces gives the same result as one buffer. */
        memset(big, 'a', 1000000);
        c = digest_new();
        for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 9973 + 1)
                digest_update(c, big + off, off + step > 1000000 ? 1000000 - off : step);
        digest_final(c, d);
        ok(strcmp(d, MILLION_A) == 0, "streamed sha256 of a million 'a' (%s)", d);
        digest_buffer(big, 1000000, d);
        ok(strcmp(d, MILLION_A) == 0, "sha256 of a million 'a' in one buffer");

        c = digest_new();
        digest_update(c, "ab", 2);
        digest_update(c, "", 0);
        digest_update(c, "c", 1);
        digest_final(c, d);
        ok(strcmp(d, ABC) == 0, "\"ab\" + \"\" + \"c\" streams to the digest of \"abc\"");

        /* Freeing a context that never finished must not leak (ASan). */
        c = digest_new();
        digest_update(c, "x", 1);
        digest_free(c);
        digest_free(NULL);
        ok(true, "digest_free() on an unfinished context and on NULL");
}

static void from_fd(void)
{
        char tmpl[] = "/tmp/berth-test-digest-XXXXXX";
        char d[DIGEST_BUF_SIZE], want[DIGEST_BUF_SIZE];
        uint64_t size = 12345;
        int fd, r;

        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0) {
                skip("cannot create a temporary file");
                return;
        }
        (void) unlink(tmpl);

        r = digest_fd(fd, d, &size);
        ok(r == 0 && size == 0 && strcmp(d, EMPTY) == 0, "digest_fd of an empty file");

        ok(write_all(fd, "xyzabc", 6) == 0, "write the temporary file");
        ok(lseek(fd, 0, SEEK_SET) == 0, "rewind it");
        r = digest_fd(fd, d, &size);
        ok(r == 0 && size == 6, "digest_fd reads 6 bytes (r=%d size=%llu)", r, (unsigned long long) size);
        digest_buffer("xyzabc", 6, want);
        ok(strcmp(d, want) == 0, "digest_fd matches digest_buffer");

        ok(lseek(fd, 3, SEEK_SET) == 3, "seek to offset 3");
        r = digest_fd(fd, d, NULL);
        ok(r == 0 && strcmp(d, ABC) == 0, "digest_fd starts at the current offset (NULL size allowed)");
        close(fd);

        r = digest_fd(fd, d, &size);
        ok(r == -EBADF, "digest_fd on a closed fd fails with -EBADF (r=%d)", r);
}

static void validity(void)
{
        static const struct {
                const char *s;
                bool valid;
        } t[] = {
                { EMPTY, true },
                { ABC, true },
                { "sha256:0000000000000000000000000000000000000000000000000000000000000000", true },
                { "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", true },
                { "", false },
                { "sha256:", false },
                { "sha256", false },
                { "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false },
                { "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false },
                { "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false },
                { "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false },
                { "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", false },
                { "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g", false },
                { "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/", false },
                { "sha256:../../../../../../../../../../../../../../../../../../etc/passwd", false },
                { "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce", false },
                { " sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false },
                { "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ", false },
                { "sha256:+3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ok(digest_valid(t[i].s) == t[i].valid, "digest_valid(\"%s\") is %s", t[i].s,
                   t[i].valid ? "true" : "false");
        ok(!digest_valid(NULL), "digest_valid(NULL) is false");
        ok(!digest_valid(EMPTY "\n"), "digest_valid() refuses a trailing newline");
}

int main(void)
{
        vectors();
        from_fd();
        validity();
        return tap_done();
}
