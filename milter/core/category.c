/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   category - the category and priority of a report, with reasons
 * DESCRIPTION
 *   Owns the keyword tables and the decision. Text is folded before
 *   matching: ASCII to lower case, Latin-1 letters to their base letter
 *   (é, è, ü, ñ to e, e, u, n; ß to ss), runs of blanks to one space; other
 *   bytes, CJK included, are compared as they are. UTF-8 is
 *   self-synchronising, so a byte substring match of a valid UTF-8 keyword
 *   starts on a character boundary. The body is folded in windows on the
 *   stack that overlap by one keyword, so no allocation is made and
 *   at most CATEGORY_BODY_SCAN_MAX bytes are read.
 *   A keyword counts once per place (subject, body), however often it
 *   occurs, and not at all when a longer hit of the same category contains
 *   it ("私钥" inside "私钥泄露"), so one phrase is not counted twice.
 * DIAGNOSTICS
 *   None; see category.h.
 */
#include "category.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CATEGORY_SUBJECT_FACTOR 2   /* a subject hit weighs this many body hits */
#define CATEGORY_WINDOW         4096
#define CATEGORY_KEYWORD_REASONS \
    (CATEGORY_MAX_REASONS - CATEGORY_MAX_SPAM - 3)

struct keyword {
    enum category_id id;
    const char *lang;
    const char *word;
    int weight;
};

#define KC CATEGORY_KEY_COMPROMISE
#define RV CATEGORY_REVOCATION_REQUEST
#define MI CATEGORY_MISISSUANCE
#define AB CATEGORY_ABUSE

static const struct keyword keywords[] = {
    /* English */
    { KC, "en", "private key", 3 },
    { KC, "en", "key compromise", 3 },
    { KC, "en", "compromised key", 3 },
    { KC, "en", "compromised private key", 3 },
    { KC, "en", "leaked key", 3 },
    { KC, "en", "key leak", 3 },
    { KC, "en", "key was leaked", 3 },
    { KC, "en", "exposed key", 3 },
    { KC, "en", "proof of compromise", 3 },
    { KC, "en", "pwnedkeys", 2 },
    { RV, "en", "revocation request", 3 },
    { RV, "en", "request revocation", 3 },
    { RV, "en", "revocation", 2 },
    { RV, "en", "revoke", 2 },
    { MI, "en", "misissued", 3 },
    { MI, "en", "mis-issued", 3 },
    { MI, "en", "misissuance", 3 },
    { MI, "en", "mis-issuance", 3 },
    { MI, "en", "issued incorrectly", 3 },
    { MI, "en", "incorrectly issued", 3 },
    { MI, "en", "improperly issued", 3 },
    { MI, "en", "baseline requirements", 2 },
    { AB, "en", "phishing", 3 },
    { AB, "en", "malware", 3 },
    { AB, "en", "fraud", 3 },
    { AB, "en", "scam", 2 },
    { AB, "en", "impersonat", 2 },
    { AB, "en", "typosquat", 2 },
    { AB, "en", "botnet", 2 },
    /* Chinese, simplified */
    { KC, "zh", "私钥泄露", 3 },
    { KC, "zh", "私钥泄漏", 3 },
    { KC, "zh", "密钥泄露", 3 },
    { KC, "zh", "密钥泄漏", 3 },
    { KC, "zh", "密钥被盗", 3 },
    { KC, "zh", "私钥", 2 },
    { RV, "zh", "吊销", 2 },
    { RV, "zh", "撤销", 2 },
    { MI, "zh", "错误签发", 3 },
    { MI, "zh", "错误颁发", 3 },
    { MI, "zh", "违规签发", 3 },
    { MI, "zh", "误签发", 3 },
    { AB, "zh", "钓鱼", 3 },
    { AB, "zh", "恶意软件", 3 },
    { AB, "zh", "诈骗", 3 },
    { AB, "zh", "欺诈", 3 },
    /* Chinese, traditional */
    { KC, "zh-Hant", "私鑰外洩", 3 },
    { KC, "zh-Hant", "金鑰外洩", 3 },
    { KC, "zh-Hant", "金鑰洩漏", 3 },
    { KC, "zh-Hant", "私密金鑰", 2 },
    { KC, "zh-Hant", "私鑰", 2 },
    { RV, "zh-Hant", "撤銷", 2 },
    { RV, "zh-Hant", "吊銷", 2 },
    { RV, "zh-Hant", "廢止", 2 },
    { MI, "zh-Hant", "錯誤簽發", 3 },
    { MI, "zh-Hant", "錯誤核發", 3 },
    { MI, "zh-Hant", "違規簽發", 3 },
    { AB, "zh-Hant", "釣魚", 3 },
    { AB, "zh-Hant", "惡意軟體", 3 },
    { AB, "zh-Hant", "詐騙", 3 },
    { AB, "zh-Hant", "詐欺", 3 },
    /* French */
    { KC, "fr", "clé privée", 3 },
    { KC, "fr", "clé compromise", 3 },
    { KC, "fr", "fuite de la clé", 3 },
    { KC, "fr", "compromission", 2 },
    { RV, "fr", "demande de révocation", 3 },
    { RV, "fr", "révocation", 2 },
    { RV, "fr", "révoquer", 2 },
    { MI, "fr", "émis par erreur", 3 },
    { MI, "fr", "émis à tort", 3 },
    { MI, "fr", "délivré par erreur", 3 },
    { MI, "fr", "émission erronée", 3 },
    { AB, "fr", "hameçonnage", 3 },
    { AB, "fr", "logiciel malveillant", 3 },
    { AB, "fr", "fraude", 3 },
    /* German */
    { KC, "de", "privater Schlüssel", 3 },
    { KC, "de", "privaten Schlüssel", 3 },
    { KC, "de", "private Schlüssel", 3 },
    { KC, "de", "Schlüsselkompromittierung", 3 },
    { KC, "de", "kompromittiert", 2 },
    { RV, "de", "Widerruf", 2 },
    { RV, "de", "Sperrung", 2 },
    { MI, "de", "fehlerhaft ausgestellt", 3 },
    { MI, "de", "falsch ausgestellt", 3 },
    { MI, "de", "unrechtmäßig ausgestellt", 3 },
    { AB, "de", "Phishing", 3 },
    { AB, "de", "Schadsoftware", 3 },
    { AB, "de", "Betrug", 3 },
    /* Spanish */
    { KC, "es", "clave privada", 3 },
    { KC, "es", "clave comprometida", 3 },
    { KC, "es", "clave filtrada", 3 },
    { KC, "es", "comprometida", 2 },
    { RV, "es", "solicitud de revocación", 3 },
    { RV, "es", "revocación", 2 },
    { RV, "es", "revocar", 2 },
    { MI, "es", "emitido incorrectamente", 3 },
    { MI, "es", "emitido por error", 3 },
    { MI, "es", "emitido indebidamente", 3 },
    { MI, "es", "emisión indebida", 3 },
    { AB, "es", "suplantación", 3 },
    { AB, "es", "software malicioso", 3 },
    { AB, "es", "estafa", 3 },
    { AB, "es", "fraude", 3 },
    /* Japanese */
    { KC, "ja", "秘密鍵の漏洩", 3 },
    { KC, "ja", "鍵の漏洩", 3 },
    { KC, "ja", "鍵の危殆化", 3 },
    { KC, "ja", "危殆化", 2 },
    { KC, "ja", "秘密鍵", 2 },
    { RV, "ja", "失効", 2 },
    { MI, "ja", "誤発行", 3 },
    { MI, "ja", "不正発行", 3 },
    { MI, "ja", "誤って発行", 3 },
    { AB, "ja", "フィッシング", 3 },
    { AB, "ja", "マルウェア", 3 },
    { AB, "ja", "詐欺", 3 },
};

#undef KC
#undef RV
#undef MI
#undef AB

#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

enum place { PLACE_SUBJECT, PLACE_BODY, PLACE_COUNT };

static const char *const place_names[PLACE_COUNT] = { "subject", "body" };

/* Per call: the folded keywords and where each was found. */
struct scan {
    char folded[NKEYWORDS][CATEGORY_KEYWORD_MAX];
    size_t len[NKEYWORDS];
    bool hit[NKEYWORDS][PLACE_COUNT];
};

/* ---- folding ---- */

/* U+00C0..U+00FF (second byte 0x80..0xBF after 0xC3) to a base letter;
 * '*' keeps the character. ß (index 31) is handled apart. */
static const char latin1_base[64] =
    "aaaaaa*ceeeeiiiidnooooo*ouuuuy**"
    "aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";

struct fold_state {
    bool last_space;
};

/* Fold the character at *p (before end) into out (room for 2 bytes);
 * return the bytes written, advance *p. */
static size_t
fold_char(struct fold_state *st, const unsigned char **p,
          const unsigned char *end, char *out)
{
    unsigned char c = **p;
    size_t n = 0;

    /* ASCII only: the locale must not change what matches. */
    if ((c < 0x80 && isspace(c))
        || (c == 0xC2 && *p + 1 < end && (*p)[1] == 0xA0)) {
        *p += c == 0xC2 ? 2 : 1;
        if (!st->last_space)
            out[n++] = ' ';
        st->last_space = true;
        return n;
    }
    st->last_space = false;
    if (c == 0xC3 && *p + 1 < end && ((*p)[1] & 0xC0) == 0x80) {
        unsigned char i = (*p)[1] & 0x3F;
        if (i == 31) {
            out[n++] = 's';
            out[n++] = 's';
        } else if (latin1_base[i] != '*') {
            out[n++] = latin1_base[i];
        } else {
            out[n++] = (char)c;
            out[n++] = (char)(*p)[1];
        }
        *p += 2;
        return n;
    }
    out[n++] = (char)(c < 0x80 ? tolower(c) : c);
    *p += 1;
    return n;
}

/* Fold from *p up to end into out[*outlen..outsize), leaving room for a
 * NUL; advance *p past what was folded. */
static void
fold_into(struct fold_state *st, const unsigned char **p,
          const unsigned char *end, char *out, size_t *outlen, size_t outsize)
{
    while (*p < end && *outlen + 3 <= outsize)
        *outlen += fold_char(st, p, end, out + *outlen);
    out[*outlen] = '\0';
}

size_t
category_fold(const char *s, size_t len, char *out, size_t outsize)
{
    struct fold_state st = { false };
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    if (outsize == 0)
        return 0;
    fold_into(&st, &p, p + len, out, &n, outsize);
    return n;
}

/* ---- matching ---- */

static bool
bytes_contain(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    const char *p = hay, *end = hay + hlen;

    if (nlen == 0 || nlen > hlen)
        return false;
    while ((p = memchr(p, needle[0], (size_t)(end - p) - nlen + 1)) != NULL) {
        if (memcmp(p, needle, nlen) == 0)
            return true;
        p++;
        if ((size_t)(end - p) < nlen)
            break;
    }
    return false;
}

static void
scan_prepare(struct scan *sc)
{
    memset(sc->hit, 0, sizeof(sc->hit));
    for (size_t i = 0; i < NKEYWORDS; i++)
        sc->len[i] = category_fold(keywords[i].word, strlen(keywords[i].word),
                                   sc->folded[i], CATEGORY_KEYWORD_MAX);
}

static void
scan_window(struct scan *sc, const char *win, size_t len, enum place where)
{
    for (size_t i = 0; i < NKEYWORDS; i++)
        if (!sc->hit[i][where]
            && bytes_contain(win, len, sc->folded[i], sc->len[i]))
            sc->hit[i][where] = true;
}

/* Fold text in windows that overlap by the longest keyword, so a keyword
 * across a window edge is still found. */
static void
scan_text(struct scan *sc, const char *text, size_t len, enum place where)
{
    char win[CATEGORY_WINDOW];
    struct fold_state st = { false };
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    size_t n = 0, keep;

    while (p < end) {
        fold_into(&st, &p, end, win, &n, sizeof(win));
        scan_window(sc, win, n, where);
        keep = n < CATEGORY_KEYWORD_MAX - 1 ? n : CATEGORY_KEYWORD_MAX - 1;
        memmove(win, win + n - keep, keep);
        n = keep;
    }
}

/* A hit that a longer (or earlier, equal) hit of the same category at the
 * same place contains does not count on its own. */
static bool
scan_subsumed(const struct scan *sc, size_t i, enum place where)
{
    for (size_t j = 0; j < NKEYWORDS; j++) {
        if (j == i || !sc->hit[j][where] || keywords[j].id != keywords[i].id)
            continue;
        if (sc->len[j] < sc->len[i] || (sc->len[j] == sc->len[i] && j > i))
            continue;
        if (bytes_contain(sc->folded[j], sc->len[j], sc->folded[i], sc->len[i]))
            return true;
    }
    return false;
}

static void
scan_drop_subsumed(struct scan *sc)
{
    bool drop[NKEYWORDS][PLACE_COUNT];

    for (size_t i = 0; i < NKEYWORDS; i++)
        for (int w = 0; w < PLACE_COUNT; w++)
            drop[i][w] = sc->hit[i][w] && scan_subsumed(sc, i, (enum place)w);
    for (size_t i = 0; i < NKEYWORDS; i++)
        for (int w = 0; w < PLACE_COUNT; w++)
            if (drop[i][w])
                sc->hit[i][w] = false;
}

/* ---- the decision ---- */

static void result_reason(struct category_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
result_reason(struct category_result *out, const char *fmt, ...)
{
    va_list ap;

    if (out->nreasons >= CATEGORY_MAX_REASONS) {
        out->reasons_truncated = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(out->reasons[out->nreasons++], CATEGORY_REASON_LEN, fmt, ap);
    va_end(ap);
}

static void
result_set(struct category_result *out, enum category_id id)
{
    out->id = id;
    out->category = category_name(id);
}

static bool
decide_by_evidence(const struct category_input *in, struct category_result *out)
{
    size_t before = out->nreasons;

    if (in->has_private_key)
        result_reason(out, "private key block present");
    if (in->has_proof_csr)
        result_reason(out, "proof-of-compromise CSR present");
    if (in->has_pock_cert)
        result_reason(out, "PoCK certificate present");
    if (in->has_pwnedkeys_attestation)
        result_reason(out, "pwnedkeys attestation present");
    if (out->nreasons == before)
        return false;
    result_set(out, CATEGORY_KEY_COMPROMISE);
    result_reason(out, "evidence outranks keywords");
    return true;
}

static void
decide_scores(const struct scan *sc, int scores[CATEGORY_COUNT])
{
    for (size_t i = 0; i < NKEYWORDS; i++) {
        if (sc->hit[i][PLACE_SUBJECT])
            scores[keywords[i].id] += keywords[i].weight * CATEGORY_SUBJECT_FACTOR;
        if (sc->hit[i][PLACE_BODY])
            scores[keywords[i].id] += keywords[i].weight;
    }
}

/* The highest score wins; the enum order breaks ties. */
static enum category_id
decide_winner(const int scores[CATEGORY_COUNT])
{
    enum category_id best = CATEGORY_OTHER;

    for (int c = CATEGORY_COUNT - 1; c >= 0; c--)
        if (c != CATEGORY_OTHER && scores[c] > 0 && scores[c] >= scores[best])
            best = (enum category_id)c;
    return best;
}

static void
reason_keywords(const struct scan *sc, enum category_id id,
                struct category_result *out)
{
    size_t n = 0;

    for (int w = 0; w < PLACE_COUNT; w++)
        for (size_t i = 0; i < NKEYWORDS; i++) {
            if (keywords[i].id != id || !sc->hit[i][w])
                continue;
            if (n++ >= CATEGORY_KEYWORD_REASONS) {
                out->reasons_truncated = true;
                return;
            }
            result_reason(out, "keyword \"%s\" (%s) in %s", keywords[i].word,
                          keywords[i].lang, place_names[w]);
        }
}

static void
reason_ties(const int scores[CATEGORY_COUNT], enum category_id winner,
            struct category_result *out)
{
    for (int c = winner + 1; c < CATEGORY_OTHER; c++)
        if (scores[c] == scores[winner])
            result_reason(out, "tie with %s broken by category order",
                          category_name((enum category_id)c));
}

static void
decide_by_keywords(const struct category_input *in, struct category_result *out)
{
    struct scan sc;
    size_t blen = in->body ? in->body_len : 0;

    scan_prepare(&sc);
    if (in->subject)
        scan_text(&sc, in->subject,
                  strnlen(in->subject, CATEGORY_SUBJECT_SCAN_MAX), PLACE_SUBJECT);
    if (blen > CATEGORY_BODY_SCAN_MAX)
        blen = CATEGORY_BODY_SCAN_MAX;
    if (in->body)
        scan_text(&sc, in->body, blen, PLACE_BODY);
    scan_drop_subsumed(&sc);
    decide_scores(&sc, out->scores);
    result_set(out, decide_winner(out->scores));
    if (out->id == CATEGORY_OTHER)
        result_reason(out, "no category keyword");
    reason_keywords(&sc, out->id, out);
    if (out->id != CATEGORY_OTHER)
        reason_ties(out->scores, out->id, out);
    if (in->body && in->body_len > CATEGORY_BODY_SCAN_MAX)
        result_reason(out, "body searched up to its first %d bytes",
                      CATEGORY_BODY_SCAN_MAX);
}

/* ---- spam signals ---- */

/* True if value, after blanks, starts with word (any case) followed by
 * the end, a blank, ',' or ';'. */
static bool
header_starts_with(const char *value, const char *word)
{
    size_t n = strlen(word);

    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, word, n) != 0)
        return false;
    value += n;
    return *value == '\0' || *value == ',' || *value == ';'
           || isspace((unsigned char)*value);
}

/* At p (after "dmarc"): optional blanks, '=', optional blanks, "fail" and
 * not a longer word. */
static bool
dmarc_result_fail(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p++ != '=')
        return false;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 4 || strncasecmp(p, "fail", 4) != 0)
        return false;
    p += 4;
    return p == end || !isalnum((unsigned char)*p);
}

static bool
auth_results_dmarc_fail(const char *value)
{
    size_t len = strnlen(value, CATEGORY_HEADER_SCAN_MAX);
    const char *end = value + len;

    for (const char *p = value; (size_t)(end - p) >= 5; p++) {
        if (strncasecmp(p, "dmarc", 5) != 0)
            continue;
        if (p > value && (isalnum((unsigned char)p[-1]) || p[-1] == '.'))
            continue;
        if (dmarc_result_fail(p + 5, end))
            return true;
    }
    return false;
}

static void
spam_signal(struct category_result *out, const char *signal)
{
    if (out->nspam < CATEGORY_MAX_SPAM)
        out->spam[out->nspam++] = signal;
    out->priority = CATEGORY_PRIORITY_LOW;
    result_reason(out, "%s", signal);
}

/* Spam signals lower the priority; they never touch the category. */
static void
decide_spam(const struct category_input *in, struct category_result *out)
{
    if (in->x_spam_flag && header_starts_with(in->x_spam_flag, "yes"))
        spam_signal(out, "X-Spam-Flag: YES");
    if (in->x_spam_status && header_starts_with(in->x_spam_status, "yes"))
        spam_signal(out, "X-Spam-Status: Yes");
    if (in->authentication_results
        && auth_results_dmarc_fail(in->authentication_results))
        spam_signal(out, "DMARC fail");
}

/* ---- interface ---- */

void
category_decide(const struct category_input *in, struct category_result *out)
{
    memset(out, 0, sizeof(*out));
    result_set(out, CATEGORY_OTHER);
    out->priority = CATEGORY_PRIORITY_NORMAL;
    if (!decide_by_evidence(in, out))
        decide_by_keywords(in, out);
    if (in->has_certificate || in->n_certificates > 0)
        result_reason(out, "%zu certificate(s) attached",
                      in->n_certificates > 0 ? in->n_certificates : (size_t)1);
    decide_spam(in, out);
}

const char *
category_name(enum category_id id)
{
    static const char *const names[CATEGORY_COUNT] = {
        [CATEGORY_KEY_COMPROMISE] = "key-compromise",
        [CATEGORY_REVOCATION_REQUEST] = "revocation-request",
        [CATEGORY_MISISSUANCE] = "misissuance",
        [CATEGORY_ABUSE] = "abuse",
        [CATEGORY_OTHER] = "other",
    };

    return (unsigned)id < CATEGORY_COUNT ? names[id] : "other";
}

bool
category_parse(const char *name, enum category_id *id)
{
    for (int c = 0; c < CATEGORY_COUNT; c++)
        if (strcmp(name, category_name((enum category_id)c)) == 0) {
            *id = (enum category_id)c;
            return true;
        }
    return false;
}

const char *
category_priority_name(enum category_priority priority)
{
    return priority == CATEGORY_PRIORITY_LOW ? "low" : "normal";
}

size_t
category_keyword_count(void)
{
    return NKEYWORDS;
}

bool
category_keyword_get(size_t i, enum category_id *id, const char **lang,
                     const char **word, int *weight)
{
    if (i >= NKEYWORDS)
        return false;
    *id = keywords[i].id;
    *lang = keywords[i].lang;
    *word = keywords[i].word;
    *weight = keywords[i].weight;
    return true;
}
