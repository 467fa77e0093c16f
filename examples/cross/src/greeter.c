/* greeter: prints greet(TARGET) from libgreet, i.e. "greetings, <TARGET>". */
#include <stdio.h>

#include <greet.h>

#ifndef TARGET
#error "compile with -DTARGET='\"name\"'"
#endif

int main(void) {
  if (puts(greet(TARGET)) < 0 || fflush(stdout) != 0) return 1;
  return 0;
}
