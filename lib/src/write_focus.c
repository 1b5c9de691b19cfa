/*
 * write_focus.c - invoice lines as a FinOps FOCUS 1.0 cost and usage
 * dataset: CSV (RFC 4180, CRLF, quoting and formula safety as in
 * write_csv.c), a header row of FOCUS column ids, one row per invoice
 * line.  Invoice totals are not rows: FOCUS rows are charges, and a
 * customer's BilledCost adds up to its invoice total by construction.
 *
 * Every cost column (BilledCost, EffectiveCost, ListCost, ContractedCost)
 * is the line's amount, in the text the csv and json invoices show: the
 * rater rounds a line once, and a second rounding here could only
 * disagree with it.  gpubill(1), FOCUS, gives the mapping and the why.
 */
#include "internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <string.h>

/* FOCUS 1.0 columns in the specification's (alphabetical) order, then
 * our own, x_ prefixed as FOCUS asks of custom columns. */
static const char header[] =
	"BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,"
	"BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,"
	"ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,"
	"CommitmentDiscountCategory,CommitmentDiscountId,"
	"CommitmentDiscountName,CommitmentDiscountStatus,"
	"CommitmentDiscountType,ConsumedQuantity,ConsumedUnit,ContractedCost,"
	"ContractedUnitPrice,EffectiveCost,InvoiceIssuerName,ListCost,"
	"ListUnitPrice,PricingCategory,PricingQuantity,PricingUnit,"
	"ProviderName,PublisherName,RegionId,RegionName,ServiceCategory,"
	"ServiceName,SkuId,x_LineKind\r\n";

/* Who sells, publishes and invoices when the pricing table has no name. */
#define FOCUS_DEFAULT_PROVIDER "gpubill"

/* ServiceCategory (FOCUS allowed values) and ServiceName, as two cells. */
enum { SVC_GPU, SVC_TOKENS, SVC_ACCOUNT, SVC_BY_REFERENCE };

static const gb_kind_text services[] = {
#define S(s) { s ",", sizeof(s ",") - 1 }
	S("Compute,GPU Compute"),
	S("AI and Machine Learning,Token Inference"),
	S("Other,Billing Account"),
#undef S
};

/*
 * Per line kind: ChargeCategory, ChargeFrequency and PricingCategory
 * cells (each with its ','; an empty one is FOCUS's null), and the
 * service.  Only FOCUS 1.0's allowed values appear.
 */
typedef struct focus_kind {
	const char *charge;
	const char *frequency;
	const char *pricing;
	int service;
} focus_kind;

static const focus_kind kinds[GB_NKINDS] = {
	[GB_LINE_GPU_RESERVED] = { "Purchase,", "Recurring,", "Standard,", SVC_GPU },
	[GB_LINE_GPU_ON_DEMAND] = { "Usage,", "Usage-Based,", "Standard,", SVC_GPU },
	[GB_LINE_GPU_SPOT] = { "Usage,", "Usage-Based,", "Dynamic,", SVC_GPU },
	[GB_LINE_GPU_SPOT_INTERRUPTED] = { "Usage,", "Usage-Based,", "Dynamic,", SVC_GPU },
	[GB_LINE_TOKENS_INPUT] = { "Usage,", "Usage-Based,", "Standard,", SVC_TOKENS },
	[GB_LINE_TOKENS_CACHED_INPUT] = { "Usage,", "Usage-Based,", "Standard,", SVC_TOKENS },
	[GB_LINE_TOKENS_OUTPUT] = { "Usage,", "Usage-Based,", "Standard,", SVC_TOKENS },
	[GB_LINE_DISCOUNT] = { "Adjustment,", "Usage-Based,", ",", SVC_BY_REFERENCE },
	[GB_LINE_MINIMUM_SPEND] = { "Adjustment,", "Recurring,", ",", SVC_ACCOUNT },
	[GB_LINE_CREDIT] = { "Credit,", "One-Time,", ",", SVC_ACCOUNT },
};

static void add_str(gb_buf *b, const char *s)
{
	gb_buf_add(b, s, strlen(s));
}

/* A discount line's reference is the contract's key for it. */
static int discount_service(const char *ref)
{
	if (strcmp(ref, "tokens") == 0)
		return SVC_TOKENS;
	if (strncmp(ref, "gpu_", 4) == 0)
		return SVC_GPU;
	return SVC_ACCOUNT;
}

/*
 * The head: the header row, and in w->aux the cells every row of the run
 * repeats, each ended by a NUL so the invoice step finds them again: the
 * provider's name, the currency, and the period (end, start) that is both
 * the billing and the charge period.
 */
void gb_focus_head(gb_invoice_writer *w, const gb_invoice_set *s)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	gb_buf *c = &w->aux;

	gb_buf_add(&w->b, header, sizeof header - 1);
	c->len = 0;
	gb_buf_csv_cell(c, s->prices_name[0] ? s->prices_name :
			FOCUS_DEFAULT_PROVIDER, 0);
	gb_buf_add(c, "", 1);
	gb_buf_csv_cell(c, s->currency, 0);
	gb_buf_add(c, "", 1);
	gb_time_format(from, sizeof from, s->from);
	gb_time_format(to, sizeof to, s->to);
	add_str(c, to);
	gb_buf_add(c, ",", 1);
	add_str(c, from);
	gb_buf_add(c, ",", 1);
	gb_buf_add(c, "", 1);
}

int gb_focus_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		     const gb_invoice *inv)
{
	gb_buf *b = &w->b, *c = &w->aux;
	const char *name, *cur, *period, *cust;
	size_t nname, ncur, nperiod, ncust, base, j;

	if (c->failed)
		return GB_ENOMEM;
	/* the head's cells, then this invoice's customer after them */
	name = c->data;
	nname = strlen(name);
	cur = name + nname + 1;
	ncur = strlen(cur);
	period = cur + ncur + 1;
	nperiod = strlen(period);
	base = (size_t)(period + nperiod + 1 - c->data);
	c->len = base;
	gb_buf_csv_cell(c, inv->customer, 0);
	if (c->failed)
		return GB_ENOMEM;
	/* the buffer may have moved */
	name = c->data;
	cur = name + nname + 1;
	period = cur + ncur + 1;
	cust = c->data + base;
	ncust = c->len - base;
	for (j = 0; j < inv->nlines; j++) {
		const gb_invoice_line *l = &inv->lines[j];
		const focus_kind *k;
		char money[256];
		size_t nm;
		int priced, usage, svc;

		if ((unsigned)l->kind >= GB_NKINDS)
			return GB_ERANGE;
		k = &kinds[l->kind];
		/* usage lines and reservation fees have a quantity at a unit
		 * price; discounts, minimum spend and credits do not */
		priced = l->kind < GB_LINE_DISCOUNT;
		usage = priced && l->kind != GB_LINE_GPU_RESERVED;
		svc = k->service == SVC_BY_REFERENCE ?
		      discount_service(l->reference) : k->service;
		nm = gb_money_text(money, sizeof money, l->amount, s->minor_units);
		if (nm >= sizeof money)
			return GB_ERANGE;
		money[nm++] = ',';

		gb_buf_add(b, money, nm);                     /* BilledCost */
		gb_buf_add(b, cust, ncust);                   /* BillingAccountId */
		gb_buf_add(b, ",", 1);                        /* BillingAccountName */
		gb_buf_add(b, cur, ncur);                     /* BillingCurrency */
		gb_buf_add(b, period, nperiod);               /* BillingPeriodEnd, Start */
		add_str(b, k->charge);                        /* ChargeCategory */
		gb_buf_add(b, ",", 1);                        /* ChargeClass */
		gb_buf_csv_cell(b, l->description, 0);        /* ChargeDescription */
		add_str(b, k->frequency);                     /* ChargeFrequency */
		gb_buf_add(b, period, nperiod);               /* ChargePeriodEnd, Start */
		if (l->kind == GB_LINE_GPU_RESERVED) {
			/* CommitmentDiscountCategory, Id, Name, Status, Type:
			 * a reservation commits to a quantity; its fee row
			 * is a purchase, which has no status */
			gb_buf_add(b, "Usage,", 6);
			gb_buf_csv_cell(b, l->reference, 0);
			gb_buf_add(b, ",,Reservation,", 14);
		} else {
			gb_buf_add(b, ",,,,,", 5);
		}
		if (usage) {                                  /* ConsumedQuantity, Unit */
			gb_buf_decimal(b, l->base_quantity, 0, GB_QUANTITY_DIGITS);
			if (l->sku[0])
				gb_buf_add(b, ",GPU-seconds,", 13);
			else
				gb_buf_add(b, ",tokens,", 8);
		} else {
			gb_buf_add(b, ",,", 2);
		}
		gb_buf_add(b, money, nm);                     /* ContractedCost */
		if (priced)                                   /* ContractedUnitPrice */
			gb_buf_decimal(b, l->unit_price, s->minor_units,
				       GB_DECIMAL_MAX_FRACTION);
		gb_buf_add(b, ",", 1);
		gb_buf_add(b, money, nm);                     /* EffectiveCost */
		gb_buf_add(b, name, nname);                   /* InvoiceIssuerName */
		gb_buf_add(b, money, nm);                     /* ListCost */
		if (priced)                                   /* ListUnitPrice */
			gb_buf_decimal(b, l->unit_price, s->minor_units,
				       GB_DECIMAL_MAX_FRACTION);
		gb_buf_add(b, ",", 1);
		add_str(b, k->pricing);                       /* PricingCategory */
		if (priced) {                                 /* PricingQuantity, Unit */
			gb_buf_decimal(b, l->quantity, 0, GB_QUANTITY_DIGITS);
			gb_buf_add(b, ",", 1);
			gb_buf_csv_cell(b, l->unit, 0);
		} else {
			gb_buf_add(b, ",,", 2);
		}
		gb_buf_add(b, name, nname);                   /* ProviderName */
		gb_buf_add(b, name, nname);                   /* PublisherName */
		if (priced && l->region[0]) {                 /* RegionId, Name */
			gb_buf_csv_cell(b, l->region, 0);
			gb_buf_csv_cell(b, l->region, 0);
		} else {
			gb_buf_add(b, ",,", 2);
		}
		gb_buf_add(b, services[svc].name, services[svc].len);
		if (priced)                                   /* SkuId */
			gb_buf_csv_cell(b, l->sku[0] ? l->sku : l->model, 0);
		else
			gb_buf_add(b, ",", 1);
		gb_buf_add(b, gb_kind_texts[l->kind].name, gb_kind_texts[l->kind].len);
		gb_buf_add(b, "\r\n", 2);                     /* x_LineKind */
	}
	return 0;
}

void gb_focus_tail(gb_invoice_writer *w, const gb_invoice_set *s)
{
	/* no totals: a FOCUS dataset holds charges only */
	(void)w;
	(void)s;
}
