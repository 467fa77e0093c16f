/* libgreet: the smallest library worth linking against, so the example has a library → program
 * edge (a -I/-L dependency on another derivation's output, as nixpkgs' buildInputs make). */
#ifndef GREET_H
#define GREET_H

/* Returns "greetings, <who>" in a static buffer (overwritten by the next call; truncated to fit). */
const char *greet(const char *who);

#endif
