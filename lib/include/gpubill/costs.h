/* gpubill/costs.h - being written. */
#ifndef GPUBILL_COSTS_H
#define GPUBILL_COSTS_H
#endif
