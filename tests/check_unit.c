/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_unit - run every unit test suite
 * SUMMARY
 *   top_srcdir=. tests/check_unit
 * DESCRIPTION
 *   Runs the config, address, tracking, classify, breaker, wake, deadline, pager,
 *   health, autoreply, mime, category, evidence, log and other suites with one SRunner. Tests that read files from the source tree find it through
 *   $top_srcdir, which `make check` exports.
 * DIAGNOSTICS
 *   Exit status 0 when every test passed, 1 otherwise.
 */
#include <stdlib.h>

#include "check_unit.h"

int
main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_add_suite(sr, address_suite());
    srunner_add_suite(sr, tracking_suite());
    srunner_add_suite(sr, probemark_suite());
    srunner_add_suite(sr, imap_suite());
    srunner_add_suite(sr, classify_suite());
    srunner_add_suite(sr, breaker_suite());
    srunner_add_suite(sr, wake_suite());
    srunner_add_suite(sr, deadline_suite());
    srunner_add_suite(sr, pager_suite());
    srunner_add_suite(sr, pagetext_suite());
    srunner_add_suite(sr, health_suite());
    srunner_add_suite(sr, autoreply_suite());
    srunner_add_suite(sr, mime_suite());
    srunner_add_suite(sr, category_suite());
    srunner_add_suite(sr, evidence_suite());
    srunner_add_suite(sr, corpus_suite());
    srunner_add_suite(sr, export_suite());
    srunner_add_suite(sr, compose_suite());
    srunner_add_suite(sr, metrics_suite());
    srunner_add_suite(sr, log_suite());
    srunner_add_suite(sr, privdrop_suite());
    srunner_add_suite(sr, revstatus_suite());
    srunner_add_suite(sr, revpublish_suite());
    srunner_add_suite(sr, invmatch_suite());
    srunner_add_suite(sr, acktoken_suite());
    srunner_add_suite(sr, pollstate_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
