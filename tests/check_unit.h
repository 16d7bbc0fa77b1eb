/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_unit - the Check suites of the unit test program
 * DESCRIPTION
 *   One suite per module; tests/check_unit.c runs them all. Suites test
 *   pure functions with their inputs (times included) passed in.
 */
#ifndef CPR_CHECK_UNIT_H
#define CPR_CHECK_UNIT_H

#include <check.h>

Suite *config_suite(void);
Suite *revstatus_suite(void);
Suite *revpublish_suite(void);
Suite *invmatch_suite(void);
Suite *address_suite(void);
Suite *tracking_suite(void);
Suite *classify_suite(void);
Suite *breaker_suite(void);
Suite *wake_suite(void);
Suite *deadline_suite(void);
Suite *pager_suite(void);
Suite *pagetext_suite(void);
Suite *health_suite(void);
Suite *autoreply_suite(void);
Suite *mime_suite(void);
Suite *category_suite(void);
Suite *evidence_suite(void);
Suite *corpus_suite(void);
Suite *export_suite(void);
Suite *compose_suite(void);
Suite *probemark_suite(void);
Suite *imap_suite(void);
Suite *metrics_suite(void);
Suite *log_suite(void);
Suite *privdrop_suite(void);
Suite *acktoken_suite(void);
Suite *pollstate_suite(void);

#endif
