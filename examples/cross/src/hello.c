/* hello: prints "hello from <TARGET>", TARGET given on the command line (-DTARGET='"aarch64"').
 * No __DATE__/__TIME__: the binary must be the same wherever it is built. */
#include <stdio.h>

#ifndef TARGET
#error "compile with -DTARGET='\"name\"'"
#endif

int main(void) {
  if (puts("hello from " TARGET) < 0 || fflush(stdout) != 0) return 1;
  return 0;
}
