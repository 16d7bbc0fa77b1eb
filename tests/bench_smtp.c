/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   bench_smtp - SMTP load generator: distinct messages, N sessions
 * SUMMARY
 *   bench_smtp HOST PORT COUNT CONCURRENCY [RCPT [TAG]]
 * DESCRIPTION
 *   Sends COUNT messages to HOST:PORT over CONCURRENCY parallel SMTP
 *   sessions (each session sends its share one after another: MAIL, RCPT,
 *   DATA). Every message has its own sender, Message-ID, Subject and body,
 *   as reports from many reporters have (smtp-source repeats bodies, which
 *   cpr.intake rightly treats as redeliveries). Counts 250s, 4xx and
 *   other answers to the end of DATA, and the time from MAIL to that
 *   answer. contrib/bench.sh runs it against Postfix alone and Postfix
 *   with cpr-milter, and checks that it is not the limit (its own CPU).
 *   Prints one line: "sent=N accepted=N tempfail=N other=N elapsed=S
 *   rate=R p50_ms=X p99_ms=Y".
 * DIAGNOSTICS
 *   Exit 1 on a usage error or when nothing was accepted; the first few
 *   unexpected answers are said on stderr.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BS_MAX_THREADS 256
#define BS_LINE        1024
#define BS_MAX_LINES   100               /* lines of one multi-line reply */
#define BS_BODY_LINES  40
#define BS_MAX_SAY     5

struct bench {
    const char *host, *port, *rcpt, *tag;
    long count;
    atomic_long next, accepted, tempfail, other, said;
    double *lat_ms;
};

struct session {
    int fd;
    char buf[8192];
    size_t have, off;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_say(struct bench *b, const char *what, const char *line)
{
    if (atomic_fetch_add(&b->said, 1) < BS_MAX_SAY)
        fprintf(stderr, "bench_smtp: %s: %.200s\n", what, line);
}

static int
session_open(struct session *s, const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;

    s->have = s->off = 0;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    s->fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (s->fd >= 0 && connect(s->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(ai);
    return s->fd < 0 ? -1 : 0;
}

static int
session_write(struct session *s, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One line (CR LF stripped, cut to cap). */
static int
session_line(struct session *s, char *line, size_t cap)
{
    size_t n = 0;

    for (;;) {
        if (s->off == s->have) {
            ssize_t r = read(s->fd, s->buf, sizeof(s->buf));
            if (r <= 0)
                return -1;
            s->have = (size_t)r;
            s->off = 0;
        }
        char c = s->buf[s->off++];
        if (c == '\n')
            break;
        if (c != '\r' && n + 1 < cap)
            line[n++] = c;
    }
    line[n] = '\0';
    return 0;
}

/* A whole reply; its code (0 on a broken connection). */
static int
session_reply(struct session *s, char *line)
{
    for (int i = 0; i < BS_MAX_LINES; i++) {
        if (session_line(s, line, BS_LINE) || strlen(line) < 3)
            return 0;
        if (line[3] != '-')
            return atoi(line);
    }
    return 0;
}

static int
session_cmd(struct session *s, const char *cmd, char *line)
{
    if (session_write(s, cmd, strlen(cmd)))
        return 0;
    return session_reply(s, line);
}

static size_t
message_text(char *out, size_t cap, const struct bench *b, long seq, const char *from)
{
    size_t n = (size_t)snprintf(out, cap,
        "From: %s\r\nTo: <%s>\r\nSubject: Certificate problem report %s-%ld\r\n"
        "Message-ID: <bench-%s-%ld@client.example>\r\n"
        "Date: Thu, 03 Dec 2026 14:00:00 +0000\r\n\r\n", from, b->rcpt, b->tag, seq,
        b->tag, seq);

    for (int i = 0; i < BS_BODY_LINES && n + 128 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n,
            "line %02d of report %s-%ld: the private key of a certificate leaked\r\n",
            i, b->tag, seq);
    n += (size_t)snprintf(out + n, cap - n, ".\r\n");
    return n;
}

/* One message on an open session; its SMTP code at the end of DATA. */
static int
message_send(struct session *s, const struct bench *b, long seq, char *line)
{
    char from[160], cmd[256], text[8192];
    size_t n;

    snprintf(from, sizeof(from), "<bench-%s-%ld@sender%ld.example>", b->tag, seq, seq % 997);
    snprintf(cmd, sizeof(cmd), "MAIL FROM:%s\r\n", from);
    if (session_cmd(s, cmd, line) != 250)
        return atoi(line);
    snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", b->rcpt);
    if (session_cmd(s, cmd, line) != 250 || session_cmd(s, "DATA\r\n", line) != 354) {
        session_cmd(s, "RSET\r\n", line);
        return atoi(line) ? atoi(line) : 1;
    }
    n = message_text(text, sizeof(text), b, seq, from);
    if (session_write(s, text, n))
        return 0;
    return session_reply(s, line);
}

static void *
worker(void *arg)
{
    struct bench *b = arg;
    struct session s;
    char line[BS_LINE];
    long seq;

    if (session_open(&s, b->host, b->port) || session_reply(&s, line) != 220
        || session_cmd(&s, "EHLO client.example\r\n", line) != 250) {
        bench_say(b, "cannot open a session", "");
        return NULL;
    }
    while ((seq = atomic_fetch_add(&b->next, 1)) < b->count) {
        double t0 = now_s();
        int code = message_send(&s, b, seq, line);

        b->lat_ms[seq] = (now_s() - t0) * 1000.0;
        atomic_fetch_add(code == 250 ? &b->accepted
                         : code / 100 == 4 ? &b->tempfail : &b->other, 1);
        if (code != 250)
            bench_say(b, "not accepted", line);
        if (code == 0)
            break;
    }
    session_cmd(&s, "QUIT\r\n", line);
    close(s.fd);
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
    pthread_t th[BS_MAX_THREADS];
    long conc, done;
    double t0, el;
    char tag[32];

    if (argc < 5 || (b.count = atol(argv[3])) <= 0 || (conc = atol(argv[4])) <= 0
        || conc > BS_MAX_THREADS) {
        fprintf(stderr, "usage: bench_smtp HOST PORT COUNT CONCURRENCY(1-%d) [RCPT [TAG]]\n",
                BS_MAX_THREADS);
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
    done = b.next < b.count ? (long)b.next : b.count;
    qsort(b.lat_ms, (size_t)b.count, sizeof(double), cmp_double);
    printf("sent=%ld accepted=%ld tempfail=%ld other=%ld elapsed=%.3f rate=%.1f "
           "p50_ms=%.2f p99_ms=%.2f\n", done, (long)b.accepted, (long)b.tempfail,
           (long)b.other, el, (double)b.accepted / el,
           b.lat_ms[b.count / 2], b.lat_ms[(b.count * 99 - 1) / 100]);
    free(b.lat_ms);
    return b.accepted > 0 ? 0 : 1;
}
