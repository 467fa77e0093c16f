/*
 * A measurement prototype, not the product: cli/src/nix-stdio-relay.ts (farm-nix-stdio) as a
 * small C program, to show what the Nix-door benchmark gains when the remote program Nix starts
 * for every derivation has no Node start-up (docs/benchmarks.md, "The Nix door"). Same protocol
 * as the real relay (coordinator/src/adapters/nix-door/socket-door.ts): one header line, then
 * stdin's bytes; frames back (u8 kind 1 stdout / 2 stderr / 3 exit, u32be length, payload).
 * The socket is $FARM_DOOR_SOCKET, else $FARM_STATE_DIR/coordinator/nix-door.sock (farm up's).
 * No fallback to gRPC, no address.json, frames up to 1 MiB.
 *
 *   cc -O2 -o /tmp/farm-door-relay bench/native/door-relay-prototype.c
 *   npm run bench:door -- --farm-program /tmp/farm-door-relay
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const char *b, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  int serve = 0, worker = 0, writable = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--serve") == 0) serve = 1;
    else if (strcmp(argv[i], "--stdio") == 0) worker = 1;
    else if (strcmp(argv[i], "--write") == 0) writable = 1;
  }
  static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  const char *env = getenv("FARM_DOOR_SOCKET");
  const char *state = getenv("FARM_STATE_DIR");
  int n = env != NULL ? snprintf(path, sizeof path, "%s", env)
          : state != NULL ? snprintf(path, sizeof path, "%s/coordinator/nix-door.sock", state)
          : -1;
  if (serve == worker || n < 0 || (size_t)n >= sizeof path) {
    fprintf(stderr, "door-relay-prototype: needs --serve or --stdio, and FARM_DOOR_SOCKET or FARM_STATE_DIR\n");
    return 2;
  }
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, path, (size_t)n + 1);
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("door-relay-prototype: cannot reach the farm's door");
    return 1;
  }
  char header[512];
  const char *user = getenv("USER");
  n = snprintf(header, sizeof header, "{\"mode\":\"%s\",\"client\":\"%s@localhost\"}\n", worker ? "worker" : writable ? "serve-write" : "serve", user != NULL ? user : "unknown");
  write_all(s, header, (size_t)n);

  static char in[65536], buf[(1 << 20) + 5];
  size_t have = 0;
  int status = 1, stdin_open = 1;
  for (;;) {
    struct pollfd p[2] = {{s, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, stdin_open ? 2 : 1, -1) < 0) return 1;
    if (stdin_open && (p[1].revents & (POLLIN | POLLHUP))) {
      ssize_t r = read(0, in, sizeof in);
      if (r <= 0) {
        shutdown(s, SHUT_WR); /* stdin's EOF ends the session's input; answers still follow */
        stdin_open = 0;
      } else if (write_all(s, in, (size_t)r) < 0) return 1;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(s, buf + have, sizeof buf - have);
      if (r <= 0) break;
      have += (size_t)r;
      size_t off = 0;
      while (have - off >= 5) {
        uint32_t len;
        memcpy(&len, buf + off + 1, 4);
        len = ntohl(len);
        if (len > sizeof buf - 5) return 1;
        if (have - off < 5 + (size_t)len) break;
        const char *payload = buf + off + 5;
        if (buf[off] == 1) write_all(1, payload, len);
        else if (buf[off] == 2) write_all(2, payload, len);
        else if (buf[off] == 3 && len >= 4) {
          uint32_t st;
          memcpy(&st, payload, 4);
          status = (int32_t)ntohl(st);
        }
        off += 5 + (size_t)len;
      }
      memmove(buf, buf + off, have - off);
      have -= off;
    }
  }
  return status;
}
