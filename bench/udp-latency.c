// A latency probe for `npm run bench`: sends the queries of a dnsperf query file at a fixed
// rate from one UDP socket and times each reply. It busy-polls (no sleeping between sends, no
// blocking receive), so the figures are the network stack's and the server's, not the time a
// sleeping load generator takes to wake up, which on this VM is most of what `dnsperf -v`
// reports (Knot's p50 through dnsperf -v: ~100-180 µs; through this probe: see RESULTS.md).
// Built by bench/run.ts with the system C compiler when there is one. Loopback use only.
//   udp-latency HOST PORT QUERYFILE QPS SECONDS  → one JSON line on stdout
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUERIES 200000
#define MAX_WIRE 300

static uint8_t wires[MAX_QUERIES][MAX_WIRE];
static uint16_t wire_len[MAX_QUERIES];
static int64_t sent_at[65536];
static double *latencies;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int qtype(const char *t) {
  if (!strcmp(t, "A")) return 1;
  if (!strcmp(t, "NS")) return 2;
  if (!strcmp(t, "CNAME")) return 5;
  if (!strcmp(t, "SOA")) return 6;
  if (!strcmp(t, "PTR")) return 12;
  if (!strcmp(t, "TXT")) return 16;
  if (!strcmp(t, "AAAA")) return 28;
  if (!strcmp(t, "SRV")) return 33;
  return 1;
}

/** Header (ID patched at send time, RD set) + question; 0 when the name does not fit. */
static int encode(uint8_t *out, const char *name, int type) {
  memset(out, 0, 12);
  out[2] = 0x01;  // RD
  out[5] = 1;     // QDCOUNT
  int at = 12;
  const char *label = name;
  while (*label) {
    const char *dot = strchr(label, '.');
    int len = dot ? (int)(dot - label) : (int)strlen(label);
    if (len == 0 || len > 63 || at + len + 6 > MAX_WIRE) return 0;
    out[at++] = (uint8_t)len;
    memcpy(out + at, label, len);
    at += len;
    if (!dot) break;
    label = dot + 1;
  }
  out[at++] = 0;
  out[at++] = (uint8_t)(type >> 8);
  out[at++] = (uint8_t)type;
  out[at++] = 0;
  out[at++] = 1;  // IN
  return at;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *xs, long n, double p) {
  if (n == 0) return -1;
  long i = (long)(p / 100.0 * (double)n);
  if (i >= n) i = n - 1;
  return xs[i];
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: udp-latency HOST PORT QUERYFILE QPS SECONDS\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  double qps = atof(argv[4]);
  double seconds = atof(argv[5]);
  if (qps <= 0 || qps > 1e6 || seconds <= 0 || seconds > 600) {
    fprintf(stderr, "udp-latency: QPS must be in (0, 1e6] and SECONDS in (0, 600]\n");
    return 2;
  }
  FILE *f = fopen(argv[3], "r");
  if (!f) {
    perror("udp-latency: query file");
    return 2;
  }
  long nq = 0;
  char line[512], name[400], type[32];
  while (nq < MAX_QUERIES && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%399s %31s", name, type) != 2) continue;
    int len = encode(wires[nq], name, qtype(type));
    if (len > 0) wire_len[nq++] = (uint16_t)len;
  }
  fclose(f);
  if (nq == 0) {
    fprintf(stderr, "udp-latency: no queries\n");
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (fd < 0 || inet_pton(AF_INET, host, &to.sin_addr) != 1 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("udp-latency: socket");
    return 2;
  }
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);

  long total = (long)(qps * seconds);
  latencies = malloc(sizeof(double) * (size_t)total);
  for (int i = 0; i < 65536; i++) sent_at[i] = -1;
  long received = 0, late = 0;
  const int64_t interval = (int64_t)(1e9 / qps);
  const int64_t start = now_ns();
  const int64_t deadline = start + (int64_t)(seconds * 1e9) + 500000000;  // + 0.5 s for stragglers
  long next = 0;
  uint8_t reply[4096];
  for (;;) {
    int64_t t = now_ns();
    if (next < total && t >= start + next * interval) {
      uint8_t *w = wires[next % nq];
      uint16_t id = (uint16_t)next;
      w[0] = (uint8_t)(id >> 8);
      w[1] = (uint8_t)id;
      sent_at[id] = now_ns();
      if (send(fd, w, wire_len[next % nq], 0) < 0) sent_at[id] = -1;
      next++;
      continue;
    }
    ssize_t n = recv(fd, reply, sizeof reply, MSG_DONTWAIT);
    if (n >= 12) {
      int64_t arrived = now_ns();
      uint16_t id = (uint16_t)((reply[0] << 8) | reply[1]);
      if (sent_at[id] >= 0) {
        double us = (double)(arrived - sent_at[id]) / 1000.0;
        sent_at[id] = -1;
        if (us > 1e6) late++;  // an ID reused after a reply lost long ago
        else latencies[received++] = us;
      }
      continue;
    }
    if (next >= total && (received + late >= total || t > deadline)) break;
  }
  qsort(latencies, (size_t)received, sizeof(double), cmp);
  double sum = 0;
  for (long i = 0; i < received; i++) sum += latencies[i];
  printf("{\"sent\":%ld,\"received\":%ld,\"qps\":%.0f,\"meanUs\":%.1f,\"p50Us\":%.1f,\"p90Us\":%.1f,\"p99Us\":%.1f,\"p999Us\":%.1f,\"maxUs\":%.1f}\n",
         next, received, qps, received ? sum / (double)received : -1.0, pct(latencies, received, 50), pct(latencies, received, 90),
         pct(latencies, received, 99), pct(latencies, received, 99.9), received ? latencies[received - 1] : -1.0);
  return 0;
}
