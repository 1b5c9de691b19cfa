/* gpubill/quote.h - being written. */
#ifndef GPUBILL_QUOTE_H
#define GPUBILL_QUOTE_H
#endif
