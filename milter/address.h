/*
 * NAME
 *   address - normalising and matching mail addresses
 * DESCRIPTION
 *   The CPR address match is case-insensitive on the whole address and
 *   ignores a +detail in the local part: "CPR+Key@CA.Example" matches
 *   "cpr@ca.example". Angle brackets and surrounding blanks are dropped.
 */
#ifndef CPR_ADDRESS_H
#define CPR_ADDRESS_H

#include <stdbool.h>

/* Longest address accepted, brackets and blanks excluded: RFC 5321 local
 * part (64) + '@' + domain (255). */
#define ADDRESS_MAX 320

/* Returns a newly allocated (malloc) normalised copy, or NULL if addr is
 * empty, too long, has no '@', an empty local part or domain, or an
 * embedded CR, LF or blank. */
char *address_normalise(const char *addr);

/* True if addr normalises to one entry of list (NULL-terminated, each entry
 * already normalised). */
bool address_in_list(const char *addr, char *const *list);

#endif
