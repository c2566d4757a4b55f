/*
 * money: currencies and prices (docs/design.md, MRR and movements). Amounts arrive in
 * minor units of their currency; a known currency is the reporting one or
 * one with a configured rate (codes case-insensitive).
 */
#ifndef CS_MONEY_H
#define CS_MONEY_H

#include "config/config.h"

/* ISO 4217 minor-unit exponent of code (case-insensitive), -1 if unknown. */
int cs_currency_exponent(const char *code);

/* The last currency looked up: billing exports come grouped by currency. */
struct cs_money_memo {
	char code[4]; /* upper case, "" when none yet */
	double scale, rate;
};

/*
 * Minor units per major unit (10^exponent) and the rate to the reporting
 * currency of code; -1 when the currency is not known.
 */
int cs_money_lookup(const struct cs_config *cfg, const char *code, struct cs_money_memo *memo,
		    double *scale, double *rate);

/* A price per interval unit is worth num / den of it per month (month 1/1,
 * quarter 1/3, year 1/12, week 52/12, day 365/12); -1 for an unknown unit. */
int cs_money_monthly(const char *unit, double *num, double *den);

#endif
