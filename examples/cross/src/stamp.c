/* stamp: a builder for aarch64-linux derivations, compiled for aarch64 by pkgsCross.aarch64.stamp.
 *
 * The derivation's builder is this program itself, so it runs with no shell and no tools around
 * it (on the farm: an emulated aarch64 agent; with the real Nix: binfmt_misc + qemu). It uses
 * plain libc only: it reads `out` (required) and `message` (optional) from the environment and
 * writes the file $out containing the message (a newline added if it has none), then the line
 * "built by an aarch64 builder". Any error exits 1 with a message on stderr, so a broken
 * environment fails the build instead of producing a half-written output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char SIGNATURE[] = "built by an aarch64 builder\n";

static int fail(const char *what, const char *path) {
  fprintf(stderr, "stamp: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(errno));
  return 1;
}

/* write() may write less than asked; loop until all of it is out (or an error). */
static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

int main(void) {
  const char *out = getenv("out");
  if (out == NULL || out[0] == '\0') {
    fputs("stamp: the environment variable 'out' is not set (run me as a Nix builder)\n", stderr);
    return 1;
  }
  const char *message = getenv("message");

  /* O_EXCL: a builder's output must not exist yet; finding one means something else is wrong. */
  int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create", out);

  if (message != NULL && message[0] != '\0') {
    size_t len = strlen(message);
    if (write_all(fd, message, len) != 0) return fail("cannot write", out);
    if (message[len - 1] != '\n' && write_all(fd, "\n", 1) != 0) return fail("cannot write", out);
  }
  if (write_all(fd, SIGNATURE, sizeof SIGNATURE - 1) != 0) return fail("cannot write", out);
  if (close(fd) != 0) return fail("cannot close", out);
  return 0;
}
