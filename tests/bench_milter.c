/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   bench_milter - drive a milter directly over the milter protocol
 * SUMMARY
 *   bench_milter HOST PORT COUNT CONCURRENCY [RCPT [TAG]]
 * DESCRIPTION
 *   Sends COUNT distinct messages (own Message-ID, sender, Subject and
 *   body each) to the milter at HOST:PORT over CONCURRENCY parallel
 *   connections, one milter connection per message, as Postfix (milter
 *   protocol 6) sends them: option negotiation, then connect, HELO, MAIL,
 *   RCPT, DATA, the headers, end of headers, the body and end of message,
 *   with Postfix's macros ({daemon_name}, {client_addr}, i), honouring
 *   the steps and replies the milter asks to skip. It waits for the
 *   final reply (header changes before it are read and dropped), then
 *   quits. Used by contrib/bench.sh to compare cpr-milter with pgbench
 *   running the same cpr.intake, without Postfix in the way.
 *   Prints one line: "sent=N accepted=N tempfail=N other=N elapsed=S
 *   rate=R p50_ms=X p99_ms=Y".
 * DIAGNOSTICS
 *   Exit 1 on a usage error or when no message got a final reply; a
 *   connection or protocol error is counted as "other" and said on stderr
 *   (first few only).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MB_VERSION     6
#define MB_ACTIONS     0x1ffu            /* every modification we can take */
#define MB_PROTOCOL    0x1fffffu         /* every NO* / NR* step we can skip */
#define MB_MAX_PACKET  (1024 * 1024)
#define MB_SEND_MAX    16384             /* our largest packet: the body */
#define MB_MAX_THREADS 256
#define MB_MAX_SAY     5                 /* errors said on stderr */
#define MB_BODY_LINES  40

/* SMFIP_* bits (libmilter mfapi.h) */
enum { P_NOCONNECT = 0x1, P_NOHELO = 0x2, P_NOMAIL = 0x4, P_NORCPT = 0x8,
       P_NOBODY = 0x10, P_NOHDRS = 0x20, P_NOEOH = 0x40, P_NR_HDR = 0x80,
       P_NODATA = 0x200, P_NR_CONN = 0x1000, P_NR_HELO = 0x2000, P_NR_MAIL = 0x4000,
       P_NR_RCPT = 0x8000, P_NR_DATA = 0x10000, P_NR_EOH = 0x40000,
       P_NR_BODY = 0x80000 };

enum outcome { OUT_ACCEPT, OUT_TEMPFAIL, OUT_OTHER };

struct bench {
    const char *host, *port, *rcpt, *tag;
    long count;
    atomic_long next, accepted, tempfail, other, said;
    double *lat_ms;                      /* one per message */
};

struct conn {
    int fd;
    uint32_t proto;                      /* what the milter negotiated */
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_say(struct bench *b, const char *what)
{
    if (atomic_fetch_add(&b->said, 1) < MB_MAX_SAY)
        fprintf(stderr, "bench_milter: %s\n", what);
}

static int
conn_open(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
    int fd, one = 1;

    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd >= 0 && (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0
                    || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
read_all(int fd, char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One packet: 4-byte length (command included), command, data; one
 * write, as Postfix's buffered stream sends it. */
static int
packet_send(int fd, char cmd, const char *data, size_t len)
{
    char buf[MB_SEND_MAX + 5];
    uint32_t n = htonl((uint32_t)len + 1);

    if (len > MB_SEND_MAX)
        return -1;
    memcpy(buf, &n, 4);
    buf[4] = cmd;
    if (len)
        memcpy(buf + 5, data, len);
    return write_all(fd, buf, len + 5);
}

/* The next packet's command; its data into buf (cut to cap). */
static int
packet_read(int fd, char *cmd, char *buf, size_t cap, size_t *len)
{
    uint32_t n;
    char skip[4096];

    if (read_all(fd, (char *)&n, 4) || (n = ntohl(n)) == 0 || n > MB_MAX_PACKET
        || read_all(fd, cmd, 1))
        return -1;
    n--;
    *len = n < cap ? n : cap;
    if (read_all(fd, buf, *len))
        return -1;
    for (size_t left = n - *len; left > 0;) {
        size_t k = left < sizeof(skip) ? left : sizeof(skip);
        if (read_all(fd, skip, k))
            return -1;
        left -= k;
    }
    return 0;
}

/* A reply to a step: 'c' continue, 'a' accept, 't'/'y' tempfail or
 * reply code, ...; header changes and progress are read past. */
static int
reply_read(int fd, char *reply)
{
    char buf[1024];
    size_t len;

    for (int i = 0; i < 100000; i++) {
        if (packet_read(fd, reply, buf, sizeof(buf), &len))
            return -1;
        if (!strchr("hmi+-bpqe2", *reply))
            return 0;
    }
    return -1;
}

static int
conn_negotiate(struct conn *c)
{
    uint32_t v[3] = { htonl(MB_VERSION), htonl(MB_ACTIONS), htonl(MB_PROTOCOL) };
    char buf[1024], cmd;
    size_t len;

    if (packet_send(c->fd, 'O', (const char *)v, sizeof(v))
        || packet_read(c->fd, &cmd, buf, sizeof(buf), &len) || cmd != 'O' || len < 12)
        return -1;
    memcpy(&v, buf, sizeof(v));
    c->proto = ntohl(v[2]);
    return 0;
}

/* A step, unless the milter asked not to see it; its reply, unless it
 * asked not to give one. Returns the reply, 'c' when none came. */
static char
conn_step(struct conn *c, char cmd, const char *data, size_t len, uint32_t no,
          uint32_t nr)
{
    char reply = 'c';

    if (c->proto & no)
        return 'c';
    if (packet_send(c->fd, cmd, data, len))
        return 'E';
    if (!(c->proto & nr) && reply_read(c->fd, &reply))
        return 'E';
    return reply;
}

static int
macros_send(int fd, char step, const char *name, const char *value)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%c%s%c%s", step, name, 0, value);

    return n < 0 || (size_t)n >= sizeof(buf) ? -1 : packet_send(fd, 'D', buf, (size_t)n + 1);
}

/* The envelope and headers of message `seq`, as Postfix sends them. */
static char
message_envelope(struct conn *c, const struct bench *b, long seq, char *from)
{
    char buf[512], r;
    int n;
    uint16_t port = htons(25000);

    snprintf(from, 128, "<bench-%s-%ld@sender%ld.example>", b->tag, seq, seq % 997);
    n = snprintf(buf, sizeof(buf), "client%ld.example%c4%c%c192.0.2.%ld", seq % 5000, 0,
                 ((char *)&port)[0], ((char *)&port)[1], 1 + seq % 250);
    if (macros_send(c->fd, 'C', "{daemon_name}", "mx")
        || macros_send(c->fd, 'C', "{client_addr}", "192.0.2.1"))
        return 'E';
    if ((r = conn_step(c, 'C', buf, (size_t)n + 1, P_NOCONNECT, P_NR_CONN)) != 'c')
        return r;
    if ((r = conn_step(c, 'H', "client.example", 15, P_NOHELO, P_NR_HELO)) != 'c')
        return r;
    if ((r = conn_step(c, 'M', from, strlen(from) + 1, P_NOMAIL, P_NR_MAIL)) != 'c')
        return r;
    n = snprintf(buf, sizeof(buf), "<%s>", b->rcpt);
    if ((r = conn_step(c, 'R', buf, (size_t)n + 1, P_NORCPT, P_NR_RCPT)) != 'c')
        return r;
    return conn_step(c, 'T', NULL, 0, P_NODATA, P_NR_DATA);
}

static char
message_header(struct conn *c, const char *name, const char *value)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s%c%s", name, 0, value);

    if (n < 0 || (size_t)n >= sizeof(buf))
        return 'E';
    return conn_step(c, 'L', buf, (size_t)n + 1, P_NOHDRS, P_NR_HDR);
}

static char
message_headers(struct conn *c, const struct bench *b, long seq, const char *from)
{
    char v[256], r;

    snprintf(v, sizeof(v), "<bench-%s-%ld@client.example>", b->tag, seq);
    if ((r = message_header(c, "Message-ID", v)) != 'c')
        return r;
    if ((r = message_header(c, "From", from)) != 'c'
        || (r = message_header(c, "To", b->rcpt)) != 'c'
        || (r = message_header(c, "Date", "Thu, 03 Dec 2026 14:00:00 +0000")) != 'c')
        return r;
    snprintf(v, sizeof(v), "Certificate problem report %s-%ld: key compromise", b->tag, seq);
    if ((r = message_header(c, "Subject", v)) != 'c')
        return r;
    return conn_step(c, 'N', NULL, 0, P_NOEOH, P_NR_EOH);
}

static char
message_body(struct conn *c, const struct bench *b, long seq)
{
    char body[8192], r;
    size_t n = 0;

    for (int i = 0; i < MB_BODY_LINES && n + 128 < sizeof(body); i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
            "line %02d of report %s-%ld: the private key of a certificate leaked\r\n",
            i, b->tag, seq);
    if ((r = conn_step(c, 'B', body, n, P_NOBODY, P_NR_BODY)) != 'c')
        return r;
    snprintf(body, sizeof(body), "B%s%ld", b->tag, seq);
    if (macros_send(c->fd, 'E', "i", body))
        return 'E';
    if (packet_send(c->fd, 'E', NULL, 0) || reply_read(c->fd, &r))
        return 'E';
    return r;
}

static enum outcome
message_send(struct bench *b, long seq)
{
    struct conn c = { .fd = conn_open(b->host, b->port) };
    char from[128], r = 'E';

    if (c.fd < 0) {
        bench_say(b, "cannot connect");
        return OUT_OTHER;
    }
    if (conn_negotiate(&c) == 0 && (r = message_envelope(&c, b, seq, from)) == 'c'
        && (r = message_headers(&c, b, seq, from)) == 'c')
        r = message_body(&c, b, seq);
    if (r != 'E')
        packet_send(c.fd, 'Q', NULL, 0);
    close(c.fd);
    if (r == 'a' || r == 'c')
        return OUT_ACCEPT;
    if (r == 't' || r == 'y')
        return OUT_TEMPFAIL;
    bench_say(b, r == 'E' ? "protocol or connection error" : "unexpected final reply");
    return OUT_OTHER;
}

static void *
worker(void *arg)
{
    struct bench *b = arg;
    long seq;

    while ((seq = atomic_fetch_add(&b->next, 1)) < b->count) {
        double t0 = now_s();
        enum outcome o = message_send(b, seq);

        b->lat_ms[seq] = (now_s() - t0) * 1000.0;
        atomic_fetch_add(o == OUT_ACCEPT ? &b->accepted
                         : o == OUT_TEMPFAIL ? &b->tempfail : &b->other, 1);
    }
    return NULL;
}

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;

    return (a > c) - (a < c);
}

int
main(int argc, char **argv)
{
    static struct bench b;
    pthread_t th[MB_MAX_THREADS];
    long conc;
    double t0, el;
    char tag[32];

    if (argc < 5 || (b.count = atol(argv[3])) <= 0 || (conc = atol(argv[4])) <= 0
        || conc > MB_MAX_THREADS) {
        fprintf(stderr, "usage: bench_milter HOST PORT COUNT CONCURRENCY(1-%d) [RCPT [TAG]]\n",
                MB_MAX_THREADS);
        return 1;
    }
    snprintf(tag, sizeof(tag), "%ld%ld", (long)getpid(), (long)time(NULL));
    b.host = argv[1];
    b.port = argv[2];
    b.rcpt = argc > 5 ? argv[5] : "cpr@ca.example";
    b.tag = argc > 6 ? argv[6] : tag;
    if (!(b.lat_ms = calloc((size_t)b.count, sizeof(double))))
        return 1;
    t0 = now_s();
    for (long i = 0; i < conc; i++)
        if (pthread_create(&th[i], NULL, worker, &b) != 0)
            return 1;
    for (long i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    el = now_s() - t0;
    qsort(b.lat_ms, (size_t)b.count, sizeof(double), cmp_double);
    printf("sent=%ld accepted=%ld tempfail=%ld other=%ld elapsed=%.3f rate=%.1f "
           "p50_ms=%.2f p99_ms=%.2f\n", b.count, (long)b.accepted, (long)b.tempfail,
           (long)b.other, el, (double)b.accepted / el, b.lat_ms[b.count / 2],
           b.lat_ms[(b.count * 99 - 1) / 100]);
    free(b.lat_ms);
    return b.accepted + b.tempfail > 0 ? 0 : 1;
}
