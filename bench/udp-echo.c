// The latency floor for `npm run bench`: the least a UDP server can do. It blocks in recvfrom,
// turns each datagram into a reply (QR set, nothing looked up) and sends it back, so the
// busy-polling probe measured against it gives what the loopback round trip and one wake-up of a
// sleeping server thread cost on this machine, with no server work in it. On a VM whose idle
// vCPU halts, that wake-up is most of the latency budget; see bench/RESULTS.md.
// Built by bench/run.ts with the system C compiler when there is one. Binds 127.0.0.1 only.
//   udp-echo SECONDS  → prints the bound port, serves until killed or SECONDS have passed
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int seconds = argc == 2 ? atoi(argv[1]) : 0;
  if (seconds <= 0 || seconds > 3600) {
    fprintf(stderr, "usage: udp-echo SECONDS (1-3600)\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof at;
  if (fd < 0 || bind(fd, (struct sockaddr *)&at, sizeof at) != 0 || getsockname(fd, (struct sockaddr *)&at, &len) != 0) {
    perror("udp-echo: socket");
    return 2;
  }
  printf("%d\n", ntohs(at.sin_port));
  fflush(stdout);
  alarm((unsigned)seconds);  // bounded even if whoever started it forgets to stop it
  unsigned char buf[4096];
  for (;;) {
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
    if (n < 12) continue;
    buf[2] |= 0x80;  // QR: a reply
    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, from_len);
  }
}
