/*
 * Reference TCP echo for the benchmarks: the classic blocking server, one
 * forked process per connection, read() then write() everything read.
 * A blocked write() stops the reads, so the kernel's socket buffers are the
 * only buffering: this is the floor a Node echo is measured against.
 *
 * usage: tcp-echo <port> [host]   (host defaults to 127.0.0.1)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void echo(int fd) {
  static char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) break; /* client half-closed: flush is implicit, then end */
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return;
      }
      off += w;
    }
  }
  shutdown(fd, SHUT_WR);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <port> [host]\n", argv[0]);
    return 64;
  }
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  signal(SIGPIPE, SIG_IGN); /* a reset client gives EPIPE, not death */

  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &addr.sin_addr) != 1) {
    fprintf(stderr, "bad host\n");
    return 64;
  }
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 511) < 0) {
    perror("bind/listen");
    return 1;
  }
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR) continue;
      perror("accept");
      return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(ls);
      echo(fd);
      close(fd);
      _exit(0);
    }
    close(fd);
  }
}
