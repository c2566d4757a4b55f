#include <criterion/criterion.h>

#include <string.h>

#include "exporter/serve/negotiate.h"

#define OM   EXPO_OPENMETRICS
#define TEXT EXPO_TEXT

Test(negotiate_accept, prometheus_scrape_header_gets_openmetrics)
{
	const char *h = "application/openmetrics-text;version=1.0.0,application/"
			"openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
			"*;q=0.1";
	cr_assert_eq(negotiate_format(h), OM);
}

Test(negotiate_accept, prometheus3_header_gets_openmetrics)
{
	const char *h = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
			"application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
			"escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
	cr_assert_eq(negotiate_format(h), OM);
}

Test(negotiate_accept, old_prometheus_text_only)
{
	cr_assert_eq(negotiate_format("text/plain;version=0.0.4;q=1,*/*;q=0.1"), TEXT);
}

Test(negotiate_accept, missing_empty_garbage_is_text)
{
	cr_assert_eq(negotiate_format(NULL), TEXT);
	cr_assert_eq(negotiate_format(""), TEXT);
	cr_assert_eq(negotiate_format("   ,, ,"), TEXT);
	cr_assert_eq(negotiate_format("\x01\xff;;==//"), TEXT);
	cr_assert_eq(negotiate_format("application/openmetrics-text;q=banana"), TEXT);
	cr_assert_eq(negotiate_format("application/openmetrics-text;version=\"1.0.0"), TEXT);
}

Test(negotiate_accept, q_values_decide)
{
	cr_assert_eq(negotiate_format("text/plain;q=0.9, application/openmetrics-text;q=0.8"),
		     TEXT);
	cr_assert_eq(negotiate_format("text/plain;q=0.8, application/openmetrics-text;q=0.9"), OM);
	cr_assert_eq(negotiate_format("text/plain; q=0.001, application/openmetrics-text; q=0.002"),
		     OM);
}

Test(negotiate_accept, q_zero_is_not_acceptable)
{
	cr_assert_eq(negotiate_format("application/openmetrics-text;q=0"), TEXT);
	cr_assert_eq(negotiate_format("application/openmetrics-text;q=0, */*"), TEXT);
	cr_assert_eq(negotiate_format("text/plain;q=0, application/openmetrics-text;q=0.1"), OM);
	cr_assert_eq(negotiate_format("text/plain;q=0.0, */*;q=0.3"), OM);
}

Test(negotiate_accept, invalid_q_skips_only_that_element)
{
	cr_assert_eq(negotiate_format("application/openmetrics-text;q=1.5, text/plain"), TEXT);
	cr_assert_eq(negotiate_format("text/plain;q=-1, application/openmetrics-text;q=0.2"), OM);
	cr_assert_eq(negotiate_format("text/plain;q=0.1234, application/openmetrics-text"), OM);
}

Test(negotiate_accept, wildcards)
{
	cr_assert_eq(negotiate_format("*/*"), TEXT);
	cr_assert_eq(negotiate_format("application/*"), OM);
	cr_assert_eq(negotiate_format("text/*"), TEXT);
	cr_assert_eq(negotiate_format("application/*;q=0.5, text/*;q=0.4"), OM);
	cr_assert_eq(negotiate_format("*/plain"), TEXT);
	/* a wildcard tie does not count as naming OpenMetrics */
	cr_assert_eq(negotiate_format("application/*, text/*"), TEXT);
}

Test(negotiate_accept, most_specific_range_wins)
{
	/* the explicit q=0 overrides the wildcard that would allow it */
	cr_assert_eq(negotiate_format("application/*;q=1, application/openmetrics-text;q=0"), TEXT);
	/* text refused, anything else welcome: OpenMetrics is the only choice */
	cr_assert_eq(negotiate_format("*/*;q=0.1, text/plain;q=0"), OM);
	cr_assert_eq(negotiate_format("*/*;q=0.1, text/*;q=0, application/json"), OM);
}

Test(negotiate_accept, tie_prefers_named_openmetrics)
{
	cr_assert_eq(negotiate_format("text/plain, application/openmetrics-text"), OM);
	cr_assert_eq(negotiate_format("application/openmetrics-text;q=0.5, text/plain;q=0.5"), OM);
	cr_assert_eq(negotiate_format("text/plain;q=0.5, */*;q=0.5"), TEXT);
}

Test(negotiate_accept, versions)
{
	cr_assert_eq(negotiate_format("application/openmetrics-text; version=0.0.1"), OM);
	cr_assert_eq(negotiate_format("application/openmetrics-text; version=\"1.0.0\""), OM);
	cr_assert_eq(negotiate_format("application/openmetrics-text;version=2.0.0"), TEXT);
	cr_assert_eq(negotiate_format("application/openmetrics-text;version=2.0.0, */*;q=0.1"),
		     TEXT);
	cr_assert_eq(
	    negotiate_format("text/plain;version=9.9.9, application/openmetrics-text;q=0.1"), OM);
}

Test(negotiate_accept, case_and_whitespace)
{
	cr_assert_eq(negotiate_format("  Application/OpenMetrics-Text ; Version=1.0.0 ; Q=0.9 , "
				      "TEXT/PLAIN ; q=0.5"),
		     OM);
	cr_assert_eq(negotiate_format("application/openmetrics-text;charset=utf-8"), OM);
}

Test(negotiate_accept, unrelated_types_only)
{
	cr_assert_eq(negotiate_format("application/json, text/html;q=0.9"), TEXT);
	cr_assert_eq(
	    negotiate_format("application/vnd.google.protobuf;proto=io.prometheus.client."
			     "MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0."
			     "4;q=0.3"),
	    TEXT);
}

Test(negotiate_accept, content_types)
{
	cr_assert_str_eq(negotiate_content_type(TEXT), "text/plain; version=0.0.4; charset=utf-8");
	cr_assert_str_eq(negotiate_content_type(OM),
			 "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

Test(negotiate_encoding, gzip_cases)
{
	cr_assert(negotiate_gzip("gzip"));
	cr_assert(negotiate_gzip("deflate, gzip;q=1.0, *;q=0.5"));
	cr_assert(negotiate_gzip("x-gzip"));
	cr_assert(negotiate_gzip("GZIP"));
	cr_assert(negotiate_gzip("br, *"));
	cr_assert(negotiate_gzip("gzip;q=0.001"));
}

Test(negotiate_encoding, gzip_refused)
{
	cr_assert_not(negotiate_gzip(NULL));
	cr_assert_not(negotiate_gzip(""));
	cr_assert_not(negotiate_gzip("identity"));
	cr_assert_not(negotiate_gzip("gzip;q=0"));
	cr_assert_not(negotiate_gzip("gzip;q=0, *"));
	cr_assert_not(negotiate_gzip("*;q=0"));
	cr_assert_not(negotiate_gzip("deflate, br"));
	cr_assert_not(negotiate_gzip("gzipx"));
	cr_assert_not(negotiate_gzip("gzip;q=2"));
}
