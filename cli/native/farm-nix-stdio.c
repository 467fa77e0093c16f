/*
 * farm-nix-stdio: the remote-program for ssh:// and ssh-ng:// builders.
 *
 * Why C: Nix 2.8 starts remote builds one after another, and runs this program once per
 * derivation, so its start-up sits on the client's serial path. Node alone takes ~40 ms to
 * start; this takes a few. (docs/benchmarks.md, "The Nix door", has the measurements.)
 *
 * What it does is what cli/src/nix-stdio-relay.ts does, which stays as the fallback:
 *  - find the farm's local door socket: $FARM_DOOR_SOCKET, else the string `door` in
 *    <state dir>/address.json (written by `farm up`; state dir as cli/src/client/state-dir.ts);
 *  - send the session header line {"mode":…,"client":"user@host"}, then relay stdin to the
 *    socket, and the socket's frames (u8 kind 1 stdout / 2 stderr / 3 exit, u32be length,
 *    payload) to stdout / stderr (coordinator/src/adapters/nix-door/socket-door.ts);
 *  - exit with the session's status.
 * Whenever it cannot decide on its own (no socket configured, $FARM_COORDINATOR set, arguments
 * that are not one of Nix's two forms, an address.json it cannot read plainly) it execs the
 * Node relay beside it (farm-nix-stdio-node), which runs `farm nix-stdio` over gRPC.
 *
 * Two threads, both with blocking I/O: one copies stdin to the socket, the other copies frames
 * to stdout/stderr. Neither direction can stall the other, so a client that writes a large
 * upload while not reading (or the reverse) cannot deadlock the relay.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_EXIT = 3 };
enum { MAX_ADDRESS_FILE = 1 << 16 };

static void say(const char *fmt, const char *a, const char *b) {
  fputs("farm-nix-stdio: ", stderr);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
}

/* Replaces this process with the Node relay beside this executable (it knows gRPC and the CLI). */
static int exec_node_relay(char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    say("cannot find its own directory (%s)%s", strerror(errno), "");
    return 1;
  }
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  static const char name[] = "farm-nix-stdio-node";
  if (slash == NULL || (size_t)(slash - self) + sizeof name + 1 > sizeof self) return 1;
  memcpy(slash + 1, name, sizeof name);
  signal(SIGPIPE, SIG_DFL);
  argv[0] = self;
  execv(self, argv);
  say("cannot run %s: %s", self, strerror(errno));
  return 1;
}

static int write_all(int fd, const char *b, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_full(int fd, char *b, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* <state dir>/address.json, the way cli/src/client/state-dir.ts finds the state dir. */
static int address_file(char *out, size_t size) {
  const char *state = env_nonempty("FARM_STATE_DIR");
  if (state != NULL) return snprintf(out, size, "%s/address.json", state) < (int)size ? 0 : -1;
  const char *xdg = env_nonempty("XDG_STATE_HOME");
  if (xdg != NULL) return snprintf(out, size, "%s/farm/address.json", xdg) < (int)size ? 0 : -1;
  const char *home = env_nonempty("HOME");
  if (home == NULL) {
    struct passwd *pw = getpwuid(getuid());
    home = pw != NULL ? pw->pw_dir : NULL;
  }
  if (home == NULL) return -1;
  return snprintf(out, size, "%s/.local/state/farm/address.json", home) < (int)size ? 0 : -1;
}

/*
 * The value of the top-level-looking key "door" in address.json, if it is a JSON string of plain
 * characters. Anything unusual (escapes, odd layout) returns -1 and the Node relay decides, so
 * this never guesses a wrong path. address.json is JSON.stringify's output, so plain is the rule.
 */
static int door_from_address_file(char *out, size_t size) {
  char file[PATH_MAX];
  if (address_file(file, sizeof file) < 0) return -1;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  static char text[MAX_ADDRESS_FILE + 1];
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, text + have, MAX_ADDRESS_FILE - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
    if (have == MAX_ADDRESS_FILE) break;
  }
  close(fd);
  text[have] = '\0';
  const char *key = strstr(text, "\"door\"");
  if (key == NULL || strstr(key + 1, "\"door\"") != NULL) return -1;
  const char *p = key + 6;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p++ != ':') return -1;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p++ != '"') return -1;
  size_t n = 0;
  for (; *p != '"'; p++) {
    if (*p == '\0' || *p == '\\' || (unsigned char)*p < 0x20 || n + 1 >= size) return -1;
    out[n++] = *p;
  }
  if (n == 0) return -1;
  out[n] = '\0';
  return 0;
}

/* Appends s to the header as the inside of a JSON string. */
static size_t json_escape(char *out, size_t at, size_t size, const char *s) {
  for (; *s != '\0' && at + 7 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[at++] = '\\';
      out[at++] = (char)c;
    } else if (c < 0x20) {
      at += (size_t)snprintf(out + at, size - at, "\\u%04x", c);
    } else {
      out[at++] = (char)c;
    }
  }
  return at;
}

static size_t session_header(char *out, size_t size, const char *mode) {
  const char *user = env_nonempty("USER");
  if (user == NULL) {
    struct passwd *pw = getpwuid(getuid());
    user = pw != NULL ? pw->pw_name : "unknown";
  }
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
  host[sizeof host - 1] = '\0';
  size_t at = (size_t)snprintf(out, size, "{\"mode\":\"%s\",\"client\":\"", mode);
  at = json_escape(out, at, size, user);
  out[at++] = '@';
  at = json_escape(out, at, size, host);
  at += (size_t)snprintf(out + at, size - at, "\"}\n");
  return at;
}

/* stdin → socket, until stdin's EOF (which ends the session's input) or the socket goes. */
static void *pump_stdin(void *arg) {
  int sock = *(int *)arg;
  static char buf[1 << 16];
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (write_all(sock, buf, (size_t)r) < 0) return NULL;
  }
  shutdown(sock, SHUT_WR);
  return NULL;
}

/* socket frames → stdout / stderr; returns the session's exit status. */
static int relay_frames(int sock) {
  static char buf[1 << 16];
  int status = 1;
  for (;;) {
    unsigned char head[5];
    if (read_full(sock, (char *)head, sizeof head) < 0) return status;
    uint32_t len;
    memcpy(&len, head + 1, 4);
    len = ntohl(len);
    if (head[0] == FRAME_EXIT) {
      int32_t st = 1;
      if (len != 4 || read_full(sock, (char *)&st, 4) < 0) return status;
      status = (int32_t)ntohl((uint32_t)st);
      continue;
    }
    int dest = head[0] == FRAME_STDOUT ? 1 : head[0] == FRAME_STDERR ? 2 : -1;
    if (dest < 0) {
      say("the door sent an unknown frame kind%s%s", "", "");
      return 1;
    }
    while (len > 0) {
      size_t want = len < sizeof buf ? len : sizeof buf;
      ssize_t r = read(sock, buf, want);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return status;
      /* If the client stops reading stdout, it is gone: keep draining so stderr still shows. */
      (void)write_all(dest, buf, (size_t)r);
      len -= (uint32_t)r;
    }
  }
}

int main(int argc, char **argv) {
  int serve = 0, stdio = 0, writable = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--serve") == 0) serve = 1;
    else if (strcmp(argv[i], "--stdio") == 0) stdio = 1;
    else if (strcmp(argv[i], "--write") == 0) writable = 1;
  }
  if (serve == stdio) return exec_node_relay(argv);
  const char *mode = stdio ? "worker" : writable ? "serve-write" : "serve";

  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  const char *explicit_socket = env_nonempty("FARM_DOOR_SOCKET");
  if (explicit_socket != NULL) {
    if (strlen(explicit_socket) >= sizeof path) {
      say("FARM_DOOR_SOCKET is longer than a unix socket path may be: %s%s", explicit_socket, "");
      return 1;
    }
    strcpy(path, explicit_socket);
  } else if (env_nonempty("FARM_COORDINATOR") != NULL || door_from_address_file(path, sizeof path) < 0) {
    return exec_node_relay(argv);
  }

  signal(SIGPIPE, SIG_IGN); /* a closed peer is an error return, not a silent death without status */
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    say("cannot reach the farm's door at %s: %s", path, strerror(errno));
    return 1;
  }
  char header[1024];
  size_t header_len = session_header(header, sizeof header, mode);
  if (write_all(sock, header, header_len) < 0) {
    say("cannot reach the farm's door at %s: %s", path, strerror(errno));
    return 1;
  }
  pthread_t pump;
  if (pthread_create(&pump, NULL, pump_stdin, &sock) != 0) {
    say("cannot start its stdin thread%s%s", "", "");
    return 1;
  }
  pthread_detach(pump);
  return relay_frames(sock);
}
