/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"

/* Replays inputs through a libFuzzer entry point when built without
 * libFuzzer (gcc), so every fuzz target's corpus runs as a plain test.
 * Arguments are files or directories (one level deep). */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define FUZZ_MAX_INPUT (64U << 20)

static int replay_file(int dirfd, const char *name, const char *shown)
{
        _cleanup_free_ char *data = NULL, *exact = NULL;
        size_t len;
        int r;

        r = read_full_file_at(dirfd, name, FUZZ_MAX_INPUT, &data, &len);
        if (r < 0) {
                fprintf(stderr, "read `%s`: %s\n", shown, strerror(-r));
                return r;
        }
        /* a buffer of exactly len bytes, no terminating NUL: lets ASan see
         * reads past the end, as libFuzzer would */
        exact = xmalloc(len);
        memcpy(exact, data, len);
        (void) LLVMFuzzerTestOneInput((const uint8_t *) exact, len);
        return 0;
}

static int replay_dir(const char *path, unsigned *n)
{
        struct dirent **names = NULL;
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int count, r = 0;

        if (dfd < 0)
                return -errno;
        count = scandir(path, &names, NULL, alphasort);
        if (count < 0)
                return -errno;
        for (int i = 0; i < count; i++) {
                struct stat st;

                if (r >= 0 && fstatat(dfd, names[i]->d_name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
                        _cleanup_free_ char *shown = xasprintf("%s/%s", path, names[i]->d_name);

                        r = replay_file(dfd, names[i]->d_name, shown);
                        (*n)++;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv)
{
        unsigned n = 0;

        if (LLVMFuzzerInitialize)
                (void) LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "stat `%s`: %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                if (S_ISDIR(st.st_mode))
                        r = replay_dir(argv[i], &n);
                else {
                        r = replay_file(AT_FDCWD, argv[i], argv[i]);
                        n++;
                }
                if (r < 0) {
                        fprintf(stderr, "replay `%s`: %s\n", argv[i], strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        printf("%u inputs replayed\n", n);
        return EXIT_SUCCESS;
}
