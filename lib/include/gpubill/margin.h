/* gpubill/margin.h - being written. */
#ifndef GPUBILL_MARGIN_H
#define GPUBILL_MARGIN_H
#endif
