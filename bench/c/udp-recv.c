/*
 * Reference UDP receiver for the benchmarks: the minimal blocking loop,
 * recv() one datagram, count it, again. The share of a flood it counts is
 * the floor a Node listener is measured against: what the kernel can hand
 * to one reader that does nothing else.
 *
 * A 1-byte datagram is a question, not load: the answer (to its sender) is
 * the number of datagrams counted so far, in decimal.
 *
 * usage: udp-recv <port> [host] [rcvbuf-bytes]   (host defaults to 127.0.0.1)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <port> [host] [rcvbuf-bytes]\n", argv[0]);
    return 64;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (argc > 3) {
    int size = atoi(argv[3]);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &addr.sin_addr) != 1) {
    fprintf(stderr, "bad host\n");
    return 64;
  }
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("bind");
    return 1;
  }
  static char buf[65536];
  unsigned long long count = 0;
  for (;;) {
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("recvfrom");
      return 1;
    }
    if (n == 1) {
      char answer[32];
      int len = snprintf(answer, sizeof answer, "%llu", count);
      sendto(fd, answer, (size_t)len, 0, (struct sockaddr *)&from, fromlen);
      continue;
    }
    count++;
  }
}
