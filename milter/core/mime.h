/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   mime - a bounded, decoded UTF-8 view of one raw message (GMime 3)
 * SUMMARY
 *   struct mime_limits lim; mime_limits_default(&lim);
 *   struct mime_doc *d = mime_parse(raw, len, &lim); ...; mime_doc_free(d);
 * DESCRIPTION
 *   Owns struct mime_doc: the decoded Subject, the text parts as UTF-8,
 *   the attachments (metadata, SHA-256, and their first bytes for the
 *   evidence scanner), the threading headers of attached originals (how
 *   a bounce finds its case), and the reasons why anything was cut short
 *   or kept raw. The raw message stays the caller's; nothing here is lost
 *   if the doc is partial.
 */
#ifndef CPR_MIME_H
#define CPR_MIME_H

#include <stdbool.h>
#include <stddef.h>

#define MIME_MAX_PARTS        100                /* MIME entities visited */
#define MIME_MAX_DEPTH        8                  /* multipart/message nesting */
#define MIME_MAX_DECODED      (8 * 1024 * 1024)  /* decoded bytes kept, all parts */
#define MIME_MAX_ATTACH_KEEP  (1024 * 1024)      /* bytes kept per attachment */
#define MIME_MAX_REASONS      32                 /* distinct reasons kept */
#define MIME_MAX_FILENAME     200                /* bytes of a sanitised filename */
#define MIME_MAX_EMBEDDED     16                 /* attached originals whose ids are kept */
#define MIME_MAX_ID_HEADER    4096               /* bytes kept of one id header */

/* Content type of the text part that holds what could not be parsed. */
#define MIME_RAW_TYPE         "application/octet-stream"

struct mime_limits {
    size_t max_parts;          /* MIME_MAX_PARTS */
    unsigned max_depth;        /* MIME_MAX_DEPTH */
    size_t max_decoded;        /* MIME_MAX_DECODED */
    size_t max_attach_keep;    /* MIME_MAX_ATTACH_KEEP */
};

/* A text part, always valid UTF-8 and NUL-terminated. */
struct mime_text {
    char *path;                /* "1", "2.1", ...; "0" for raw-kept text */
    char *content_type;        /* "text/plain", "text/html", "message/rfc822", MIME_RAW_TYPE */
    char *charset;             /* as declared, lower case; "utf-8" if none */
    char *text;
    size_t len;
    bool truncated;            /* cut by max_decoded */
};

struct mime_attachment {
    char *path;
    char *filename;            /* sanitised, "" if none */
    char *content_type;
    size_t size;               /* full decoded size */
    char sha256[65];           /* of the full decoded bytes, lower-case hex */
    unsigned char *data;       /* first data_len decoded bytes */
    size_t data_len;
};

/* The threading headers of an attached original (message/rfc822, or
 * the text/rfc822-headers of a DSN): unfolded, valid UTF-8, controls are
 * spaces, cut at MIME_MAX_ID_HEADER; "" when absent. */
struct mime_embedded {
    char *path;
    bool in_report;            /* below a multipart/report */
    char *message_id;
    char *in_reply_to;
    char *references;
};

struct mime_doc {
    char *subject;             /* decoded UTF-8, controls are spaces; "" if none */
    char *content_type;        /* top-level, lower case; "" if not parsed */
    struct mime_text *texts;
    size_t ntexts;
    struct mime_attachment *atts;
    size_t natts;
    char **reasons;
    size_t nreasons;
    size_t nparts;             /* entities visited */
    size_t decoded_bytes;      /* bytes kept in texts and attachment data */
    struct mime_embedded *embedded;    /* at most MIME_MAX_EMBEDDED */
    size_t nembedded;
};

void mime_limits_default(struct mime_limits *lim);
/* Never returns NULL except on allocation failure; lim may be NULL. */
struct mime_doc *mime_parse(const char *raw, size_t len, const struct mime_limits *lim);
void mime_doc_free(struct mime_doc *d);
/* True if some reason starts with prefix. */
bool mime_has_reason(const struct mime_doc *d, const char *prefix);

/* RFC 2047-decode a raw header value to valid UTF-8, every control
 * character a space; works around GMime losing the rest of a header
 * after a padded B encoded-word. Caller frees; NULL only without memory. */
char *mime_header_decode(const char *raw);

/* Reduce HTML to text: tags dropped, script/style contents dropped,
 * common entities decoded. Input and output UTF-8. Caller frees. */
char *mime_html_to_text(const char *html, size_t len, size_t *outlen);

#endif
