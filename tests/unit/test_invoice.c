/*
 * test_invoice.c - the writers: exact bytes for CSV, FOCUS, JSON and text,
 * CSV formula neutralisation, JSON escaping, write failures.
 */
#include <check.h>
#include <gpubill/gpubill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char table[] =
	"{\"format\":\"gpubill-pricing/1\",\"name\":\"t\",\"currency\":\"JPY\","
	"\"minor_units\":0,\"rounding\":\"up\",\"versions\":[{\"effective_from\":"
	"\"2026-01-01T00:00:00Z\",\"gpu\":{\"rates\":[{\"sku\":\"H100\","
	"\"region\":\"*\",\"on_demand\":\"450.5\"}]}}]}";

static gb_prices *prices;
static gb_invoice_set *set;

typedef struct sink {
	char *data;
	size_t len;
	int fail_after;  /* fail the n-th write (1-based); 0 = never */
	int writes;
} sink;

static int sink_write(const void *d, size_t n, void *payload)
{
	sink *s = payload;
	char *p;

	if (s->fail_after && ++s->writes >= s->fail_after)
		return -1;
	p = realloc(s->data, s->len + n + 1);
	if (!p)
		return -1;
	memcpy(p + s->len, d, n);
	s->data = p;
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

static void add(gb_rater *r, const char *id, const char *cust, const char *end)
{
	gb_row row;
	gb_outcome oc;
	const char *v[GB_COL__COUNT] = { 0 };
	int c;

	v[GB_COL_ID] = id;
	v[GB_COL_CUSTOMER] = cust;
	v[GB_COL_TYPE] = "gpu";
	v[GB_COL_START] = "2026-10-01T00:00:00Z";
	v[GB_COL_END] = end;
	v[GB_COL_SKU] = "H100";
	v[GB_COL_REGION] = "us-east";
	v[GB_COL_GPUS] = "1";
	memset(&row, 0, sizeof row);
	row.source = "t.csv";
	for (c = 0; c < GB_COL__COUNT; c++) {
		row.f[c].ptr = v[c];
		row.f[c].len = v[c] ? strlen(v[c]) : 0;
	}
	ck_assert_int_eq(gb_rater_add_row(r, &row, &oc), 0);
	ck_assert_int_eq(oc.state, GB_STATE_BILLED);
}

static void setup(void)
{
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_rater *r;
	gb_error err;

	ck_assert_int_eq(gb_prices_load(&prices, table, strlen(table), "t.json", &err), 0);
	o.period_from = 1790812800LL; /* 2026-10-01T00:00:00Z */
	o.period_to = 1793491200LL;   /* 2026-11-01T00:00:00Z */
	ck_assert_int_eq(gb_rater_new(&r, prices, &o, &err), 0);
	/* 1 h at 450.5 JPY, rounding up to 0 places: 451 */
	add(r, "1", "=HYPERLINK(\"http://x\",\"y\")", "2026-10-01T01:00:00Z");
	/* 30 min: 225.25 -> up -> 226 */
	add(r, "2", "a,b \"q\"", "2026-10-01T00:30:00Z");
	/* 6 s: 450.5 * 6 / 3600 = 0.750833 -> up -> 1 */
	add(r, "3", "-5", "2026-10-01T00:00:06Z");
	ck_assert_int_eq(gb_rater_finish(r, &set, &err), 0);
	gb_rater_free(r);
}

static void teardown(void)
{
	gb_invoice_set_free(set);
	gb_prices_free(prices);
}

START_TEST(csv_exact_and_formula_safe)
{
	sink s = { NULL, 0, 0, 0 };
	gb_error err;

	ck_assert_int_eq(gb_invoice_write_csv(set, sink_write, &s, &err), 0);
	/* Customers sort bytewise: "-5" < "=HYPERLINK" < "a,b". "-5" is a
	 * number, so it is not neutralised; the formula is. */
	ck_assert_str_eq(s.data,
		"customer,line,kind,description,sku_model,region,quantity,unit,unit_price,amount,currency\r\n"
		"-5,1,gpu_on_demand,\"H100 on-demand, us-east\",H100,us-east,0.001667,GPU-hour,450.5,1,JPY\r\n"
		"\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1,gpu_on_demand,\"H100 on-demand, us-east\",H100,us-east,1,GPU-hour,450.5,451,JPY\r\n"
		"\"a,b \"\"q\"\"\",1,gpu_on_demand,\"H100 on-demand, us-east\",H100,us-east,0.5,GPU-hour,450.5,226,JPY\r\n");
	free(s.data);
}
END_TEST

/*
 * By hand: one row per line, every cost column the line's amount (JPY, no
 * decimals, rounded up by the rater), the period both billing and charge
 * period, the table's name "t" as provider, publisher and issuer; ids
 * quoted and neutralised as in the csv invoice.
 */
START_TEST(focus_exact_and_formula_safe)
{
	static const char period[] =
		"2026-11-01T00:00:00Z,2026-10-01T00:00:00Z,";
	sink s = { NULL, 0, 0, 0 };
	gb_error err;
	char want[4096];

	snprintf(want, sizeof want,
		"BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,"
		"BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,"
		"ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,"
		"CommitmentDiscountCategory,CommitmentDiscountId,CommitmentDiscountName,"
		"CommitmentDiscountStatus,CommitmentDiscountType,ConsumedQuantity,"
		"ConsumedUnit,ContractedCost,ContractedUnitPrice,EffectiveCost,"
		"InvoiceIssuerName,ListCost,ListUnitPrice,PricingCategory,"
		"PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionId,"
		"RegionName,ServiceCategory,ServiceName,SkuId,x_LineKind\r\n"
		/* 6 s: 1 JPY; 6 / 3600 h shown at 6 digits */
		"1,-5,,JPY,%sUsage,,\"H100 on-demand, us-east\",Usage-Based,%s,,,,,"
		"6,GPU-seconds,1,450.5,1,t,1,450.5,Standard,0.001667,GPU-hour,t,t,"
		"us-east,us-east,Compute,GPU Compute,H100,gpu_on_demand\r\n"
		/* 1 h: 450.5, up to 451 */
		"451,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",,JPY,%sUsage,,"
		"\"H100 on-demand, us-east\",Usage-Based,%s,,,,,"
		"3600,GPU-seconds,451,450.5,451,t,451,450.5,Standard,1,GPU-hour,t,t,"
		"us-east,us-east,Compute,GPU Compute,H100,gpu_on_demand\r\n"
		/* 30 min: 225.25, up to 226 */
		"226,\"a,b \"\"q\"\"\",,JPY,%sUsage,,"
		"\"H100 on-demand, us-east\",Usage-Based,%s,,,,,"
		"1800,GPU-seconds,226,450.5,226,t,226,450.5,Standard,0.5,GPU-hour,t,t,"
		"us-east,us-east,Compute,GPU Compute,H100,gpu_on_demand\r\n",
		period, period, period, period, period, period);
	ck_assert_int_eq(gb_invoice_write_focus(set, sink_write, &s, &err), 0);
	ck_assert_str_eq(s.data, want);
	free(s.data);
}
END_TEST

START_TEST(json_escapes_and_totals)
{
	sink s = { NULL, 0, 0, 0 };
	gb_error err;

	ck_assert_int_eq(gb_invoice_write_json(set, sink_write, &s, &err), 0);
	ck_assert_ptr_nonnull(strstr(s.data, "\"customer\": \"=HYPERLINK(\\\"http://x\\\",\\\"y\\\")\""));
	ck_assert_ptr_nonnull(strstr(s.data, "\"customer\": \"a,b \\\"q\\\"\""));
	/* 451 + 226 + 1 = 678 JPY, no decimals */
	ck_assert_ptr_nonnull(strstr(s.data, "    \"total\": \"678\"\n  }\n}\n"));
	ck_assert_ptr_nonnull(strstr(s.data, "\"minor_units\": 0,"));
	ck_assert_ptr_nonnull(strstr(s.data, "\"gpu_seconds\": \"1800\""));
	free(s.data);
}
END_TEST

START_TEST(text_is_aligned)
{
	sink s = { NULL, 0, 0, 0 };
	gb_error err;

	ck_assert_int_eq(gb_invoice_write_text(set, sink_write, &s, &err), 0);
	ck_assert_ptr_nonnull(strstr(s.data,
		"Customer: a,b \"q\"\n\n"
		"  #  Description              Quantity  Unit      Unit price  Amount\n"
		"  1  H100 on-demand, us-east       0.5  GPU-hour       450.5     226\n"
		"                                                   Total JPY     226\n"));
	ck_assert_ptr_nonnull(strstr(s.data, "3 invoices, total 678 JPY\n"));
	free(s.data);
}
END_TEST

START_TEST(write_failure_is_reported)
{
	sink s = { NULL, 0, 1, 0 };
	gb_error err;

	gb_error_clear(&err);
	ck_assert_int_eq(gb_invoice_write_json(set, sink_write, &s, &err), GB_EIO);
	ck_assert_int_eq(err.code, GB_EIO);
	s.writes = 0;
	ck_assert_int_eq(gb_invoice_write_csv(set, sink_write, &s, &err), GB_EIO);
	s.writes = 0;
	ck_assert_int_eq(gb_invoice_write_text(set, sink_write, &s, &err), GB_EIO);
	s.writes = 0;
	ck_assert_int_eq(gb_invoice_write_focus(set, sink_write, &s, &err), GB_EIO);
	free(s.data);
}
END_TEST

START_TEST(line_kind_names_are_stable)
{
	ck_assert_str_eq(gb_line_kind_name(GB_LINE_GPU_RESERVED), "gpu_reserved");
	ck_assert_str_eq(gb_line_kind_name(GB_LINE_GPU_ON_DEMAND), "gpu_on_demand");
	ck_assert_str_eq(gb_line_kind_name(GB_LINE_GPU_SPOT_INTERRUPTED), "gpu_spot_interrupted");
	ck_assert_str_eq(gb_line_kind_name(GB_LINE_TOKENS_CACHED_INPUT), "tokens_cached_input");
	ck_assert_str_eq(gb_line_kind_name(GB_LINE_CREDIT), "credit");
	ck_assert_str_eq(gb_line_kind_name((gb_line_kind)99), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("invoice");
	TCase *tc = tcase_create("writers");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, csv_exact_and_formula_safe);
	tcase_add_test(tc, focus_exact_and_formula_safe);
	tcase_add_test(tc, json_escapes_and_totals);
	tcase_add_test(tc, text_is_aligned);
	tcase_add_test(tc, write_failure_is_reported);
	tcase_add_test(tc, line_kind_names_are_stable);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
