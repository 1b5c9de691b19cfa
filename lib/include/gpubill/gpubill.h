/*
 * gpubill/gpubill.h - everything: include this one header.
 */
#ifndef GPUBILL_GPUBILL_H
#define GPUBILL_GPUBILL_H

#include "error.h"
#include "alloc.h"
#include "money.h"
#include "timestamp.h"
#include "prices.h"
#include "contracts.h"
#include "usage.h"
#include "invoice.h"
#include "rater.h"
#include "costs.h"
#include "margin.h"
#include "quote.h"
#include "validate.h"
#include "diff.h"
#include "explain.h"

#define GPUBILL_VERSION_MAJOR 0
#define GPUBILL_VERSION_MINOR 1
#define GPUBILL_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "0.1.0". */
GB_EXTERN const char *gb_version(void);

#ifdef __cplusplus
}
#endif

#endif
