/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   curl/curl.h (poisoned) - stops a pure module from using this library
 * DESCRIPTION
 *   milter/core/ is compiled with milter/poison/ first on its include
 *   path. A core module that includes <curl/curl.h> fails here: database, network
 *   and MTA code belongs in milter/io/ or a program's room (README,
 *   "Source layout").
 */
#error "a pure module (milter/core/) may not include <curl/curl.h>: move the code to milter/io/ or a program's room"
