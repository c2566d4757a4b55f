/*
 * ds_accounts: the CRM accounts (ds_accounts.c) and the billing customers
 * the join (join.c) finds for them. Accounts are read first and complete
 * before any other dataset folds: every fact row is attributed to an
 * account (by account key) or a billing customer (by billing key) as it
 * arrives, and through it to a segment.
 */
#ifndef CS_DS_ACCOUNTS_H
#define CS_DS_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/cstime.h"

struct cs_account {
	const char *key;
	const char *name;	/* display name, NULL when absent or not health's */
	int64_t seats;		/* NULL or 0: no seats (0) */
	cs_time started_at;	/* CS_TIME_NONE when NULL */
	cs_time first_value_at; /* CS_TIME_NONE: not reached */
	cs_time renewal_at;	/* CS_TIME_NONE: no date (NULL or no column) */
	bool ttv_rejected;	/* first_value_at < started_at: excluded from time to value */
	uint32_t seg;		/* segment index */
	int32_t customer;	/* index into customers, -1 when it names none or lost it */
};

/* A billing customer: everything billing is keyed by. Made by the join as
 * billing rows name them; one no account names is in "unknown" (its seg is
 * CS_SEG_UNKNOWN until the link). */
struct cs_customer {
	const char *billing_key;
	int32_t account; /* CS_NO_ACCOUNT when no CRM account names it */
	uint32_t seg;
};

#endif
