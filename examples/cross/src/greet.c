#include <stdio.h>

#include "greet.h"

const char *greet(const char *who) {
  static char buf[256];
  snprintf(buf, sizeof buf, "greetings, %s", who);
  return buf;
}
