/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_evidence - unit tests for certificate and key evidence extraction
 * DESCRIPTION
 *   Runs evidence_scan_text/der and evidence_redact over the throwaway keys,
 *   certificates and CSRs in tests/fixtures/evidence (made by gen.sh there;
 *   the hashes below are what gen.sh printed) and over hostile input.
 *   Fixtures are found through $top_srcdir, else "." or "..".
 * DIAGNOSTICS
 *   Check failures name the fixture or the field that differs.
 */
#include "evidence.h"
#include "keygate.h"
#include "check_unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define FIX "tests/fixtures/evidence/"
#define EC_SPKI "dc860774b2260e329c515863ca11b0c19c7cf6be714fea2e95cc73831e3c86d8"
#define RSA_SPKI "ff888b50cbef586fe5f3a88e174fb9e6b7a2e22007bf51e57e445de19f1e0293"
#define LEAF_FP "623f176ed241c6ce466be59d2047dd807cabed08c7947ab5641d6de72c1a7406"
#define SECOND_FP "785bf9d61d7544335538a07fe8a65fda62680e1cc38396bdaeb424a7fc4ea725"

/* Until tests/check_unit.h declares it (kept harmless after that). */
Suite *evidence_suite(void);

static char *
join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *t = malloc(la + lb + lc + 1);

    ck_assert_ptr_nonnull(t);
    memcpy(t, a, la);
    memcpy(t + la, b, lb);
    memcpy(t + la + lb, c, lc + 1);
    return t;
}

static char *
fixture_read(const char *name, size_t *len)
{
    const char *env = getenv("top_srcdir");
    const char *dirs[] = { env ? env : ".", ".", ".." };
    char path[4096];

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof(path), "%s/" FIX "%s", dirs[i], name);
        if (!(f = fopen(path, "rb")))
            continue;
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        ck_assert(n >= 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        buf[n] = '\0';
        *len = (size_t)n;
        return buf;
    }
    ck_abort_msg("cannot find %s (set top_srcdir)", name);
    return NULL;
}

/* prose + fixture + prose, as a report body would carry it. */
static char *
in_prose(const char *name, size_t *len)
{
    size_t n;
    char *pem = fixture_read(name, &n), *t;
    const char *pre = "Hello,\n\nplease revoke, see below:\n\n";
    const char *post = "\nThanks,\nAlice\n";

    t = malloc(strlen(pre) + n + strlen(post) + 1);
    ck_assert_ptr_nonnull(t);
    *len = (size_t)sprintf(t, "%s%s%s", pre, pem, post);
    free(pem);
    return t;
}

static const struct evidence_item *
find_kind(const struct evidence_list *ev, enum evidence_kind kind, int nth)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->items[i].kind == kind && nth-- == 0)
            return &ev->items[i];
    return NULL;
}

static size_t
count_kind(const struct evidence_list *ev, enum evidence_kind kind)
{
    size_t k = 0;

    for (size_t i = 0; i < ev->n; i++)
        k += ev->items[i].kind == kind;
    return k;
}

static void
scan_prose(const char *name, struct evidence_list *ev)
{
    size_t n;
    char *t = in_prose(name, &n);

    evidence_list_init(ev);
    ck_assert(evidence_scan_text(t, n, ev));
    free(t);
}

static void
assert_leaf(const struct evidence_item *it)
{
    ck_assert_ptr_nonnull(it);
    ck_assert_str_eq(it->sha256, LEAF_FP);
    ck_assert_str_eq(it->serial, "0123456789abcdef42");
    ck_assert_str_eq(it->subject, "CN=www.example.org,O=Exemple Sàrl,C=FR");
    ck_assert_str_eq(it->issuer, it->subject);
    ck_assert_str_eq(it->sans, "www.example.org,example.org");
    ck_assert_str_eq(it->not_before, "2026-11-27T03:42:55Z");
    ck_assert_str_eq(it->not_after, "2027-11-27T03:42:55Z");
    ck_assert_str_eq(it->spki_sha256, RSA_SPKI);
    ck_assert(!it->proof_pock);
}

START_TEST(test_cert_in_prose)
{
    struct evidence_list ev;

    scan_prose("leaf.pem", &ev);
    ck_assert_uint_eq(ev.n, 1);
    assert_leaf(find_kind(&ev, EVIDENCE_CERT, 0));
    ck_assert(ev.items[0].has_range);
    ck_assert_ptr_nonnull(strstr(ev.items[0].reason, "certificate serial"));
    evidence_list_free(&ev);
}
END_TEST

/* serial -2: DER content 0xfe, said to be negative; a value the database
 * takes (lower-case hex), never a '-' that would fail the intake. */
START_TEST(test_cert_negative_serial)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_prose("negative-serial.pem", &ev);
    it = find_kind(&ev, EVIDENCE_CERT, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert_str_eq(it->serial, "fe");
    ck_assert_ptr_nonnull(strstr(it->reason, "NEGATIVE serial"));
    ck_assert_str_eq(it->spki_sha256, EC_SPKI);
    evidence_list_free(&ev);
}
END_TEST

/* "openssl pkey -text" output pasted into a report: one key item, no
 * hex line of it left after redaction, no serial made of its secret. */
static void
assert_text_dump(const char *name)
{
    size_t len, dlen;
    char *text = in_prose(name, &len), *dump = fixture_read(name, &dlen), *red, *line;
    struct evidence_list ev;
    const struct evidence_item *it;

    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(text, len, &ev));
    it = find_kind(&ev, EVIDENCE_KEY, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert_str_eq(it->key_type, "text dump");
    ck_assert_uint_eq(count_kind(&ev, EVIDENCE_SERIAL), 0);
    red = evidence_redact(text, len, &ev);
    ck_assert_ptr_nonnull(strstr(red, "[private key removed: text dump]"));
    ck_assert_ptr_nonnull(strstr(red, "please revoke"));
    ck_assert_ptr_nonnull(strstr(red, "Alice"));
    for (line = strtok(dump, "\n"); line; line = strtok(NULL, "\n"))
        if (strlen(line) > 12)
            ck_assert_msg(strstr(red, line) == NULL, "%s: kept line %s", name, line);
    free(red);
    free(dump);
    free(text);
    evidence_list_free(&ev);
}

START_TEST(test_key_text_dump)
{
    assert_text_dump("ec-key.txt");
    assert_text_dump("rsa-key.txt");
}
END_TEST

/* Attachment bytes carry no NUL: a dump ending at the buffer's last byte
 * must be read within it (found by the fuzzer; ASan sees an over-read). */
START_TEST(test_key_text_dump_unterminated)
{
    static const char dump[] = "Private-Key: (256 bit)\npriv:\n    08:15:d6:02";
    size_t len = sizeof(dump) - 1;
    char *buf = malloc(len);
    struct evidence_list ev;

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, dump, len);
    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(buf, len, &ev));
    ck_assert_ptr_nonnull(find_kind(&ev, EVIDENCE_KEY, 0));
    ck_assert_uint_eq(ev.items[0].end, len);
    evidence_list_free(&ev);
    free(buf);
}
END_TEST

START_TEST(test_cert_der)
{
    struct evidence_list ev;
    size_t n;
    char *der = fixture_read("leaf.der", &n);

    evidence_list_init(&ev);
    ck_assert(evidence_scan_der((unsigned char *)der, n, &ev));
    ck_assert_uint_eq(ev.n, 1);
    assert_leaf(find_kind(&ev, EVIDENCE_CERT, 0));
    ck_assert(!ev.items[0].has_range);
    evidence_list_free(&ev);
    free(der);
}
END_TEST

START_TEST(test_pkcs7_bundle)
{
    struct evidence_list ev;

    scan_prose("bundle.p7b", &ev);
    ck_assert_uint_eq(count_kind(&ev, EVIDENCE_CERT), 2);
    ck_assert_str_eq(find_kind(&ev, EVIDENCE_CERT, 0)->sha256, LEAF_FP);
    ck_assert_str_eq(find_kind(&ev, EVIDENCE_CERT, 1)->sha256, SECOND_FP);
    ck_assert_str_eq(find_kind(&ev, EVIDENCE_CERT, 1)->serial, "07");
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_proof_pock)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_prose("pock.pem", &ev);
    it = find_kind(&ev, EVIDENCE_CERT, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert(it->proof_pock);
    ck_assert(it->sig_ok);
    ck_assert_str_eq(it->spki_sha256, EC_SPKI);
    ck_assert_ptr_nonnull(strstr(it->reason, "PoCK"));
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_proof_csr)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_prose("proof.csr", &ev);
    it = find_kind(&ev, EVIDENCE_CSR, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert(it->proof_csr);
    ck_assert(!it->proof_pwnedkeys);
    ck_assert(it->sig_ok);
    ck_assert_str_eq(it->subject, "CN=Proof of Key Compromise for example.org");
    ck_assert_str_eq(it->spki_sha256, EC_SPKI);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_proof_csr_der)
{
    struct evidence_list ev;
    size_t n;
    char *der = fixture_read("proof.csr.der", &n);

    evidence_list_init(&ev);
    ck_assert(evidence_scan_der((unsigned char *)der, n, &ev));
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_int_eq(ev.items[0].kind, EVIDENCE_CSR);
    ck_assert(ev.items[0].proof_csr && ev.items[0].sig_ok);
    /* A flipped signature byte: still a CSR, but it no longer verifies. */
    der[n - 3] ^= 0x55;
    evidence_list_free(&ev);
    ck_assert(evidence_scan_der((unsigned char *)der, n, &ev));
    if (ev.n == 1)
        ck_assert(!ev.items[0].sig_ok);
    evidence_list_free(&ev);
    free(der);
}
END_TEST

START_TEST(test_proof_pwnedkeys)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_prose("pwned.csr", &ev);
    it = find_kind(&ev, EVIDENCE_CSR, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert(it->proof_pwnedkeys);
    ck_assert(!it->proof_csr);
    ck_assert(it->sig_ok);
    ck_assert_str_eq(it->spki_sha256, RSA_SPKI);
    ck_assert_ptr_nonnull(strstr(it->reason, "pwnedkeys"));
    evidence_list_free(&ev);
}
END_TEST

static void
assert_key(const char *name, const char *spki, const char *type)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_prose(name, &ev);
    ck_assert_uint_eq(ev.n, 1);
    it = find_kind(&ev, EVIDENCE_KEY, 0);
    ck_assert_msg(it != NULL, "%s: no key", name);
    ck_assert_str_eq(it->spki_sha256, spki);
    ck_assert_str_eq(it->key_type, type);
    ck_assert_ptr_nonnull(strstr(it->reason, "private key block ("));
    ck_assert_msg(it->sig_ok, "%s: a real key not proven", name);
    ck_assert_ptr_null(strstr(it->reason, "NOT proven"));
    evidence_list_free(&ev);
}

/* Someone's public key (from their certificate) beside made-up private
 * values parses as a private key with THEIR SPKI: it must not count as
 * proof (sig_ok false; cpr.verified_key and the blocklist need it), yet it
 * stays a key, so it is still redacted. */
static void
assert_forged_key(const char *name, const char *spki)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_prose(name, &ev);
    it = find_kind(&ev, EVIDENCE_KEY, 0);
    ck_assert_msg(it != NULL, "%s: the forgery is no longer seen as a key block", name);
    ck_assert_str_eq(it->spki_sha256, spki);
    ck_assert_msg(!it->sig_ok, "%s: a forged key counted as proven", name);
    ck_assert_ptr_nonnull(strstr(it->reason, "NOT proven"));
    evidence_list_free(&ev);
}

START_TEST(test_keys_pem)
{
    assert_key("ec.key", EC_SPKI, "EC P-256");
    assert_key("ec-trad.key", EC_SPKI, "EC P-256");
    assert_key("rsa.key", RSA_SPKI, "RSA 2048");
    assert_key("rsa-trad.key", RSA_SPKI, "RSA 2048");
}
END_TEST

START_TEST(test_key_forged)
{
    assert_forged_key("forged-rsa.key", RSA_SPKI);
    assert_forged_key("forged-ec.key", EC_SPKI);
}
END_TEST

START_TEST(test_key_der)
{
    struct evidence_list ev;
    size_t n;
    char *der = fixture_read("ec.key.der", &n);

    evidence_list_init(&ev);
    ck_assert(evidence_scan_der((unsigned char *)der, n, &ev));
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_int_eq(ev.items[0].kind, EVIDENCE_KEY);
    ck_assert_str_eq(ev.items[0].spki_sha256, EC_SPKI);
    evidence_list_free(&ev);
    free(der);
}
END_TEST

START_TEST(test_key_encrypted)
{
    struct evidence_list ev;
    size_t n;
    char *t = in_prose("ec-enc.key", &n), *r;

    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(t, n, &ev));
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_int_eq(ev.items[0].kind, EVIDENCE_KEY_ENCRYPTED);
    ck_assert_str_eq(ev.items[0].spki_sha256, "");
    r = evidence_redact(t, n, &ev);
    ck_assert_ptr_nonnull(strstr(r, "[private key removed: unparsable]"));
    ck_assert_ptr_null(strstr(r, "ENCRYPTED PRIVATE KEY"));
    free(r);
    free(t);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_redact_key)
{
    struct evidence_list ev;
    size_t n;
    char *t = in_prose("ec.key", &n), *r;

    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(t, n, &ev));
    r = evidence_redact(t, n, &ev);
    ck_assert_str_eq(r, "Hello,\n\nplease revoke, see below:\n\n"
                        "[private key removed: SPKI SHA-256 " EC_SPKI "]"
                        "\n\nThanks,\nAlice\n");
    free(r);
    free(t);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_redact_truncated)
{
    struct evidence_list ev;
    size_t n;
    char *pem = fixture_read("rsa.key", &n), *t, *r;

    /* Cut in the middle of the base64, as a size limit would. */
    pem[n / 2] = '\0';
    t = join3("Key follows:\n", pem, "");
    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(t, strlen(t), &ev));
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_int_eq(ev.items[0].kind, EVIDENCE_KEY_TRUNCATED);
    ck_assert_str_eq(evidence_kind_name(ev.items[0].kind),
                     "private-key-truncated");
    ck_assert_uint_eq(ev.items[0].end, strlen(t));
    r = evidence_redact(t, strlen(t), &ev);
    ck_assert_str_eq(r, "Key follows:\n[private key removed: unparsable]");
    free(r);
    free(t);
    free(pem);
    evidence_list_free(&ev);
}
END_TEST

static void
scan_str(const char *s, struct evidence_list *ev)
{
    evidence_list_init(ev);
    ck_assert(evidence_scan_text(s, strlen(s), ev));
}

static void
assert_serial(const char *text, const char *want)
{
    struct evidence_list ev;
    const struct evidence_item *it;

    scan_str(text, &ev);
    it = find_kind(&ev, EVIDENCE_SERIAL, 0);
    ck_assert_msg(it != NULL, "no serial in: %s", text);
    ck_assert_str_eq(it->serial, want);
    evidence_list_free(&ev);
}

START_TEST(test_serial_labels)
{
    assert_serial("The serial: 0a1b2c3d", "0a1b2c3d");
    assert_serial("Serial Number 3F00A1", "3f00a1");
    assert_serial("serial number is 04:a1:b2", "04a1b2");
    assert_serial("Numéro de série : 7c01ab99", "7c01ab99");
    assert_serial("Die Seriennummer ist 5e22f001", "5e22f001");
    assert_serial("El número de serie: 00ab1234", "00ab1234");
    assert_serial("证书序列号：4a3b2c1d", "4a3b2c1d");
    assert_serial("憑證序號為 9f8e7d6c", "9f8e7d6c");
    assert_serial("シリアル番号は 1234abcd です", "1234abcd");
    assert_serial("see 0x0123456789abcdef", "0123456789abcdef");
    assert_serial("04:a1:b2:c3:d4:e5:f6:07:18 was issued",
                  "04a1b2c3d4e5f60718");
}
END_TEST

START_TEST(test_not_serials)
{
    struct evidence_list ev;

    scan_str("At 12:30:45 the serial was added; MAC 00:11:22:33:44:55, "
             "ip 2001:db8::1, serial deadbeef, 0x1F", &ev);
    ck_assert_uint_eq(ev.n, 0);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_fingerprints)
{
    struct evidence_list ev;
    const char *colon = "62:3F:17:6E:D2:41:C6:CE:46:6B:E5:9D:20:47:DD:80:"
                        "7C:AB:ED:08:C7:94:7A:B5:64:1D:6D:E7:2C:1A:74:06";

    scan_str("fp " LEAF_FP " and again ", &ev);
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_int_eq(ev.items[0].kind, EVIDENCE_FINGERPRINT);
    ck_assert_str_eq(ev.items[0].sha256, LEAF_FP);
    ck_assert(evidence_scan_text(colon, strlen(colon), &ev));
    ck_assert_uint_eq(ev.n, 1);  /* same fingerprint, recorded once */
    evidence_list_free(&ev);
    scan_str("x" LEAF_FP "0", &ev);  /* longer run: not a fingerprint */
    ck_assert_uint_eq(ev.n, 0);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_crtsh)
{
    struct evidence_list ev;

    scan_str("See https://crt.sh/?id=123456789 and <https://crt.sh/?sha256="
             LEAF_FP "&opt=x> and https://crt.sh/?spkisha256=" EC_SPKI
             ", also crt.sh/?d=42.\nBut not https://crt.sh/?q=example.org",
             &ev);
    ck_assert_uint_eq(ev.n, 4);
    ck_assert_str_eq(ev.items[0].value, "id=123456789");
    ck_assert_str_eq(ev.items[1].value, "sha256=" LEAF_FP);
    ck_assert_str_eq(ev.items[2].value, "spkisha256=" EC_SPKI);
    ck_assert_str_eq(ev.items[3].value, "d=42");
    evidence_list_free(&ev);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_garbage_block)
{
    struct evidence_list ev;
    const char *t = "x\n-----BEGIN CERTIFICATE-----\n!!not base64 at all@@\n"
                    "-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n"
                    "AAAA====BBBB\n-----END PRIVATE KEY-----\ny";
    char *r;

    scan_str(t, &ev);
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_int_eq(ev.items[0].kind, EVIDENCE_KEY);
    ck_assert_str_eq(ev.items[0].spki_sha256, "");
    r = evidence_redact(t, strlen(t), &ev);
    ck_assert_ptr_nonnull(strstr(r, "[private key removed: unparsable]\ny"));
    free(r);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_nested_begin)
{
    struct evidence_list ev;
    size_t n;
    char *key = fixture_read("ec.key", &n), *t, *r;

    /* A key inside an unterminated certificate block is still found. */
    t = join3("-----BEGIN CERTIFICATE-----\nAAAA\n", key,
              "-----BEGIN PRIVATE KEY-----\nzz\n");
    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(t, strlen(t), &ev));
    ck_assert_uint_eq(count_kind(&ev, EVIDENCE_KEY), 1);
    ck_assert_uint_eq(count_kind(&ev, EVIDENCE_KEY_TRUNCATED), 1);
    r = evidence_redact(t, strlen(t), &ev);
    ck_assert_ptr_null(strstr(r, "PRIVATE KEY"));
    free(r);
    free(t);
    free(key);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_huge_base64)
{
    struct evidence_list ev;
    size_t body = EVIDENCE_MAX_PEM_BYTES * 2;
    const char *b = "-----BEGIN PRIVATE KEY-----\n", *e = "\n-----END PRIVATE KEY-----";
    size_t n = strlen(b) + body + strlen(e);
    char *t = malloc(n + 1), *r;

    ck_assert_ptr_nonnull(t);
    memcpy(t, b, strlen(b));
    memset(t + strlen(b), 'Q', body);
    memcpy(t + strlen(b) + body, e, strlen(e) + 1);
    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(t, n, &ev));
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_uint_eq(ev.items[0].end, n);
    r = evidence_redact(t, n, &ev);
    ck_assert_str_eq(r, "[private key removed: unparsable]");
    free(r);
    free(t);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_item_bounds)
{
    struct evidence_list ev;
    size_t per = 40, n = (EVIDENCE_MAX_ITEMS + 10) * per;
    char *t = malloc(n + 1);

    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < EVIDENCE_MAX_ITEMS + 10; i++)
        snprintf(t + i * per, per + 1, "crt.sh/?id=%028zu ", i);
    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(t, n, &ev));
    ck_assert_uint_eq(ev.n, EVIDENCE_MAX_ITEMS);
    ck_assert_uint_eq(ev.items_dropped, 10);
    free(t);
    evidence_list_free(&ev);
}
END_TEST

START_TEST(test_der_garbage)
{
    struct evidence_list ev;
    unsigned char junk[] = { 0x30, 0x82, 0xff, 0xff, 0x30, 0x03, 0x02, 0x01 };

    evidence_list_init(&ev);
    ck_assert(evidence_scan_der(junk, sizeof(junk), &ev));
    ck_assert(evidence_scan_der(junk, 1, &ev));
    ck_assert(evidence_scan_der((const unsigned char *)"hello", 5, &ev));
    ck_assert_uint_eq(ev.n, 0);
    evidence_list_free(&ev);
}
END_TEST

/* The base64 lines of a PEM fixture, without its armour lines. */
static char *
pem_lines(const char *name)
{
    size_t n;
    char *pem = fixture_read(name, &n), *b = strchr(pem, '\n'), *e = strstr(pem, "-----END");
    char *t;

    ck_assert(b != NULL && e != NULL && e > b);
    t = strndup(b + 1, (size_t)(e - b - 1));
    free(pem);
    return t;
}

static char *
b64_of(const unsigned char *d, size_t n)
{
    char *t = malloc(4 * (n / 3 + 1) + 1);

    ck_assert_ptr_nonnull(t);
    EVP_EncodeBlock((unsigned char *)t, d, (int)n);
    return t;
}

/* Each text holds the EC key after a public certificate: the gate must
 * find it as a key, and the given 24 characters of it must not survive. */
static void
assert_gated(const char *text, const char *piece, const char *what)
{
    struct evidence_list ev;
    bool key = false;
    char *r;

    ck_assert_msg(strstr(text, piece) != NULL, "%s: the piece is not in the text", what);
    evidence_list_init(&ev);
    ck_assert(evidence_scan_text(text, strlen(text), &ev));
    ck_assert(keygate_scan(text, strlen(text), true, &ev));
    for (size_t i = 0; i < ev.n; i++)
        key = key || evidence_is_key(&ev.items[i]);
    ck_assert_msg(key, "%s: no key found", what);
    r = evidence_redact(text, strlen(text), &ev);
    ck_assert_msg(strstr(r, piece) == NULL, "%s: key kept", what);
    free(r);
    evidence_list_free(&ev);
}

/* Found by fuzz_report: a key's base64 or hex lines right after a
 * certificate's, with no armour or blank line between, or both DER
 * structures in one base64 run, were taken as the certificate alone. */
START_TEST(test_key_after_cert)
{
    size_t cn, kn;
    char *cert = pem_lines("leaf.pem"), *key = pem_lines("ec.key"), *text, *hex, *b64;
    char *cder = fixture_read("leaf.der", &cn), *kder = fixture_read("ec.key.der", &kn);
    unsigned char *both = malloc(cn + kn);
    char piece[25];

    text = join3("Please revoke:\n", cert, key);
    assert_gated(text, "0u9hEACaDor2P7gNEFX5tnFI", "base64 lines");
    free(text);
    hex = malloc(2 * kn + 2);
    for (size_t i = 0; i < kn; i++)
        sprintf(hex + 2 * i, "%02x", (unsigned char)kder[i]);
    strcat(hex, "\n");
    text = join3("Please revoke:\n", cert, hex);
    assert_gated(text, "0815d6024ff617f4594ab0d2", "hex line");
    free(text);
    memcpy(both, cder, cn);
    memcpy(both + cn, kder, kn);
    b64 = b64_of(both, cn + kn);
    text = join3("Please revoke:\n", b64, "\n");
    snprintf(piece, sizeof(piece), "%.24s", b64 + (cn * 4 + 2) / 3 + 12);
    assert_gated(text, piece, "one base64 run");
    free(text);
    free(b64);
    free(both);
    free(hex);
    free(cder);
    free(kder);
    free(cert);
    free(key);
}
END_TEST

Suite *
evidence_suite(void)
{
    Suite *s = suite_create("evidence");
    TCase *tc = tcase_create("extract");

    tcase_add_test(tc, test_cert_in_prose);
    tcase_add_test(tc, test_cert_negative_serial);
    tcase_add_test(tc, test_key_text_dump);
    tcase_add_test(tc, test_key_text_dump_unterminated);
    tcase_add_test(tc, test_cert_der);
    tcase_add_test(tc, test_pkcs7_bundle);
    tcase_add_test(tc, test_proof_pock);
    tcase_add_test(tc, test_proof_csr);
    tcase_add_test(tc, test_proof_csr_der);
    tcase_add_test(tc, test_proof_pwnedkeys);
    tcase_add_test(tc, test_keys_pem);
    tcase_add_test(tc, test_key_forged);
    tcase_add_test(tc, test_key_der);
    tcase_add_test(tc, test_key_encrypted);
    tcase_add_test(tc, test_redact_key);
    tcase_add_test(tc, test_redact_truncated);
    tcase_add_test(tc, test_serial_labels);
    tcase_add_test(tc, test_not_serials);
    tcase_add_test(tc, test_fingerprints);
    tcase_add_test(tc, test_crtsh);
    tcase_add_test(tc, test_garbage_block);
    tcase_add_test(tc, test_nested_begin);
    tcase_add_test(tc, test_huge_base64);
    tcase_add_test(tc, test_item_bounds);
    tcase_add_test(tc, test_der_garbage);
    tcase_add_test(tc, test_key_after_cert);
    suite_add_tcase(s, tc);
    return s;
}
