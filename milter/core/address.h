/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   address - normalising and matching mail addresses
 * DESCRIPTION
 *   One RFC 5321 reading of an address, the one rule for "is this a CPR
 *   address": "<@relay:\"C\\pr\"+Key@CA.Example.>" matches
 *   "cpr@ca.example". See address.c for the grammar it accepts.
 */
#ifndef CPR_ADDRESS_H
#define CPR_ADDRESS_H

#include <stdbool.h>

/* Longest address accepted, brackets and blanks excluded: RFC 5321 local
 * part (64) + '@' + domain (255). */
#define ADDRESS_MAX 320

/* The recipient delimiter used where none is configured. */
#define ADDRESS_DEFAULT_DELIMITERS "+"

enum address_verdict {
    ADDRESS_NO,       /* certainly not in the list */
    ADDRESS_MATCH,    /* resolves to an entry of the list */
    ADDRESS_UNSURE    /* cannot be read, but may reach a listed address */
};

/* A newly allocated (malloc) canonical copy, its detail after the first
 * of ADDRESS_DEFAULT_DELIMITERS removed, or NULL if addr is empty, too
 * long, malformed, has no '@', or an empty local part or domain. The
 * canonical form: source route dropped, quoting removed where the local
 * part is a dot-atom (else quoted with minimal escapes), comments dropped,
 * ASCII lowercased, the domain's trailing dot dropped. */
char *address_normalise(const char *addr);

/* Whether addr, as an MTA would resolve it, reaches an entry of list
 * (NULL-terminated, each entry already normalised). Tries the address with
 * and without its detail (delims as above), and Postfix's percent hack
 * ("cpr%ca.example@relay") and bang path ("ca.example!cpr@relay"). An
 * address that cannot be read but names a listed domain, or a listed local
 * part with no domain, is ADDRESS_UNSURE: the caller errs towards
 * recording. *why, if not NULL, is set to a static reason for UNSURE. */
enum address_verdict address_match(const char *addr, char *const *list,
                                   const char *delims, const char **why);

/* True if address_match() with the default delimiters says MATCH. */
bool address_in_list(const char *addr, char *const *list);

#endif
