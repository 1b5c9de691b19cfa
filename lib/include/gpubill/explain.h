/* gpubill/explain.h - being written. */
#ifndef GPUBILL_EXPLAIN_H
#define GPUBILL_EXPLAIN_H
#endif
