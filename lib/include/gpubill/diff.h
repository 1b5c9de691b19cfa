/* gpubill/diff.h - being written. */
#ifndef GPUBILL_DIFF_H
#define GPUBILL_DIFF_H
#endif
